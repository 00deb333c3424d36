/**
 * Separability (docs/algorithm.md §6 item 3, §3 step 2): intervals of width below cSep/2 that contain V*
 * identify correctly; the registry never holds two tasks whose intervals overlap; after a run each
 * context maps to exactly one registry entry.
 *
 * The first properties drive the product coordinator (`make`) with generated identification
 * intervals around the exact V*(s0) of generated task families (test/arbitraries.ts). A twin with
 * intervals wider than cSep is shown to fail: the check can fail. The last property runs
 * DistMT-LSVI end to end (`runAlgorithm`) on small generated chain specs, replays each instance's
 * identification phase from the same seeds to recover the interval it sent to the server, and checks
 * that whenever every such interval contained its V* and had width ≤ cSep/2, every instance
 * was identified correctly and tasks and registry entries correspond one to one.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { runPhase } from "../src/agent/episodes.ts"
import { type Identification, type Interval, make } from "../src/coordinator/Coordinator.ts"
import { makeInstance } from "../src/env/Instance.ts"
import { optimalValues, separation } from "../src/env/solve.ts"
import { lsviOf } from "../src/spec/Spec.ts"
import { type Certificate, Lsvi } from "../src/learner/Lsvi.ts"
import * as Rng from "../src/rng/Rng.ts"
import { assign } from "../src/run/assignment.ts"
import { type AlgorithmRun, runAlgorithm } from "../src/run/runExperiment.ts"
import { type Compiled, compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { rewardIndex, transitionOffset } from "../src/env/FiniteMdp.ts"
import {
  type Family,
  featureMap,
  finiteLinearMdp,
  intervalContaining,
  offsetFamily,
  simplexLinearMdp,
  transitions,
  runnableChainSpec,
  separatedFamily,
  validSpecInput
} from "./arbitraries.ts"

const overlaps = (a: Interval, b: Interval): boolean => a.lower <= b.upper && b.lower <= a.upper

const compiled = (input: unknown): Effect.Effect<Compiled, unknown> =>
  Effect.flatMap(decode(input, "generated.spec.ts"), (spec) => compile(spec, "generated.spec.ts"))

// ─── Identification with given intervals ───────────────────────────────────────────────────────

/** Task instances in the order they reach the server, each with the interval it sends. */
interface IdentificationCase {
  readonly family: Family
  readonly instances: ReadonlyArray<{ readonly task: number; readonly interval: Interval }>
}

/**
 * A family with separation ≥ cSep and 2–12 instances whose tasks are drawn at random (so the
 * arrival order is random and tasks repeat), each with an interval of a width in `width(cSep)`
 * that contains its task's V*(s0).
 */
const identificationCases = (width: (cSep: number) => { readonly min: number; readonly max: number }) =>
  separatedFamily({ maxTasks: 4 }).chain((family) =>
    fc.array(fc.integer({ min: 0, max: family.tasks.length - 1 }), { minLength: 2, maxLength: 12 }).chain((tasks) =>
      fc.tuple(...tasks.map((t) => intervalContaining(family.startValues[t], width(family.cSep)))).map(
        (intervals): IdentificationCase => ({ family, instances: tasks.map((task, i) => ({ task, interval: intervals[i] })) })
      )
    )
  )

/** Below cSep/2 (strictly: a hair under it). */
const narrow = (cSep: number) => ({ min: 0, max: (cSep / 2) * (1 - 1e-9) })
/** Too wide: more than cSep. */
const wide = (cSep: number) => ({ min: cSep * 1.01, max: cSep * 2 })

interface IdentifyTally {
  cases: number
  matched: number
  multiTask: number
}

/**
 * Feeds the instances to a fresh product coordinator, one identify after another, and checks §6.3:
 * after every call no two entries overlap; instances of one task land on one entry, instances of
 * distinct tasks on distinct entries.
 */
const identifiesCorrectly = (c: IdentificationCase, tally?: IdentifyTally): void => {
  const replies = Effect.runSync(
    Effect.gen(function*() {
      const server = yield* make
      const replies: Array<Identification> = []
      for (const [agent, instance] of c.instances.entries()) {
        replies.push(yield* server.identify(agent, instance.interval))
        const registry = yield* server.registry
        registry.forEach((a, i) =>
          registry.slice(i + 1).forEach((b) =>
            expect(overlaps(a.interval, b.interval), `entries ${a.id} and ${b.id} overlap after call ${agent}`).toBe(false)
          )
        )
      }
      return replies
    })
  )
  const entryOfTask = new Map<number, number>()
  const taskOfEntry = new Map<number, number>()
  c.instances.forEach(({ task }, i) => {
    const entry = replies[i].task
    expect(entryOfTask.get(task) ?? entry, `task ${task} landed on two entries`).toBe(entry)
    expect(taskOfEntry.get(entry) ?? task, `entry ${entry} holds tasks ${taskOfEntry.get(entry)} and ${task}`).toBe(task)
    entryOfTask.set(task, entry)
    taskOfEntry.set(entry, task)
  })
  if (tally !== undefined) {
    tally.cases++
    tally.matched += replies.filter((r) => r._tag !== "Registered").length
    if (entryOfTask.size > 1) tally.multiTask++
  }
}

describe("separability (§6.3): intervals of width below cSep/2 that contain V* identify correctly", () => {
  it("intervals of width below cSep/2 that contain V* identify correctly, and the registry never holds two overlapping entries", () => {
    const tally: IdentifyTally = { cases: 0, matched: 0, multiTask: 0 }
    fc.assert(
      fc.property(identificationCases(narrow), (c) => identifiesCorrectly(c, tally)),
      { seed: 303, numRuns: 200 }
    )
    // Not vacuous: many instances matched an existing entry, and most cases mixed several tasks.
    expect(tally.matched).toBeGreaterThan(200)
    expect(tally.multiTask).toBeGreaterThan(100)
  })

  it("FAILS with intervals wider than cSep (still containing V*): the check can fail", () => {
    const details = fc.check(fc.property(identificationCases(wide), (c) => identifiesCorrectly(c)), {
      seed: 304,
      numRuns: 200
    })
    expect(details.failed, "expected a counterexample").toBe(true)
    expect(String(details.errorInstance)).toMatch(/overlap|landed on two entries|holds tasks/)
  })
})

// ─── After a full run ──────────────────────────────────────────────────────────────────────────

/** The interval an instance sent to the server, recovered by replaying its identification phase. */
interface Replayed {
  readonly episodes: number
  readonly certificate: Certificate
}

/**
 * Replays the identification phase of every (agent, slot) of a DistMT-LSVI run: the same instance
 * stream `Rng.make(seed, agent, slot, task)` and budget as src/run/runExperiment.ts, a fresh learner,
 * src/agent/episodes.ts's `runPhase`. The phase is the first thing that touches the instance's
 * stream, so it sees the same transitions as in the run (checked: same episode count).
 */
const replayIdentification = (c: Compiled, seed: number): Map<string, Replayed> => {
  const s = c.spec
  const budget = s.stopping._tag === "Adaptive"
    ? { untilWidth: s.cSep / 2, maxEpisodes: s.stopping.maxEpisodes }
    : { untilWidth: -Infinity, maxEpisodes: s.stopping.k1 }
  const lsvi = { horizon: c.horizon, dim: c.features.dim, actions: c.actions, beta: c.beta, lambda: lsviOf(s).lambda }
  const out = new Map<string, Replayed>()
  assign(s.assignment, s.agents, c.tasks.length, seed).forEach((tasks, agent) =>
    tasks.forEach((task, slot) => {
      const instance = makeInstance(c.tasks[task], c.features, Rng.make(seed, agent, slot, task))
      const phase = runPhase(new Lsvi(lsvi, instance.features), instance, budget)
      out.set(`${agent}/${slot}`, { episodes: phase.episodes, certificate: phase.certificate })
    })
  )
  return out
}

interface RunTally {
  runs: number
  goodEvent: number
  sharedTask: number
}

/**
 * §6.3 after a run: if every identification interval contained its task's V* and had width ≤ cSep/2
 * (the adaptive rule's target; the generated cSep is below the family's separation, so two such
 * intervals around distinct V* cannot touch), then every row's identification is correct, each context maps to exactly one entry and each
 * entry to exactly one context, and the server registered one task per context that appeared.
 */
const checkRun = (c: Compiled, run: AlgorithmRun, tally: RunTally): void => {
  const replayed = replayIdentification(c, run.seed)
  // The instances' rows (the others are tasks fetched at the end, docs/algorithm.md §3 step 4).
  const rows = run.rows.filter((r) => r.slot !== undefined)
  expect(rows).toHaveLength(replayed.size)
  let good = true
  for (const r of rows) {
    const id = replayed.get(`${r.agent}/${r.slot}`)!
    expect(r.identificationEpisodes, `replay of agent ${r.agent}, slot ${r.slot}`).toBe(id.episodes)
    const { lower, upper, width } = id.certificate
    if (!(lower <= r.vStar && r.vStar <= upper && width <= c.spec.cSep / 2)) good = false
  }
  tally.runs++
  if (!good) return
  tally.goodEvent++
  const entriesOfTask = new Map<number, Set<number | undefined>>()
  const tasksOfEntry = new Map<number | undefined, Set<number>>()
  for (const r of rows) {
    expect(r.identificationCorrect, `identification of agent ${r.agent}, slot ${r.slot} (task ${r.task})`).toBe(true)
    expect(r.entry).toBeDefined()
    if (!entriesOfTask.has(r.task)) entriesOfTask.set(r.task, new Set())
    entriesOfTask.get(r.task)!.add(r.entry)
    if (!tasksOfEntry.has(r.entry)) tasksOfEntry.set(r.entry, new Set())
    tasksOfEntry.get(r.entry)!.add(r.task)
  }
  for (const [task, entries] of entriesOfTask) expect([...entries], `entries of context ${task}`).toHaveLength(1)
  for (const [entry, tasks] of tasksOfEntry) expect([...tasks], `contexts of entry ${entry}`).toHaveLength(1)
  expect(run.registered, "one registered task per context that appeared").toBe(entriesOfTask.size)
  if (rows.length > entriesOfTask.size) tally.sharedTask++
}

describe("separability (§6.3) after a run: each context maps to exactly one registry entry", () => {
  it("each context maps to exactly one registry entry, and identification is correct whenever all identification intervals contained V* and had width ≤ cSep/2", async () => {
    const tally: RunTally = { runs: 0, goodEvent: 0, sharedTask: 0 }
    await fc.assert(
      fc.asyncProperty(runnableChainSpec(), async ({ input }) => {
        const c = await Effect.runPromise(compiled(input))
        const run = await Effect.runPromise(runAlgorithm(c, "distmt", c.spec.seed))
        checkRun(c, run, tally)
      }),
      { seed: 305, numRuns: 8 }
    )
    // Not vacuous: the good event held in most runs, and in some several instances shared a context.
    expect(tally.goodEvent).toBeGreaterThanOrEqual(6)
    expect(tally.sharedTask).toBeGreaterThan(0)
  })
})

// ─── The generators this file relies on ────────────────────────────────────────────────────────

describe("generators (test/arbitraries.ts)", () => {
  it("families have separation ≥ cSep, measured independently with solve.ts", () => {
    fc.assert(
      fc.property(separatedFamily({ maxTasks: 4 }), (f) => {
        const values = f.tasks.map((m) => optimalValues(m).V[m.start])
        expect(values).toEqual(f.startValues)
        expect(separation(values).value).toBeGreaterThanOrEqual(f.cSep)
        expect(f.cSep).toBeGreaterThan(0)
      }),
      { seed: 306, numRuns: 100 }
    )
  })

  it("offset families have V*_m = u_m·H + V*_base/2, so their separation is controlled exactly", () => {
    fc.assert(
      fc.property(offsetFamily(), (f) => {
        const offsets = f.contexts._tag === "List" ? f.contexts.items.map((c) => c.offset) : []
        const H = f.tasks[0].horizon
        const base = f.startValues[0] - offsets[0] * H
        f.startValues.forEach((v, m) => expect(v - offsets[m] * H).toBeCloseTo(base, 10))
        expect(f.separation).toBeGreaterThanOrEqual(f.cSep * (1 + 1e-7))
      }),
      { seed: 307, numRuns: 100 }
    )
  })

  it("finite linear MDPs have valid tables and features with ‖φ‖₂ ≤ 1; simplex ones are exactly linear; datasets fit their MDP", () => {
    fc.assert(
      fc.property(finiteLinearMdp().chain((c) => fc.tuple(fc.constant(c), transitions(c.mdp))), ([{ features, mdp }, data]) => {
        const { actions: A, horizon: H, states: S } = mdp
        for (let i = 0; i < H * S * A; i++) {
          expect(mdp.reward[i] >= 0 && mdp.reward[i] <= 1).toBe(true)
          const row = mdp.transition.subarray(i * S, (i + 1) * S)
          expect(row.every((p) => p >= 0)).toBe(true)
          expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12)
        }
        for (let sa = 0; sa < S * A; sa++) {
          const phi = features.values.subarray(sa * features.dim, (sa + 1) * features.dim)
          expect(Math.hypot(...phi)).toBeLessThanOrEqual(1 + 1e-12)
        }
        for (const t of data) {
          expect(t.r).toBe(mdp.reward[rewardIndex(mdp, t.h, t.s, t.a)])
          expect(mdp.transition[transitionOffset(mdp, t.h, t.s, t.a) + t.next]).toBeGreaterThan(0)
        }
      }),
      { seed: 309, numRuns: 100 }
    )
    fc.assert(
      fc.property(simplexLinearMdp(), ({ features, mdp, nu, theta }) => {
        const { actions: A, horizon: H, states: S } = mdp
        const d = features.dim
        expect(d).toBeLessThan(S * A)
        for (let h = 0; h < H; h++) {
          for (let sa = 0; sa < S * A; sa++) {
            const phi = features.values.subarray(sa * d, (sa + 1) * d)
            let r = 0
            for (let i = 0; i < d; i++) r += phi[i] * theta[h * d + i]
            expect(mdp.reward[h * S * A + sa]).toBeCloseTo(r, 12)
            for (let t = 0; t < S; t++) {
              let p = 0
              for (let i = 0; i < d; i++) p += phi[i] * nu[(h * d + i) * S + t]
              expect(mdp.transition[(h * S * A + sa) * S + t]).toBeCloseTo(p, 12)
            }
          }
        }
      }),
      { seed: 310, numRuns: 100 }
    )
  })

  it("feature maps stay in the unit ball, and their function matches their table", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.nat(), (S, A, seed) => {
        for (const f of fc.sample(featureMap(S, A), { seed, numRuns: 3 })) {
          for (let s = 0; s < S; s++) {
            for (let a = 0; a < A; a++) {
              const v = f.map(s, a)
              expect(v).toHaveLength(f.dim)
              expect(Math.hypot(...v)).toBeLessThanOrEqual(1)
              expect(v).toEqual(Array.from(f.table.values.subarray((s * A + a) * f.dim, (s * A + a + 1) * f.dim)))
            }
          }
        }
      }),
      { seed: 311, numRuns: 50 }
    )
  })

  it("generated spec inputs decode and compile, with the family's tasks and separation", async () => {
    await fc.assert(
      fc.asyncProperty(validSpecInput, async (input) => {
        const c = await Effect.runPromise(compiled(input))
        expect(c.separation.value).toBeGreaterThanOrEqual(c.spec.cSep)
        expect(c.tasks.length).toBeGreaterThan(0)
      }),
      { seed: 308, numRuns: 100 }
    )
  })
})

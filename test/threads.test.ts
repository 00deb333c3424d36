/**
 * Agents' numeric work on worker threads with the same results as one thread (issue 5, item 4):
 * - the pieces that make it exact: the random stream's state and the learner's snapshot continue
 *   bit for bit, and a phase run in chunks of any sizes is the phase run in one go;
 * - virtual time (src/run/VirtualTime.ts): the server sees requests in the order of the agents'
 *   episode clocks, whatever the real-time order in which episodes finish (fast-check's scheduler
 *   picks that order);
 * - whole runs on two learner threads give the same rows, learning curves and traffic as runs on one.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber } from "effect"
import * as fc from "fast-check"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { comparableSummary } from "../bench/threads.ts"
import { continuePhase, type PhaseState, runPhase } from "../src/agent/episodes.ts"
import { makeInstance } from "../src/env/Instance.ts"
import { Lsvi } from "../src/learner/Lsvi.ts"
import * as Rng from "../src/rng/Rng.ts"
import { type Algorithm, runAlgorithm } from "../src/run/runExperiment.ts"
import { inProcess } from "../src/run/RunServer.ts"
import { makeLearnerPool } from "../src/run/threads/pool.ts"
import { awaited, VirtualTime } from "../src/run/VirtualTime.ts"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { Assignment, Contexts, Env, Experiment, Lsvi as LsviSpec, Stopping } from "../src/index.ts"

const root = path.resolve(import.meta.dirname, "..")

const compiled = (input: unknown) => Effect.runSync(Effect.flatMap(decode(input, "test"), (e) => compile(e, "test")))

const chain = (over: Record<string, unknown> = {}) =>
  compiled({
    ...Experiment.make({
      name: "threads",
      environment: Env.linearChain({ length: 3, horizon: 3 }),
      contexts: Contexts.list([
        { goal: 2, reward: 0.2, slip: 0.1 },
        { goal: 1, reward: 1.0, slip: 0.1 },
        { goal: 2, reward: 0.9, slip: 0.2 }
      ]),
      agents: 7,
      epsilon: 0.3,
      cSep: 0.25,
      delta: 0.05,
      learner: LsviSpec.ucb({ beta: 1.5 }),
      stopping: Stopping.adaptive({ maxEpisodes: 20_000 }),
      baselines: ["independent", "oracle"]
    }),
    ...over
  })

describe("exact continuation: what lets a phase move between threads", () => {
  it("Rng.fromState(rng.state()) continues the same stream", () =>
    fc.assert(
      fc.property(fc.nat(), fc.nat({ max: 50 }), (seed, skip) => {
        const a = Rng.make(seed, 3)
        for (let i = 0; i < skip; i++) a.next()
        const b = Rng.fromState(a.state())
        const xs = Array.from({ length: 20 }, () => a.next())
        expect(Array.from({ length: 20 }, () => b.next())).toEqual(xs)
      })
    ))

  it("a phase run in chunks, the learner and the stream restored from copies between chunks, is the phase run in one go, bit for bit", () => {
    const c = chain()
    const lsvi = { horizon: c.horizon, dim: c.features.dim, actions: c.actions, beta: c.beta, lambda: 1 }
    const budget = { untilWidth: 0.3, maxEpisodes: 600 }
    fc.assert(
      fc.property(fc.nat({ max: 2 }), fc.nat(), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 }), (task, seed, chunks) => {
        // In one go.
        const instance = makeInstance(c.tasks[task], c.features, Rng.make(seed))
        const whole = new Lsvi(lsvi, instance.features)
        const expected = runPhase(whole, instance, budget)
        // In chunks; between chunks only copies of the state survive, as between threads.
        let rngState = Rng.make(seed).state()
        let snapshot = new Lsvi(lsvi, () => new Float64Array(0)).snapshot()
        let state: PhaseState | undefined = undefined
        for (let i = 0; state === undefined || (state.certificate.width > budget.untilWidth && state.episodes < budget.maxEpisodes); i++) {
          const rng = Rng.fromState(rngState.slice())
          const inst = makeInstance(c.tasks[task], c.features, rng)
          const learner = Lsvi.restore(lsvi, inst.features, structuredClone(snapshot))
          state = continuePhase(learner, inst, budget, state, chunks[i % chunks.length])
          snapshot = learner.snapshot()
          rngState = rng.state()
        }
        expect(state.episodes).toBe(expected.episodes)
        expect(state.certificate).toEqual(expected.certificate)
        expect(snapshot).toEqual(whole.snapshot())
      }),
      { numRuns: 40 }
    )
  })
})

/**
 * A scripted agent: batches of episodes (which finish in an order fast-check's scheduler picks, as
 * chunks on threads finish in an order the machine picks) and requests to the server.
 */
type Step = { readonly _tag: "Run"; readonly episodes: number } | { readonly _tag: "Ask" }

const scriptArb = fc.array(
  fc.array(
    fc.oneof(
      fc.record({ _tag: fc.constant("Run" as const), episodes: fc.integer({ min: 0, max: 5 }) }),
      fc.constant({ _tag: "Ask" as const })
    ),
    { maxLength: 6 }
  ),
  { minLength: 1, maxLength: 5 }
)

/** The order virtual time promises: requests sorted by (episodes run before them, agent, position). */
const virtualOrder = (scripts: ReadonlyArray<ReadonlyArray<Step>>): Array<string> =>
  scripts
    .flatMap((steps, agent) => {
      let clock = 0
      return steps.flatMap((s, k) => {
        if (s._tag === "Run") {
          clock += s.episodes
          return []
        }
        return [{ clock, agent, k }]
      })
    })
    .sort((a, b) => a.clock - b.clock || a.agent - b.agent || a.k - b.k)
    .map((r) => `${r.agent}/${r.k}`)

/** Runs the scripts as fibers on one VirtualTime; returns the order in which requests went through. */
const runScripts = async (s: fc.Scheduler, scripts: ReadonlyArray<ReadonlyArray<Step>>): Promise<Array<string>> => {
  const time = new VirtualTime(scripts.length)
  const log: Array<string> = []
  const agent = (steps: ReadonlyArray<Step>, i: number) =>
    Effect.gen(function*() {
      for (const [k, step] of steps.entries()) {
        if (step._tag === "Run") {
          yield* Effect.promise(() => s.schedule(Promise.resolve(step.episodes), `agent ${i} runs ${step.episodes}`))
          time.advance(i, step.episodes)
        } else {
          yield* time.turn(i, Effect.sync(() => log.push(`${i}/${k}`)))
        }
      }
    }).pipe(Effect.ensuring(Effect.sync(() => time.retire(i))))
  const program = Effect.forEach(scripts, agent, { concurrency: "unbounded", discard: true })
  let exit: Exit.Exit<void> | undefined
  void Effect.runPromiseExit(program).then((e) => {
    exit = e
  })
  while (exit === undefined) {
    await s.waitIdle()
    await new Promise((resolve) => setTimeout(resolve, 0))
    if (exit === undefined && s.count() === 0) throw new Error(`deadlock: requests so far ${log.join(" ")}`)
  }
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  return log
}

describe("virtual time (src/run/VirtualTime.ts)", () => {
  it("requests reach the server in the order of (episodes run, agent), whatever order the episodes finish in", () =>
    fc.assert(
      fc.asyncProperty(fc.scheduler(), scriptArb, async (s, scripts) => {
        expect(await runScripts(s, scripts)).toEqual(virtualOrder(scripts))
      }),
      { numRuns: 300 }
    ))

  it.effect("turns taken without running an episode add nothing to the queue of next requests", () =>
    Effect.gen(function*() {
      // Agent 1 takes a thousand turns at one clock, as an agent that polls the server without
      // running episodes does, while agent 0 is blocked. Each turn must leave no entry behind in the
      // queue of possible next requests: ten thousand agents doing this ran a run out of memory.
      const time = new VirtualTime(2)
      time.advance(1, 5)
      yield* time.turn(0, Effect.sync(() => time.block(0, awaited(3, 0))))
      for (let k = 0; k < 1000; k++) yield* time.turn(1, Effect.void)
      expect(time.queued()).toBeLessThanOrEqual(2)
    }))

  it.live("twenty thousand turns admitted one after another, each ending at once, run one after another rather than inside each other", () =>
    Effect.gen(function*() {
      // Agent 0 (clock 0) holds up every other agent, each asking for a turn at clock 1 that ends at
      // once, after which the agent retires. When agent 0 moves on, each turn's end admits the next:
      // run inside the call that admitted it, the turns nested ever deeper until the stack overflowed,
      // and the run then spun on the overflow's error, allocating until it ran out of memory (ten
      // thousand agents of specs/scaling.spec.ts).
      const n = 20_000
      const time = new VirtualTime(n)
      const order: Array<number> = []
      const agents = Array.from({ length: n - 1 }, (_, k) => k + 1)
      for (const i of agents) time.advance(i, 1)
      const fibers = yield* Effect.forEach(agents, (i) =>
        Effect.forkChild(Effect.ensuring(time.turn(i, Effect.sync(() => void order.push(i))), Effect.sync(() => time.retire(i)))))
      yield* Effect.sleep(10)
      expect(order).toEqual([])
      time.advance(0, 5)
      const exits = yield* Effect.forEach(fibers, (f) => Fiber.await(f)).pipe(Effect.timeout("20 seconds"))
      expect(exits.filter(Exit.isFailure).map((e) => String(Cause.squash(e.cause))).slice(0, 1)).toEqual([])
      expect(order).toEqual(agents)
    }), 60_000)

  it.live("agents that wait for each other's tasks, with nobody left to publish, fail with who waits for what instead of waiting for ever", () =>
    Effect.gen(function*() {
      const { coordinator: server, advance } = yield* inProcess(4)
      // Agent 3 has finished and waits for the others to (§3 step 4). Agents 0 and 1 each register
      // a task and run episodes, then each is told to wait for the other's: a cycle that no request
      // can break. Agent 2 runs episodes, then waits for task 0 too.
      const ended = yield* Effect.forkChild(server.fetchAll(3))
      expect(yield* server.identify(0, { lower: 0.1, upper: 0.2 })).toEqual({ _tag: "Registered", task: 0 })
      advance(0, 10)
      expect(yield* server.identify(1, { lower: 0.6, upper: 0.7 })).toEqual({ _tag: "Registered", task: 1 })
      advance(1, 10)
      const waits = yield* Effect.forEach([
        server.awaitPolicy(0, 1, 0),
        server.awaitPolicy(1, 0, 0),
        Effect.andThen(Effect.sync(() => advance(2, 5)), server.awaitPolicy(2, 0, 0))
      ], (wait) => Effect.forkChild(wait))
      // Every wait ends, the last one blocked (whose turn found the run stuck) and the finished agent's too.
      for (const wait of [...waits, ended] as ReadonlyArray<Fiber.Fiber<unknown>>) {
        const exit = yield* Fiber.await(wait).pipe(Effect.timeout("5 seconds"))
        expect(Exit.isFailure(exit) && String(Cause.squash(exit.cause))).toMatch(
          /no agent can go on \(a deadlock of the protocol\): agent 0 waits for task 1, epoch 0; agent 1 waits for task 0, epoch 0; agent 2 waits for task 0, epoch 0/
        )
      }
    }))

  it.effect("a waiter runs again from its releaser's clock, even when it wakes up first; a retired agent holds nobody up", () =>
    Effect.gen(function*() {
      const time = new VirtualTime(3)
      const outcome = awaited(7, 0)
      time.advance(0, 10)
      time.advance(1, 2)
      time.advance(2, 4)
      // Agent 1, first in virtual time, is told to wait for `outcome`.
      yield* time.turn(1, Effect.sync(() => time.block(1, outcome)))
      // A blocked agent sends nothing until released: agent 2 (clock 4) need not wait for it.
      yield* time.turn(2, Effect.void)
      time.advance(2, 16)
      // Agent 0 settles `outcome` at its clock, 10. Agent 1 wakes up and asks for a turn before
      // agent 0 has moved its clock: the turn is held, not taken at agent 1's old clock (2).
      const early = yield* Effect.forkChild(time.turn(1, Effect.sync(() => time.clock(1))))
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow
      expect(early.pollUnsafe()).toBeUndefined()
      time.release(0, outcome)
      time.retire(0)
      expect(yield* Fiber.join(early)).toBe(10)
      // Agent 2 (clock 20) comes after agent 1 (clock 10): its turn waits until agent 1 is done.
      const late = yield* Effect.forkChild(time.turn(2, Effect.succeed("agent 2's turn")))
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow
      expect(late.pollUnsafe()).toBeUndefined()
      time.retire(1)
      expect(yield* Fiber.join(late)).toBe("agent 2's turn")
    }))
})

describe("runs on two learner threads give the results of one thread", () => {
  const same = (c: ReturnType<typeof chain>, algorithms: ReadonlyArray<Algorithm>, seeds: ReadonlyArray<number>) =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* makeLearnerPool(2)
      const model = pool.addModel(c.tasks, c.features, { horizon: c.horizon, dim: c.features.dim, actions: c.actions, beta: c.beta, lambda: 1 })
      for (const seed of seeds) {
        for (const algorithm of algorithms) {
          const one = yield* runAlgorithm(c, algorithm, seed)
          const two = yield* runAlgorithm(c, algorithm, seed, undefined, { pool, model })
          expect(two.rows).toEqual(one.rows)
          expect(two.curve).toEqual(one.curve)
          expect(two.traffic).toEqual(one.traffic)
          expect(two.registered).toBe(one.registered)
        }
      }
      expect(pool.stats().chunks).toBeGreaterThan(0)
    }))

  it.live("partition: DistMT-LSVI, independent and oracle, two seeds", () => same(chain(), ["distmt", "independent", "oracle"], [0, 1]), 120_000)

  it.live("stream: every agent meets every task, so agents wait on owners and download policies", () =>
    Effect.gen(function*() {
      const c = chain({ assignment: Assignment.stream(), agents: 5 })
      const run = yield* runAlgorithm(c, "distmt", 3)
      // The case this test is for: some instances downloaded a policy learned elsewhere.
      expect(run.rows.some((r) => r.role === "downloaded")).toBe(true)
      yield* same(c, ["distmt"], [3, 4])
    }), 120_000)

  it.live("experience sharing: contributors exchange transitions every episode, in virtual-time order", () =>
    Effect.gen(function*() {
      // ε below c_Sep/2, so that matched agents pool experience after identifying.
      const c = chain({ assignment: Assignment.stream(), agents: 5, sharing: "experience", epsilon: 0.08 })
      const run = yield* runAlgorithm(c, "distmt", 3)
      // The case this test is for: transitions went through the pools.
      expect(run.traffic.experience.pulled).toBeGreaterThan(0)
      expect(run.rows.some((r) => r.role === "contributor")).toBe(true)
      yield* same(c, ["distmt"], [3])
    }), 120_000)

  it.live("a schedule (K1, K2) instead of widths", () =>
    same(chain({ stopping: Stopping.schedule({ k1: 150, k2: 300 }) }), ["distmt", "oracle"], [0]), 120_000)
})

describe("choosing threads", () => {
  it("the spec's threads: a whole number from 1 to 64 or \"auto\"; anything else names the field", () => {
    const base = Experiment.make({
      name: "t",
      environment: Env.linearChain({ length: 2, horizon: 2 }),
      contexts: Contexts.list([{ goal: 1, reward: 1, slip: 0.1 }]),
      agents: 2,
      epsilon: 0.3,
      cSep: 0.5,
      delta: 0.05
    })
    for (const ok of [1, 2, 64, "auto"]) {
      expect(Effect.runSync(decode({ ...base, threads: ok }, "t")).threads).toBe(ok)
    }
    expect(Effect.runSync(decode(base, "t")).threads).toBe("auto")
    for (const bad of [0, 1.5, 65, "two", -1]) {
      const exit = Effect.runSyncExit(decode({ ...base, threads: bad }, "t"))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(exit)).toMatch(/threads/)
    }
  })

  it("runs on one and two threads write the same files, compared as the threads bench compares them", () => {
    const files = (threads: number) => {
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-threads-")), "run")
      const r = spawnSync(process.execPath, [path.join(root, "bin/distmt.mjs"), "run", "specs/two-agents.spec.ts", "--threads", `${threads}`, "--out", out], {
        cwd: root,
        encoding: "utf8"
      })
      expect(r.status, r.stderr).toBe(0)
      const read = (f: string) => fs.readFileSync(path.join(out, f), "utf8")
      return { results: read("results.csv"), policies: read("policies.json"), summary: read("summary.json") }
    }
    const [one, two] = [files(1), files(2)]
    expect(two.results).toBe(one.results)
    expect(two.policies).toBe(one.policies)
    expect(JSON.parse(two.summary).threads).toBe(2) // the record differs, as it should
    expect(comparableSummary(two.summary)).toBe(comparableSummary(one.summary))
    // and the comparison still sees a result that differs
    const changed = JSON.parse(one.summary)
    changed.algorithms.distmt.messages += 1
    expect(comparableSummary(JSON.stringify(changed))).not.toBe(comparableSummary(one.summary))
  })

  it("distmt run --threads with a bad value: one clear line, exit 1, nothing written", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-threads-")), "run")
    const r = spawnSync(process.execPath, [path.join(root, "bin/distmt.mjs"), "run", "specs/two-agents.spec.ts", "--threads", "0", "--out", out], {
      cwd: root,
      encoding: "utf8"
    })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/--threads: expected a whole number of threads from 1 to 64, or "auto"/)
    expect(r.stderr).toMatch(/got "0"/)
    expect(fs.existsSync(out)).toBe(false)
  })
})

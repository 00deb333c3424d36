/**
 * The experience pool of the coordinator (docs/algorithm.md §3 step 3, `sharing: "experience"`):
 * - unit: a pull hands over the others' transitions since the cursor, never the caller's own; a solved
 *   task answers with its policy; experience traffic is counted apart from policy traffic;
 * - property, under fast-check's scheduler: concurrent contributors in any interleaving lose no
 *   transition and receive none twice, and through virtual time every contributor's view after a
 *   pull holds exactly the transitions pushed before it in virtual time.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as fc from "fast-check"
import { type CoordinatorShape, make, noTraffic } from "../src/coordinator/Coordinator.ts"
import type { Policy } from "../src/learner/Lsvi.ts"
import { count, TRANSITION_BYTES, WIDTH } from "../src/learner/Transitions.ts"
import { sequenced } from "../src/run/sequenced.ts"
import { VirtualTime } from "../src/run/VirtualTime.ts"

const policy: Policy = { horizon: 1, dim: 1, actions: 1, beta: 1, w: new Float64Array(1), LambdaInv: new Float64Array(1) }
const certificate = { lower: 0, upper: 0.1, width: 0.1 }

/** A batch of `n` transitions tagged (agent, serial): h = agent, s = serial, the rest fixed. */
const batch = (agent: number, first: number, n: number): Float64Array => {
  const out = new Float64Array(n * WIDTH)
  for (let i = 0; i < n; i++) out.set([agent, first + i, 0, 0.5, 1], i * WIDTH)
  return out
}

/** The (agent, serial) tags of a batch. */
const tags = (b: Float64Array): Array<string> =>
  Array.from({ length: count(b) }, (_, i) => `${b[i * WIDTH]}:${b[i * WIDTH + 1]}`)

describe("the experience pool (unit)", () => {
  it.effect("pulls hand over the others' transitions since the cursor, each once, never the caller's own", () =>
    Effect.gen(function*() {
      const c = yield* make
      const { task } = yield* c.identify(0, { lower: 0, upper: 1 })
      const a = yield* c.exchange(0, task, batch(0, 0, 3), 0)
      expect(a).toMatchObject({ _tag: "Pooled", cursor: 1 })
      if (a._tag !== "Pooled") return
      expect(count(a.pulled)).toBe(0)
      const b = yield* c.exchange(1, task, batch(1, 0, 2), 0)
      if (b._tag !== "Pooled") throw new Error("expected Pooled")
      expect(tags(b.pulled)).toEqual(["0:0", "0:1", "0:2"])
      const a2 = yield* c.exchange(0, task, batch(0, 3, 1), a.cursor)
      if (a2._tag !== "Pooled") throw new Error("expected Pooled")
      expect(tags(a2.pulled)).toEqual(["1:0", "1:1"])
      // Pulling again from the new cursor gives nothing new.
      const a3 = yield* c.exchange(0, task, new Float64Array(0), a2.cursor)
      if (a3._tag !== "Pooled") throw new Error("expected Pooled")
      expect(count(a3.pulled)).toBe(0)
      const b2 = yield* c.exchange(1, task, new Float64Array(0), b.cursor)
      if (b2._tag !== "Pooled") throw new Error("expected Pooled")
      expect(tags(b2.pulled)).toEqual(["0:3"])
    }))

  it.effect("once a contributor publishes, an exchange answers with the policy and its target flag", () =>
    Effect.gen(function*() {
      const c = yield* make
      const { task } = yield* c.identify(0, { lower: 0, upper: 1 })
      yield* c.exchange(1, task, batch(1, 0, 1), 0)
      yield* c.publish(1, task, policy, certificate, false)
      const r = yield* c.exchange(0, task, batch(0, 0, 1), 0)
      expect(r).toEqual({ _tag: "Solved", policy, certificate, reached: false })
    }))

  it.effect("experience traffic is counted apart from policy traffic", () =>
    Effect.gen(function*() {
      const c = yield* make
      const { task } = yield* c.identify(0, { lower: 0, upper: 1 })
      const before = yield* c.traffic
      expect(before.experience).toEqual(noTraffic.experience)
      yield* c.exchange(0, task, batch(0, 0, 3), 0)
      yield* c.exchange(1, task, batch(1, 0, 2), 0)
      const after = yield* c.traffic
      expect(after.messages).toBe(before.messages)
      expect(after.bytes).toBe(before.bytes)
      expect(after.experience.messages).toBe(4)
      expect(after.experience.pushed).toBe(5)
      expect(after.experience.pulled).toBe(3)
      // Requests: 3 headers + the pushed transitions; replies: 2 headers + the pulled ones.
      expect(after.experience.bytes).toBe(2 * (3 * 8 + 2 * 8) + (5 + 3) * TRANSITION_BYTES)
    }))
})

/** A contributor's script: run some episodes (their end order is the scheduler's), or push `n` transitions and pull. */
type Step = { readonly _tag: "Run"; readonly episodes: number } | { readonly _tag: "Push"; readonly n: number }

const scriptArb = fc.array(
  fc.array(
    fc.oneof(
      fc.record({ _tag: fc.constant("Run" as const), episodes: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ _tag: fc.constant("Push" as const), n: fc.integer({ min: 0, max: 3 }) })
    ),
    { maxLength: 6 }
  ),
  { minLength: 1, maxLength: 4 }
)

interface Seen {
  /** Everything the agent holds after the exchange: its own pushes and every pull so far. */
  readonly view: ReadonlyArray<string>
  readonly pulled: ReadonlyArray<string>
}

/**
 * Runs the scripts as fibers against one pool; each agent ends with an empty exchange (a last
 * pull). Returns, per agent, what it held after each exchange.
 */
const runScripts = async (
  s: fc.Scheduler,
  scripts: ReadonlyArray<ReadonlyArray<Step>>,
  virtualTime: boolean
): Promise<Array<Array<Seen>>> => {
  const time = new VirtualTime(scripts.length)
  const program = Effect.gen(function*() {
    const inner = yield* make
    const server: CoordinatorShape = virtualTime ? sequenced(inner, time) : inner
    const { task } = yield* inner.identify(0, { lower: 0, upper: 1 })
    const agent = (steps: ReadonlyArray<Step>, i: number) =>
      Effect.gen(function*() {
        const seen: Array<Seen> = []
        const view: Array<string> = []
        let cursor = 0
        let serial = 0
        const exchange = (n: number) =>
          Effect.gen(function*() {
            const pushed = batch(i, serial, n)
            serial += n
            const r = yield* server.exchange(i, task, pushed, cursor)
            if (r._tag !== "Pooled") throw new Error("nobody publishes here")
            cursor = r.cursor
            view.push(...tags(pushed), ...tags(r.pulled))
            seen.push({ view: [...view], pulled: tags(r.pulled) })
          })
        for (const step of steps) {
          if (step._tag === "Run") {
            yield* Effect.promise(() => s.schedule(Promise.resolve(step.episodes), `agent ${i} runs ${step.episodes}`))
            time.advance(i, step.episodes)
          } else {
            yield* Effect.promise(() => s.schedule(Promise.resolve(), `agent ${i} pushes`))
            yield* exchange(step.n)
          }
        }
        return seen
      }).pipe(Effect.ensuring(Effect.sync(() => time.retire(i))))
    const seen = yield* Effect.forEach(scripts, agent, { concurrency: "unbounded" })
    // A last pull for everyone, once every push is in.
    return yield* Effect.forEach(seen, (mine, i) =>
      Effect.gen(function*() {
        const last = mine.at(-1)?.view ?? []
        const cursor = 0
        const r = yield* inner.exchange(i, task, new Float64Array(0), cursor)
        if (r._tag !== "Pooled") throw new Error("nobody publishes here")
        // From cursor 0 the pull is the whole pool less the agent's own pushes.
        const own = last.filter((t) => t.startsWith(`${i}:`))
        return [...mine, { view: [...own, ...tags(r.pulled)], pulled: tags(r.pulled) }]
      }))
  })
  let exit: Exit.Exit<Array<Array<Seen>>> | undefined
  void Effect.runPromiseExit(program).then((e) => {
    exit = e
  })
  let idle = 0
  while (exit === undefined) {
    await s.waitIdle()
    await new Promise((resolve) => setTimeout(resolve, 0))
    idle = s.count() === 0 ? idle + 1 : 0
    if (exit === undefined && idle > 100) throw new Error("deadlock: nothing scheduled and the agents are not done")
  }
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  return exit.value
}

/** Every transition the scripts push, with the virtual time (clock, agent, position) of its push. */
const pushes = (scripts: ReadonlyArray<ReadonlyArray<Step>>) =>
  scripts.flatMap((steps, agent) => {
    let clock = 0
    let serial = 0
    return steps.flatMap((s, k) => {
      if (s._tag === "Run") {
        clock += s.episodes
        return []
      }
      const out = Array.from({ length: s.n }, (_, i) => ({ tag: `${agent}:${serial + i}`, clock, agent, k }))
      serial += s.n
      return out
    })
  })

const before = (a: { clock: number; agent: number }, b: { clock: number; agent: number }) =>
  a.clock < b.clock || (a.clock === b.clock && a.agent < b.agent)

describe("the experience pool under races (property, fast-check scheduler)", () => {
  it("no transition is lost or received twice, and none comes back to its pusher", () =>
    fc.assert(
      fc.asyncProperty(fc.scheduler(), scriptArb, async (s, scripts) => {
        const all = pushes(scripts).map((p) => p.tag).sort()
        const seen = await runScripts(s, scripts, false)
        seen.forEach((mine, i) => {
          const pulled = mine.flatMap((x) => x.pulled)
          // The last entry re-reads the whole pool from cursor 0: check the running pulls apart from it.
          const running = mine.slice(0, -1).flatMap((x) => x.pulled)
          expect(new Set(running).size).toBe(running.length)
          expect(running.every((t) => !t.startsWith(`${i}:`))).toBe(true)
          expect(pulled.every((t) => !t.startsWith(`${i}:`))).toBe(true)
          // In the end every agent holds every transition, exactly once.
          expect([...mine.at(-1)!.view].sort()).toEqual(all)
          // And what it pulled on the way is part of the pool, never more.
          expect(running.every((t) => all.includes(t))).toBe(true)
        })
      }),
      { numRuns: 200 }
    ))

  it("through virtual time, a contributor's view after a pull holds exactly the transitions pushed before it in virtual time", () =>
    fc.assert(
      fc.asyncProperty(fc.scheduler(), scriptArb, async (s, scripts) => {
        const all = pushes(scripts)
        const seen = await runScripts(s, scripts, true)
        scripts.forEach((steps, i) => {
          let clock = 0
          let exchanges = 0
          steps.forEach((step, k) => {
            if (step._tag === "Run") {
              clock += step.episodes
              return
            }
            const at = { clock, agent: i }
            const expected = all
              .filter((p) => (p.agent === i ? p.k <= k : before(p, at)))
              .map((p) => p.tag)
              .sort()
            expect([...seen[i][exchanges].view].sort()).toEqual(expected)
            exchanges++
          })
        })
      }),
      { numRuns: 200 }
    ))
})

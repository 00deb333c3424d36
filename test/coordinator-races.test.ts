/**
 * The PRODUCT coordinator's `identify` under races (docs/algorithm.md §3 step 2 and §6 items 3 and 5).
 *
 * test/coordinator.test.ts lets fast-check's scheduler order the agents' *requests*; in practice a
 * released request runs to its end before the next one is released, so a non-atomic `identify`
 * inside the product (Ref.get, Effect.yieldNow, then Ref.update) slips through it (checked by
 * planting exactly that in src/coordinator/Coordinator.ts). Here fast-check schedules the Effect
 * *runtime* itself: every task an Effect fiber hands to its scheduler (a fork starting, a fiber
 * resuming after `Effect.yieldNow` or after a `Deferred`/join) is a task of `fc.scheduler()`, released
 * in an order fast-check picks. So any yield inside `identify` is a point where the other agents'
 * identifies may run, and a check-then-register registry is caught. The same harness is shown to
 * fail on such a broken registry, written here in the test (never in the product).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Ref, type Scheduler } from "effect"
import * as fc from "fast-check"
import { type CoordinatorShape, type Entry, type TaskRecord, type Identification, type Interval, make } from "../src/coordinator/Coordinator.ts"
import { newEntry } from "../src/coordinator/registry.ts"
import type { Policy } from "../src/learner/Lsvi.ts"
import { overlappingGroups, type GroupedInterval } from "./arbitraries.ts"

/** What the property needs of a coordinator. */
type Registry = Pick<CoordinatorShape, "identify" | "registry">

/**
 * An Effect scheduler that hands every runtime task to fast-check's scheduler: which fiber moves next
 * is decided by fast-check, at every yield point of every fiber (and shrunk on failure).
 */
const fastCheckRuntime = (s: fc.Scheduler): Scheduler.Scheduler => {
  let dispatchers = 0
  return {
    executionMode: "async",
    // Never yield on the operation count: the only switches are the ones the program makes.
    shouldYield: () => false,
    makeDispatcher: () => {
      const id = dispatchers++
      return {
        scheduleTask: (task) => {
          void s.schedule(Promise.resolve(), `fiber task (dispatcher ${id})`).then(task)
        },
        flush: () => {}
      }
    }
  }
}

const overlaps = (a: Interval, b: Interval): boolean => a.lower <= b.upper && b.lower <= a.upper

/**
 * Runs one concurrent identify per call, each in its own fiber, under the fast-check-driven runtime;
 * returns the replies (in call order) and the registry at the end.
 */
const runIdentifies = async (
  s: fc.Scheduler,
  makeRegistry: Effect.Effect<Registry>,
  calls: ReadonlyArray<GroupedInterval>
): Promise<{ readonly replies: ReadonlyArray<Identification>; readonly registry: ReadonlyArray<TaskRecord> }> => {
  const program = Effect.gen(function*() {
    const c = yield* makeRegistry
    const fibers = yield* Effect.forEach(calls, (call, agent) => Effect.forkChild(c.identify(agent, call.interval)))
    const replies = yield* Effect.forEach(fibers, (f) => Fiber.join(f))
    return { replies, registry: yield* c.registry }
  })
  let settled: Exit.Exit<Effect.Success<typeof program>> | undefined
  void Effect.runPromiseExit(program, { scheduler: fastCheckRuntime(s) }).then((exit) => {
    settled = exit
  })
  while (settled === undefined) {
    await s.waitIdle()
    await new Promise((resolve) => setTimeout(resolve, 0))
    if (settled === undefined && s.count() === 0) throw new Error("an identify never returned")
  }
  if (Exit.isFailure(settled)) throw new Error(`the program failed: ${String(settled.cause)}`)
  return settled.value
}

/**
 * §6 items 3 and 5 for concurrent identifies: each group (intervals that all overlap one another,
 * and no other group's) is registered exactly once and every call of the group gets that task; the
 * registry holds one entry per group, no two of them overlap, and each entry's interval is the
 * intersection of its group's intervals (no narrowing lost to a race).
 */
const identifyProperty = (makeRegistry: Effect.Effect<Registry>) =>
  fc.asyncProperty(fc.scheduler(), overlappingGroups({ maxGroups: 3, maxCalls: 6 }), async (s, calls) => {
    const { registry, replies } = await runIdentifies(s, makeRegistry, calls)
    const groups = [...new Set(calls.map((c) => c.group))]
    for (const g of groups) {
      const mine = replies.filter((_, i) => calls[i].group === g)
      const registered = mine.filter((r) => r._tag === "Registered")
      expect(registered, `group ${g} registered ${registered.length} times; replies ${JSON.stringify(replies)}`).toHaveLength(1)
      expect(new Set(mine.map((r) => r.task)).size, `group ${g} split over several tasks`).toBe(1)
    }
    expect(new Set(replies.map((r) => r.task)).size, "two groups share a task").toBe(groups.length)
    expect(registry, "one registry entry per group").toHaveLength(groups.length)
    registry.forEach((a, i) =>
      registry.slice(i + 1).forEach((b) => expect(overlaps(a.interval, b.interval), "overlapping entries").toBe(false))
    )
    for (const g of groups) {
      const task = replies[calls.findIndex((c) => c.group === g)].task
      const mine = calls.filter((c) => c.group === g).map((c) => c.interval)
      const lower = Math.max(...mine.map((i) => i.lower))
      const upper = Math.min(...mine.map((i) => i.upper))
      expect(registry.find((e) => e.id === task)?.interval, `the interval of group ${g}`).toEqual({ lower, upper })
    }
  })

/**
 * A deliberately broken registry (test-only): identify reads the entries, yields, then registers
 * from what it read, in a separate update. Sequentially it behaves; concurrently two overlapping
 * identifies can both see nothing and both register.
 */
const checkThenRegister: Effect.Effect<Registry> = Effect.gen(function*() {
  const state = yield* Ref.make<ReadonlyArray<Entry>>([])
  const identify = (agent: number, interval: Interval): Effect.Effect<Identification> =>
    Effect.gen(function*() {
      const seen = yield* Ref.get(state)
      yield* Effect.yieldNow
      const found = seen.find((e) => overlaps(e.interval, interval))
      if (found !== undefined) {
        yield* Ref.update(state, (es) =>
          es.map((e) =>
            e.id === found.id
              ? { ...e, interval: { lower: Math.max(e.interval.lower, interval.lower), upper: Math.min(e.interval.upper, interval.upper) } }
              : e
          ))
        return { _tag: "Learning", task: found.id, epoch: found.epoch }
      }
      let id = -1
      yield* Ref.update(state, (es) => {
        id = es.length
        return [...es, newEntry<Policy>(id, undefined, interval, agent)]
      })
      return { _tag: "Registered", task: id }
    })
  return { identify, registry: Ref.get(state) }
})

describe("Coordinator races in the runtime (property, fast-check schedules every fiber step)", () => {
  it("the product's identify registers each group of overlapping intervals once, under any interleaving", async () => {
    await fc.assert(identifyProperty(make), { seed: 4242, numRuns: 150 })
  })

  it("the same property catches a check-then-register identify (the check can fail)", async () => {
    // Sequentially the broken registry is right…
    const sequential = await Effect.runPromise(
      Effect.gen(function*() {
        const c = yield* checkThenRegister
        return [yield* c.identify(0, { lower: 0, upper: 1 }), yield* c.identify(1, { lower: 0.5, upper: 2 })]
      })
    )
    expect(sequential.map((r) => r._tag)).toEqual(["Registered", "Learning"])
    // …but fast-check finds an interleaving where one group is registered twice.
    const details = await fc.check(identifyProperty(checkThenRegister), { seed: 4242, numRuns: 150 })
    expect(details.failed, "expected a counterexample").toBe(true)
    expect(String(details.errorInstance)).toMatch(/registered 2 times|one registry entry per group/)
  })
})

/**
 * The coordinator (docs/algorithm.md §3 steps 2–4 and §6 items 3 and 5): unit tests of each request,
 * then a race property under fast-check's scheduler, which picks the order in which concurrent
 * agents reach the server. The same property is run against a deliberately non-atomic identify
 * (read, yield, then register) and must fail there: proof that it can catch a broken coordinator.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Ref, Scheduler } from "effect"
import * as fc from "fast-check"
import {
  Coordinator,
  type CoordinatorShape,
  type Entry,
  type TaskRecord,
  type Identification,
  type Interval,
  layer,
  make,
  noTraffic,
  type Outcome
} from "../src/coordinator/Coordinator.ts"
import { newEntry } from "../src/coordinator/registry.ts"
import { type Certificate, type Policy, policyBytes } from "../src/learner/Lsvi.ts"

/** A one-parameter policy whose `beta` (and w) records who made it. */
const policy = (tag: number): Policy => ({
  horizon: 1,
  dim: 1,
  actions: 1,
  beta: tag,
  w: Float64Array.of(tag),
  LambdaInv: new Float64Array(1)
})

const certificate = (lower: number, upper: number): Certificate => ({ lower, upper, width: upper - lower })

const iv = (lower: number, upper: number): Interval => ({ lower, upper })

const expectTag = <T extends Identification["_tag"]>(
  reply: Identification,
  tag: T
): Extract<Identification, { readonly _tag: T }> => {
  expect(reply._tag).toBe(tag)
  return reply as Extract<Identification, { readonly _tag: T }>
}

describe("Coordinator requests", () => {
  it.effect("identify registers when nothing overlaps, and matches (intersecting) when something does", () =>
    Effect.gen(function*() {
      const c = yield* make
      const first = expectTag(yield* c.identify(0, iv(0.2, 0.6)), "Registered")
      expect(first.task).toBe(0)
      const again = expectTag(yield* c.identify(1, iv(0.5, 0.9)), "Learning")
      expect(again.task).toBe(0)
      const registry = yield* c.registry
      expect(registry).toHaveLength(1)
      // I_j ← I_j ∩ I
      expect(registry[0].interval).toEqual(iv(0.5, 0.6))
      expect(registry[0]).toMatchObject({ founder: 0, owner: 0, status: "learning", policy: undefined })
      // A third interval overlapping only the old, wider interval no longer matches.
      const third = expectTag(yield* c.identify(2, iv(0.25, 0.45)), "Registered")
      expect(third.task).toBe(1)
    }))

  it.effect("distinct non-overlapping intervals give distinct tasks", () =>
    Effect.gen(function*() {
      const c = yield* make
      const intervals = [iv(0, 0.1), iv(0.3, 0.4), iv(0.6, 0.7), iv(0.9, 1)]
      const replies: Array<Identification> = []
      for (const [agent, interval] of intervals.entries()) replies.push(yield* c.identify(agent, interval))
      expect(replies.map((r) => r._tag)).toEqual(["Registered", "Registered", "Registered", "Registered"])
      expect(new Set(replies.map((r) => r.task)).size).toBe(4)
      const registry = yield* c.registry
      expect(registry.map((e) => e.interval)).toEqual(intervals)
      expect(registry.map((e) => e.owner)).toEqual([0, 1, 2, 3])
      // Each interval found again maps to its own task.
      for (const [agent, interval] of intervals.entries()) {
        expect((yield* c.identify(10 + agent, interval)).task).toBe(agent)
      }
    }))

  it.effect("a waiter on a task being learned is released with the published policy", () =>
    Effect.gen(function*() {
      const c = yield* make
      const { task } = expectTag(yield* c.identify(0, iv(0, 1)), "Registered")
      const waiting = expectTag(yield* c.identify(1, iv(0.5, 1.5)), "Learning")
      const fiber = yield* Effect.forkChild(c.awaitPolicy(1, waiting.task, waiting.epoch))
      yield* Effect.yieldNow
      expect(fiber.pollUnsafe()).toBeUndefined()
      const p = policy(7)
      const cert = certificate(0.5, 0.55)
      yield* c.publish(0, task, p, cert, true)
      const outcome = yield* Fiber.join(fiber)
      expect(outcome).toEqual({ _tag: "Published", policy: p, certificate: cert, reached: true })
      if (outcome._tag === "Published") expect(outcome.policy).toBe(p)
      // A latecomer gets the policy with the answer.
      const late = expectTag(yield* c.identify(2, iv(0.52, 0.7)), "Solved")
      expect(late.policy).toBe(p)
      expect(late.certificate).toEqual(cert)
    }))

  it.effect("publish counts its messages and bytes", () =>
    Effect.gen(function*() {
      const c = yield* make
      expect(yield* c.traffic).toEqual(noTraffic)
      const { task } = yield* c.identify(0, iv(0, 1))
      const before = yield* c.traffic
      // identify: request and reply, header + interval, then a header.
      expect(before).toEqual({ ...noTraffic, messages: 2, bytes: 8 + 16 + 8 })
      const p = policy(1)
      yield* c.publish(0, task, p, certificate(0, 0.1), true)
      const after = yield* c.traffic
      // Request (header, policy, 3-float certificate) and acknowledgement (header).
      expect(after.messages - before.messages).toBe(2)
      expect(after.bytes - before.bytes).toBe(8 + policyBytes(p) + 24 + 8)
      expect(policyBytes(p)).toBe(16)
      // A second publication of a solved task is counted but keeps the first policy.
      yield* c.publish(1, task, policy(2), certificate(0, 0.1), true)
      expect((yield* c.traffic).messages).toBe(after.messages + 2)
      expect((yield* c.fetchAll(0))[0].policy).toBe(p)
    }))

  it.effect("abandon by the owner re-opens the task and wakes its waiters; claims take it over once", () =>
    Effect.gen(function*() {
      const c = yield* make
      const { task } = expectTag(yield* c.identify(0, iv(0, 1)), "Registered")
      const w1 = expectTag(yield* c.identify(1, iv(0.2, 0.8)), "Learning")
      const w2 = expectTag(yield* c.identify(2, iv(0.3, 0.9)), "Learning")
      const waiters = yield* Effect.forkChild(
        Effect.all([c.awaitPolicy(1, w1.task, w1.epoch), c.awaitPolicy(2, w2.task, w2.epoch)], { concurrency: "unbounded" })
      )
      // Only the owner may abandon.
      yield* c.abandon(1, task)
      expect((yield* c.registry)[task]).toMatchObject({ status: "learning", owner: 0 })
      yield* c.abandon(0, task)
      expect(yield* Fiber.join(waiters)).toEqual([{ _tag: "Reopened" }, { _tag: "Reopened" }])
      expect((yield* c.registry)[task]).toMatchObject({ status: "open", owner: undefined })
      // The first claim makes its caller the owner; the second sees the task being learned.
      expectTag(yield* c.claim(2, task), "Claimed")
      expect((yield* c.registry)[task]).toMatchObject({ status: "learning", owner: 2, founder: 0 })
      const second = expectTag(yield* c.claim(1, task), "Learning")
      // The second claimer waits on the new epoch, released by the new owner's publication; a
      // waiter of the old epoch is answered at once: that epoch ended when the task was re-opened.
      expect(second.epoch).toBe(w1.epoch + 1)
      expect(yield* c.awaitPolicy(1, task, w1.epoch)).toEqual({ _tag: "Reopened" })
      const released = yield* Effect.forkChild(c.awaitPolicy(1, second.task, second.epoch))
      const p = policy(2)
      yield* c.publish(2, task, p, certificate(0.3, 0.35), true)
      const outcome = yield* Fiber.join(released)
      expect(outcome._tag === "Published" && outcome.policy === p).toBe(true)
      expect((yield* c.registry)[task]).toMatchObject({ status: "solved", publisher: 2, owner: 2 })
      // Abandoning a solved task changes nothing.
      yield* c.abandon(2, task)
      expect((yield* c.registry)[task].status).toBe("solved")
    }))

  it.effect("identify on an open task claims it", () =>
    Effect.gen(function*() {
      const c = yield* make
      const { task } = yield* c.identify(0, iv(0, 1))
      yield* c.abandon(0, task)
      const reply = expectTag(yield* c.identify(3, iv(0.9, 2)), "Claimed")
      expect(reply.task).toBe(task)
      expect((yield* c.registry)[task]).toMatchObject({ status: "learning", owner: 3, interval: iv(0.9, 1) })
      expectTag(yield* c.identify(4, iv(0.95, 1)), "Learning")
    }))

  it.effect("fetchAll returns every published policy, and only those", () =>
    Effect.gen(function*() {
      const c = yield* make
      for (let agent = 0; agent < 4; agent++) yield* c.identify(agent, iv(agent, agent + 0.5))
      const published = [policy(10), policy(30)]
      yield* c.publish(0, 0, published[0], certificate(0, 0.1), true)
      yield* c.publish(3, 3, published[1], certificate(3, 3.1), true)
      const all = yield* c.fetchAll(1)
      expect(all.map((x) => x.task)).toEqual([0, 3])
      expect(all[0].policy).toBe(published[0])
      expect(all[1].policy).toBe(published[1])
    }))

  it.effect("identifyKnown matches by key, not by interval (the oracle baseline)", () =>
    Effect.gen(function*() {
      const c = yield* make
      expectTag(yield* c.identifyKnown(0, 5, iv(0, 1)), "Registered")
      expectTag(yield* c.identifyKnown(1, 6, iv(0, 1)), "Registered")
      const same = expectTag(yield* c.identifyKnown(2, 5, iv(7, 8)), "Learning")
      expect(same.task).toBe(0)
      expect((yield* c.registry).map((e) => e.key)).toEqual([5, 6])
    }))

  it.effect("is provided as a service by `layer`, fresh each time", () =>
    Effect.gen(function*() {
      const c = yield* Coordinator
      expectTag(yield* c.identify(0, iv(0, 1)), "Registered")
      expect(yield* c.registry).toHaveLength(1)
    }).pipe(Effect.provide(layer)))
})

// ─── Races under fast-check's scheduler (docs/algorithm.md §6 item 5) ─────────────────────────────────

/** An agent's instance: its hidden task (group) and interval, and whether it fails when it owns a task. */
interface Plan {
  readonly group: number
  readonly interval: Interval
  readonly fails: boolean
}

/**
 * Groups are centred at 10·g; every interval of a group contains its centre and lies within ±1 of
 * it, so the intervals of one group all overlap one another and those of distinct groups never do.
 */
const plans: fc.Arbitrary<ReadonlyArray<Plan>> = fc.integer({ min: 1, max: 3 }).chain((groups) =>
  fc.array(
    fc.record({
      group: fc.integer({ min: 0, max: groups - 1 }),
      below: fc.double({ min: 0, max: 0.9, noNaN: true }),
      above: fc.double({ min: 0, max: 0.9, noNaN: true }),
      fails: fc.boolean()
    }).map(({ above, below, fails, group }) => ({ group, fails, interval: iv(10 * group - below, 10 * group + above) })),
    { minLength: 2, maxLength: 6 }
  )
)

type Gate = (label: string) => Effect.Effect<void>

type Event =
  | { readonly agent: number; readonly kind: "identify" | "claim"; readonly reply: Identification["_tag"]; readonly task: number }
  | { readonly agent: number; readonly kind: "publish" | "abandon" | "reopened" | "released"; readonly task: number }

/** How an agent's run ended. */
type End =
  | { readonly _tag: "Failed"; readonly task: number }
  | { readonly _tag: "Holds"; readonly task: number; readonly policy: Policy }

/**
 * One agent as in §3: identify; own (publish, or fail and abandon) or wait; after a re-opening,
 * claim. Every request to the server waits for the scheduler first.
 */
const agent = (c: CoordinatorShape, gate: Gate, id: number, plan: Plan, log: Array<Event>): Effect.Effect<End> =>
  Effect.gen(function*() {
    yield* gate(`agent ${id}: identify`)
    let reply = yield* c.identify(id, plan.interval)
    log.push({ agent: id, kind: "identify", reply: reply._tag, task: reply.task })
    while (true) {
      switch (reply._tag) {
        case "Solved":
          return { _tag: "Holds", task: reply.task, policy: reply.policy }
        case "Registered":
        case "Claimed": {
          const task = reply.task
          if (plan.fails) {
            yield* gate(`agent ${id}: abandon ${task}`)
            // Logged first, so that nothing the abandonment lets happen is logged before it.
            log.push({ agent: id, kind: "abandon", task })
            yield* c.abandon(id, task)
            return { _tag: "Failed", task }
          }
          yield* gate(`agent ${id}: publish ${task}`)
          const p = policy(id)
          yield* c.publish(id, task, p, certificate(plan.interval.lower, plan.interval.upper), true)
          log.push({ agent: id, kind: "publish", task })
          return { _tag: "Holds", task, policy: p }
        }
        case "Learning": {
          const task = reply.task
          yield* gate(`agent ${id}: await ${task}`)
          const outcome: Outcome = yield* c.awaitPolicy(id, reply.task, reply.epoch)
          if (outcome._tag === "Published") {
            log.push({ agent: id, kind: "released", task })
            return { _tag: "Holds", task, policy: outcome.policy }
          }
          log.push({ agent: id, kind: "reopened", task })
          yield* gate(`agent ${id}: claim ${task}`)
          reply = yield* c.claim(id, task)
          log.push({ agent: id, kind: "claim", reply: reply._tag, task: reply.task })
        }
      }
    }
  })

/** Fibers resume on microtasks, so that the scheduler sees every agent that is ready to move. */
const microtaskScheduler = new Scheduler.MixedScheduler("sync")

/**
 * Runs the agents of `scenario` concurrently on a fresh coordinator from `makeCoordinator`, the
 * scheduler `s` choosing which pending request goes next, then checks §6 items 3 and 5.
 */
const race = async (
  makeCoordinator: (gate: Gate) => Effect.Effect<CoordinatorShape>,
  s: fc.Scheduler,
  scenario: ReadonlyArray<Plan>
): Promise<void> => {
  const gate: Gate = (label) => Effect.promise(() => s.schedule(Promise.resolve(label), label)).pipe(Effect.asVoid)
  const log: Array<Event> = []
  const program = Effect.gen(function*() {
    const c = yield* makeCoordinator(gate)
    const ends = yield* Effect.all(
      scenario.map((plan, id) => agent(c, gate, id, plan, log)),
      { concurrency: "unbounded" }
    )
    return { ends, registry: yield* c.registry, fetched: yield* c.fetchAll(-1) }
  }).pipe(Effect.provideService(Scheduler.Scheduler, microtaskScheduler))

  let settled: Exit.Exit<Effect.Success<typeof program>> | undefined
  void Effect.runPromiseExit(program).then((exit) => {
    settled = exit
  })
  // Release scheduled requests until the program ends; idle with the program still running
  // means some agent waits forever.
  while (settled === undefined) {
    await s.waitIdle()
    await new Promise((resolve) => setTimeout(resolve, 0))
    if (settled === undefined && s.count() === 0) {
      throw new Error(`an agent is blocked forever; events: ${JSON.stringify(log)}`)
    }
  }
  if (Exit.isFailure(settled)) throw new Error(`the agents failed: ${String(settled.cause)}`)
  const { ends, fetched, registry } = settled.value

  // §6 item 3: no two registered tasks overlap, and each hidden task has exactly one entry.
  const firstTask = new Map<number, number>()
  for (const e of log) if (e.kind === "identify") firstTask.set(e.agent, e.task)
  const taskOfGroup = new Map<number, number>()
  scenario.forEach((plan, id) => {
    const task = firstTask.get(id)!
    const known = taskOfGroup.get(plan.group)
    if (known !== undefined && known !== task) {
      throw new Error(`hidden task ${plan.group} registered twice: as ${known} and as ${task}; events: ${JSON.stringify(log)}`)
    }
    taskOfGroup.set(plan.group, task)
  })
  expect(new Set(taskOfGroup.values()).size, "distinct hidden tasks share an entry").toBe(taskOfGroup.size)
  expect(registry, "one registry entry per hidden task").toHaveLength(taskOfGroup.size)
  registry.forEach((a: TaskRecord, i) =>
    registry.slice(i + 1).forEach((b) => {
      expect(a.interval.lower <= b.interval.upper && b.interval.lower <= a.interval.upper, "overlapping entries").toBe(false)
    })
  )

  // §6 item 5: no publication lost; fetchAll holds exactly the published tasks, with their policies.
  const publications = log.filter((e) => e.kind === "publish")
  expect(new Set(publications.map((e) => e.task)).size, "a task published twice").toBe(publications.length)
  expect(fetched.map((f) => f.task).sort()).toEqual(publications.map((e) => e.task).sort())
  for (const p of publications) {
    const got = fetched.find((f) => f.task === p.task)
    expect(got?.policy.beta, `the policy of task ${p.task}`).toBe(p.agent)
    expect(registry[p.task]).toMatchObject({ status: "solved", publisher: p.agent })
  }

  // Every waiter was released (the program ended) with the policy of its own task, and a failure
  // that woke a waiter with "Reopened" led to a take-over: a claim of that task after the failure.
  ends.forEach((end, id) => {
    expect(end.task).toBe(taskOfGroup.get(scenario[id].group))
    if (end._tag === "Holds") expect(end.policy.beta).toBe(fetched.find((f) => f.task === end.task)?.policy.beta)
    else expect(scenario[id].fails).toBe(true)
  })
  log.forEach((e, i) => {
    if (e.kind !== "abandon") return
    const after = log.slice(i + 1)
    const woken = after.filter((x) => x.kind === "reopened" && x.task === e.task)
    const takenOver = after.some((x) =>
      (x.kind === "claim" || x.kind === "identify") && x.reply === "Claimed" && x.task === e.task
    )
    if (woken.length > 0) {
      expect(takenOver, `task ${e.task} abandoned by agent ${e.agent}, waiters woken, never claimed`).toBe(true)
    }
  })
  // A task nobody failed on is solved once every agent is done.
  for (const [, task] of taskOfGroup) {
    const failedOn = ends.some((end) => end._tag === "Failed" && end.task === task)
    if (!failedOn) expect(registry[task].status).toBe("solved")
  }
}

/** The property, for a given coordinator. */
const raceProperty = (makeCoordinator: (gate: Gate) => Effect.Effect<CoordinatorShape>) =>
  fc.asyncProperty(fc.scheduler(), plans, (s, scenario) => race(makeCoordinator, s, scenario))

const overlaps = (a: Interval, b: Interval): boolean => a.lower <= b.upper && b.lower <= a.upper

/**
 * A deliberately broken coordinator: `identify` reads the registry (Ref.get), lets the scheduler run
 * other requests, then registers from what it read (Ref.update): two agents can both see nothing and
 * both register the same hidden task. The rest behaves as the real coordinator does.
 */
const makeNonAtomic = (gate: Gate): Effect.Effect<CoordinatorShape> =>
  Effect.gen(function*() {
    const state = yield* Ref.make<ReadonlyArray<Entry>>([])
    const set = (e: Entry) => Ref.update(state, (es) => es.map((x) => (x.id === e.id ? e : x)))
    const answer = (agent: number, task: number) =>
      Effect.gen(function*() {
        const e = (yield* Ref.get(state))[task]
        switch (e.status) {
          case "solved":
            return { _tag: "Solved", task, policy: e.policy!, certificate: e.certificate!, reached: e.reached } as const
          case "learning":
            return { _tag: "Learning", task, epoch: e.epoch } as const
          case "open":
            yield* set({ ...e, owner: agent, status: "learning" })
            return { _tag: "Claimed", task } as const
        }
      })
    const identify = (agent: number, interval: Interval): Effect.Effect<Identification> =>
      Effect.gen(function*() {
        const seen = yield* Ref.get(state)
        yield* gate(`agent ${agent}: identify, between read and write`)
        const found = seen.find((e) => overlaps(e.interval, interval))
        if (found !== undefined) return yield* answer(agent, found.id)
        const id = (yield* Ref.get(state)).length
        yield* Ref.update(state, (es): ReadonlyArray<Entry> => [...es, newEntry(id, undefined, interval, agent)])
        return { _tag: "Registered", task: id } as const
      })
    const shape: CoordinatorShape = {
      identify,
      identifyKnown: (agent, _key, interval) => identify(agent, interval),
      awaitPolicy: (_agent, task) => Effect.flatMap(Ref.get(state), (es) => Deferred.await(es[task].outcome)),
      claim: (agent, task) => answer(agent, task),
      publish: (agent, task, p, cert, reached) =>
        Effect.gen(function*() {
          const e = (yield* Ref.get(state))[task]
          if (e.status === "solved") return
          yield* set({ ...e, status: "solved", owner: agent, policy: p, certificate: cert, reached, publisher: agent })
          yield* Deferred.succeed(e.outcome, { _tag: "Published", policy: p, certificate: cert, reached })
        }),
      abandon: (agent, task) =>
        Effect.gen(function*() {
          const e = (yield* Ref.get(state))[task]
          if (e.owner !== agent || e.status !== "learning") return
          yield* set({ ...e, owner: undefined, status: "open", epoch: e.epoch + 1, outcome: yield* Deferred.make<Outcome>() })
          yield* Deferred.succeed(e.outcome, { _tag: "Reopened" })
        }),
      exchange: () => Effect.die(new Error("the racy coordinator has no pool")),
      fetchAll: () =>
        Effect.map(Ref.get(state), (es) =>
          es.flatMap((e) =>
            e.policy === undefined
              ? []
              : [{ task: e.id, policy: e.policy, certificate: e.certificate!, reached: e.reached, publisher: e.publisher! }]
          )),
      registry: Ref.get(state),
      traffic: Effect.succeed(noTraffic)
    }
    return shape
  })

describe("Coordinator races (property, fast-check scheduler)", () => {
  it("no task registered twice, no publication lost, every waiter released", async () => {
    await fc.assert(raceProperty(() => make), { seed: 42, numRuns: 150 })
  })

  it("the same property catches a non-atomic identify", async () => {
    // Sanity: without concurrency the broken coordinator is fine…
    const sequential = await Effect.runPromise(
      Effect.gen(function*() {
        const c = yield* makeNonAtomic(() => Effect.void)
        return [yield* c.identify(0, iv(0, 1)), yield* c.identify(1, iv(0.5, 2))]
      })
    )
    expect(sequential.map((r) => r._tag)).toEqual(["Registered", "Learning"])
    // …but some interleaving makes two agents register one hidden task.
    const failure = await fc.assert(raceProperty(makeNonAtomic), { seed: 42, numRuns: 150 }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(failure, "the property should have failed").toBeInstanceOf(Error)
    expect(String((failure as Error).message)).toMatch(/Property failed/)
    expect(String((failure as Error).cause)).toMatch(/hidden task 0 registered twice/)
  })
})

/**
 * The central server of DistMT-LSVI (docs/algorithm.md §3): a task registry held in a `Ref`, with
 * `identify`, `publish`, `awaitPolicy`, `claim`, `abandon` and `fetchAll`, and each task's
 * experience pool (`exchange`, for `sharing: "experience"`).
 *
 * Every state change is one `Ref.modify`: the overlap test and the registration happen in the same
 * atomic step, so two agents can never register the same task twice. Agents wait by task id and
 * epoch, plain data that could cross a network (the epoch counts the task's re-openings): a waiter
 * of an epoch that has since been settled is answered at once, and otherwise waits on that epoch's
 * `Deferred`, read in the same step as the status, so a publication can never slip between "read:
 * still learning" and "start waiting". If the owner of a task fails, `abandon` re-opens it (a new
 * epoch) and wakes its waiters, one of which `claim`s it; a task found open by `identify` is
 * claimed on the spot.
 *
 * A task's pool is an append-only log of pushed batches; a contributor's cursor is the length of
 * the log it has seen, so a pull hands it every batch pushed by the others since, each exactly once
 * (no transition lost or applied twice), in the order the server received them.
 *
 * Every request and reply is counted, with its size in bytes (§3, accounting); experience traffic
 * is counted apart from policy traffic.
 */
import { Context, Deferred, Effect, Layer, Ref } from "effect"
import { type Certificate, type Policy, policyBytes } from "../learner/Lsvi.ts"
import { concat, count as transitions, TRANSITION_BYTES } from "../learner/Transitions.ts"
import { type Entry, type Interval, intersect, newEntry, type Outcome, overlaps, replace, type TaskRecord } from "./registry.ts"

export type { Entry, Interval, Outcome, TaskRecord, TaskStatus } from "./registry.ts"

/** The server's answer to `identify` (§3 step 2). */
export type Identification<P = Policy> =
  /** No overlapping task: a new one is registered, owned by the caller. */
  | { readonly _tag: "Registered"; readonly task: number }
  /** Overlaps a solved task: its policy comes with the answer. */
  | {
    readonly _tag: "Solved"
    readonly task: number
    readonly policy: P
    readonly certificate: Certificate
    readonly reached: boolean
  }
  /** Overlaps a task being learned elsewhere: wait for the outcome of its `epoch`. */
  | { readonly _tag: "Learning"; readonly task: number; readonly epoch: number }
  /** Overlaps a task whose owner failed: the caller now owns it. */
  | { readonly _tag: "Claimed"; readonly task: number }

/** The server's answer to `exchange` (§3 step 3, `sharing: "experience"`). */
export type Exchange<P = Policy> =
  /** The task is still being learned: the others' transitions since `cursor`, and the new cursor. */
  | { readonly _tag: "Pooled"; readonly pulled: Float64Array; readonly cursor: number }
  /** Some contributor published: stop and take its policy. */
  | { readonly _tag: "Solved"; readonly policy: P; readonly certificate: Certificate; readonly reached: boolean }

/** Experience traffic, counted apart from the policy traffic. */
export interface ExperienceTraffic {
  readonly messages: number
  readonly pushed: number
  readonly pulled: number
  readonly bytes: number
}

export interface Traffic {
  readonly messages: number
  readonly bytes: number
  readonly experience: ExperienceTraffic
}

export const noTraffic: Traffic = { messages: 0, bytes: 0, experience: { messages: 0, pushed: 0, pulled: 0, bytes: 0 } }

/** One push to a task's pool: who pushed it, and the packed transitions. */
export interface Batch {
  readonly agent: number
  readonly transitions: Float64Array
}

interface State<P> {
  readonly entries: ReadonlyArray<Entry<P>>
  /**
   * Each task's pool, by task id. The arrays are appended to in place inside `Ref.modify` (they
   * only ever grow, and a cursor only reads below the length it was given), so a push costs O(1)
   * rather than a copy of the pool.
   */
  readonly pools: ReadonlyArray<Array<Batch>>
  readonly traffic: Traffic
}

/** Message sizes: ids and floats are 8 bytes each. */
const HEADER = 8
const INTERVAL = 16
const CERTIFICATE = 24

const count = (t: Traffic, messages: number, bytes: number): Traffic => ({
  ...t,
  messages: t.messages + messages,
  bytes: t.bytes + bytes
})

const countExperience = (t: Traffic, pushed: number, pulled: number, bytes: number): Traffic => ({
  ...t,
  experience: {
    messages: t.experience.messages + 2,
    pushed: t.experience.pushed + pushed,
    pulled: t.experience.pulled + pulled,
    bytes: t.experience.bytes + bytes
  }
})

/** The answer for a caller that found `e` (by interval or by key); claims `e` if it is open. */
const answer = <P>(e: Entry<P>, agent: number, policyBytes: (p: P) => number): readonly [Identification<P>, Entry<P>, number] => {
  switch (e.status) {
    case "solved":
      return [
        { _tag: "Solved", task: e.id, policy: e.policy!, certificate: e.certificate!, reached: e.reached },
        e,
        policyBytes(e.policy!) + CERTIFICATE
      ]
    case "learning":
      return [{ _tag: "Learning", task: e.id, epoch: e.epoch }, e, 2 * HEADER]
    case "open":
      return [{ _tag: "Claimed", task: e.id }, { ...e, owner: agent, status: "learning" }, HEADER]
  }
}

/** A published policy as `fetchAll` returns it. */
export interface Published<P = Policy> {
  readonly task: number
  readonly policy: P
  readonly certificate: Certificate
  readonly reached: boolean
  readonly publisher: number
}

export interface CoordinatorShape<P = Policy> {
  /** §3 step 2, atomically: match the first registered task whose interval overlaps (I_j ← I_j ∩ I), or register. */
  readonly identify: (agent: number, interval: Interval) => Effect.Effect<Identification<P>>
  /** The oracle baseline's identify: the identity `key` is given, so tasks are matched by key. */
  readonly identifyKnown: (agent: number, key: number, interval: Interval) => Effect.Effect<Identification<P>>
  /** Waits until the task's `epoch` ends: published, or re-opened (at once if it already has). */
  readonly awaitPolicy: (agent: number, task: number, epoch: number) => Effect.Effect<Outcome<P>>
  /** Takes over a re-opened task; otherwise says what the task is now. */
  readonly claim: (agent: number, task: number) => Effect.Effect<Identification<P>>
  /**
   * Stores a policy with its certificate (and whether its learning met the width target) and
   * releases every waiter. The first publication of a task is kept.
   */
  readonly publish: (
    agent: number,
    task: number,
    policy: P,
    certificate: Certificate,
    reached: boolean
  ) => Effect.Effect<void>
  /** The owner failed: re-open its task and wake the waiters so one of them takes it over. */
  readonly abandon: (agent: number, task: number) => Effect.Effect<void>
  /**
   * §3 step 3 with `sharing: "experience"`, atomically: append `pushed` to the task's pool, and
   * answer with every transition the others pushed since `cursor` (or with the policy, once the task
   * is solved).
   */
  readonly exchange: (agent: number, task: number, pushed: Float64Array, cursor: number) => Effect.Effect<Exchange<P>>
  /** §3 step 4: every published policy, by task id. */
  readonly fetchAll: (agent: number) => Effect.Effect<ReadonlyArray<Published<P>>>
  /** The registry as it is now (for the evaluator and the tests; agents do not call it). */
  readonly registry: Effect.Effect<ReadonlyArray<TaskRecord<P>>>
  readonly traffic: Effect.Effect<Traffic>
}

/**
 * A coordinator's state without its in-process waiters: what a durable store keeps, and enough to
 * rebuild the server after its process died (src/coordinator/postgres.ts).
 */
export interface Snapshot<P = Policy> {
  readonly entries: ReadonlyArray<TaskRecord<P>>
  readonly pools: ReadonlyArray<ReadonlyArray<Batch>>
  readonly traffic: Traffic
}

export const emptySnapshot: Snapshot = { entries: [], pools: [], traffic: noTraffic }

/** The in-process server, which can also show its pools (for a durable store and the tests). */
export interface InProcessCoordinator<P = Policy> extends CoordinatorShape<P> {
  readonly registry: Effect.Effect<ReadonlyArray<Entry<P>>>
  readonly pools: Effect.Effect<ReadonlyArray<ReadonlyArray<Batch>>>
}

/** Builds an in-process coordinator over a fresh `Ref`. */
export const make: Effect.Effect<InProcessCoordinator> = Effect.suspend(() => makeFrom(emptySnapshot))

/**
 * What the server needs to know of a stage's payloads to count traffic (§3, accounting): the bytes
 * of a policy on the wire, and the transitions and bytes of a packed batch of experience. The
 * linear stage's are the default; the deep stage (src/deep/distmt/) gives its own, since its
 * policies are network weights and its transitions carry observations.
 */
export interface Sizes<P> {
  readonly policyBytes: (policy: P) => number
  readonly transitions: (batch: Float64Array) => number
  readonly transitionBytes: number
}

export const linearSizes: Sizes<Policy> = { policyBytes, transitions, transitionBytes: TRANSITION_BYTES }

/**
 * Builds an in-process coordinator in the state `snapshot` describes. Waiters of the old process
 * are gone: each entry gets a fresh outcome for its epoch, and a waiter that asks again (by task
 * and epoch) waits on it.
 */
/**
 * How `identify` finds the registered task an interval matches (§3 step 2): by default the first
 * whose interval overlaps it. A stage may decide otherwise from the request's `evidence` (the deep
 * stage's SimNet); it runs inside the same atomic step as the registration.
 */
export type Match<P> = (entries: ReadonlyArray<Entry<P>>, interval: Interval) => Entry<P> | undefined

const byOverlap = <P>(entries: ReadonlyArray<Entry<P>>, interval: Interval): Entry<P> | undefined =>
  entries.find((e) => overlaps(e.interval, interval))

export function makeFrom(snapshot: Snapshot): Effect.Effect<InProcessCoordinator>
export function makeFrom<P>(snapshot: Snapshot<P>, sizes: Sizes<P>, match?: Match<P>): Effect.Effect<InProcessCoordinator<P>>
export function makeFrom<P>(snapshot: Snapshot<P>, sizes?: Sizes<P>, match?: Match<P>): Effect.Effect<InProcessCoordinator<P>> {
  return makeWith(snapshot, sizes ?? (linearSizes as unknown as Sizes<P>), match ?? byOverlap)
}

const makeWith = <P>(snapshot: Snapshot<P>, sizes: Sizes<P>, match: Match<P>): Effect.Effect<InProcessCoordinator<P>> => Effect.gen(function*() {
  const { policyBytes, transitions, transitionBytes } = sizes
  const state = yield* Ref.make<State<P>>({
    entries: snapshot.entries.map((e) => ({ ...e, outcome: Deferred.makeUnsafe<Outcome<P>>() })),
    pools: snapshot.pools.map((p) => [...p]),
    traffic: snapshot.traffic
  })

  const identifyWith = (
    agent: number,
    interval: Interval,
    find: (entries: ReadonlyArray<Entry<P>>) => Entry<P> | undefined,
    key: number | undefined
  ) =>
    Ref.modify(state, (s): readonly [Identification<P>, State<P>] => {
      const request = HEADER + INTERVAL + 16 * (interval.more?.lower.length ?? 0) + 4 * (interval.evidence?.length ?? 0)
      const found = find(s.entries)
      if (found === undefined) {
        const { evidence: _evidence, ...kept } = interval
        const e = newEntry<P>(s.entries.length, key, kept, agent)
        return [
          { _tag: "Registered", task: e.id },
          { entries: [...s.entries, e], pools: [...s.pools, []], traffic: count(s.traffic, 2, request + HEADER) }
        ]
      }
      const narrowed: Entry<P> = {
        ...found,
        interval: intersect(found.interval, interval)
      }
      const [reply, updated, replyBytes] = answer(narrowed, agent, policyBytes)
      return [reply, { ...s, entries: replace(s.entries, updated), traffic: count(s.traffic, 2, request + replyBytes) }]
    })

  const identify = (agent: number, interval: Interval) =>
    identifyWith(agent, interval, (entries) => match(entries, interval), undefined)

  const identifyKnown = (agent: number, key: number, interval: Interval) =>
    identifyWith(agent, interval, (entries) => entries.find((e) => e.key === key), key)

  /** The outcome of a task's epoch: settled already, or the `Deferred` that will settle it. */
  const outcomeOf = (e: Entry<P>, epoch: number): Outcome<P> | Deferred.Deferred<Outcome<P>> =>
    e.epoch !== epoch
      ? { _tag: "Reopened" }
      : e.status === "solved"
      ? { _tag: "Published", policy: e.policy!, certificate: e.certificate!, reached: e.reached }
      : e.outcome

  const awaitPolicy = (_agent: number, task: number, epoch: number) =>
    Effect.gen(function*() {
      const now = outcomeOf((yield* Ref.get(state)).entries[task], epoch)
      const result: Outcome<P> = Deferred.isDeferred<Outcome<P>, never>(now) ? yield* Deferred.await(now) : now
      const bytes = result._tag === "Published" ? policyBytes(result.policy) + CERTIFICATE : HEADER
      // Request: task and epoch; reply: the policy with its certificate, or a header.
      yield* Ref.update(state, (s) => ({ ...s, traffic: count(s.traffic, 2, 2 * HEADER + bytes) }))
      return result
    })

  const claim = (agent: number, task: number) =>
    Ref.modify(state, (s): readonly [Identification<P>, State<P>] => {
      const e = s.entries[task]
      const [reply, updated, bytes] = answer(e, agent, policyBytes)
      return [reply, { ...s, entries: replace(s.entries, updated), traffic: count(s.traffic, 2, HEADER + bytes) }]
    })

  // publish and abandon change the registry and then wake the waiters: uninterruptible, so that an
  // interrupt between the two steps cannot leave waiters asleep on a task that moved on.
  const publish = (agent: number, task: number, policy: P, certificate: Certificate, reached: boolean) =>
    Effect.uninterruptible(Effect.gen(function*() {
      const toRelease = yield* Ref.modify(state, (s): readonly [Deferred.Deferred<Outcome<P>> | undefined, State<P>] => {
        const e = s.entries[task]
        const traffic = count(s.traffic, 2, HEADER + policyBytes(policy) + CERTIFICATE + HEADER)
        // A second publication of a solved task (possible after a take-over race) keeps the first.
        if (e.status === "solved") return [undefined, { ...s, traffic }]
        const solved: Entry<P> = { ...e, status: "solved", owner: agent, policy, certificate, reached, publisher: agent }
        return [e.outcome, { ...s, entries: replace(s.entries, solved), traffic }]
      })
      if (toRelease !== undefined) yield* Deferred.succeed(toRelease, { _tag: "Published", policy, certificate, reached })
    }))

  const abandon = (agent: number, task: number) =>
    Effect.uninterruptible(Effect.gen(function*() {
      const toWake = yield* Ref.modify(state, (s): readonly [Deferred.Deferred<Outcome<P>> | undefined, State<P>] => {
        const e = s.entries[task]
        // Counted like every other request, whether or not it re-opens the task (as a second
        // publication is): request the task id, reply an acknowledgement.
        const traffic = count(s.traffic, 2, HEADER + HEADER)
        if (e === undefined || e.owner !== agent || e.status !== "learning") return [undefined, { ...s, traffic }]
        const reopened: Entry<P> = { ...e, owner: undefined, status: "open", epoch: e.epoch + 1, outcome: Deferred.makeUnsafe<Outcome<P>>() }
        return [e.outcome, { ...s, entries: replace(s.entries, reopened), traffic }]
      })
      if (toWake !== undefined) yield* Deferred.succeed(toWake, { _tag: "Reopened" })
    }))

  const exchange = (agent: number, task: number, pushed: Float64Array, cursor: number) =>
    Ref.modify(state, (s): readonly [Exchange<P>, State<P>] => {
      const e = s.entries[task]
      const request = 3 * HEADER + pushed.length * 8
      if (e.status === "solved") {
        const reply: Exchange<P> = { _tag: "Solved", policy: e.policy!, certificate: e.certificate!, reached: e.reached }
        return [reply, { ...s, traffic: count(s.traffic, 2, request + policyBytes(e.policy!) + CERTIFICATE) }]
      }
      const pool = s.pools[task]
      const others = pool.slice(cursor).filter((b) => b.agent !== agent).map((b) => b.transitions)
      if (pushed.length > 0) pool.push({ agent, transitions: pushed })
      const pulled = concat(others)
      const traffic = countExperience(
        s.traffic,
        transitions(pushed),
        transitions(pulled),
        request + 2 * HEADER + transitions(pulled) * transitionBytes
      )
      return [{ _tag: "Pooled", pulled, cursor: pool.length }, { ...s, traffic }]
    })

  const fetchAll = (_agent: number) =>
    Ref.modify(state, (s) => {
      const published = s.entries.flatMap((e): Array<Published<P>> =>
        e.policy === undefined ? [] : [{ task: e.id, policy: e.policy, certificate: e.certificate!, reached: e.reached, publisher: e.publisher! }]
      )
      const bytes = published.reduce((b, p) => b + HEADER + policyBytes(p.policy) + CERTIFICATE, HEADER)
      return [published, { ...s, traffic: count(s.traffic, 2, HEADER + bytes) }] as const
    })

  return {
    identify,
    identifyKnown,
    awaitPolicy,
    claim,
    publish,
    abandon,
    exchange,
    fetchAll,
    registry: Effect.map(Ref.get(state), (s) => s.entries),
    traffic: Effect.map(Ref.get(state), (s) => s.traffic),
    pools: Effect.map(Ref.get(state), (s) => s.pools)
  }
})

/** The coordinator as an Effect service, so a test or the distributed mode can swap it. */
export class Coordinator extends Context.Service<Coordinator, CoordinatorShape>()("distmt/Coordinator") {}

/** A fresh in-process coordinator. */
export const layer: Layer.Layer<Coordinator> = Layer.effect(Coordinator, make)

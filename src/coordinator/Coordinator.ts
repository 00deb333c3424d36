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

export interface Interval {
  readonly lower: number
  readonly upper: number
}

export type TaskStatus = "learning" | "solved" | "open"

/** A registered task as the server holds it. `key` is set only by the oracle baseline. */
export interface Entry {
  readonly id: number
  readonly key: number | undefined
  readonly interval: Interval
  readonly founder: number
  readonly owner: number | undefined
  readonly status: TaskStatus
  readonly policy: Policy | undefined
  readonly certificate: Certificate | undefined
  /** Whether the publisher's learning met its width target (false when a cap ended it). */
  readonly reached: boolean
  readonly publisher: number | undefined
  /** How many times the task was re-opened: waiters wait for one epoch's outcome. */
  readonly epoch: number
  /** What waiters of this epoch are woken with (in-process only: it never leaves the server). */
  readonly outcome: Deferred.Deferred<Outcome>
}

/** A registered task as data: what the registry shows, wherever the server runs. */
export type TaskRecord = Omit<Entry, "outcome">

/** What a waiter learns: the policy was published, or the owner failed and the task is open. */
export type Outcome =
  | { readonly _tag: "Published"; readonly policy: Policy; readonly certificate: Certificate; readonly reached: boolean }
  | { readonly _tag: "Reopened" }

/** The server's answer to `identify` (§3 step 2). */
export type Identification =
  /** No overlapping task: a new one is registered, owned by the caller. */
  | { readonly _tag: "Registered"; readonly task: number }
  /** Overlaps a solved task: its policy comes with the answer. */
  | {
    readonly _tag: "Solved"
    readonly task: number
    readonly policy: Policy
    readonly certificate: Certificate
    readonly reached: boolean
  }
  /** Overlaps a task being learned elsewhere: wait for the outcome of its `epoch`. */
  | { readonly _tag: "Learning"; readonly task: number; readonly epoch: number }
  /** Overlaps a task whose owner failed: the caller now owns it. */
  | { readonly _tag: "Claimed"; readonly task: number }

/** The server's answer to `exchange` (§3 step 3, `sharing: "experience"`). */
export type Exchange =
  /** The task is still being learned: the others' transitions since `cursor`, and the new cursor. */
  | { readonly _tag: "Pooled"; readonly pulled: Float64Array; readonly cursor: number }
  /** Some contributor published: stop and take its policy. */
  | { readonly _tag: "Solved"; readonly policy: Policy; readonly certificate: Certificate; readonly reached: boolean }

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

interface State {
  readonly entries: ReadonlyArray<Entry>
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

const overlaps = (a: Interval, b: Interval): boolean => a.lower <= b.upper && b.lower <= a.upper

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

const replace = (entries: ReadonlyArray<Entry>, e: Entry): ReadonlyArray<Entry> =>
  entries.map((x) => (x.id === e.id ? e : x))

const newEntry = (id: number, key: number | undefined, interval: Interval, agent: number): Entry => ({
  id,
  key,
  interval,
  founder: agent,
  owner: agent,
  status: "learning",
  policy: undefined,
  certificate: undefined,
  reached: false,
  publisher: undefined,
  epoch: 0,
  outcome: Deferred.makeUnsafe<Outcome>()
})

/** The answer for a caller that found `e` (by interval or by key); claims `e` if it is open. */
const answer = (e: Entry, agent: number): readonly [Identification, Entry, number] => {
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
export interface Published {
  readonly task: number
  readonly policy: Policy
  readonly certificate: Certificate
  readonly reached: boolean
  readonly publisher: number
}

export interface CoordinatorShape {
  /** §3 step 2, atomically: match the first registered task whose interval overlaps (I_j ← I_j ∩ I), or register. */
  readonly identify: (agent: number, interval: Interval) => Effect.Effect<Identification>
  /** The oracle baseline's identify: the identity `key` is given, so tasks are matched by key. */
  readonly identifyKnown: (agent: number, key: number, interval: Interval) => Effect.Effect<Identification>
  /** Waits until the task's `epoch` ends: published, or re-opened (at once if it already has). */
  readonly awaitPolicy: (agent: number, task: number, epoch: number) => Effect.Effect<Outcome>
  /** Takes over a re-opened task; otherwise says what the task is now. */
  readonly claim: (agent: number, task: number) => Effect.Effect<Identification>
  /**
   * Stores a policy with its certificate (and whether its learning met the width target) and
   * releases every waiter. The first publication of a task is kept.
   */
  readonly publish: (
    agent: number,
    task: number,
    policy: Policy,
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
  readonly exchange: (agent: number, task: number, pushed: Float64Array, cursor: number) => Effect.Effect<Exchange>
  /** §3 step 4: every published policy, by task id. */
  readonly fetchAll: (agent: number) => Effect.Effect<ReadonlyArray<Published>>
  /** The registry as it is now (for the evaluator and the tests; agents do not call it). */
  readonly registry: Effect.Effect<ReadonlyArray<TaskRecord>>
  readonly traffic: Effect.Effect<Traffic>
}

/**
 * A coordinator's state without its in-process waiters: what a durable store keeps, and enough to
 * rebuild the server after its process died (src/coordinator/postgres.ts).
 */
export interface Snapshot {
  readonly entries: ReadonlyArray<TaskRecord>
  readonly pools: ReadonlyArray<ReadonlyArray<Batch>>
  readonly traffic: Traffic
}

export const emptySnapshot: Snapshot = { entries: [], pools: [], traffic: noTraffic }

/** The in-process server, which can also show its pools (for a durable store and the tests). */
export interface InProcessCoordinator extends CoordinatorShape {
  readonly registry: Effect.Effect<ReadonlyArray<Entry>>
  readonly pools: Effect.Effect<ReadonlyArray<ReadonlyArray<Batch>>>
}

/** Builds an in-process coordinator over a fresh `Ref`. */
export const make: Effect.Effect<InProcessCoordinator> = Effect.suspend(() => makeFrom(emptySnapshot))

/**
 * Builds an in-process coordinator in the state `snapshot` describes. Waiters of the old process
 * are gone: each entry gets a fresh outcome for its epoch, and a waiter that asks again (by task
 * and epoch) waits on it.
 */
export const makeFrom = (snapshot: Snapshot): Effect.Effect<InProcessCoordinator> => Effect.gen(function*() {
  const state = yield* Ref.make<State>({
    entries: snapshot.entries.map((e) => ({ ...e, outcome: Deferred.makeUnsafe<Outcome>() })),
    pools: snapshot.pools.map((p) => [...p]),
    traffic: snapshot.traffic
  })

  const identifyWith = (
    agent: number,
    interval: Interval,
    find: (entries: ReadonlyArray<Entry>) => Entry | undefined,
    key: number | undefined
  ) =>
    Ref.modify(state, (s): readonly [Identification, State] => {
      const request = HEADER + INTERVAL
      const found = find(s.entries)
      if (found === undefined) {
        const e = newEntry(s.entries.length, key, interval, agent)
        return [
          { _tag: "Registered", task: e.id },
          { entries: [...s.entries, e], pools: [...s.pools, []], traffic: count(s.traffic, 2, request + HEADER) }
        ]
      }
      const narrowed: Entry = {
        ...found,
        interval: {
          lower: Math.max(found.interval.lower, interval.lower),
          upper: Math.min(found.interval.upper, interval.upper)
        }
      }
      const [reply, updated, replyBytes] = answer(narrowed, agent)
      return [reply, { ...s, entries: replace(s.entries, updated), traffic: count(s.traffic, 2, request + replyBytes) }]
    })

  const identify = (agent: number, interval: Interval) =>
    identifyWith(agent, interval, (entries) => entries.find((e) => overlaps(e.interval, interval)), undefined)

  const identifyKnown = (agent: number, key: number, interval: Interval) =>
    identifyWith(agent, interval, (entries) => entries.find((e) => e.key === key), key)

  /** The outcome of a task's epoch: settled already, or the `Deferred` that will settle it. */
  const outcomeOf = (e: Entry, epoch: number): Outcome | Deferred.Deferred<Outcome> =>
    e.epoch !== epoch
      ? { _tag: "Reopened" }
      : e.status === "solved"
      ? { _tag: "Published", policy: e.policy!, certificate: e.certificate!, reached: e.reached }
      : e.outcome

  const awaitPolicy = (_agent: number, task: number, epoch: number) =>
    Effect.gen(function*() {
      const now = outcomeOf((yield* Ref.get(state)).entries[task], epoch)
      const result: Outcome = Deferred.isDeferred<Outcome, never>(now) ? yield* Deferred.await(now) : now
      const bytes = result._tag === "Published" ? policyBytes(result.policy) + CERTIFICATE : HEADER
      // Request: task and epoch; reply: the policy with its certificate, or a header.
      yield* Ref.update(state, (s) => ({ ...s, traffic: count(s.traffic, 2, 2 * HEADER + bytes) }))
      return result
    })

  const claim = (agent: number, task: number) =>
    Ref.modify(state, (s): readonly [Identification, State] => {
      const e = s.entries[task]
      const [reply, updated, bytes] = answer(e, agent)
      return [reply, { ...s, entries: replace(s.entries, updated), traffic: count(s.traffic, 2, HEADER + bytes) }]
    })

  // publish and abandon change the registry and then wake the waiters: uninterruptible, so that an
  // interrupt between the two steps cannot leave waiters asleep on a task that moved on.
  const publish = (agent: number, task: number, policy: Policy, certificate: Certificate, reached: boolean) =>
    Effect.uninterruptible(Effect.gen(function*() {
      const toRelease = yield* Ref.modify(state, (s): readonly [Deferred.Deferred<Outcome> | undefined, State] => {
        const e = s.entries[task]
        const traffic = count(s.traffic, 2, HEADER + policyBytes(policy) + CERTIFICATE + HEADER)
        // A second publication of a solved task (possible after a take-over race) keeps the first.
        if (e.status === "solved") return [undefined, { ...s, traffic }]
        const solved: Entry = { ...e, status: "solved", owner: agent, policy, certificate, reached, publisher: agent }
        return [e.outcome, { ...s, entries: replace(s.entries, solved), traffic }]
      })
      if (toRelease !== undefined) yield* Deferred.succeed(toRelease, { _tag: "Published", policy, certificate, reached })
    }))

  const abandon = (agent: number, task: number) =>
    Effect.uninterruptible(Effect.gen(function*() {
      const toWake = yield* Ref.modify(state, (s): readonly [Deferred.Deferred<Outcome> | undefined, State] => {
        const e = s.entries[task]
        if (e === undefined || e.owner !== agent || e.status !== "learning") return [undefined, s]
        const reopened: Entry = { ...e, owner: undefined, status: "open", epoch: e.epoch + 1, outcome: Deferred.makeUnsafe<Outcome>() }
        return [e.outcome, { ...s, entries: replace(s.entries, reopened) }]
      })
      if (toWake !== undefined) yield* Deferred.succeed(toWake, { _tag: "Reopened" })
    }))

  const exchange = (agent: number, task: number, pushed: Float64Array, cursor: number) =>
    Ref.modify(state, (s): readonly [Exchange, State] => {
      const e = s.entries[task]
      const request = 3 * HEADER + pushed.length * 8
      if (e.status === "solved") {
        const reply: Exchange = { _tag: "Solved", policy: e.policy!, certificate: e.certificate!, reached: e.reached }
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
        request + 2 * HEADER + transitions(pulled) * TRANSITION_BYTES
      )
      return [{ _tag: "Pooled", pulled, cursor: pool.length }, { ...s, traffic }]
    })

  const fetchAll = (_agent: number) =>
    Ref.modify(state, (s) => {
      const published = s.entries.flatMap((e): Array<Published> =>
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

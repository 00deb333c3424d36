/**
 * The task registry's data (docs/algorithm.md §3 step 2): a registered task (`Entry`) and its
 * interval, and the pure steps the server takes on them: the overlap test, the intersection that
 * narrows a found task's interval, and a new entry. The server (Coordinator.ts) composes them inside
 * its atomic `Ref.modify`; the tests build deliberately broken registries from the same pieces.
 */
import { Deferred } from "effect"
import type { Certificate, Policy } from "../learner/Lsvi.ts"

export interface Interval {
  readonly lower: number
  readonly upper: number
  /**
   * More coordinates of the same statistic, for a stage that identifies by a vector (the deep
   * stage's box, docs/algorithm.md "The deep stage"): `lower[i]`..`upper[i]` each. Two boxes overlap
   * when every coordinate does, and they narrow coordinate by coordinate. The linear stage never
   * sets it (and the cluster's protocol does not carry it).
   */
  readonly more?: { readonly lower: ReadonlyArray<number>; readonly upper: ReadonlyArray<number> }
  /**
   * What a server that identifies by a learned similarity needs of the instance: its experience's
   * features (the deep stage's SimNet, src/deep/distmt/simnet.ts), sent with the request.
   */
  readonly evidence?: Float32Array
}

export type TaskStatus = "learning" | "solved" | "open"

/** A registered task as the server holds it. `key` is set only by the oracle baseline. */
export interface Entry<P = Policy> {
  readonly id: number
  readonly key: number | undefined
  readonly interval: Interval
  readonly founder: number
  readonly owner: number | undefined
  readonly status: TaskStatus
  readonly policy: P | undefined
  readonly certificate: Certificate | undefined
  /** Whether the publisher's learning met its width target (false when a cap ended it). */
  readonly reached: boolean
  readonly publisher: number | undefined
  /** How many times the task was re-opened: waiters wait for one epoch's outcome. */
  readonly epoch: number
  /** What waiters of this epoch are woken with (in-process only: it never leaves the server). */
  readonly outcome: Deferred.Deferred<Outcome<P>>
}

/** A registered task as data: what the registry shows, wherever the server runs. */
export type TaskRecord<P = Policy> = Omit<Entry<P>, "outcome">

/** What a waiter learns: the policy was published, or the owner failed and the task is open. */
export type Outcome<P = Policy> =
  | { readonly _tag: "Published"; readonly policy: P; readonly certificate: Certificate; readonly reached: boolean }
  | { readonly _tag: "Reopened" }

/** Whether two intervals (boxes) overlap: every coordinate does. */
export const overlaps = (a: Interval, b: Interval): boolean =>
  a.lower <= b.upper && b.lower <= a.upper &&
  (a.more === undefined || b.more === undefined ||
    a.more.lower.every((lower, i) => lower <= b.more!.upper[i] && b.more!.lower[i] <= a.more!.upper[i]))

/** I_j ∩ I, coordinate by coordinate (§3 step 2). */
export const intersect = (a: Interval, b: Interval): Interval => {
  // The evidence was the request's: the registry keeps intervals only.
  const base = { lower: Math.max(a.lower, b.lower), upper: Math.min(a.upper, b.upper) }
  if (a.more === undefined || b.more === undefined) return a.more === undefined ? (b.more === undefined ? base : { ...base, more: b.more }) : { ...base, more: a.more }
  return {
    ...base,
    more: { lower: a.more.lower.map((l, i) => Math.max(l, b.more!.lower[i])), upper: a.more.upper.map((u, i) => Math.min(u, b.more!.upper[i])) }
  }
}

/** The entries with `e` in place of the entry of its id. */
export const replace = <P>(entries: ReadonlyArray<Entry<P>>, e: Entry<P>): ReadonlyArray<Entry<P>> =>
  entries.map((x) => (x.id === e.id ? e : x))

/** A task just registered by `agent`: learning, owned by it, epoch 0. */
export const newEntry = <P>(id: number, key: number | undefined, interval: Interval, agent: number): Entry<P> => ({
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
  outcome: Deferred.makeUnsafe<Outcome<P>>()
})

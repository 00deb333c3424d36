/**
 * How the PostgreSQL server (postgres.ts) keeps the reply of a numbered request in `distmt_replies`,
 * so that the request sent again after a runner died, or after its submission was stopped and given
 * again, gets the reply it had, and is neither decided nor counted (§3, accounting) a second time.
 *
 * Replies that would copy what the tables hold already are kept as where to find it: an exchange's
 * pulled transitions as its range of the task's pool, a final fetch's policies as the ids of the
 * tasks it returned. Both read back the same whenever read: a pool only grows, and a solved task's
 * policy never changes (a second publication keeps the first; only a task being learned reopens).
 */
import { Effect, Schema } from "effect"
import { concat } from "../learner/Transitions.ts"
import type { Batch, Entry, Exchange as ExchangeReply, Published } from "./Coordinator.ts"
import { Exchange } from "./protocol.ts"

/** How a reply is kept as text in `distmt_replies`, and read back. */
export interface Keeping<A> {
  readonly json: (a: A) => string
  readonly read: (text: string) => Effect.Effect<A>
}

/** As its request's schema encodes it. */
export const byCodec = <A>(codec: Schema.Codec<A, unknown>): Keeping<A> => ({
  json: (a) => JSON.stringify(Schema.encodeSync(Schema.toCodecJson(codec))(a)),
  read: (text) => Effect.sync(() => Schema.decodeUnknownSync(Schema.toCodecJson(codec))(JSON.parse(text)))
})

/** A request with no answer but that it was decided (a publication). */
export const decided: Keeping<void> = { json: () => "null", read: () => Effect.void }

/**
 * A kept `Pooled` exchange reply: the batches that other agents pushed from `from` up to `cursor`,
 * the pool's length after the exchange (the one batch the exchange itself may add is the agent's own).
 */
interface PooledAt {
  readonly _tag: "PooledAt"
  readonly task: number
  readonly from: number
  readonly cursor: number
}

const ExchangeJson = Schema.toCodecJson(Exchange)

/**
 * An exchange's: a `Pooled` reply as where it stood in the pool, not as its transitions, which are
 * in distmt_pool already (kept whole, every reply copied them again: 9 MB of replies for one unit of
 * the quick E6 spec); any other as the protocol encodes it (as every kept reply was before, so that
 * those kept by an older distmt still read).
 */
export const asPoolRange = (
  agent: number,
  task: number,
  cursor: number,
  pools: Effect.Effect<ReadonlyArray<ReadonlyArray<Batch>>>
): Keeping<ExchangeReply> => ({
  json: (r) =>
    JSON.stringify(
      r._tag === "Pooled"
        ? { _tag: "PooledAt", task, from: cursor, cursor: r.cursor } satisfies PooledAt
        : Schema.encodeSync(ExchangeJson)(r)
    ),
  read: (text) =>
    Effect.map(pools, (pools) => {
      const kept: unknown = JSON.parse(text)
      if ((kept as PooledAt)._tag !== "PooledAt") return Schema.decodeUnknownSync(ExchangeJson)(kept)
      const { task, from, cursor } = kept as PooledAt
      const others = pools[task].slice(from, cursor).filter((b) => b.agent !== agent).map((b) => b.transitions)
      return { _tag: "Pooled", pulled: concat(others), cursor }
    })
})

/** A final fetch's (§3 step 4): the ids of the solved tasks it returned, read back from the registry. */
export const asTaskIds = (registry: Effect.Effect<ReadonlyArray<Entry>>): Keeping<ReadonlyArray<Published>> => ({
  json: (published) => JSON.stringify({ _tag: "FetchedTasks", tasks: published.map((p) => p.task) }),
  read: (text) =>
    Effect.map(registry, (entries) =>
      (JSON.parse(text) as { readonly tasks: ReadonlyArray<number> }).tasks.map((id): Published => {
        const e = entries[id]
        return { task: id, policy: e.policy!, certificate: e.certificate!, reached: e.reached, publisher: e.publisher! }
      }))
})

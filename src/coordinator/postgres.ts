/**
 * The coordinator's state in PostgreSQL (issue 10, cluster mode): the registry, the published
 * policies, the experience pools and the traffic of one run live in tables, and every decision is
 * written in one transaction before its reply leaves the server. The decisions themselves are the
 * in-process server's (src/coordinator/Coordinator.ts): `durable` runs each operation on it, then
 * writes what the operation changed. So the two can never disagree on what a request means, and the
 * process's memory is only a cache of the tables: `restore` rebuilds the server from them after its
 * process died.
 *
 * Operations are serialized (one at a time, as a cluster entity handles its messages), so the order
 * of the commits is the order of the decisions. A failed write (or one that waits for a lock past
 * `WRITE_LIMIT_MS`) fails the operation: its caller sees no reply, the server refuses every later
 * decision, and its memory, ahead of the tables, must be rebuilt by `restore` (the cluster restarts
 * the entity, whose start-up restores). Waiting (`awaitPolicy`) holds no lock.
 */
import { Cause, Effect, Schema, Semaphore } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import { SqlClient } from "effect/sql/SqlClient"
import type { Certificate, Policy } from "../learner/Lsvi.ts"
import {
  type Batch,
  type CoordinatorShape,
  type Entry,
  type InProcessCoordinator,
  makeFrom,
  type Snapshot,
  type Traffic
} from "./Coordinator.ts"
import { defineDecide, write } from "./decide.ts"
import { asPoolRange, asTaskIds, byCodec, decided, type Keeping } from "./keptReplies.ts"
import { floatsOf, Identification } from "./protocol.ts"

const floats = floatsOf

/**
 * `migration` run once per SQL client (a process's connection pool), not at every server or agent
 * start: once it has succeeded, the tables exist for as long as the process lives (nothing of
 * distmt's drops them). A migration that fails is tried again by the next caller.
 */
export const oncePerClient = (migration: Effect.Effect<void, SqlError, SqlClient>): Effect.Effect<void, SqlError, SqlClient> => {
  const done = new WeakSet<object>()
  return Effect.gen(function*() {
    const sql = yield* SqlClient
    if (done.has(sql)) return
    yield* migration
    done.add(sql)
  })
}

/**
 * Runs `ddl` in a transaction under one lock for all of distmt's migrations, whichever process
 * runs them: concurrent `CREATE TABLE IF NOT EXISTS` of one table fail on each other (a unique
 * violation in pg_type). Seen: the first `sweep --cluster --jobs 8` on a new database died so, its
 * units creating the tables at once (test/migrate-concurrent.test.ts).
 */
export const underMigrationLock = <A, E, R>(ddl: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R | SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    return yield* sql.withTransaction(Effect.andThen(sql`SELECT pg_advisory_xact_lock(hashtextextended('distmt migrations', 0))`, ddl))
  })

/** Creates the tables if they are missing (the run's role needs the right to). */
export const migrate: Effect.Effect<void, SqlError, SqlClient> = oncePerClient(underMigrationLock(Effect.gen(function*() {
  const sql = yield* SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS distmt_tasks (
    run text NOT NULL, id integer NOT NULL, key integer, lower float8 NOT NULL, upper float8 NOT NULL,
    founder integer NOT NULL, owner integer, status text NOT NULL, epoch integer NOT NULL,
    policy jsonb, w bytea, lambda_inv bytea, certificate jsonb, reached boolean NOT NULL, publisher integer,
    PRIMARY KEY (run, id))`
  yield* sql`CREATE TABLE IF NOT EXISTS distmt_pool (
    run text NOT NULL, task integer NOT NULL, seq integer NOT NULL, agent integer NOT NULL, transitions bytea NOT NULL,
    PRIMARY KEY (run, task, seq))`
  yield* sql`CREATE TABLE IF NOT EXISTS distmt_traffic (run text PRIMARY KEY, traffic jsonb NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS distmt_replies (
    run text NOT NULL, agent integer NOT NULL, seq integer NOT NULL, reply text NOT NULL,
    PRIMARY KEY (run, agent, seq))`
  yield* sql`CREATE TABLE IF NOT EXISTS distmt_done (run text NOT NULL, agent integer NOT NULL, PRIMARY KEY (run, agent))`
  yield* sql`CREATE TABLE IF NOT EXISTS distmt_attempts (run text PRIMARY KEY, attempt integer NOT NULL)`
  yield* defineDecide
})))

/**
 * Starts attempt k + 1 of run `run` (1 for a new run) and returns it. A resubmitted run's server
 * is a new attempt: the servers of older attempts, if still alive somewhere, can write nothing
 * more (`durable`'s fence), so two never decide for one run.
 */
export const nextAttempt = (run: string): Effect.Effect<number, SqlError, SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    yield* migrate
    const rows = yield* sql<{ attempt: number }>`INSERT INTO distmt_attempts ${sql.insert({ run, attempt: 1 })}
      ON CONFLICT (run) DO UPDATE SET attempt = distmt_attempts.attempt + 1 RETURNING attempt`
    return rows[0].attempt
  })

/**
 * How long a decision's write may wait for a lock inside PostgreSQL (`durable`, `lock_timeout`): a
 * write held up longer fails, and the server is rebuilt from the tables.
 */
export const WRITE_LIMIT_MS = 30_000

/** The message of the last error in `error`'s chain of causes (PostgreSQL's own, for a failed query). */
const innermost = (error: unknown): string => {
  let e = error
  while (e instanceof Error && e.cause !== undefined) e = e.cause
  return e instanceof Error ? e.message : String(e)
}

/**
 * The server of a run as one request sees it, when the request is numbered (`agent`, `seq`): a
 * request that changes the registry or a pool is decided once; sent again (its reply was lost when
 * a runner died), it gets the reply it had, read from the tables, and changes nothing.
 */
export interface Durable extends InProcessCoordinator {
  readonly request: (agent: number, seq: number) => CoordinatorShape
  /**
   * The reply of request (agent, seq) kept once `reply` gives it, and given again when the request
   * comes again, without running `reply`: for a request whose answer is not a decision of the
   * registry (a wait), and which must still be answered the same way (with the same clock).
   */
  readonly remember: <A>(agent: number, seq: number, codec: Schema.Codec<A, unknown>, reply: Effect.Effect<A>) => Effect.Effect<A>
  /** The kept reply of request (agent, seq), if any. */
  readonly kept: <A>(agent: number, seq: number, codec: Schema.Codec<A, unknown>) => A | undefined
  /**
   * The agents that had fetched their policies at the end (§3 step 4) when the server was rebuilt:
   * they send nothing more, and the rebuilt server must not wait for them.
   */
  readonly done: ReadonlyArray<number>
}

interface TaskRow {
  readonly id: number
  readonly key: number | null
  readonly lower: number
  readonly upper: number
  readonly founder: number
  readonly owner: number | null
  readonly status: Entry["status"]
  readonly epoch: number
  readonly policy: { readonly horizon: number; readonly dim: number; readonly actions: number; readonly beta: number } | null
  readonly w: Uint8Array | null
  readonly lambda_inv: Uint8Array | null
  readonly certificate: Certificate | null
  readonly reached: boolean
  readonly publisher: number | null
}

const toEntry = (r: TaskRow): Omit<Entry, "outcome"> => ({
  id: r.id,
  key: r.key ?? undefined,
  interval: { lower: r.lower, upper: r.upper },
  founder: r.founder,
  owner: r.owner ?? undefined,
  status: r.status,
  epoch: r.epoch,
  policy: r.policy === null ? undefined : { ...r.policy, w: floats(r.w!), LambdaInv: floats(r.lambda_inv!) } satisfies Policy,
  certificate: r.certificate ?? undefined,
  reached: r.reached,
  publisher: r.publisher ?? undefined
})

/** The state of run `run` as the tables hold it. */
export const load = (run: string): Effect.Effect<Snapshot, SqlError, SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const tasks = yield* sql<TaskRow>`SELECT * FROM distmt_tasks WHERE run = ${run} ORDER BY id`
    const batches = yield* sql<{ task: number; agent: number; transitions: Uint8Array }>`
      SELECT task, agent, transitions FROM distmt_pool WHERE run = ${run} ORDER BY task, seq`
    const traffic = yield* sql<{ traffic: Traffic }>`SELECT traffic FROM distmt_traffic WHERE run = ${run}`
    const pools: Array<Array<Batch>> = tasks.map(() => [])
    for (const b of batches) pools[b.task].push({ agent: b.agent, transitions: floats(b.transitions) })
    return {
      entries: tasks.map(toEntry),
      pools,
      traffic: traffic[0]?.traffic ?? { messages: 0, bytes: 0, experience: { messages: 0, pushed: 0, pulled: 0, bytes: 0 } }
    }
  })

/**
 * The server of run `run`, rebuilt from the tables (empty for a new run), every decision written
 * before it is answered. Defects on a failed write: the caller cannot go on with a decision that is
 * not durable, and the server must be restored.
 */
export const durable = (run: string, attempt?: number, writeLimitMs = WRITE_LIMIT_MS): Effect.Effect<Durable, SqlError, SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    yield* migrate
    /** Why a write failed, once one has: the memory may be ahead of the tables from then on. */
    let lost: string | undefined
    const inner = yield* makeFrom(yield* load(run))
    const stored = new Map(
      (yield* sql<{ agent: number; seq: number; reply: string }>`SELECT agent, seq, reply FROM distmt_replies WHERE run = ${run}`)
        .map((r) => [`${r.agent}/${r.seq}`, r.reply])
    )
    const done = (yield* sql<{ agent: number }>`SELECT agent FROM distmt_done WHERE run = ${run} ORDER BY agent`).map((r) => r.agent)
    const lock = yield* Semaphore.make(1)
    const now = Effect.all({ entries: inner.registry, pools: inner.pools, traffic: inner.traffic })
    /** The traffic as the tables hold it. */
    let written = (yield* now).traffic
    /**
     * `op` decided in memory, then written with its reply, uninterruptibly: the cluster interrupts
     * the handler of a request whose sender's runner died, and an interruption between the two left
     * the memory ahead of the tables with no reply kept. The agent, resumed elsewhere, sent the
     * request again and was answered from that memory: told that the task it had just registered
     * was being learned (by itself), it waited for its own policy, and the run with it, for ever.
     */
    const decide = <A>(
      op: Effect.Effect<A>,
      reply?: { readonly agent: number; readonly seq: number; readonly keep: Keeping<A> },
      done?: number
    ): Effect.Effect<A> =>
      lock.withPermits(1)(
        Effect.uninterruptible(Effect.gen(function*() {
          if (lost !== undefined) {
            return yield* Effect.die(new Error(`the server of ${run} lost a write (${lost}): it must be rebuilt from the tables`))
          }
          // The same request, sent again while its first copy was being decided: the first's reply.
          const already = reply === undefined ? undefined : stored.get(`${reply.agent}/${reply.seq}`)
          if (already !== undefined) return yield* reply!.keep.read(already)
          const before = yield* now
          const lengths = before.pools.map((p) => p.length)
          const answer = yield* op
          const after = yield* now
          const text = reply?.keep.json(answer)
          const also = { ...(reply === undefined ? {} : { reply: { agent: reply.agent, seq: reply.seq, text: text! } }), ...(done === undefined ? {} : { done }) }
          yield* Effect.orDie(write(sql, run, attempt, writeLimitMs, before, after, lengths, written, also))
            .pipe(Effect.tapCause((cause) => Effect.sync(() => lost = innermost(Cause.squash(cause)))))
          written = after.traffic
          if (reply !== undefined) stored.set(`${reply.agent}/${reply.seq}`, text!)
          return answer
        }))
      )
    /** `op` decided once for request (agent, seq): its reply kept with the decision, in one transaction. */
    const once = <A>(agent: number, seq: number, keep: Keeping<A>, op: Effect.Effect<A>, done?: number): Effect.Effect<A> =>
      Effect.suspend(() => {
        const text = stored.get(`${agent}/${seq}`)
        return text !== undefined ? keep.read(text) : decide(op, { agent, seq, keep }, done)
      })
    const shape: CoordinatorShape = {
      identify: (agent, interval) => decide(inner.identify(agent, interval)),
      identifyKnown: (agent, key, interval) => decide(inner.identifyKnown(agent, key, interval)),
      // The wait holds no lock; the traffic it counts when it ends is written with the next decision
      // (with its kept reply, when it is numbered: `remember`).
      awaitPolicy: (agent, task, epoch) => inner.awaitPolicy(agent, task, epoch),
      claim: (agent, task) => decide(inner.claim(agent, task)),
      publish: (agent, task, policy, certificate, reached) => decide(inner.publish(agent, task, policy, certificate, reached)),
      abandon: (agent, task) => decide(inner.abandon(agent, task)),
      exchange: (agent, task, pushed, cursor) => decide(inner.exchange(agent, task, pushed, cursor)),
      // The final fetch: from now on the agent sends nothing, which a rebuilt server must know.
      fetchAll: (agent) => decide(inner.fetchAll(agent), undefined, agent),
      registry: inner.registry,
      traffic: inner.traffic
    }
    // A publication and the final fetch change no decision when repeated (a second publication keeps
    // the first), but each is counted (§3, accounting): numbered, one sent again after its agent was
    // resumed is counted once, as in one process (seen: a resumed oracle unit's traffic two messages
    // above the in-process run's). An abandon is never sent again: agents on the cluster never abandon.
    const request = (agent: number, seq: number): CoordinatorShape => ({
      ...shape,
      identify: (a, interval) => once(agent, seq, byCodec(Identification), inner.identify(a, interval)),
      identifyKnown: (a, key, interval) => once(agent, seq, byCodec(Identification), inner.identifyKnown(a, key, interval)),
      claim: (a, task) => once(agent, seq, byCodec(Identification), inner.claim(a, task)),
      publish: (a, task, policy, certificate, reached) => once(agent, seq, decided, inner.publish(a, task, policy, certificate, reached)),
      exchange: (a, task, pushed, cursor) =>
        once(agent, seq, asPoolRange(a, task, cursor, inner.pools), inner.exchange(a, task, pushed, cursor)),
      fetchAll: (a) => once(agent, seq, asTaskIds(inner.registry), inner.fetchAll(a), a)
    })
    const kept = <A>(agent: number, seq: number, codec: Schema.Codec<A, unknown>): A | undefined => {
      const text = stored.get(`${agent}/${seq}`)
      return text === undefined ? undefined : Schema.decodeUnknownSync(Schema.toCodecJson(codec))(JSON.parse(text))
    }
    const remember = <A>(agent: number, seq: number, codec: Schema.Codec<A, unknown>, reply: Effect.Effect<A>): Effect.Effect<A> =>
      Effect.suspend(() => {
        const k = kept(agent, seq, codec)
        if (k !== undefined) return Effect.succeed(k)
        // The wait may be interrupted; once it has its answer, the answer is kept (as in `decide`),
        // with the traffic the wait counted: kept alone, a server rebuilt before its next decision
        // answered the wait again from the table, uncounted, and the run's traffic came out short.
        return Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(restore(reply), (a) => decide(Effect.succeed(a), { agent, seq, keep: byCodec(codec) }))
        )
      })
    return { ...shape, registry: inner.registry, pools: inner.pools, request, done, remember, kept }
  })

/**
 * The coordinator's state in PostgreSQL (src/coordinator/postgres.ts, issue 10 item 2): a run whose
 * every decision is written to the tables before it is answered gives the in-process results, and
 * the tables alone rebuild the server as it was.
 *
 * Needs a PostgreSQL server: `DISTMT_TEST_DB` (tools/postgres.sh prints one). Skipped with a message
 * on a developer's machine without it; under CI (`CI` set) a missing database fails the suite.
 */
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Redacted, Schema } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { type Entry, type InProcessCoordinator, make, makeFrom } from "../src/coordinator/Coordinator.ts"
import { durable, load, migrate, nextAttempt } from "../src/coordinator/postgres.ts"
import { AwaitReply, Exchange } from "../src/coordinator/protocol.ts"
import { Contexts } from "../src/index.ts"
import { CHAIN_CONTEXTS, chain as chainOf } from "./chain.ts"
import { type Algorithm, runAlgorithm } from "../src/run/runExperiment.ts"
import { sequencedOver } from "../src/run/RunServer.ts"

const url = process.env.DISTMT_TEST_DB
const ci = process.env.CI !== undefined && process.env.CI !== ""
if (url === undefined && !ci) console.warn("test/postgres-coordinator.test.ts: skipped, DISTMT_TEST_DB is not set (tools/postgres.sh prints one)")

// Two tasks, four agents, no baseline: what the server's tables are checked on.
const chain = (over: Record<string, unknown> = {}) =>
  chainOf("postgres", { contexts: Contexts.list(CHAIN_CONTEXTS.slice(0, 2)), agents: 4, cSep: 0.5, baselines: [], ...over })

const withoutWaiters = (entries: ReadonlyArray<Entry>) => entries.map(({ outcome: _outcome, ...e }) => e)

describe.skipIf(url === undefined && !ci)("the coordinator's state in PostgreSQL", () => {
  const pg = Layer.unwrap(Effect.sync(() => {
    if (url === undefined) throw new Error("CI needs a PostgreSQL server: set DISTMT_TEST_DB (tools/postgres.sh)")
    return PgClient.layer({ url: Redacted.make(url), maxConnections: 4 })
  }))

  const durableRun = (c: ReturnType<typeof chain>, algorithm: Algorithm, seed: number, run: string) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient
      const server = (agents: number) =>
        Effect.map(Effect.orDie(Effect.provideService(durable(run), SqlClient, sql)), (inner) => ({
          inner,
          ...sequencedOver(inner, agents)
        }))
      let live: InProcessCoordinator | undefined
      const result = yield* runAlgorithm(c, algorithm, seed, undefined, undefined, {
        server: (agents) => Effect.tap(server(agents), (s) => Effect.sync(() => (live = s.inner)))
      })
      return { result, live: live! }
    })

  it.live("a request sent again after the server's process died is answered as the first time, and decided once", () =>
    Effect.gen(function*() {
      const run = `test-replay-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
      const first = yield* durable(run)
      const registered = yield* first.request(0, 0).identify(0, { lower: 0.4, upper: 0.6 })
      expect(registered._tag).toBe("Registered")
      const pushed = Float64Array.from([0, 1, 0, 0.5, 2])
      const pooled = yield* first.request(1, 0).exchange(1, 0, pushed, 0)
      // The process dies; another one rebuilds the server from the tables, and both requests come again.
      const second = yield* durable(run)
      expect(yield* second.request(0, 0).identify(0, { lower: 0.4, upper: 0.6 })).toEqual(registered)
      const again = yield* second.request(1, 0).exchange(1, 0, pushed, 0)
      expect(again._tag === "Pooled" && again.cursor).toBe(pooled._tag === "Pooled" && pooled.cursor)
      expect(yield* second.registry).toHaveLength(1)
      expect((yield* second.pools)[0]).toHaveLength(1)
      // Not numbered, the same identify is a new request: it now matches the task it registered.
      expect((yield* second.identify(0, { lower: 0.4, upper: 0.6 }))._tag).toBe("Learning")
      // An agent that made its final fetch is known as done to the server rebuilt after it.
      expect(second.done).toEqual([])
      yield* second.fetchAll(1)
      expect((yield* durable(run)).done).toEqual([1])
    }).pipe(Effect.provide(pg)))

  it.live("the decision function is created once: a later migration leaves it as it is (replacing it needs its owner)", () =>
    Effect.gen(function*() {
      // Each client runs the migration once (`oncePerClient`): a fresh client for each of the two.
      const fresh = () => PgClient.layer({ url: Redacted.make(url!), maxConnections: 1 })
      const version = Effect.gen(function*() {
        const sql = yield* SqlClient
        return (yield* sql<{ v: string }>`SELECT xmin::text AS v FROM pg_proc WHERE proname = 'distmt_decide' AND pronamespace = to_regnamespace(current_schema())`).map((r) => r.v)
      })
      yield* Effect.provide(migrate, fresh())
      const before = yield* version
      expect(before).toHaveLength(1)
      yield* Effect.provide(migrate, fresh())
      expect(yield* version).toEqual(before)
    }).pipe(Effect.provide(pg)))

  it.live("every value of a decision reaches the tables exactly: interval bounds of any double, transitions bit for bit", () =>
    Effect.gen(function*() {
      const run = `test-exact-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
      const server = yield* durable(run, yield* nextAttempt(run))
      // Bounds whose shortest decimal text is long, the smallest subnormal, and infinities.
      const intervals = [
        { lower: 0.1 + 0.2, upper: 1 / 3 },
        { lower: 5e-324, upper: 0.2 },
        { lower: -Infinity, upper: -Number.MAX_VALUE }
      ]
      for (const [agent, interval] of intervals.entries()) {
        expect((yield* server.request(agent, 0).identify(agent, interval))._tag).toBe("Registered")
      }
      const pushed = Float64Array.from([0, 1, 0, 0.1 + 0.2, 2, -0, 1e-310, Math.PI])
      yield* server.request(3, 0).exchange(3, 1, pushed, 0)
      const stored = yield* load(run)
      expect(stored.entries.map((e) => e.interval)).toEqual(intervals)
      const back = stored.pools[1][0].transitions
      expect(new Uint8Array(back.buffer, back.byteOffset, back.byteLength)).toEqual(new Uint8Array(pushed.buffer))
      expect(stored.entries).toEqual(withoutWaiters(yield* server.registry))
    }).pipe(Effect.provide(pg)))

  it.live("a publication, a final fetch and a wait, each sent again to a rebuilt server, are counted once, as in one process", () =>
    Effect.gen(function*() {
      const run = `test-counted-once-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
      const first = yield* durable(run)
      const interval = { lower: 0.4, upper: 0.6 }
      expect((yield* first.request(0, 0).identify(0, interval))._tag).toBe("Registered")
      expect((yield* first.request(1, 0).identify(1, interval))._tag).toBe("Learning")
      // Agent 1 waits for agent 0's policy (request 1/1); the wait's answer is kept when it comes.
      const wait = yield* Effect.forkChild(first.remember(1, 1, AwaitReply, Effect.map(first.awaitPolicy(1, 0, 0), (outcome) => ({ outcome, clock: 7 }))))
      const policy = { horizon: 1, dim: 2, actions: 2, beta: 1, w: Float64Array.from([1, 2]), LambdaInv: Float64Array.from([1, 0, 0, 1]) }
      yield* first.request(0, 1).publish(0, 0, policy, { lower: 0.5, upper: 0.7, width: 0.2 }, true)
      expect((yield* Fiber.join(wait)).outcome._tag).toBe("Published")
      const afterWait = yield* first.traffic
      // Rebuilt with no decision after the wait: the wait's traffic was written with its reply.
      const second = yield* durable(run)
      expect(yield* second.traffic).toEqual(afterWait)
      // Agent 0, resumed from a checkpoint before its publication, publishes again: counted once.
      yield* second.request(0, 1).publish(0, 0, policy, { lower: 0.5, upper: 0.7, width: 0.2 }, true)
      expect(yield* second.traffic).toEqual(afterWait)
      const fetched = yield* second.request(0, 2).fetchAll(0)
      expect(fetched.map((p) => [p.task, p.publisher, [...p.policy.w]])).toEqual([[0, 0, [1, 2]]])
      const afterFetch = yield* second.traffic
      expect(afterFetch.messages).toBe(afterWait.messages + 2)
      // The final fetch sent again, to the server rebuilt after it: the same policies, counted once.
      const third = yield* durable(run)
      expect(third.done).toEqual([0])
      expect(yield* third.request(0, 2).fetchAll(0)).toEqual(fetched)
      expect(yield* third.traffic).toEqual(afterFetch)
    }).pipe(Effect.provide(pg)))

  it.live("an abandon is counted as in one process, and written with its decision", () =>
    Effect.gen(function*() {
      const run = `test-abandon-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
      const server = yield* durable(run)
      const direct = yield* make
      const interval = { lower: 0.4, upper: 0.6 }
      for (const c of [server, direct]) {
        yield* c.identify(0, interval)
        yield* c.abandon(0, 0) // the owner: re-opens the task
        yield* c.abandon(1, 0) // not the owner: changes nothing, still a message and its reply
      }
      expect((yield* direct.traffic).messages).toBe(6)
      expect(yield* server.traffic).toEqual(yield* direct.traffic)
      // Rebuilt from the tables: the abandons' traffic was written, and so was the re-opening.
      const rebuilt = yield* durable(run)
      expect(yield* rebuilt.traffic).toEqual(yield* direct.traffic)
      expect((yield* rebuilt.claim(2, 0))._tag).toBe("Claimed")
    }).pipe(Effect.provide(pg)))

  it.live("a kept exchange reply is its range of the pool, not a copy of its transitions: sent again, the same reply", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient
      const run = `test-kept-exchange-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
      const first = yield* durable(run)
      yield* first.request(0, 0).identify(0, { lower: 0.4, upper: 0.6 })
      // Batches of 40 transitions (1,600 bytes each), told apart by their numbers.
      const batch = (k: number) => Float64Array.from({ length: 40 * 5 }, (_, i) => k + i / 256)
      const requests: ReadonlyArray<readonly [agent: number, seq: number, pushed: Float64Array, cursor: number]> = [
        [0, 1, batch(1), 0],
        [1, 0, batch(2), 0],
        [2, 0, new Float64Array(0), 0], // pushes nothing, pulls both
        [2, 1, batch(3), 2],
        [1, 1, batch(4), 2] // pulls agent 2's batch alone
      ]
      const replies = []
      for (const [agent, seq, pushed, cursor] of requests) replies.push(yield* first.request(agent, seq).exchange(agent, 0, pushed, cursor))
      expect(replies.map((r) => r._tag === "Pooled" ? [r.pulled.length / 200, r.cursor] : r._tag)).toEqual([[0, 1], [1, 2], [2, 2], [0, 3], [1, 4]])
      const kept = yield* sql<{ n: number }>`SELECT length(reply) AS n FROM distmt_replies WHERE run = ${run} AND NOT (agent = 0 AND seq = 0)`
      expect(kept).toHaveLength(5)
      for (const { n } of kept) expect(n).toBeLessThan(100)
      // Rebuilt from the tables, the server answers each request again as the first time.
      const second = yield* durable(run)
      for (const [i, [agent, seq, pushed, cursor]] of requests.entries()) {
        expect(yield* second.request(agent, seq).exchange(agent, 0, pushed, cursor)).toEqual(replies[i])
      }
      expect((yield* second.pools)[0]).toHaveLength(4)
      // A reply kept whole, as distmt kept every exchange's before, still reads.
      const whole = { _tag: "Pooled" as const, pulled: batch(5), cursor: 4 }
      const text = JSON.stringify(Schema.encodeSync(Schema.toCodecJson(Exchange))(whole))
      yield* sql`INSERT INTO distmt_replies ${sql.insert({ run, agent: 3, seq: 0, reply: text })}`
      expect(yield* (yield* durable(run)).request(3, 0).exchange(3, 0, new Float64Array(0), 0)).toEqual(whole)
    }).pipe(Effect.provide(pg)))

  it.live("a server of a replaced attempt writes nothing more: its next decision dies, the tables stay as they were", () =>
    Effect.gen(function*() {
      const run = `test-fence-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
      const attempt = yield* nextAttempt(run)
      const old = yield* durable(run, attempt)
      expect((yield* old.request(0, 0).identify(0, { lower: 0.4, upper: 0.6 }))._tag).toBe("Registered")
      yield* old.request(1, 0).exchange(1, 0, Float64Array.from([0, 1, 0, 0.5, 2]), 0)
      const before = yield* load(run)
      expect(before.entries).toHaveLength(1)
      expect(before.pools[0]).toHaveLength(1)
      // The run is submitted again: a new attempt, whose server is the only one that may write.
      expect(yield* nextAttempt(run)).toBe(attempt + 1)
      const decisions: ReadonlyArray<Effect.Effect<unknown>> = [
        old.request(2, 0).exchange(2, 0, Float64Array.from([1, 0, 1, 0.25, 3]), 0),
        old.request(3, 0).identify(3, { lower: 0.0, upper: 0.1 }),
        old.fetchAll(1)
      ]
      for (const decision of decisions) {
        const exit = yield* Effect.exit(decision)
        expect(Exit.isFailure(exit) && String(Cause.squash(exit.cause))).toMatch(/was replaced by attempt 2/)
      }
      expect(yield* load(run)).toEqual(before)
      expect((yield* durable(run)).done).toEqual([])
      // The new attempt's server decides and writes as usual.
      const current = yield* durable(run, attempt + 1)
      yield* current.request(2, 0).exchange(2, 0, Float64Array.from([1, 0, 1, 0.25, 3]), 0)
      expect((yield* load(run)).pools[0]).toHaveLength(2)
    }).pipe(Effect.provide(pg)))

  /**
   * Another connection takes the row that each decision's transaction locks first (the attempt
   * fence) and holds it until `release` is done.
   */
  const holdFence = (run: string) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient
      const locked = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
        yield* sql`SELECT attempt FROM distmt_attempts WHERE run = ${run} FOR UPDATE`
        yield* Deferred.succeed(locked, undefined)
        yield* Deferred.await(release)
      })))
      yield* Deferred.await(locked)
      return { release, holder }
    })

  /**
   * Runs `write` while another connection holds the row its transaction locks first (the attempt
   * fence), so that it stops there; interrupts it, as the cluster interrupts the handler of a
   * request whose sender's runner died (kill -9); then lets the lock go.
   */
  const interruptedWhileWriting = (run: string, write: Effect.Effect<unknown>) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient
      const { release, holder } = yield* holdFence(run)
      const fiber = yield* Effect.forkChild(write)
      const waiting = sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`
      while ((yield* waiting)[0].n === 0) yield* Effect.sleep("20 millis")
      const interrupted = yield* Effect.forkChild(Fiber.interrupt(fiber))
      yield* Effect.sleep("100 millis")
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.await(interrupted)
    })

  it.live("a decision interrupted while it is written (its sender's runner died) is kept: sent again, the request gets the same reply", () =>
    Effect.gen(function*() {
      const run = `test-interrupted-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
      const attempt = yield* nextAttempt(run)
      const server = yield* durable(run, attempt)
      const interval = { lower: 0.4, upper: 0.6 }
      // The decision is made in the server's memory, then stops at the lock on its way to the tables.
      yield* interruptedWhileWriting(run, server.request(2, 0).identify(2, interval))
      // The agent, resumed elsewhere, sends the request again: it registered the task, and must be
      // told so, not that somebody (itself) is learning it, which it would wait for forever.
      expect(yield* server.request(2, 0).identify(2, interval)).toEqual({ _tag: "Registered", task: 0 })
      const rebuilt = yield* durable(run, attempt)
      expect(yield* rebuilt.request(2, 0).identify(2, interval)).toEqual({ _tag: "Registered", task: 0 })
      expect(withoutWaiters(yield* rebuilt.registry)).toEqual(withoutWaiters(yield* server.registry))
      // A wait's answer (AwaitPolicy's, with the clock it moved to) is kept the same way.
      const answer = { outcome: { _tag: "Reopened" as const }, clock: 17 }
      yield* interruptedWhileWriting(run, server.remember(3, 0, AwaitReply, Effect.succeed(answer)))
      expect(server.kept(3, 0, AwaitReply)).toEqual(answer)
      expect((yield* durable(run, attempt)).kept(3, 0, AwaitReply)).toEqual(answer)
    }).pipe(Effect.provide(pg)))

  it.live("a write that PostgreSQL holds up past the limit fails the decision, and the server refuses the next until rebuilt", () =>
    Effect.gen(function*() {
      const run = `test-limit-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
      const attempt = yield* nextAttempt(run)
      const server = yield* durable(run, attempt, 300)
      const interval = { lower: 0.4, upper: 0.6 }
      const { release, holder } = yield* holdFence(run)
      // The decision fails while the lock is still held, for 5 s (without the limit it would wait
      // and then succeed).
      yield* Effect.forkChild(Effect.andThen(Effect.sleep("5 seconds"), Deferred.succeed(release, undefined)))
      const exit = yield* Effect.exit(server.request(2, 0).identify(2, interval))
      expect(yield* Deferred.isDone(release)).toBe(false)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      expect(Exit.isFailure(exit) && Cause.hasDies(exit.cause)).toBe(true)
      // Its memory is ahead of the tables: it decides nothing more.
      const next = yield* Effect.exit(server.request(3, 0).identify(3, { lower: 0.0, upper: 0.1 }))
      expect(Exit.isFailure(next) && String(Cause.squash(next.cause))).toMatch(/lost a write \(canceling statement due to lock timeout\): it must be rebuilt/)
      // Rebuilt from the tables, nothing was decided: the request is decided afresh.
      const rebuilt = yield* durable(run, attempt)
      expect(yield* rebuilt.request(2, 0).identify(2, interval)).toEqual({ _tag: "Registered", task: 0 })
      expect((yield* load(run)).entries).toHaveLength(1)
    }).pipe(Effect.provide(pg)))

  for (const sharing of ["policy", "experience"] as const) {
    it.live(`${sharing} sharing: every decision written first, the in-process results, and the tables rebuild the server`, () =>
      Effect.gen(function*() {
        const c = chain({ sharing, epsilon: sharing === "experience" ? 0.2 : 0.3 })
        const run = `test-${sharing}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`
        const direct = yield* runAlgorithm(c, "distmt", 1)
        const { result, live } = yield* durableRun(c, "distmt", 1, run)
        expect(result.rows).toEqual(direct.rows)
        expect(result.traffic).toEqual(direct.traffic)
        // The tables hold exactly the live server's state.
        const stored = yield* load(run)
        expect(stored.entries).toEqual(withoutWaiters(yield* live.registry))
        expect(stored.traffic).toEqual(yield* live.traffic)
        const pools = yield* live.pools
        expect(stored.pools.map((p) => p.length)).toEqual(pools.map((p) => p.length))
        expect(stored.pools.flat().map((b) => Array.from(b.transitions))).toEqual(pools.flat().map((b) => Array.from(b.transitions)))
        if (sharing === "experience") expect(pools.flat().length).toBeGreaterThan(0)
        // A server rebuilt from them answers as the live one would.
        const rebuilt = yield* makeFrom(stored)
        expect(yield* rebuilt.fetchAll(0)).toEqual(yield* live.fetchAll(0))
      }).pipe(Effect.provide(pg)), 180_000)
  }
})

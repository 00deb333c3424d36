/**
 * `distmt cluster ping --db URL [--entity ID] [--count N] [--concurrency C] [--persisted] [--handled]`
 *
 * A client-only process (no port, no shards) that sends signed `Ping`s to the cluster's Ping
 * entities and prints the round trips per second: the check that a cluster is up and that this
 * process holds the right secret, and the throughput figures of docs/cluster.md. `--handled` asks
 * an entity how many pings its handlers ran instead (the forged-message test uses it).
 * A refused ping prints `refused: …` and exits 1.
 */
import { Console, Duration, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { checkDatabase, checkRunnersUp, ClusterUsageError, reportUsageErrors } from "./database.ts"
import { clientLayer } from "./layers.ts"
import { Ping } from "./Ping.ts"
import { connectionFlags } from "./flags.ts"
import { dbUrlFrom, parseClusterName, readTls } from "./runnerCommand.ts"
import { loadSecret } from "./secret.ts"

const MAX_COUNT = 1_000_000
const MAX_CONCURRENCY = 1_000

/** One line for a failed call: the refusal's own message, or the error's tag and message. */
const describeCallError = (e: unknown): string => {
  const tag = (e as { _tag?: string })?._tag
  const message = (e as { message?: string })?.message ?? String(e)
  if (tag === "AuthError") return `refused by the receiving runner: ${message}`
  return `${tag ?? "error"}: ${message.split("\n")[0]}`
}

/**
 * `--watch S`: rounds of one ping to each of `entities` entities (spread over all shards, so over
 * every runner), for S seconds. A round waits for its slowest reply, so the slowest round bounds
 * how long entities were unreachable, e.g. while a killed runner's shards moved.
 */
const watch = (send: (i: number) => Effect.Effect<void, unknown>, entities: number, seconds: number) =>
  Effect.gen(function*() {
    const start = performance.now()
    const end = start + seconds * 1000
    let rounds = 0
    let failures = 0
    let slowest = { ms: 0, at: 0 }
    let i = 0
    while (performance.now() < end) {
      const t = performance.now()
      const results = yield* Effect.forEach(
        Array.from({ length: entities }, () => ++i),
        (k) => Effect.result(send(k)),
        { concurrency: "unbounded" }
      )
      failures += results.filter((r) => r._tag === "Failure").length
      const ms = performance.now() - t
      if (ms > slowest.ms) slowest = { ms, at: (t - start) / 1000 }
      rounds++
      yield* Effect.sleep(Duration.millis(100))
    }
    yield* Console.log(
      `${rounds} rounds of ${entities} pings in ${seconds} s: slowest round ${(slowest.ms / 1000).toFixed(2)} s ` +
        `(started at ${slowest.at.toFixed(1)} s), ${failures} failed`
    )
  })

export const pingCommand = Command.make(
  "ping",
  {
    ...connectionFlags,
    entity: Flag.String("entity").pipe(Flag.withDefault("ping"), Flag.withDescription("the Ping entity's id (default ping; with --concurrency C > 1: ids ID-0 … ID-(C-1))")),
    count: Flag.Int("count").pipe(Flag.withDefault(1), Flag.withDescription("how many round trips (default 1)")),
    concurrency: Flag.Int("concurrency").pipe(Flag.withDefault(1), Flag.withDescription("round trips in flight, one entity each (default 1)")),
    persisted: Flag.Boolean("persisted").pipe(Flag.withDefault(false), Flag.withDescription("send persisted messages (through PostgreSQL) instead of volatile ones")),
    handled: Flag.Boolean("handled").pipe(Flag.withDefault(false), Flag.withDescription("print how many pings the entity's handlers ran, send none")),
    watch: Flag.Int("watch").pipe(
      Flag.optional,
      Flag.withDescription("for this many seconds, ping every entity (--concurrency of them) in rounds and report the slowest round: kill a runner meanwhile to time a take-over")
    ),
    timeout: Flag.Int("timeout").pipe(Flag.withDefault(60), Flag.withDescription("give up after this many seconds, plus --watch's (default 60)"))
  },
  (flags) =>
    Effect.gen(function*() {
      if (!(flags.count >= 1 && flags.count <= MAX_COUNT)) {
        return yield* new ClusterUsageError({ message: `--count: from 1 to ${MAX_COUNT}` })
      }
      if (!(flags.concurrency >= 1 && flags.concurrency <= MAX_CONCURRENCY)) {
        return yield* new ClusterUsageError({ message: `--concurrency: from 1 to ${MAX_CONCURRENCY}` })
      }
      if (Option.isSome(flags.watch) && !(flags.watch.value >= 1 && flags.watch.value <= 3600)) {
        return yield* new ClusterUsageError({ message: "--watch: from 1 to 3600 seconds" })
      }
      // Checked before the database is asked, as the others are: a --timeout of 0 or below gave up at
      // once ("no answer within -5 s") once runners were found, an empty --entity was sent as an id,
      // and --handled (which sends no ping) silently dropped --watch.
      if (!(flags.timeout >= 1 && flags.timeout <= 86_400)) {
        return yield* new ClusterUsageError({ message: `--timeout: from 1 to 86400 seconds, got ${flags.timeout}` })
      }
      if (flags.entity.trim() === "") return yield* new ClusterUsageError({ message: "--entity: expected an entity id, got an empty one" })
      if (flags.handled && Option.isSome(flags.watch)) {
        return yield* new ClusterUsageError({ message: "--handled sends no ping, so it does not go with --watch; give one of them" })
      }
      const secret = yield* loadSecret({ secretFile: Option.getOrUndefined(flags.secretFile), insecure: flags.insecure })
      const db = yield* dbUrlFrom(flags.db)
      const tls = yield* readTls(flags.tlsCert, flags.tlsKey, flags.tlsCa)
      const clusterName = yield* parseClusterName(flags.clusterName)
      yield* checkDatabase(db)
      yield* checkRunnersUp(db, clusterName)

      const session = Effect.gen(function*() {
        const client = yield* Ping.client
        if (flags.handled) {
          const n = yield* client(flags.entity).Count()
          yield* Console.log(`${flags.entity}: ${n} ping${n === 1 ? "" : "s"} handled`)
          return
        }
        const ids = flags.concurrency === 1
          ? [flags.entity]
          : Array.from({ length: flags.concurrency }, (_, i) => `${flags.entity}-${i}`)
        const send = (i: number) => {
          const c = client(ids[i % ids.length]!)
          const text = `${i}`
          return (flags.persisted ? c.PingPersisted({ text }) : c.Ping({ text })).pipe(
            Effect.flatMap((reply) =>
              reply === `pong: ${text}` ? Effect.void : Effect.fail(new ClusterUsageError({ message: `wrong reply ${JSON.stringify(reply)}` }))
            )
          )
        }
        // The first message to a fresh cluster waits for shard assignments (~3 s): not counted.
        yield* send(0)
        if (Option.isSome(flags.watch)) return yield* watch(send, ids.length, flags.watch.value)
        if (flags.count === 1) {
          yield* Console.log(`pong from ${ids[0]} (${flags.persisted ? "persisted" : "volatile"})`)
          return
        }
        const n = flags.count
        const start = performance.now()
        // A bounded loop: exactly n round trips, at most `concurrency` in flight.
        yield* Effect.forEach(Array.from({ length: n }, (_, i) => i + 1), send, {
          concurrency: flags.concurrency,
          discard: true
        })
        const seconds = (performance.now() - start) / 1000
        yield* Console.log(
          `${n} ${flags.persisted ? "persisted" : "volatile"} round trips, ${flags.concurrency} in flight: ` +
            `${seconds.toFixed(2)} s, ${(n / seconds).toFixed(0)} msg/s, ` +
            `${((seconds * 1000 * flags.concurrency) / n).toFixed(2)} ms per round trip`
        )
      })

      yield* session.pipe(
        Effect.provide(clientLayer({ db, clusterName, tls, secret: secret.key })),
        Effect.timeoutOrElse({
          duration: Duration.seconds(flags.timeout + Option.getOrElse(flags.watch, () => 0)),
          orElse: () => Effect.fail(new ClusterUsageError({ message: `no answer within ${flags.timeout} s: are runners up (\`distmt cluster up\`) with the same --cluster-name, ` +
            `and, if they use mutual TLS, does this process give --tls-* files from their CA?` }))
        }),
        Effect.catch((e) => e instanceof ClusterUsageError ? Effect.fail(e) : Effect.fail(new ClusterUsageError({ message: describeCallError(e) })))
      )
    }).pipe(reportUsageErrors("distmt cluster ping"))
).pipe(Command.withDescription("Send signed Ping messages to the cluster and time the round trips."))

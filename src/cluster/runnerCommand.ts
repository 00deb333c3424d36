/**
 * `distmt runner --db URL [--listen HOST:PORT] [--advertise HOST:PORT] [--secret-file F | --insecure]
 *                [--tls-cert F --tls-key F --tls-ca F]`
 *
 * Starts one Effect Cluster runner that hosts distmt's entities (entities.ts) until SIGINT/SIGTERM,
 * when it interrupts its agents and servers (they resume elsewhere: AgentEntity.ts), hands its
 * shards back (under a second, measured) and exits. Every failure the user can fix (no secret,
 * not the secret of the runners up in its cluster (peers.ts), bad or unreachable database, port
 * taken, unreadable certificate) is one line on stderr, exit 1.
 */
import { Console, Effect, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as fs from "node:fs"
import { checkDatabase, ClusterUsageError, describeDbError, parseDbUrl, redactUrl, reportUsageErrors } from "./database.ts"
import { MAX_THREADS } from "../spec/schema.ts"
import { distmtEntities } from "./entities.ts"
import { STALL_SECONDS } from "./runAgents.ts"
import { CHECKPOINT_SECONDS, MAX_CHECKPOINT_SECONDS } from "./runnerThreads.ts"
import { connectionFlags } from "./flags.ts"
import { type EntitiesLayer, type HostPort, runnerLayer } from "./layers.ts"
import { admit } from "./peers.ts"
import { watchPeers } from "./reach.ts"
import { loadSecret, type Secret } from "./secret.ts"
import type { TlsFiles } from "./transport.ts"
import { eventLoopWatchdog } from "./watchdog.ts"

export const DEFAULT_PORT = 34431

/** "HOST:PORT", "HOST" or ":PORT" → a host and a port. */
export const parseHostPort = (flag: string, text: string, defaultPort = DEFAULT_PORT) =>
  Effect.gen(function*() {
    const m = /^(\[[^\]]+\]|[^:]*)(?::([0-9]+))?$/.exec(text.trim())
    const host = m?.[1] === "" ? "127.0.0.1" : m?.[1]?.replace(/^\[|\]$/g, "")
    const port = m?.[2] === undefined ? defaultPort : Number(m[2])
    if (!m || host === undefined || !(port >= 1 && port <= 65535)) {
      return yield* new ClusterUsageError({ message: `${flag}: expected HOST:PORT (e.g. 127.0.0.1:${DEFAULT_PORT}); got ${JSON.stringify(text)}` })
    }
    return { host, port } satisfies HostPort
  })

/** The three PEM files of mutual TLS: all or none. */
export const readTls = (cert: Option.Option<string>, key: Option.Option<string>, ca: Option.Option<string>) =>
  Effect.gen(function*() {
    const given = [cert, key, ca].filter(Option.isSome).length
    if (given === 0) return undefined
    if (given !== 3) {
      return yield* new ClusterUsageError({ message: "mutual TLS needs all three of --tls-cert, --tls-key and --tls-ca (see docs/cluster.md)" })
    }
    const read = (flag: string, file: string) =>
      Effect.try({
        try: () => fs.readFileSync(file, "utf8"),
        catch: (e) => new ClusterUsageError({ message: `${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})` })
      })
    return {
      cert: yield* read("--tls-cert", Option.getOrThrow(cert)),
      key: yield* read("--tls-key", Option.getOrThrow(key)),
      ca: yield* read("--tls-ca", Option.getOrThrow(ca))
    } satisfies TlsFiles
  })

/**
 * A cluster name is a table prefix: lower-case letters, digits and underscores. `distmt` and
 * `distmt_…` are refused: distmt's own tables are named distmt_… (distmt_replies, distmt_tasks…),
 * and a cluster named `distmt` would share distmt_replies with them (Effect's NAME_replies): its
 * runners logged a defect for every entity and a run on it waited for ever, silent.
 */
export const parseClusterName = (name: string) =>
  !/^[a-z][a-z0-9_]{0,39}$/.test(name)
    ? Effect.fail(new ClusterUsageError({ message: `--cluster-name: lower-case letters, digits and _ (a table prefix); got ${JSON.stringify(name)}` }))
    : name === "distmt" || name.startsWith("distmt_")
    ? Effect.fail(new ClusterUsageError({
      message: `--cluster-name ${name}: the prefix distmt_ is distmt's own tables' (distmt_replies, distmt_tasks…); choose another name`
    }))
    : Effect.succeed(name)

/** `--checkpoint-every`: above 0 and at most `MAX_CHECKPOINT_SECONDS` (a unit checkpointing less often is taken for lost). */
export const checkCheckpointEvery = (seconds: number) =>
  seconds > 0 && seconds <= MAX_CHECKPOINT_SECONDS
    ? Effect.void
    : Effect.fail(new ClusterUsageError({
      message: `--checkpoint-every: expected seconds above 0 and at most ${MAX_CHECKPOINT_SECONDS}, got ${seconds} (a run takes a unit whose ` +
        `checkpoints have not changed for ${STALL_SECONDS} s for lost, and starts its agents again from them)`
    }))

export const dbUrlFrom = (flag: Option.Option<string>) => parseDbUrl(Option.getOrElse(flag, () => process.env.DISTMT_DB))

/** One line for a runner layer that failed to start. */
const describeStartError = (db: string, listen: HostPort, error: unknown): string => {
  const tag = (error as { _tag?: string })?._tag
  if (tag === "SocketServerError" || tag === "SocketServerOpenError") {
    const cause = (error as { reason?: { cause?: { code?: string } }; cause?: { code?: string } })
    const code = cause.reason?.cause?.code ?? cause.cause?.code
    const why = code === "EADDRINUSE"
      ? "the port is in use (another runner?)"
      : code === "EADDRNOTAVAIL"
      ? "no such address on this machine"
      : code === "EACCES"
      ? "permission denied (ports below 1024 need root)"
      : (code ?? "cannot bind")
    return `cannot listen on ${listen.host}:${listen.port}: ${why}; choose another with --listen HOST:PORT`
  }
  if (tag === "SqlError") return describeDbError(db, error)
  return `the runner could not start: ${String((error as { message?: string })?.message ?? error).split("\n")[0]}`
}

/**
 * Runs a runner until interrupted. `entities` defaults to distmt's; tests and other commands may
 * pass their own. Prints one "ready" line on stdout once registered (cluster up waits for it).
 */
export const runRunner = (options: {
  readonly db: string
  readonly clusterName: string
  readonly address: HostPort
  readonly listen?: HostPort | undefined
  readonly secret: Secret
  readonly tls: TlsFiles | undefined
  readonly entities?: EntitiesLayer | undefined
  /** The agents' learner threads (default: one per core) and checkpoint interval (AgentEntity.ts). */
  readonly threads?: number | undefined
  readonly checkpointSeconds?: number | undefined
}) =>
  Effect.gen(function*() {
    yield* checkDatabase(options.db)
    const layer = runnerLayer({
      db: options.db,
      clusterName: options.clusterName,
      address: options.address,
      listen: options.listen,
      tls: options.tls,
      secret: options.secret.key,
      entities: options.entities ?? distmtEntities({
        runner: `${options.address.host}:${options.address.port}`,
        ...(options.threads === undefined ? {} : { threads: options.threads }),
        ...(options.checkpointSeconds === undefined ? {} : { checkpointSeconds: options.checkpointSeconds })
      })
    })
    const listen = options.listen ?? options.address
    yield* Effect.scoped(
      Effect.gen(function*() {
        // Before the sharding can give this runner a shard: the same secret as the runners up, and a
        // transport that talks with theirs.
        const address = `${options.address.host}:${options.address.port}`
        const admission = yield* admit({
          db: options.db,
          clusterName: options.clusterName,
          address,
          secret: options.secret,
          tls: options.tls
        })
        const built = yield* Layer.build(layer).pipe(
          Effect.mapError((e) => new ClusterUsageError({ message: describeStartError(options.db, listen, e) }))
        )
        yield* admission.registered
        yield* eventLoopWatchdog
        yield* Console.log(
          `distmt runner: ready on ${options.address.host}:${options.address.port}` +
            `${options.listen ? ` (listening on ${listen.host}:${listen.port})` : ""}, pid ${process.pid}, ` +
            `database ${redactUrl(options.db)} (tables ${options.clusterName}_*), secret: ${options.secret.source}, ` +
            `transport: ${options.tls ? "mutual TLS" : "plain TCP"}`
        )
        // Every runner checks that it reaches the others with its own transport (reach.ts).
        yield* Effect.forkScoped(
          watchPeers({
            clusterName: options.clusterName,
            address,
            listen: options.listen && `${options.listen.host}:${options.listen.port}`,
            tls: options.tls
          }).pipe(Effect.provide(built))
        )
        return yield* Effect.never
      })
    )
  })

export const runnerCommand = Command.make(
  "runner",
  {
    ...connectionFlags,
    listen: Flag.String("listen").pipe(Flag.optional, Flag.withDescription(`HOST:PORT to listen on (default 127.0.0.1:${DEFAULT_PORT})`)),
    advertise: Flag.String("advertise").pipe(
      Flag.optional,
      Flag.withDescription("HOST:PORT other runners use to reach this one, when not --listen's (e.g. listening on 0.0.0.0)")
    ),
    threads: Flag.Int("threads").pipe(
      Flag.optional,
      Flag.withDescription("learner threads for the agents this runner hosts, and worker threads for its deep units (default: one per core)")
    ),
    checkpointEvery: Flag.Finite("checkpoint-every").pipe(
      Flag.withDefault(CHECKPOINT_SECONDS),
      Flag.withDescription(`seconds between an agent's checkpoints inside a task instance (default ${CHECKPOINT_SECONDS}); one is also written after each instance`)
    )
  },
  (flags) =>
    Effect.gen(function*() {
      const listen = yield* parseHostPort("--listen", Option.getOrElse(flags.listen, () => `127.0.0.1:${DEFAULT_PORT}`))
      const advertise = Option.isSome(flags.advertise) ? yield* parseHostPort("--advertise", flags.advertise.value) : undefined
      if (advertise === undefined && (listen.host === "0.0.0.0" || listen.host === "::")) {
        return yield* new ClusterUsageError({
          message: `--listen ${listen.host}: other runners cannot reach "all interfaces"; add --advertise HOST:PORT with this machine's address`
        })
      }
      const threads = Option.getOrUndefined(flags.threads)
      if (threads !== undefined && !(threads >= 1 && threads <= MAX_THREADS)) {
        return yield* new ClusterUsageError({ message: `--threads: expected a whole number from 1 to ${MAX_THREADS}, got ${threads}` })
      }
      yield* checkCheckpointEvery(flags.checkpointEvery)
      const secret = yield* loadSecret({ secretFile: Option.getOrUndefined(flags.secretFile), insecure: flags.insecure })
      const db = yield* dbUrlFrom(flags.db)
      const tls = yield* readTls(flags.tlsCert, flags.tlsKey, flags.tlsCa)
      const clusterName = yield* parseClusterName(flags.clusterName)
      yield* runRunner({
        db,
        clusterName,
        address: advertise ?? listen,
        listen: advertise ? listen : undefined,
        secret,
        tls,
        threads,
        checkpointSeconds: flags.checkpointEvery
      })
    }).pipe(reportUsageErrors("distmt runner"))
).pipe(Command.withDescription("Start a cluster runner that hosts distmt's entities (docs/cluster.md)."))

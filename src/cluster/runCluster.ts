/**
 * `distmt run <spec> --cluster`: the run's servers live on the cluster's runners (ServerEntity.ts),
 * one entity per (algorithm, seed), their state in PostgreSQL; this process runs the agents, on its
 * learner threads, and reaches each server through the signed protocol (src/run/remote.ts). The
 * results are those of the in-process run: the server orders requests by the clocks they carry.
 *
 * What is not there yet (docs/cluster.md): agents as entities on the runners, their checkpoints,
 * and resuming a killed submission.
 */
import { Effect, Layer, Option } from "effect"
import { randomUUID } from "node:crypto"
import { type Caller, remote } from "../run/remote.ts"
import type { Algorithm } from "../run/runExperiment.ts"
import type { RunServer } from "../run/RunServer.ts"
import { checkDatabase, ClusterUsageError } from "./database.ts"
import { clientLayer } from "./layers.ts"
import { connectionFlags, dbUrlFrom, parseClusterName, readTls } from "./runnerCommand.ts"
import { loadSecret } from "./secret.ts"
import { Server, serverId } from "./ServerEntity.ts"

/** The `--cluster` flags of `distmt run`: the connection flags of every cluster command. */
export const clusterRunFlags = connectionFlags

/**
 * Checks the flags and the database, then gives `use` the servers of a run on the cluster: a
 * function from (algorithm, seed) to a run's `RunServer`, each a fresh server entity.
 */
export const withClusterServers = <A, E, R>(
  flags: {
    readonly db: Option.Option<string>
    readonly secretFile: Option.Option<string>
    readonly insecure: boolean
    readonly tlsCert: Option.Option<string>
    readonly tlsKey: Option.Option<string>
    readonly tlsCa: Option.Option<string>
    readonly clusterName: string
  },
  name: string,
  use: (servers: (algorithm: Algorithm, seed: number) => (agents: number) => Effect.Effect<RunServer>) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const secret = yield* loadSecret({ secretFile: Option.getOrUndefined(flags.secretFile), insecure: flags.insecure })
    const db = yield* dbUrlFrom(flags.db)
    const tls = yield* readTls(flags.tlsCert, flags.tlsKey, flags.tlsCa)
    const clusterName = yield* parseClusterName(flags.clusterName)
    yield* checkDatabase(db)
    // One key per submission: a server entity's clocks live in its runner's memory, so a rerun starts afresh.
    const submission = `${name}-${randomUUID()}`
    return yield* Effect.gen(function*() {
      const client = yield* Server.client
      // One signed round trip before anything is written: a wrong secret, or no runner, is told in
      // one line here rather than as an agent's failure in the middle of the run.
      yield* client(serverId(`${submission}-check`, 1)).Inspect().pipe(
        Effect.timeoutOrElse({
          duration: "60 seconds",
          orElse: () =>
            Effect.fail(new ClusterUsageError({
              message: "no answer from the cluster within 60 s: are runners up (`distmt cluster up`) with the same --cluster-name?"
            }))
        }),
        Effect.mapError((e) =>
          e._tag === "ClusterUsageError"
            ? e
            : new ClusterUsageError({
              message: e._tag === "AuthError"
                ? `the cluster refused this process's messages (${e.message}): give the runners' secret (DISTMT_CLUSTER_SECRET, --secret-file, or .distmt/cluster.secret)`
                : `the cluster could not be reached: ${e._tag}`
            })
        )
      )
      return yield* use((algorithm, seed) => (agents) =>
        remote(client(serverId(`${submission}-${algorithm}-${seed}`, agents)) as unknown as Caller, agents))
    }).pipe(Effect.provide(Layer.orDie(clientLayer({ db, clusterName, tls, secret: secret.key }))))
  })


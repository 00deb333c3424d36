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
import { createHash, randomUUID } from "node:crypto"
import * as path from "node:path"
import { specJson } from "../report/files.ts"
import type { Experiment } from "../spec/Spec.ts"
import { type Caller, remote } from "../run/remote.ts"
import type { Algorithm } from "../run/runExperiment.ts"
import type { RunServer } from "../run/RunServer.ts"
import { checkDatabase, ClusterUsageError } from "./database.ts"
import { clientLayer } from "./layers.ts"
import { connectionFlags, dbUrlFrom, parseClusterName, readTls } from "./runnerCommand.ts"
import { loadSecret } from "./secret.ts"
import { Server, serverId } from "./ServerEntity.ts"
import { SqlClient } from "effect/sql/SqlClient"
import { nextAttempt } from "../coordinator/postgres.ts"

/**
 * A run's key on the cluster: its spec (decoded, defaults filled in) and its results folder. The
 * same command given again (same spec, same --out) is the same run, and resumes it.
 */
export const clusterRunKey = (spec: Experiment, dir: string): string =>
  `${spec.name.replace(/[^A-Za-z0-9_-]/g, "_")}-${
    createHash("sha256").update(JSON.stringify(specJson(spec))).update("\u0000").update(path.resolve(dir)).digest("hex").slice(0, 16)
  }`

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
  /**
   * Given the servers of the run whose key is `key` (`clusterRunKey`: the same spec written to the
   * same folder is the same run, so that a submission killed and given again resumes it, below).
   */
  use: (servers: (key: string) => (algorithm: Algorithm, seed: number) => (agents: number) => Effect.Effect<RunServer>) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const secret = yield* loadSecret({ secretFile: Option.getOrUndefined(flags.secretFile), insecure: flags.insecure })
    const db = yield* dbUrlFrom(flags.db)
    const tls = yield* readTls(flags.tlsCert, flags.tlsKey, flags.tlsCa)
    const clusterName = yield* parseClusterName(flags.clusterName)
    yield* checkDatabase(db)
    return yield* Effect.gen(function*() {
      const client = yield* Server.client
      const sql = yield* SqlClient
      // One signed round trip before anything is written: a wrong secret, or no runner, is told in
      // one line here rather than as an agent's failure in the middle of the run.
      yield* client(serverId(`check-${randomUUID()}`, 1, 0)).Inspect().pipe(
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
      // Resuming: a submission given again starts a new attempt of each server, rebuilt from the
      // tables; its agents run again from their seeds and send the same numbered requests, which the
      // server answers from the replies it kept, so the run goes on where it stopped, with the same numbers.
      return yield* use((key) => (algorithm, seed) => (agents) =>
        Effect.gen(function*() {
          const run = `${key}-${algorithm}-${seed}`
          const attempt = yield* Effect.orDie(Effect.provideService(nextAttempt(run), SqlClient, sql))
          return yield* remote(client(serverId(run, agents, attempt)) as unknown as Caller, agents)
        }))
    }).pipe(Effect.provide(Layer.orDie(clientLayer({ db, clusterName, tls, secret: secret.key }))))
  })


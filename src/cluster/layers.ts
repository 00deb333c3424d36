/**
 * The Effect Cluster layers of a distmt runner and of a client-only process, over PostgreSQL.
 *
 * This is `NodeClusterSocket.layer` from @effect/platform-node written out, for three reasons:
 * - the settings come from settings.ts, never from environment variables (HOST, PORT, …);
 * - the socket server and the client protocol can be mutual TLS (transport.ts);
 * - failing to register in PostgreSQL stays a typed error (NodeClusterSocket turns it into a
 *   defect), so that the command can print one line about it.
 *
 * Runners talk to each other over sockets with Effect's binary Schema serialization; message and
 * runner storage are PostgreSQL tables (cluster_messages, cluster_replies, cluster_runners,
 * cluster_locks), created at start-up; runners check each other's health by pinging.
 */
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import type { PgClient } from "@effect/sql-pg"
import { Layer, Option } from "effect"
import * as RunnerHealth from "effect/cluster/RunnerHealth"
import * as Runners from "effect/cluster/Runners"
import type { Sharding } from "effect/cluster/Sharding"
import * as SocketRunner from "effect/cluster/SocketRunner"
import * as SqlMessageStorage from "effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "effect/cluster/SqlRunnerStorage"
import type * as RpcMiddleware from "effect/rpc/RpcMiddleware"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import type { SqlClient } from "effect/sql/SqlClient"
import { pgLayer } from "./database.ts"
import { DEFAULT_CLUSTER_NAME } from "./flags.ts"
import * as Settings from "./settings.ts"
import * as Signed from "./Signed.ts"
import { clientProtocol, socketServer, type TlsFiles } from "./transport.ts"

export interface HostPort {
  readonly host: string
  readonly port: number
}

/**
 * What an entity layer may require from the runner that hosts it: the cluster (to register itself
 * and to call other entities), both halves of the signing middleware, and the cluster's PostgreSQL
 * (for state that must survive a runner: entity memory is lost on fail-over, docs/cluster.md).
 */
export type RunnerServices =
  | Sharding
  | Signed.Signed
  | RpcMiddleware.ForClient<Signed.Signed>
  | SqlClient
  | PgClient.PgClient

/** Entity layers hosted by a runner (see entities.ts). */
export type EntitiesLayer = Layer.Layer<never, never, RunnerServices>

export interface RunnerOptions {
  readonly db: string
  /** The cluster's table prefix (DEFAULT_CLUSTER_NAME unless given). */
  readonly clusterName?: string | undefined
  /** The address other runners and clients use to reach this one (registered in cluster_runners). */
  readonly address: HostPort
  /** Where to listen, when not the same as `address` (e.g. 0.0.0.0 behind a known address). */
  readonly listen?: HostPort | undefined
  readonly tls?: TlsFiles | undefined
  /** The shared secret; undefined only under --insecure. */
  readonly secret: Buffer | undefined
  readonly entities: EntitiesLayer
}

/**
 * Frames up to 64 MiB: a policy (Q-values per step) of a large spec is a few MiB; Effect's default
 * is smaller. A larger frame is refused by the receiver (no unbounded buffering).
 */
export const serialization = RpcSerialization.layerSchemaBinary({ maxFrameSize: 64 * 1024 * 1024 })

/** Message storage in PostgreSQL (<prefix>_messages/<prefix>_replies); Digest hashes primary keys. */
const messageStorage = (prefix: string) => SqlMessageStorage.layerWith({ prefix }).pipe(Layer.provide(NodeCrypto.layerDigest))

/** A runner: hosts `entities` on its shards and can call any entity of the cluster. */
export const runnerLayer = (options: RunnerOptions) => {
  const protocol = clientProtocol(options.tls)
  const sharding = SocketRunner.layer.pipe(
    Layer.provide([socketServer(options.listen ?? options.address, options.tls), protocol]),
    Layer.provide(RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(protocol))),
    Layer.provideMerge(messageStorage(options.clusterName ?? DEFAULT_CLUSTER_NAME)),
    Layer.provide(SqlRunnerStorage.layerWith({ prefix: options.clusterName ?? DEFAULT_CLUSTER_NAME })),
    Layer.provide(Settings.layer({ address: Option.some(options.address), listen: options.listen })),
    Layer.provide(serialization)
  )
  const from = Signed.selfDescription(`${options.address.host}:${options.address.port}`)
  return options.entities.pipe(
    Layer.provide([Signed.server(options.secret), Signed.client(options.secret, from)]),
    Layer.provideMerge(sharding),
    Layer.provideMerge(pgLayer(options.db))
  )
}

/**
 * A process that only sends (the submitting `distmt run --cluster`, `distmt cluster ping`): it
 * hosts no shards and needs no port, but reads the shard map and runners from PostgreSQL.
 * Provides Sharding (for `Entity.client`) and the signing half of the middleware.
 */
export const clientLayer = (options: {
  readonly db: string
  readonly clusterName?: string | undefined
  readonly tls?: TlsFiles | undefined
  readonly secret: Buffer | undefined
}) => {
  const sharding = SocketRunner.layerClientOnly.pipe(
    Layer.provide(clientProtocol(options.tls)),
    Layer.provideMerge(messageStorage(options.clusterName ?? DEFAULT_CLUSTER_NAME)),
    Layer.provide(SqlRunnerStorage.layerWith({ prefix: options.clusterName ?? DEFAULT_CLUSTER_NAME })),
    Layer.provide(Settings.layer({ address: Option.none() })),
    Layer.provide(serialization)
  )
  return Layer.mergeAll(sharding, Signed.client(options.secret, Signed.selfDescription())).pipe(
    Layer.provideMerge(pgLayer(options.db))
  )
}

/**
 * The Effect Cluster settings of a distmt runner, given in code and never read from environment
 * variables: Effect's `ShardingConfig.layerFromEnv` reads upper-case variables such as `HOST`, `PORT`
 * and `SHARDS_PER_GROUP`, which shells and CI set for other reasons (a stray `PORT` would move the
 * runner; a `SHARDS_PER_GROUP` that differs between runners corrupts the shard map). docs/cluster.md
 * ("Settings") explains each value and the take-over times measured with them.
 */
import { Duration, Option } from "effect"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as ShardingConfig from "effect/cluster/ShardingConfig"

/** Every runner and client of one cluster must agree on this (the shard of an entity is hash % shards). */
export const SHARDS_PER_GROUP = 300

/**
 * The values that bound take-over after a runner dies (kill -9), tuned from Effect's defaults
 * (lock expiry 35 s, refresh 10 s, health check 1 min, message poll 10 s → 36–38 s measured) to a
 * few seconds (3.5–7 s measured with these values).
 */
export const takeOver = {
  /** A dead runner's shard locks (rows in cluster_locks + advisory locks) are free after this long. */
  shardLockExpiration: Duration.seconds(6),
  /** A live runner renews its locks this often: 3 renewals per expiry tolerate one slow round trip. */
  shardLockRefreshInterval: Duration.seconds(2),
  /** How often a runner re-reads the shard assignment (runners joining or leaving) from the database. */
  refreshAssignmentsInterval: Duration.seconds(1),
  /** How often runners ping each other; an unreachable runner is marked unhealthy and loses its shards. */
  runnerHealthCheckInterval: Duration.seconds(2),
  /** How often a shard's new owner polls cluster_messages for persisted messages it has not been told of. */
  entityMessagePollInterval: Duration.seconds(1),
  /** How often a sender of a persisted message polls cluster_replies for the answer. */
  entityReplyPollInterval: Duration.millis(100)
} as const

/**
 * The full `ShardingConfig` of a runner (`address` set) or a client-only process (`address` none).
 * `runnerListenAddress` differs from `runnerAddress` only when listening on all interfaces.
 */
export const shardingConfig = (options: {
  readonly address: Option.Option<{ readonly host: string; readonly port: number }>
  readonly listen?: { readonly host: string; readonly port: number } | undefined
}): ShardingConfig.ShardingConfig["Service"] => ({
  ...ShardingConfig.defaults,
  ...takeOver,
  runnerAddress: Option.map(options.address, (a) => RunnerAddress.make(a.host, a.port)),
  runnerListenAddress: options.listen ? Option.some(RunnerAddress.make(options.listen.host, options.listen.port)) : Option.none(),
  shardsPerGroup: SHARDS_PER_GROUP,
  availableShardGroups: ["default"],
  assignedShardGroups: ["default"],
  // Entities are kept while they are used; an idle one is stopped after this and rebuilt on demand
  // (its memory is lost either way on fail-over: durable state belongs in PostgreSQL tables).
  entityMaxIdleTime: Duration.minutes(5)
})

export const layer = (options: Parameters<typeof shardingConfig>[0]) => ShardingConfig.layer(shardingConfig(options))

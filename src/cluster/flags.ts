/**
 * The flags that name a cluster and how to reach it, shared by `runner`, `cluster up`, `ping` and
 * `run --cluster`. Kept apart from the cluster's code so that `distmt run` without `--cluster`
 * defines them without loading Effect Cluster, SQL and PostgreSQL's client (about 0.75 s).
 */
import { Option } from "effect"
import { Flag } from "effect/cli"

/**
 * The table prefix of Effect's default cluster, when `--cluster-name` is not given. Another prefix
 * is another cluster in the same database: its own tables and its own namespace of shard advisory
 * locks (a PostgreSQL schema would not separate those, as advisory locks are per database).
 */
export const DEFAULT_CLUSTER_NAME = "cluster"

export const connectionFlags = {
  db: Flag.String("db").pipe(Flag.optional, Flag.withDescription("PostgreSQL URL, postgres://USER:PASSWORD@HOST:5432/DB (default: $DISTMT_DB)")),
  secretFile: Flag.String("secret-file").pipe(
    Flag.optional,
    Flag.withDescription("file holding the cluster's shared secret (default: $DISTMT_CLUSTER_SECRET, then .distmt/cluster.secret)")
  ),
  insecure: Flag.Boolean("insecure").pipe(Flag.withDefault(false), Flag.withDescription("run without a secret: messages are neither signed nor checked")),
  tlsCert: Flag.String("tls-cert").pipe(Flag.optional, Flag.withDescription("this process's certificate (PEM), for mutual TLS between runners")),
  tlsKey: Flag.String("tls-key").pipe(Flag.optional, Flag.withDescription("its private key (PEM)")),
  tlsCa: Flag.String("tls-ca").pipe(Flag.optional, Flag.withDescription("the cluster's CA certificate (PEM)")),
  clusterName: Flag.String("cluster-name").pipe(
    Flag.withDefault(DEFAULT_CLUSTER_NAME),
    Flag.withDescription("the cluster's table prefix in the database (NAME_runners, NAME_messages…): one database can hold several clusters")
  )
}

/** The values of `connectionFlags`, as a command's handler receives them. */
export interface ConnectionFlags {
  readonly db: Option.Option<string>
  readonly secretFile: Option.Option<string>
  readonly insecure: boolean
  readonly tlsCert: Option.Option<string>
  readonly tlsKey: Option.Option<string>
  readonly tlsCa: Option.Option<string>
  readonly clusterName: string
}

/**
 * The flags of `connectionFlags` given to `run` or `sweep` without `--cluster`: they would be
 * ignored and the run would go on in this process, so they are refused, named. (`--cluster-name`
 * given as its default cannot be told from not given.)
 */
export const withoutCluster = (flags: ConnectionFlags): string | undefined => {
  const given = [
    Option.isSome(flags.db) ? "--db" : undefined,
    Option.isSome(flags.secretFile) ? "--secret-file" : undefined,
    flags.insecure ? "--insecure" : undefined,
    Option.isSome(flags.tlsCert) ? "--tls-cert" : undefined,
    Option.isSome(flags.tlsKey) ? "--tls-key" : undefined,
    Option.isSome(flags.tlsCa) ? "--tls-ca" : undefined,
    flags.clusterName !== DEFAULT_CLUSTER_NAME ? "--cluster-name" : undefined
  ].filter((f) => f !== undefined)
  if (given.length === 0) return undefined
  return `${given.join(", ")}: only with --cluster, which runs on the cluster's runners; without it, everything runs in this process`
}

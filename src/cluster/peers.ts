/**
 * Admission of a runner to its cluster: before a runner registers with the sharding (and so before
 * it can be given a shard), it checks that it holds the same secret as the runners of its cluster
 * name that are up, or, like them, none (--insecure). Without this check a runner with another
 * secret joined silently, took shards, and every message between it and its peers was refused.
 *
 * The reference is one row per cluster name in `distmt_secret_verifiers`: a random salt and
 * HMAC-SHA256(secret, label, cluster name, salt), or a mark that the cluster runs --insecure. The
 * secret itself is never stored. When no runner of the name is up, a runner's secret becomes the new
 * reference (the user changed it on purpose, after stopping the old runners).
 *
 * Two runners starting at once must agree: a runner takes a PostgreSQL advisory lock of its cluster
 * name before it reads the reference, and keeps it until the runners table lists it (it is then
 * "up" for the next one), or until it fails to start. The lock is held by a session, so a runner
 * that dies holding it releases it.
 *
 * What this protects against, and what not: docs/cluster.md, "Security model".
 *
 * The same secret is not enough: a runner whose transport cannot talk with its peers' (TLS on one
 * side only, certificates from another CA) was admitted too, printed "ready" and idled; worse, if it
 * held Effect's health-check singleton it marked the genuine runners unhealthy. So, still under the
 * lock, the runner pings each runner up over its own transport and is refused when one cannot
 * answer it for a transport cause (reach.ts, `transportMismatches`).
 *
 * A runner admitted records its protocol version (src/coordinator/protocol.ts) beside its address,
 * which a submission checks before it sends work (runCluster.ts): docs/cluster.md, "Versions".
 */
import { Console, Context, Effect, Exit, Layer, Scope } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { Connection } from "effect/sql/SqlConnection"
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { underMigrationLock } from "../coordinator/postgres.ts"
import { PROTOCOL_VERSION } from "../coordinator/protocol.ts"
import { ClusterUsageError, describeDbError, pgLayer, RUNNER_UP_SECONDS, runnersUp } from "./database.ts"
import { transportMismatches } from "./reach.ts"
import { LOCAL_SECRET_FILE, type Secret, SECRET_ENV } from "./secret.ts"
import type { TlsFiles } from "./transport.ts"

export const VERIFIERS_TABLE = "distmt_secret_verifiers"

/** Each runner's protocol version (src/coordinator/protocol.ts), by cluster name and address. */
export const VERSIONS_TABLE = "distmt_runner_versions"

/** Domain separation: a verifier is never the signature of a message (Signed.ts signs "distmt-v1\n…"). */
const LABEL = "distmt-peer-verifier-v1"

/** How long a runner waits for another runner of its cluster name to finish starting. */
const LOCK_WAIT_MS = 60_000

/** How long a runner keeps the others waiting for its own registration (normally about a second). */
const REGISTER_WAIT_MS = 30_000

/** HMAC-SHA256(secret, label ‖ cluster name ‖ salt), the fields one per line. */
export const verifierOf = (key: Buffer, clusterName: string, salt: Buffer): Buffer =>
  createHmac("sha256", key).update([LABEL, clusterName, salt.toString("hex")].join("\n")).digest()

/** A cluster's reference row: `verifier` null when the cluster runs --insecure. */
export interface Reference {
  readonly salt: Uint8Array | null
  readonly verifier: Uint8Array | null
}

/** What a runner with `key` (undefined: --insecure) is, compared with a cluster's reference. */
export type Match = "same" | "another secret" | "they are insecure" | "they have a secret"

export const compareWith = (reference: Reference, key: Buffer | undefined, clusterName: string): Match => {
  if (reference.verifier === null) return key === undefined ? "same" : "they are insecure"
  if (key === undefined) return "they have a secret"
  // bytea is read back as a Uint8Array, whose toString is not hex: hence Buffer.from.
  const mine = verifierOf(key, clusterName, Buffer.from(reference.salt ?? []))
  return mine.length === reference.verifier.length && timingSafeEqual(mine, reference.verifier) ? "same" : "another secret"
}

/** The reference a runner with `key` writes when no runner of its cluster is up. */
export const referenceOf = (key: Buffer | undefined, clusterName: string): Reference => {
  if (key === undefined) return { salt: null, verifier: null }
  const salt = randomBytes(16)
  return { salt, verifier: verifierOf(key, clusterName, salt) }
}

const WHERE_SECRET = `a runner reads it from --secret-file F, else $${SECRET_ENV}, else ${LOCAL_SECRET_FILE}`
const STOP_THEM = "stop them first (`distmt cluster down` for those it started, or SIGTERM each `distmt runner`)"

/**
 * The one line of a refusal: what differs, and the ways out. `upFor`: the seconds until the last of
 * the runners up stops counting as up if it renews its place no more. Runners killed with -9 stay
 * listed that long: without that figure, a runner restarted at once with a new secret was told to
 * stop runners that were already gone, its own address among them.
 */
export const refusal = (
  match: Exclude<Match, "same">,
  clusterName: string,
  up: ReadonlyArray<string>,
  secret: Secret,
  upFor: number
): string => {
  const shown = up.slice(0, 3).join(", ") + (up.length > 3 ? `, and ${up.length - 3} more` : "")
  const them = `the runners up in cluster "${clusterName}" (${shown})`
  const killed = `; a runner stopped without SIGTERM (kill -9, a crash) counts as up for ${RUNNER_UP_SECONDS} s after it last renewed its place: ` +
    `if those are gone, start this one again in ${Math.max(1, Math.ceil(upFor))} s`
  switch (match) {
    case "another secret":
      return `this runner's secret (from ${secret.source}) is not the one of ${them}; give it theirs (${WHERE_SECRET}), ` +
        `or, to change the cluster's secret, ${STOP_THEM}${killed}`
    case "they have a secret":
      return `this runner has no secret (--insecure) but ${them} have one; give it theirs (${WHERE_SECRET}) instead of --insecure, ` +
        `or, to run the cluster without a secret, ${STOP_THEM}${killed}`
    case "they are insecure":
      return `${them} run without a secret (--insecure) but this one has one (from ${secret.source}); give it --insecure too, ` +
        `or, to secure the cluster, ${STOP_THEM} and start every runner with the same secret${killed}`
  }
}

/**
 * The one line of a refusal for transports that cannot talk: the first runner that cannot answer
 * this one, with the cause (which says what to change), and how many more.
 */
export const transportRefusal = (
  mismatches: ReadonlyArray<{ readonly peer: string; readonly cause: string }>,
  clusterName: string,
  tls: boolean
): string => {
  const [first, ...more] = mismatches
  const others = more.length === 0 ? "" : ` (and ${more.length} more runner${more.length === 1 ? "" : "s"} up: ${more.map((m) => m.peer).join(", ")})`
  return `this runner (${tls ? "mutual TLS" : "plain TCP"}) cannot talk with the runner at ${first.peer} of cluster "${clusterName}"${others}: ` +
    `${first.cause}; or, to change the cluster's transport, ${STOP_THEM}`
}

/** Seconds until the last runner of `clusterName` that is up stops counting as up, if none renews its place. */
const upForSeconds = (sql: SqlClient, clusterName: string) =>
  Effect.map(
    sql<{ s: number | null }>`SELECT EXTRACT(EPOCH FROM max(last_heartbeat) - (now() - make_interval(secs => ${RUNNER_UP_SECONDS})))::float8 AS s
      FROM ${sql(`${clusterName}_runners`)}`,
    (rows) => rows[0]?.s ?? 0
  )

/**
 * Creates the table if it is missing, under the migrations' lock: the first runners of two cluster
 * names may start at once, and two concurrent CREATE TABLE IF NOT EXISTS can fail on each other.
 */
const migrate = (sql: SqlClient) =>
  underMigrationLock(Effect.andThen(
    sql`CREATE TABLE IF NOT EXISTS ${sql(VERIFIERS_TABLE)} (
      cluster text PRIMARY KEY, salt bytea, verifier bytea, since timestamptz NOT NULL DEFAULT now())`,
    sql`CREATE TABLE IF NOT EXISTS ${sql(VERSIONS_TABLE)} (
      cluster text NOT NULL, address text NOT NULL, protocol integer NOT NULL, since timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (cluster, address))`
  )).pipe(Effect.provideService(SqlClient, sql))

/**
 * The protocol version of each runner of `clusterName` that is up, by address; undefined for a
 * runner of a distmt from before versions were recorded (or before the table existed).
 */
export const versionsUp = (clusterName: string): Effect.Effect<ReadonlyMap<string, number | undefined>, unknown, SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const up = yield* runnersUp(clusterName)
    const exists = yield* sql<{ t: string | null }>`SELECT to_regclass(${VERSIONS_TABLE})::text AS t`
    const rows = exists[0].t === null ? [] : yield* sql<{ address: string; protocol: number }>`
      SELECT address, protocol FROM ${sql(VERSIONS_TABLE)} WHERE cluster = ${clusterName}`
    const known = new Map(rows.map((r) => [r.address, r.protocol]))
    return new Map(up.map((address) => [address, known.get(address)]))
  })

/** "127.0.0.1:1 and 127.0.0.1:2 speak version 1, 127.0.0.1:3 none", from `versionsUp`'s map. */
export const describeVersions = (versions: ReadonlyMap<string, number | undefined>): string => {
  const byVersion = new Map<number | undefined, Array<string>>()
  for (const [address, v] of versions) byVersion.set(v, [...(byVersion.get(v) ?? []), address])
  return [...byVersion].map(([v, addresses]) =>
    `${addresses.join(", ")} ${addresses.length === 1 ? "speaks" : "speak"} ` +
    (v === undefined ? "no version (a distmt from before versions were recorded)" : `version ${v}`)
  ).join("; ")
}

/**
 * Records this runner's protocol version (under the admission lock, before it registers), and
 * warns when runners up in its cluster speak another: submissions to the cluster are refused until
 * they all speak one (runCluster.ts), so the operator hears it here first.
 */
const recordVersion = (sql: SqlClient, clusterName: string, address: string) =>
  Effect.gen(function*() {
    yield* sql`INSERT INTO ${sql(VERSIONS_TABLE)} (cluster, address, protocol) VALUES (${clusterName}, ${address}, ${PROTOCOL_VERSION})
      ON CONFLICT (cluster, address) DO UPDATE SET protocol = EXCLUDED.protocol, since = now()`
    const others = new Map([...yield* versionsUp(clusterName)].filter(([a, v]) => a !== address && v !== PROTOCOL_VERSION))
    if (others.size > 0) {
      yield* Console.error(
        `distmt runner: WARNING this runner speaks protocol version ${PROTOCOL_VERSION}, but in cluster "${clusterName}" ` +
          `${describeVersions(others)}: submissions to the cluster are refused until every runner runs the same distmt; ` +
          "stop the others and start them again with this distmt (or stop this one)"
      )
    }
  }).pipe(Effect.provideService(SqlClient, sql))

/**
 * Takes the session advisory lock `key` on `conn`, waiting while another runner holds it. The
 * one-bigint form of the lock: Effect Cluster's shard locks use the two-int form, a separate space.
 */
const lock = (conn: Connection, key: string, clusterName: string) =>
  Effect.gen(function*() {
    const deadline = Date.now() + LOCK_WAIT_MS
    while (true) {
      const rows = yield* conn.executeValues("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", [key])
      if (rows[0]?.[0] === true) return
      if (Date.now() > deadline) {
        return yield* new ClusterUsageError({
          message: `another runner of cluster "${clusterName}" has been starting for ${LOCK_WAIT_MS / 1000} s (it holds the start-up lock); ` +
            `wait until it is up or stop it, then start this one again`
        })
      }
      yield* Effect.sleep("250 millis")
    }
  })

/**
 * Compares this runner's secret with the reference, or makes it the reference: under the lock.
 * Returns the addresses of the runners up, which the transport check takes next.
 */
const check = (sql: SqlClient, clusterName: string, secret: Secret) =>
  Effect.gen(function*() {
    yield* migrate(sql)
    const up = yield* runnersUp(clusterName)
    const rows = yield* sql<Reference>`SELECT salt, verifier FROM ${sql(VERIFIERS_TABLE)} WHERE cluster = ${clusterName}`
    // Runners up but no reference: runners of a distmt from before this check; nothing to compare.
    if (up.length > 0 && rows.length > 0) {
      const match = compareWith(rows[0], secret.key, clusterName)
      if (match !== "same") {
        return yield* new ClusterUsageError({ message: refusal(match, clusterName, up, secret, yield* upForSeconds(sql, clusterName)) })
      }
      return up
    }
    const reference = referenceOf(secret.key, clusterName)
    yield* sql`INSERT INTO ${sql(VERIFIERS_TABLE)} (cluster, salt, verifier) VALUES (${clusterName}, ${reference.salt}, ${reference.verifier})
      ON CONFLICT (cluster) DO UPDATE SET salt = EXCLUDED.salt, verifier = EXCLUDED.verifier, since = now()`
    return up
  })

/** Waits until the runners table lists `address` (the runner is then up for the next one), bounded. */
const awaitListed = (clusterName: string, address: string) =>
  Effect.gen(function*() {
    const deadline = Date.now() + REGISTER_WAIT_MS
    while (Date.now() < deadline) {
      if ((yield* runnersUp(clusterName)).includes(address)) return
      yield* Effect.sleep("200 millis")
    }
  })

export interface Admission {
  /**
   * Waits until the runners table lists this runner, then lets the next runner of the cluster name
   * be checked (after REGISTER_WAIT_MS at the latest: a runner that does not register within it
   * must not keep the others out).
   */
  readonly registered: Effect.Effect<void>
}

/**
 * Admits a runner to cluster `clusterName` at `address`, or fails with one line. The lock is held
 * until `registered` completes or the enclosing scope closes (the runner failed to start).
 */
export const admit = (options: {
  readonly db: string
  readonly clusterName: string
  readonly address: string
  readonly secret: Secret
  readonly tls: TlsFiles | undefined
}) =>
  Effect.gen(function*() {
    const { clusterName } = options
    const held = yield* Scope.fork(yield* Effect.scope)
    const sql = Context.get(yield* Layer.buildWithScope(pgLayer(options.db), held), SqlClient)
    const conn = yield* sql.reserve.pipe(Scope.provide(held))
    const key = `distmt runner admission ${clusterName}`
    yield* lock(conn, key, clusterName)
    // Finalizers run last-added first: unlock, then give the connection back, then close the pool.
    yield* Scope.addFinalizer(held, Effect.ignore(conn.executeRaw("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key])))
    const up = yield* check(sql, clusterName, options.secret).pipe(Effect.provideService(SqlClient, sql))
    // Its own address may be listed still (a runner killed and started again on its port): not a peer.
    const peers = up.filter((a) => a !== options.address)
    const mismatches = yield* transportMismatches(peers, options.tls)
    if (mismatches.length > 0) {
      return yield* new ClusterUsageError({ message: transportRefusal(mismatches, clusterName, options.tls !== undefined) })
    }
    yield* recordVersion(sql, clusterName, options.address)
    const registered = awaitListed(clusterName, options.address).pipe(
      Effect.provideService(SqlClient, sql),
      Effect.ignore, // a failed query only ends the wait early: the runner itself is up
      Effect.ensuring(Scope.close(held, Exit.void))
    )
    return { registered } satisfies Admission
  }).pipe(
    Effect.mapError((e) => e instanceof ClusterUsageError ? e : new ClusterUsageError({ message: describeDbError(options.db, e) }))
  )

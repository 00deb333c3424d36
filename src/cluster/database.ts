/**
 * The cluster's PostgreSQL: parse and check the `--db` URL, and turn every way of failing to reach
 * the database into one line that says what to do (never a stack trace).
 */
import { PgClient } from "@effect/sql-pg"
import { Console, Data, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"

/** A failure the user can fix: printed as its message alone, exit code 1. */
export class ClusterUsageError extends Data.TaggedError("ClusterUsageError")<{ readonly message: string }> {}

/** A command's `ClusterUsageError` printed as one line after `prefix` (e.g. "distmt cluster"), exit code 1. */
export const reportUsageErrors = (prefix: string) => <A, R>(effect: Effect.Effect<A, ClusterUsageError, R>) =>
  effect.pipe(
    Effect.catchTag("ClusterUsageError", (e: ClusterUsageError) =>
      Effect.andThen(Console.error(`${prefix}: ${e.message}`), Effect.sync(() => {
        process.exitCode = 1
      })))
  )

/** "1 runner", "2 runners": a count and its noun, for the cluster commands' messages. */
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const HOW_TO_START = "start one with `sudo tools/postgres.sh` (prints the URL to use)"

/** The URL without its password, for messages. */
export const redactUrl = (url: string): string => {
  try {
    const u = new URL(url)
    if (u.password !== "") u.password = "***"
    return u.toString()
  } catch {
    return url
  }
}

/** Checks the URL's shape before any connection attempt. */
export const parseDbUrl = (url: string | undefined) =>
  Effect.gen(function*() {
    if (url === undefined || url.trim() === "") {
      return yield* new ClusterUsageError({
        message: `no database: give --db postgres://USER:PASSWORD@HOST:5432/DATABASE (or set DISTMT_DB); ${HOW_TO_START}`
      })
    }
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return yield* new ClusterUsageError({
        message: `--db ${JSON.stringify(url)} is not a URL: expected postgres://USER:PASSWORD@HOST:5432/DATABASE`
      })
    }
    if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
      return yield* new ClusterUsageError({
        message: `--db must be a postgres:// URL (distmt's cluster stores its state in PostgreSQL); got ${parsed.protocol}//…`
      })
    }
    if (parsed.hostname === "" || parsed.pathname.length <= 1) {
      return yield* new ClusterUsageError({
        message: `--db ${redactUrl(url)}: name a host and a database, as in postgres://USER:PASSWORD@127.0.0.1:5432/distmt`
      })
    }
    return url
  })

/** The PostgreSQL client layer for a checked URL (a small pool: the cluster needs a few connections). */
export const pgLayer = (url: string) =>
  PgClient.layer({
    url: Redacted.make(url),
    connectTimeout: "5 seconds",
    applicationName: "distmt",
    maxConnections: 10
  })

/** One line for a failed connection, from PostgreSQL's error code or the socket's. */
export const describeDbError = (url: string, error: unknown): string => {
  const where = redactUrl(url)
  const reason = (error as { reason?: { _tag?: string; cause?: { code?: string; message?: string } } })?.reason
  const code = reason?.cause?.code
  switch (code) {
    case "ECONNREFUSED":
      return `cannot reach PostgreSQL at ${where}: nothing listens there; ${HOW_TO_START}, or fix --db`
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot reach PostgreSQL at ${where}: unknown host name; fix --db`
    case "ETIMEDOUT":
      return `cannot reach PostgreSQL at ${where}: the connection timed out; check the host, port and firewall in --db`
    case "28P01":
    case "28000":
      return `PostgreSQL at ${where} refused the login: wrong user or password in --db`
    case "3D000":
      return `PostgreSQL at ${where}: the database does not exist; create it (\`sudo tools/postgres.sh\` makes distmt_test) or fix --db`
    case "42501":
      return `PostgreSQL at ${where}: permission denied; the role in --db must own its database (the runner creates the cluster's tables)`
    case "ERR_INVALID_URL":
      return `--db ${where} is not a valid URL: expected postgres://USER:PASSWORD@HOST:5432/DATABASE`
  }
  if (reason?._tag === "ConnectionError" || reason?._tag === "AuthenticationError") {
    return `cannot connect to PostgreSQL at ${where} (${reason._tag}${code ? ` ${code}` : ""}); check --db and that the server runs`
  }
  const message = (error as { message?: string })?.message ?? String(error)
  return `PostgreSQL at ${where}: ${message.split("\n")[0]}`
}

/**
 * Connects once and runs `SELECT 1`, bounded in time, so that a runner or `cluster up` fails fast
 * with a clear line rather than inside the cluster's start-up (which would retry or die).
 */
export const checkDatabase = (url: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    yield* sql`SELECT 1`
  }).pipe(
    Effect.provide(pgLayer(url)),
    Effect.timeoutOrElse({
      duration: "10 seconds",
      orElse: () => Effect.fail(new ClusterUsageError({ message: `PostgreSQL at ${redactUrl(url)} did not answer within 10 s; check --db` }))
    }),
    Effect.mapError((e) => e instanceof ClusterUsageError ? e : new ClusterUsageError({ message: describeDbError(url, e) }))
  )

export type PgLayer = Layer.Layer<PgClient.PgClient | SqlClient, unknown>

/**
 * How recent a runner's heartbeat must be for it to count as up: a runner renews it with its shard
 * locks every 2 s (settings.ts); this leaves room for a runner slowed down, not for a dead one.
 */
export const RUNNER_UP_SECONDS = 30

/**
 * The addresses of cluster `clusterName`'s runners that are up, read from its `<name>_runners`
 * table (Effect Cluster's runner storage, one table per cluster name); none when the table does not
 * exist yet (no runner of that name ever started in this database).
 */
export const runnersUp = (clusterName: string): Effect.Effect<ReadonlyArray<string>, unknown, SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const table = `${clusterName}_runners`
    const exists = yield* sql<{ t: string | null }>`SELECT to_regclass(${table})::text AS t`
    if (exists[0].t === null) return []
    const rows = yield* sql<{ address: string }>`SELECT address FROM ${sql(table)}
      WHERE last_heartbeat > now() - make_interval(secs => ${RUNNER_UP_SECONDS}) ORDER BY address`
    return rows.map((r) => r.address)
  })

/** The clusters of this database with a runner up, by name, and their runners' addresses. */
export const clustersUp: Effect.Effect<ReadonlyMap<string, ReadonlyArray<string>>, unknown, SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient
  const tables = yield* sql<{ name: string }>`SELECT c.table_name AS name FROM information_schema.columns c
    WHERE c.table_schema = current_schema() AND c.table_name LIKE '%\_runners' AND c.column_name = 'last_heartbeat'`
  const up = new Map<string, ReadonlyArray<string>>()
  for (const { name } of tables) {
    const clusterName = name.slice(0, -"_runners".length)
    const addresses = yield* runnersUp(clusterName)
    if (addresses.length > 0) up.set(clusterName, addresses)
  }
  return up
})

/**
 * Fails at once, in one line, when no runner of cluster `clusterName` is up, and names the clusters
 * that have some (a forgotten --cluster-name), rather than letting the first message wait a minute
 * for an answer that cannot come. Else the addresses of its runners that are up.
 */
export const checkRunnersUp = (url: string, clusterName: string) =>
  Effect.gen(function*() {
    const up = yield* clustersUp
    const addresses = up.get(clusterName)
    if (addresses !== undefined) return addresses
    const others = [...up.keys()].map((n) => `--cluster-name ${n}`).join(" or ")
    return yield* new ClusterUsageError({
      message: `no runner is up in cluster "${clusterName}" (--cluster-name): none has renewed its place in ${redactUrl(url)} in the last ${RUNNER_UP_SECONDS} s; ` +
        (others === "" ? "start them with `distmt cluster up` or `distmt runner`, with the same --db" : `runners are up with ${others}`)
    })
  }).pipe(
    Effect.provide(pgLayer(url)),
    Effect.mapError((e) => e instanceof ClusterUsageError ? e : new ClusterUsageError({ message: describeDbError(url, e) }))
  )


/**
 * The test database of one run of the suite: every table the tests make in $DISTMT_TEST_DB (the
 * clusters' `<name>_*`, distmt's `distmt_*` with their runs' rows, the secrets' verifiers) goes into
 * a schema of that run's own, dropped at its end (test/global-setup.ts). Before, they went into the
 * database's own schema and stayed there: hundreds of test runs listed by `distmt cluster runs` on a
 * developer's database, mixed with theirs.
 *
 * The schema is named in the URL (`options=-c search_path=…`), so that the runner processes and
 * submissions the tests start, which are given that URL, use it too. Advisory locks are not in a
 * schema: the tests still use cluster names of their own.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"

/** `url` with `schema` first and alone in its search path (other `options` kept). */
export const inSchema = (url: string, schema: string): string => {
  const u = new URL(url)
  const options = u.searchParams.get("options")
  u.searchParams.set("options", [options, `-c search_path=${schema}`].filter((o) => o !== null && o !== "").join(" "))
  return u.toString()
}

/** Runs `statements` one after another on one connection to `url`. */
const onDatabase = (url: string, ...statements: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    for (const statement of statements) yield* sql.unsafe(statement)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })), Effect.runPromise)

/** The schema of a run of the suite started at `time` (ms) by process `pid`. */
export const testSchemaName = (time: number, pid: number): string => `distmt_tests_${time}_${pid}`

/** A day: a run of the suite takes well under an hour, so a schema older than this is a killed run's. */
const STALE_MS = 24 * 3600 * 1000

/** The names of schemas in `names` left by runs of the suite started more than a day before `now`. */
export const staleTestSchemas = (names: ReadonlyArray<string>, now: number): Array<string> =>
  names.filter((n) => {
    const m = /^distmt_tests_(\d+)_\d+$/.exec(n)
    return m !== null && now - Number(m[1]) > STALE_MS
  })

/**
 * A new schema for this run of the suite in database `url`, and the URL that puts every table in it.
 * The schemas of runs killed before their end (which never dropped theirs) go first, once a day old.
 */
export const createTestSchema = async (url: string, schema: string): Promise<string> => {
  const names = await Effect.gen(function*() {
    const sql = yield* SqlClient
    return (yield* sql<{ name: string }>`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'distmt_tests_%'`).map((r) => r.name)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })), Effect.runPromise)
  for (const stale of staleTestSchemas(names, Date.now())) await dropTestSchema(url, stale)
  await onDatabase(url, `CREATE SCHEMA "${schema}"`)
  return inSchema(url, schema)
}

/**
 * Drops the schema and everything in it. A statement of a process left running (a runner a test
 * could not stop) could hold a lock on one of its tables: waited for 10 s at most, then the schema
 * is left, with a line saying how to drop it.
 */
export const dropTestSchema = async (url: string, schema: string): Promise<void> => {
  try {
    await onDatabase(url, "SET lock_timeout = '10s'", `DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } catch (e) {
    console.warn(`the tests' schema ${schema} was not dropped (${String(e).split("\n")[0]}): DROP SCHEMA "${schema}" CASCADE`)
  }
}

/**
 * distmt's tables are created by whoever needs them first, and several may need them at once: the
 * units of `sweep --cluster --jobs N` in one process (each saves its model and takes its attempt),
 * and the runners' servers and agents in others. Concurrent `CREATE TABLE IF NOT EXISTS` of one
 * table fail on each other in PostgreSQL (a unique violation in pg_type), so the migrations run
 * under one lock. Seen before: the first `sweep --cluster --jobs 8` on a new database died with
 * that violation and a stack trace.
 *
 * Each test makes its own empty schema (the tables are looked up in the search path), so that the
 * tables are missing whatever the shared database holds. Needs $DISTMT_TEST_DB.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { afterAll, describe, expect, it } from "vitest"
import { migrateAgents } from "../src/cluster/agentState.ts"
import { migrate } from "../src/coordinator/postgres.ts"
import { clusterTestsMode, failsWithoutDatabase, queryRows, TEST_DB } from "./cluster-helpers.ts"

const mode = clusterTestsMode("migrate-concurrent")

describe.skipIf(mode === "skip")("distmt's migrations, run at once", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const schemas: Array<string> = []

  /** A client whose tables go to a new, empty schema; `clients` of them stand for as many processes. */
  const inNewSchema = async () => {
    const schema = `distmt_migrate_${process.pid}_${schemas.length}`
    schemas.push(schema)
    await queryRows(db, `CREATE SCHEMA ${schema}`)
    return PgClient.layer({ url: Redacted.make(db), maxConnections: 16, startupParameters: { search_path: schema } })
  }

  afterAll(async () => {
    for (const schema of schemas) await queryRows(db, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  })

  it("creates the tables when many callers in two processes need them at once", async () => {
    const layer = await inNewSchema()
    // Two clients (two processes' pools), each with 8 callers at once, as 8 units of a sweep.
    const process = Effect.all(Array.from({ length: 8 }, () => Effect.andThen(migrateAgents, migrate)), { concurrency: "unbounded" })
    const exits = await Effect.runPromise(
      Effect.all([process.pipe(Effect.provide(Layer.fresh(layer)), Effect.exit), process.pipe(Effect.provide(Layer.fresh(layer)), Effect.exit)], {
        concurrency: "unbounded"
      })
    )
    for (const exit of exits) expect(exit._tag, String(exit)).toBe("Success")
    const tables = await Effect.runPromise(
      Effect.gen(function*() {
        const sql = yield* SqlClient
        return (yield* sql<{ t: string }>`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`).map((r) => r.t)
      }).pipe(Effect.provide(layer))
    )
    expect(tables).toEqual(["distmt_agents", "distmt_attempts", "distmt_done", "distmt_models", "distmt_pool", "distmt_replies", "distmt_tasks", "distmt_traffic"])
  }, 60_000)
})

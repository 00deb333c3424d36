/**
 * The tests' own schema in $DISTMT_TEST_DB (test/test-database.ts, test/global-setup.ts): the
 * tables the tests and the distmt processes they start make go into a schema of the suite's run,
 * not into the database's own, and dropping it leaves nothing behind.
 *
 * Needs $DISTMT_TEST_DB (see test/cluster-infra.test.ts).
 */
import { describe, expect, it } from "vitest"
import { cleanEnv, cli, clusterTestsMode, failsWithoutDatabase, queryRows, scratch, TEST_DB } from "./cluster-helpers.ts"
import { createTestSchema, dropTestSchema, staleTestSchemas, testSchemaName } from "./test-database.ts"

const mode = clusterTestsMode("test-database")

describe("the schemas of killed runs of the suite", () => {
  it("are those of runs started more than a day ago, by their names; nothing else is", () => {
    const now = Date.UTC(2026, 10, 30)
    const day = 24 * 3600 * 1000
    const names = [testSchemaName(now - day - 1, 7), testSchemaName(now - day, 8), testSchemaName(now - 60_000, 9), "distmt_tests_check_7", "public", "distmt_tests_x_1"]
    expect(staleTestSchemas(names, now)).toEqual([testSchemaName(now - day - 1, 7)])
  })
})

describe.skipIf(mode === "skip")("the tests' own schema in the test database", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!

  it("the suite's database URL names a schema of its own, where a distmt process makes its tables", async () => {
    const [{ search_path }] = await queryRows<{ search_path: string }>(db, "SHOW search_path")
    expect(search_path).toMatch(/^distmt_tests_\d+_\d+$/)
    const r = await cli(["cluster", "runs", "--db", db], { cwd: scratch(), env: cleanEnv() })
    expect(r.status, r.stderr).toBe(0)
    const tables = await queryRows<{ s: string }>(
      db,
      "SELECT table_schema AS s FROM information_schema.tables WHERE table_name = 'distmt_agents' AND table_schema = $1",
      [search_path]
    )
    expect(tables).toHaveLength(1)
  })

  it("a run's schema left by a killed run goes when the next run makes its own, once a day old; a younger one stays", async () => {
    const base = new URL(db)
    base.searchParams.delete("options")
    const old = testSchemaName(Date.now() - 25 * 3600 * 1000, process.pid)
    const young = testSchemaName(Date.now() - 60_000, process.pid)
    const made = testSchemaName(Date.now(), process.pid)
    const exists = async (name: string) => (await queryRows(base.toString(), "SELECT 1 FROM pg_namespace WHERE nspname = $1", [name])).length === 1
    try {
      for (const name of [old, young]) await queryRows(base.toString(), `CREATE SCHEMA "${name}"`)
      await createTestSchema(base.toString(), made)
      expect([await exists(old), await exists(young), await exists(made)]).toEqual([false, true, true])
    } finally {
      for (const name of [old, young, made]) await queryRows(base.toString(), `DROP SCHEMA IF EXISTS "${name}" CASCADE`)
    }
  })

  it("a schema made for a run holds the tables made through its URL, and dropping it leaves none", async () => {
    const base = new URL(db)
    base.searchParams.delete("options")
    const schema = `distmt_tests_check_${process.pid}`
    const table = `made_here_${process.pid}`
    const url = await createTestSchema(base.toString(), schema)
    try {
      await queryRows(url, `CREATE TABLE ${table} (x int)`)
      await queryRows(url, `INSERT INTO ${table} VALUES (1)`)
      const where = (name: string) =>
        queryRows<{ s: string }>(base.toString(), "SELECT table_schema AS s FROM information_schema.tables WHERE table_name = $1", [name])
      expect(await where(table)).toEqual([{ s: schema }])
      await dropTestSchema(base.toString(), schema)
      expect(await where(table)).toEqual([])
      expect(await queryRows(base.toString(), "SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema])).toEqual([])
    } finally {
      await queryRows(base.toString(), `DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await queryRows(base.toString(), `DROP TABLE IF EXISTS ${table}`) // had it gone to the database's own schema
    }
  })
})

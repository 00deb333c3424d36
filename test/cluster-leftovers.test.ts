/**
 * `distmt cluster runs` and `distmt cluster forget` (src/cluster/leftovers.ts): the runs a database
 * still holds, with their folders, and forgetting them, refused while a distmt process writes in
 * the run's folder. Against a schema of its own (the URL's search_path), so that `--all` and the
 * listing meet no other test's runs.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { durable, nextAttempt } from "../src/coordinator/postgres.ts"
import { type AgentModel, saveModel } from "../src/cluster/agentState.ts"
import { LOCK_FILE } from "../src/cli/outDir.ts"
import { cleanEnv, cli, clusterTestsMode, failsWithoutDatabase, queryRows, scratch, TEST_DB } from "./cluster-helpers.ts"

const mode = clusterTestsMode()
if (mode === "skip") console.warn("cluster-leftovers tests SKIPPED: DISTMT_TEST_DB is not set (tools/postgres.sh prints one)")

describe.skipIf(mode === "skip")("the runs the database holds: cluster runs and cluster forget", () => {
  if (failsWithoutDatabase(mode)) return
  const schema = `distmt_leftovers_${process.pid}`
  const url = new URL(TEST_DB!)
  url.searchParams.set("options", `-c search_path=${schema}`)
  const db = url.toString()
  const layer = PgClient.layer({ url: Redacted.make(TEST_DB!), startupParameters: { search_path: schema } })
  const run = (effect: Effect.Effect<unknown, unknown, SqlClient>) => Effect.runPromise(Effect.provide(effect, layer))
  const cwd = scratch()
  const env = cleanEnv()

  afterAll(async () => {
    await queryRows(TEST_DB!, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  })

  /** A stopped run in folder `folder`: its model, and one unit with a server's decision and an agent's checkpoint. */
  const stoppedRun = (key: string, folder: string) =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient
      const unit = `${key}-distmt-0`
      yield* saveModel(key, {} as AgentModel, folder)
      expect(yield* nextAttempt(unit)).toBe(1)
      yield* (yield* durable(unit, 1)).request(0, 0).identify(0, { lower: 0.4, upper: 0.6 })
      yield* sql`INSERT INTO distmt_agents ${
        sql.insert({ unit, agent: 0, slots: 1, episodes: 1234, inside: false, final: false, state: new Uint8Array(100) })
      }`
    }))

  const held = (table: string, column: string, key: string) =>
    queryRows<{ n: number }>(TEST_DB!, `SELECT count(*)::int AS n FROM ${schema}.${table} WHERE ${column} LIKE $1`, [`${key}%`])
      .then((rows) => rows[0].n)

  it("lists a stopped run with its folder, and forgets it by folder unless a distmt process writes in that folder", async () => {
    await queryRows(TEST_DB!, `CREATE SCHEMA ${schema}`)
    const folder = path.join(cwd, "runs", "stopped")
    fs.mkdirSync(folder, { recursive: true })
    await stoppedRun("stopped-0123456789abcdef", folder)
    await stoppedRun("other-0123456789abcdef", path.join(cwd, "elsewhere"))

    const listed = await cli(["cluster", "runs", "--db", db], { cwd, env })
    expect(listed.status, listed.stderr).toBe(0)
    expect(listed.stdout).toMatch(/holds 2 runs/)
    expect(listed.stdout).toMatch(new RegExp(`stopped-0123456789abcdef +${folder.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} +1 +1 +1,234`))

    // A process that is alive writes in the folder (its lock): the run is being submitted.
    fs.writeFileSync(path.join(folder, LOCK_FILE), `${process.pid}\n`)
    const refused = await cli(["cluster", "forget", "runs/stopped", "--db", db], { cwd, env })
    expect(refused.status).toBe(1)
    expect(refused.stderr).toMatch(/stopped-0123456789abcdef is not forgotten: .*another distmt process \(PID \d+\) is writing in this folder/)
    expect(await held("distmt_agents", "unit", "stopped-")).toBe(1)
    expect(await held("distmt_tasks", "run", "stopped-")).toBe(1)

    // Nothing deleted for a name that matches no run either, even beside one that does.
    fs.rmSync(path.join(folder, LOCK_FILE))
    const unknown = await cli(["cluster", "forget", "runs/stopped", "no-such-run", "--db", db], { cwd, env })
    expect(unknown.status).toBe(1)
    expect(unknown.stderr).toMatch(/no run "no-such-run" in the database.*nothing was deleted/)
    expect(await held("distmt_agents", "unit", "stopped-")).toBe(1)

    const forgot = await cli(["cluster", "forget", "runs/stopped", "--db", db], { cwd, env })
    expect(forgot.status, forgot.stderr).toBe(0)
    expect(forgot.stdout).toMatch(/forgot stopped-0123456789abcdef \(.*runs\/stopped\): 1 unit,/)
    for (const [table, column] of [["distmt_agents", "unit"], ["distmt_tasks", "run"], ["distmt_replies", "run"], ["distmt_models", "run"]]) {
      expect(await held(table, column, "stopped-"), table).toBe(0)
    }
    // Its unit's attempt moved on, so that a server or agent of it still running writes nothing more.
    expect(await queryRows<{ attempt: number }>(TEST_DB!, `SELECT attempt FROM ${schema}.distmt_attempts WHERE run = $1`, ["stopped-0123456789abcdef-distmt-0"]))
      .toEqual([{ attempt: 2 }])
    // The other run is untouched, and goes with --all.
    expect(await held("distmt_agents", "unit", "other-")).toBe(1)
    const all = await cli(["cluster", "forget", "--all", "--db", db], { cwd, env })
    expect(all.status, all.stderr).toBe(0)
    expect((await cli(["cluster", "runs", "--db", db], { cwd, env })).stdout).toMatch(/holds no runs/)
  }, 120_000)
})

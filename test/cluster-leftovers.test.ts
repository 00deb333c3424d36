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
import type { InstanceOutcome } from "../src/agent/programs.ts"
import { type AgentModel, type AgentState, saveModel, saveState, standing } from "../src/cluster/agentState.ts"
import { LOCK_FILE } from "../src/cli/outDir.ts"
import { cleanEnv, cli, clusterTestsMode, failsWithoutDatabase, queryRows, scratch, TEST_DB } from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-leftovers")

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

  /**
   * A run in folder `folder`: its model, and one unit with a server's decision and an agent's
   * checkpoint, saved `idle` seconds ago.
   */
  const stoppedRun = (key: string, folder: string, idle: number) =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient
      const unit = `${key}-distmt-0`
      yield* saveModel(key, {} as AgentModel, folder)
      expect(yield* nextAttempt(unit)).toBe(1)
      yield* (yield* durable(unit, 1)).request(0, 0).identify(0, { lower: 0.4, upper: 0.6 })
      yield* saveState(unit, 1, 0, checkpoint(1))
      yield* sql`UPDATE distmt_agents SET saved = now() - make_interval(secs => ${idle}) WHERE unit = ${unit}`
    }))

  /** An agent's checkpoint after `n` instances of 1,234 episodes each. */
  const checkpoint = (n: number): AgentState => ({
    outcomes: Array.from({ length: n }, () => ({ identificationEpisodes: 1000, learningEpisodes: 234 }) as InstanceOutcome),
    curves: [],
    clock: 0,
    seq: 0
  })

  const held = (table: string, column: string, key: string) =>
    queryRows<{ n: number }>(TEST_DB!, `SELECT count(*)::int AS n FROM ${schema}.${table} WHERE ${column} LIKE $1`, [`${key}%`])
      .then((rows) => rows[0].n)

  it("lists a stopped run with its folder, and forgets it by folder unless a distmt process writes in that folder", async () => {
    await queryRows(TEST_DB!, `CREATE SCHEMA ${schema}`)
    const folder = path.join(cwd, "runs", "stopped")
    fs.mkdirSync(folder, { recursive: true })
    await stoppedRun("stopped-0123456789abcdef", folder, 3 * 3600)
    await stoppedRun("other-0123456789abcdef", path.join(cwd, "elsewhere"), 3 * 3600)
    // Its agent goes on: a newer checkpoint, saved now.
    await run(saveState("other-0123456789abcdef-distmt-0", 1, 0, checkpoint(2)))

    const listed = await cli(["cluster", "runs", "--db", db], { cwd, env })
    expect(listed.status, listed.stderr).toBe(0)
    expect(listed.stdout).toMatch(/holds 2 runs/)
    expect(listed.stdout).toMatch(new RegExp(`stopped-0123456789abcdef +${folder.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} +1 +1 +1,234 +(\\d+ B|\\d+\\.\\d KiB) +3 h 00 min ago`))
    expect(listed.stdout).toMatch(/other-0123456789abcdef .* 1 +1 +2,468 .* \d s ago/)

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
    // The other run is untouched. It checkpointed seconds ago: it looks like it is running, and
    // --all leaves it unless forced.
    expect(await held("distmt_agents", "unit", "other-")).toBe(1)
    const running = await cli(["cluster", "forget", "--all", "--db", db], { cwd, env })
    expect(running.status).toBe(1)
    expect(running.stderr).toMatch(/other-0123456789abcdef looks like it is running \(an agent of it saved a checkpoint \d+ s ago\).*nothing was deleted/)
    expect(await held("distmt_agents", "unit", "other-")).toBe(1)
    const all = await cli(["cluster", "forget", "--all", "--force", "--db", db], { cwd, env })
    expect(all.status, all.stderr).toBe(0)
    expect((await cli(["cluster", "runs", "--db", db], { cwd, env })).stdout).toMatch(/holds no runs/)
  }, 120_000)

  it("saves and reads back a checkpoint past 2³¹ episodes, also in a table made with the integer column of an older distmt", async () => {
    const old = `${schema}_old`
    await queryRows(TEST_DB!, `CREATE SCHEMA ${old}`)
    try {
      await queryRows(TEST_DB!, `CREATE TABLE ${old}.distmt_agents (
        unit text NOT NULL, agent integer NOT NULL, slots integer NOT NULL, episodes integer NOT NULL,
        inside boolean NOT NULL, final boolean NOT NULL, state bytea NOT NULL, PRIMARY KEY (unit, agent))`)
      const unit = "long-0123456789abcdef-distmt-0"
      const many: AgentState = { outcomes: [{ identificationEpisodes: 3e9, learningEpisodes: 1 } as InstanceOutcome], curves: [], clock: 0, seq: 0 }
      const rows = await Effect.runPromise(Effect.gen(function*() {
        yield* saveModel("long-0123456789abcdef", {} as AgentModel, "/nowhere")
        expect(yield* nextAttempt(unit)).toBe(1)
        yield* saveState(unit, 1, 0, many)
        return yield* standing(unit)
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(TEST_DB!), startupParameters: { search_path: old } }))))
      expect(rows).toEqual([{ agent: 0, slots: 1, episodes: 3e9 + 1, final: false }])
    } finally {
      await queryRows(TEST_DB!, `DROP SCHEMA IF EXISTS ${old} CASCADE`)
    }
  }, 60_000)
})

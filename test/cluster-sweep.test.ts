/**
 * `distmt sweep --cluster`: every (point, algorithm, seed) unit of a sweep runs its server and agents
 * on real runner processes, as `run --cluster` does; the sweep's files equal the in-process sweep's
 * but for wall-clock times, also when the submission is killed mid-sweep and given again.
 *
 * Needs PostgreSQL ($DISTMT_TEST_DB, from tools/postgres.sh): skipped with a message on a developer
 * machine without it, a failure under CI.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanEnv, cli, clusterTestsMode, failsWithoutDatabase, stopAndDrop, queryRows, root, type Runner, scratch, startRunnerOn, TEST_DB } from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-sweep")

const SECRET = randomBytes(24).toString("hex")
const NAME = `sweep_${process.pid}`
const SPEC = path.join(root, "test", "fixtures", "cluster-sweep.spec.ts")

/** A sweep folder's results: its tables without the wall-clock column, and its run files without their times. */
const results = (dir: string) => {
  const table = (file: string) => {
    const [header, ...rows] = fs.readFileSync(path.join(dir, file), "utf8").trim().split("\n").map((l) => l.split(","))
    const wall = header.indexOf("wall_seconds")
    return [header, ...rows].map((r) => r.filter((_, i) => i !== wall).join(","))
  }
  const runs = fs.readdirSync(path.join(dir, "runs")).sort().map((f) => {
    const text = fs.readFileSync(path.join(dir, "runs", f), "utf8")
    return [f, JSON.parse(text, (k, v) => (k === "wallSeconds" ? undefined : v))]
  })
  return { sweep: table("sweep.csv"), rows: table("rows.csv"), runs }
}

describe.skipIf(mode === "skip")("distmt sweep --cluster", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  const env = cleanEnv({ DISTMT_CLUSTER_SECRET: SECRET })
  const runners: Array<Runner> = []
  const local = path.join(cwd, "local")
  const onCluster = (out: string, ...more: Array<string>) => ["sweep", SPEC, "--cluster", "--db", db, "--cluster-name", NAME, "--out", out, ...more]

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) runners.push(await startRunnerOn(db, NAME, { cwd, env }, "--threads", "1"))
    const a = await cli(["sweep", SPEC, "--out", local, "--jobs", "1"], { cwd, env, timeoutMs: 180_000 })
    expect(a.status, a.stderr).toBe(0)
  }, 300_000)

  afterAll(() => stopAndDrop(runners, db, NAME), 60_000)

  it("writes the in-process sweep's tables and run files, its units run on the runners; each point's model is written once", async () => {
    const out = path.join(cwd, "cluster")
    // Every write of a model (saveModel's INSERT, whether or not it conflicts) counted by a trigger, by folder.
    const writes = `model_writes_${process.pid}`
    await queryRows(db, "CREATE TABLE IF NOT EXISTS distmt_models (run text PRIMARY KEY, model bytea NOT NULL, folder text)")
    await queryRows(db, `CREATE TABLE ${writes} (folder text)`)
    await queryRows(db, `CREATE FUNCTION ${writes}() RETURNS trigger AS $$ BEGIN INSERT INTO ${writes} VALUES (NEW.folder); RETURN NEW; END $$ LANGUAGE plpgsql`)
    await queryRows(db, `CREATE TRIGGER ${writes} BEFORE INSERT ON distmt_models FOR EACH ROW EXECUTE FUNCTION ${writes}()`)
    // All 8 units at once: the same (algorithm, seed) of both points run side by side, as their own units.
    const b = await cli(onCluster(out, "--jobs", "8"), { cwd, env, timeoutMs: 300_000 }).finally(() =>
      queryRows(db, `DROP TRIGGER ${writes} ON distmt_models`)
    )
    expect(b.status, b.stdout + b.stderr).toBe(0)
    // Once per point (2), not once per unit (8): a point's units share its run and its model.
    const written = await queryRows<{ n: number }>(db, `SELECT count(*)::int AS n FROM ${writes} WHERE folder = $1`, [out])
    expect(written[0].n).toBe(2)
    await queryRows(db, `DROP TABLE ${writes}`)
    await queryRows(db, `DROP FUNCTION ${writes}()`)
    expect(results(out)).toEqual(results(local))
    // The servers of both points' DistMT-LSVI units ran on the runners (a server's log line names its unit).
    const logs = runners.map((r) => r.output()).join("\n")
    const servers = logs.match(/DistmtServer cluster-sweep-fixture-\w+-distmt-\d+ \(attempt 1\): started/g) ?? []
    expect(new Set(servers).size).toBe(4)
    expect(logs).not.toContain("REFUSED")
  }, 400_000)

  it("killed mid-sweep, the same command given again: what was finished is kept, the rest resumes, the same files", async () => {
    const out = path.join(cwd, "resumed")
    const first = spawn(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...onCluster(out, "--jobs", "1")], { cwd, env })
    const exited = new Promise<void>((resolve) => first.on("exit", () => resolve()))
    const done = () => (fs.existsSync(path.join(out, "runs")) ? fs.readdirSync(path.join(out, "runs")).filter((f) => f.endsWith(".json")).length : 0)
    for (let i = 0; i < 4800 && done() === 0; i++) await new Promise((r) => setTimeout(r, 25))
    first.kill("SIGKILL")
    await exited
    const kept = done()
    expect(kept, "no unit finished before the kill").toBeGreaterThan(0)
    expect(kept, "every unit finished before the kill").toBeLessThan(8)
    const again = await cli(onCluster(out), { cwd, env, timeoutMs: 300_000 })
    expect(again.status, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toMatch(new RegExp(`= 8 runs; ${kept} already finished`))
    expect(results(out)).toEqual(results(local))
  }, 400_000)
})

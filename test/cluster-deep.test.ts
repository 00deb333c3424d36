/**
 * `distmt run <deep spec> --cluster` (and `distmt sweep`'s): each (algorithm, seed) unit of a deep
 * run runs on one of the cluster's runners (src/cluster/DeepUnitEntity.ts), and the result files
 * equal the in-process run's (each unit is a function of its seed), also when a runner that runs a
 * unit is killed: the unit starts over on a runner that is up.
 *
 * Needs PostgreSQL ($DISTMT_TEST_DB, from tools/postgres.sh): skipped with a message on a developer
 * machine without it, a failure under CI.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import {
  cleanEnv,
  cli,
  clusterTestsMode,
  stopAndDrop,
  failsWithoutDatabase,
  root,
  type Runner,
  scratch,
  startRunnerOn,
  TEST_DB,
  topUp
} from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-deep")
const SECRET = randomBytes(24).toString("hex")
const NAME = `deep_${process.pid}`
const SPEC = path.join(root, "specs", "minatar.spec.ts")
const BIN = path.join(root, "bin", "distmt.mjs")
// The quick variant (4 agents, 4 tasks, 3 units), its units long enough (a few seconds each on one
// thread) for a runner to be killed while it runs one.
const RUN = ["run", SPEC, "--quick", "--set", "learner.framesPerAgent=8000"]

/** The two folders hold the same results, curves and summary, but for the units' wall-clock times. */
const expectSameResults = (local: string, remote: string) => {
  for (const file of ["results.csv", "curves.csv"]) {
    expect(fs.readFileSync(path.join(remote, file), "utf8"), file).toBe(fs.readFileSync(path.join(local, file), "utf8"))
  }
  const summary = (d: string) => {
    const s = JSON.parse(fs.readFileSync(path.join(d, "summary.json"), "utf8"))
    return JSON.stringify(s, (k, v) => (k === "wallSeconds" ? undefined : v))
  }
  expect(summary(remote)).toBe(summary(local))
}

describe.skipIf(mode === "skip")("distmt run and sweep of a deep spec --cluster", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  const env = cleanEnv({ DISTMT_CLUSTER_SECRET: SECRET })
  const runners: Array<Runner> = []
  const start = () => startRunnerOn(db, NAME, { cwd, env }, "--threads", "1")
  const local = path.join(cwd, "local")
  beforeAll(async () => {
    runners.push(await start(), await start())
    const a = await cli([...RUN, "--out", local], { cwd, env, timeoutMs: 240_000 })
    expect(a.status, a.stderr).toBe(0)
  }, 400_000)
  afterEach(() => topUp(runners, 2, start), 200_000)
  afterAll(() => stopAndDrop(runners, db, NAME), 60_000)

  it("runs the units on the runners and writes the in-process run's results", async () => {
    const remote = path.join(cwd, "cluster")
    const b = await cli([...RUN, "--cluster", "--db", db, "--cluster-name", NAME, "--out", remote], { cwd, env, timeoutMs: 300_000 })
    expect(b.status, b.stdout + b.stderr).toBe(0)
    expect(b.stdout).toContain("on the cluster's runners")
    // The progress line ends at the run's frames (3 units of 4 agents), as an in-process run's does.
    expect(b.stderr.trim().split("\n").at(-1)).toContain(": 96,000/96,000 frames")
    expectSameResults(local, remote)
    // Every unit ran on a runner, and none here.
    const finished = runners.flatMap((r) => r.output().match(/finished: [\d,]+ frames \{ unit: 'minatar-[^']+'/g) ?? [])
    expect(finished).toHaveLength(3)
  }, 400_000)

  it("a deep sweep runs each point's units on the runners, with the in-process sweep's results", async () => {
    // Two points (N = 2 and 4), three units each, short.
    const SWEEP = ["sweep", SPEC, "--quick", "--set", "learner.framesPerAgent=3000"]
    const [here, there] = [path.join(cwd, "sweep-local"), path.join(cwd, "sweep-cluster")]
    const a = await cli([...SWEEP, "--out", here], { cwd, env, timeoutMs: 240_000 })
    expect(a.status, a.stderr).toBe(0)
    const count = () => runners.reduce((n, r) => n + (r.output().match(/finished: [\d,]+ frames/g) ?? []).length, 0)
    const before = count()
    const b = await cli([...SWEEP, "--cluster", "--db", db, "--cluster-name", NAME, "--out", there], { cwd, env, timeoutMs: 300_000 })
    expect(b.status, b.stdout + b.stderr).toBe(0)
    expect(count() - before).toBe(6)
    const points = fs.readdirSync(path.join(here, "points"))
    expect(points).toHaveLength(2)
    for (const point of points) expectSameResults(path.join(here, "points", point), path.join(there, "points", point))
    // sweep.csv but for its wall-clock column.
    const table = (d: string) => fs.readFileSync(path.join(d, "sweep.csv"), "utf8").split("\n").map((l) => l.split(",").slice(0, -1).join(","))
    expect(table(there)).toEqual(table(here))
  }, 600_000)

  it("a unit whose runner is killed while it runs starts over on another, with the same results", async () => {
    const remote = path.join(cwd, "killed")
    const child = spawn(process.execPath, [BIN, ...RUN, "--cluster", "--db", db, "--cluster-name", NAME, "--out", remote], { cwd, env })
    let output = ""
    child.stdout.on("data", (d) => (output += d))
    child.stderr.on("data", (d) => (output += d))
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
    // The first runner to start a unit of this run is killed a second later, mid-unit.
    const started = (r: Runner) => r.output().match(/started \{ unit: '(minatar-[0-9a-f]+-\w+-\d+)\.\d+' \}/g) ?? []
    const before = runners.map((r) => started(r).length)
    let host: Runner | undefined
    for (let i = 0; i < 600 && host === undefined; i++) {
      host = runners.find((r, j) => started(r).length > before[j])
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(host, output).toBeDefined()
    await new Promise((r) => setTimeout(r, 1000))
    const unit = /unit: '(minatar-[0-9a-f]+-\w+-\d+)\./.exec(started(host!).at(-1)!)![1]
    // Still running there when it is killed: otherwise the kill would show nothing.
    const finishedOn = (r: Runner) => new RegExp(`finished: [\\d,]+ frames \\{ unit: '${unit}\\.`).test(r.output())
    expect(finishedOn(host!)).toBe(false)
    host!.child.kill("SIGKILL")
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000)
    const code = await exited
    clearTimeout(timer)
    expect(code, output).toBe(0)
    expectSameResults(local, remote)
    // The killed runner's unit finished on a runner that lived.
    const survivors = runners.filter((r) => r !== host)
    expect(survivors.some(finishedOn), survivors.map((r) => r.output()).join("\n")).toBe(true)
  }, 400_000)

  it("a submitting process interrupted mid-run stops its units on the runners, and the same command resumes", async () => {
    const remote = path.join(cwd, "interrupted")
    const args = [BIN, ...RUN, "--cluster", "--db", db, "--cluster-name", NAME, "--out", remote]
    const child = spawn(process.execPath, args, { cwd, env })
    child.stdout.resume()
    child.stderr.resume()
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
    const key = (r: Runner, what: string) => [...r.output().matchAll(new RegExp(`${what}[^{\\n]*\\{ unit: '(minatar-[^']+)'`, "g"))].map((m) => m[1]!)
    const before = new Set(runners.flatMap((r) => key(r, "started")))
    const started = () => runners.flatMap((r) => key(r, "started")).filter((u) => !before.has(u))
    for (let i = 0; i < 600 && started().length === 0; i++) await new Promise((r) => setTimeout(r, 100))
    await new Promise((r) => setTimeout(r, 1000))
    child.kill("SIGINT")
    expect(await exited).toBe(130)
    // Every unit it had sent stops on its runner within seconds, rather than running on to its end
    // for no one. (A unit the cluster had not yet started, queued on its runner, starts no more.)
    const units = started()
    const stopped = () => runners.flatMap((r) => key(r, "stopped: nothing waits for it any more"))
    for (let i = 0; i < 100 && !units.every((u) => stopped().includes(u)); i++) await new Promise((r) => setTimeout(r, 100))
    expect(units.filter((u) => !stopped().includes(u)), runners.map((r) => r.output()).join("\n")).toEqual([])
    const again = await cli(args.slice(1), { cwd, env, timeoutMs: 300_000 })
    expect(again.status, again.stdout + again.stderr).toBe(0)
    expectSameResults(local, remote)
  }, 400_000)
})

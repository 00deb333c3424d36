/**
 * What an operator is told when the cluster is not what a submission expects:
 * - its cluster loses every runner (`cluster down` in the middle of a run, or all of them dead): it
 *   says so, waits, and says so again when runners are back; the run then goes on to its end. It
 *   used to wait silent: its progress line stopped, and every 2 minutes it said that no agent's
 *   checkpoint had changed, as if the agents had stalled;
 * - its secret is not the runners' because it came from somewhere else than the user thinks (a
 *   stale .distmt/cluster.secret in the folder), or it has none (--insecure): the refusal says so.
 *
 * Needs $DISTMT_TEST_DB (see test/cluster-infra.test.ts).
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanEnv, cli, clusterTestsMode, failsWithoutDatabase, type Runner, root, scratch, startRunnerOn, stopAndDrop, TEST_DB } from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-operator")
const NAME = `oper_${process.pid}`
const SPEC = path.join(root, "test", "fixtures", "cluster-long.spec.ts")

/** Resolves once `read()` matches `pattern`, or fails after `ms` with what it read. */
const waitFor = async (read: () => string, pattern: RegExp, ms: number): Promise<void> => {
  const deadline = Date.now() + ms
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms / 1000} s in:\n${read()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe.skipIf(mode === "skip")("what a submission tells the operator", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  const env = cleanEnv({ DISTMT_CLUSTER_SECRET: randomBytes(24).toString("hex") })
  const runners: Array<Runner> = []
  const start = async () => {
    const r = await startRunnerOn(db, NAME, { cwd, env }, "--threads", "1", "--checkpoint-every", "0.5")
    runners.push(r)
    return r
  }

  beforeAll(start, 120_000)

  afterAll(() => stopAndDrop(runners, db, NAME), 60_000)

  it("a secret refused: names where this process's came from", async () => {
    const folder = path.join(cwd, "stale")
    fs.mkdirSync(path.join(folder, ".distmt"), { recursive: true })
    fs.writeFileSync(path.join(folder, ".distmt", "cluster.secret"), randomBytes(24).toString("hex") + "\n", { mode: 0o600 })
    const { DISTMT_CLUSTER_SECRET: _, ...noSecret } = env
    const r = await cli(["run", SPEC, "--cluster", "--db", db, "--cluster-name", NAME, "--out", "refused"], { cwd: folder, env: noSecret, timeoutMs: 120_000 })
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toMatch(
      /^the cluster refused this process's messages \(.*bad signature.*\): this process's secret is from \.distmt\/cluster\.secret; give it the runners' \(read from --secret-file F, else \$DISTMT_CLUSTER_SECRET, else \.distmt\/cluster\.secret\)$/
    )
  }, 150_000)

  it("--insecure against runners with a secret: says it has none", async () => {
    const r = await cli(["run", SPEC, "--cluster", "--insecure", "--db", db, "--cluster-name", NAME, "--out", "unsigned"], { cwd, env, timeoutMs: 120_000 })
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toMatch(/^the cluster refused this process's messages \(.*unsigned.*\): this process has no secret \(--insecure\); give it the runners' \(/)
  }, 150_000)

  it("no runner left: says that none is up, waits, says when one is back, and ends", async () => {
    const first = runners[0]
    const child = spawn(process.execPath, [path.join(root, "bin", "distmt.mjs"), "run", SPEC, "--cluster", "--db", db, "--cluster-name", NAME, "--out", "out"], {
      cwd,
      env
    })
    let stderr = ""
    let output = "" // both streams: the progress line's among them
    child.stderr.on("data", (d) => (stderr += d, output += d))
    child.stdout.on("data", (d) => (output += d))
    const ended = new Promise<number | null>((resolve) => child.on("close", resolve))
    try {
      // Its first agents have checkpoints: the run is under way.
      await waitFor(() => output, /distmt · seed 0 \(1\/4\): \d+\/20 task instances, [1-9]/, 90_000)
      await first.stop() // SIGTERM: it leaves the cluster's runners at once
      await waitFor(() => stderr, new RegExp(`no runner is up in cluster "${NAME}" any more`), 20_000)
      expect(stderr).not.toMatch(/runners are up again/)
      await start()
      await waitFor(() => stderr, new RegExp(`runners are up again in cluster "${NAME}" \\(127\\.0\\.0\\.1:\\d+\\); the run goes on`), 20_000)
      expect(await ended).toBe(0)
      expect(fs.existsSync(path.join(cwd, "out", "results.csv"))).toBe(true)
      // Said once each way.
      expect(stderr.match(/no runner is up in cluster/g)).toHaveLength(1)
    } finally {
      child.kill("SIGKILL")
    }
  }, 240_000)
})

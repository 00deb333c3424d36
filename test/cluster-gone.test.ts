/**
 * A submission whose cluster loses every runner (`cluster down` in the middle of a run, or all of
 * them dead) says so, waits, and says so again when runners are back; the run then goes on to its
 * end. It used to wait silent: its progress line stopped, and every 2 minutes it said that no
 * agent's checkpoint had changed, as if the agents had stalled.
 *
 * Needs $DISTMT_TEST_DB (see test/cluster-infra.test.ts).
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { cleanEnv, clusterTestsMode, dropClusterTables, failsWithoutDatabase, type Runner, root, scratch, startRunnerOn, TEST_DB } from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-gone")
const NAME = `gone_${process.pid}`
const SPEC = path.join(root, "test", "fixtures", "cluster-long.spec.ts")

/** Resolves once `read()` matches `pattern`, or fails after `ms` with what it read. */
const waitFor = async (read: () => string, pattern: RegExp, ms: number): Promise<void> => {
  const deadline = Date.now() + ms
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms / 1000} s in:\n${read()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe.skipIf(mode === "skip")("a submission whose cluster loses every runner", () => {
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

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()))
    await dropClusterTables(db, NAME)
  }, 60_000)

  it("says that none is up, waits, says when one is back, and ends", async () => {
    const first = await start()
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

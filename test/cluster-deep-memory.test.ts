/**
 * A runner checks a deep unit's replay buffers against its own memory (or its DISTMT_MEMORY_LIMIT)
 * before it runs it (src/cluster/DeepUnitEntity.ts, compile.ts `runnerMemoryProblem`): the
 * submitting machine's check is of the submitting machine. A runner with too little refuses the
 * unit, and the submission stops at once in one line naming the runner, the unit, the bytes needed
 * and those the runner has, rather than the unit being sent to it again and again.
 *
 * Needs PostgreSQL ($DISTMT_TEST_DB, from tools/postgres.sh).
 */
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { cleanEnv, cli, clusterTestsMode, failsWithoutDatabase, root, type Runner, scratch, startRunnerOn, stopAndDrop, TEST_DB } from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-deep-memory")

describe.skipIf(mode === "skip")("a runner with too little memory for a deep unit", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  const NAME = `deepmem_${process.pid}`
  const env = cleanEnv({ DISTMT_CLUSTER_SECRET: randomBytes(24).toString("hex") })
  delete env.DISTMT_MEMORY_LIMIT
  const runners: Array<Runner> = []
  afterAll(() => stopAndDrop(runners, db, NAME), 60_000)

  it("refuses the unit, and the submission stops in one line naming the runner, the unit and the bytes", async () => {
    runners.push(await startRunnerOn(db, NAME, { cwd, env: { ...env, DISTMT_MEMORY_LIMIT: "1 MiB" } }, "--threads", "1"))
    const runner = /ready on (\S+),/.exec(runners[0].output())![1]
    const started = performance.now()
    const r = await cli(
      ["run", path.join(root, "specs", "minatar.spec.ts"), "--quick", "--cluster", "--db", db, "--cluster-name", NAME, "--out", path.join(cwd, "out")],
      { cwd, env, timeoutMs: 240_000 }
    )
    expect(r.status, r.stdout + r.stderr).toBe(1)
    const last = r.stderr.trim().split("\n").at(-1)!
    expect(last).toMatch(new RegExp(
      `^distmt run: minatar-\\S+-(distmt|oracle|independent)-\\d+ failed on its runner .*: runner ${runner} refuses deep unit minatar-\\S+: ` +
        "its replay buffers need about [\\d.]+ MiB, and the runner has 1\\.0 MiB \\(its DISTMT_MEMORY_LIMIT\\); run it on runners with more memory"
    ))
    // At once, not after the cluster's retries (the stall limit is 120 s).
    expect((performance.now() - started) / 1000).toBeLessThan(100)
    // Nothing of it started on the runner.
    expect(runners[0].output()).not.toMatch(/started \{ unit/)
  }, 300_000)
})

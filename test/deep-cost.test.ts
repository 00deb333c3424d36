/**
 * A deep run whose replay buffers cannot fit in memory is refused before anything is written, as a
 * linear run whose learners cannot fit is (README, `--force`). `distmt run` of a deep spec skipped
 * that check: `--set agents=100000` started, and its process passed 6 GiB in two minutes on the way
 * to hundreds. DISTMT_MEMORY_LIMIT stands in for a small machine, so the quick variant (about
 * 24 MiB of replay per unit) is the spec that does not fit. A run of more frames than could ever
 * finish is refused too.
 */
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { deepCostProblem } from "../src/deep/distmt/compile.ts"
import { runDeepEffect, validate } from "../src/index.ts"

const root = path.resolve(import.meta.dirname, "..")
const SPEC = "specs/minatar.spec.ts"
const distmt = (env: Record<string, string>, ...args: Array<string>) =>
  spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, ...env } })

describe("deep runs against the machine's memory", () => {
  const limit = process.env.DISTMT_MEMORY_LIMIT
  beforeEach(() => {
    process.env.DISTMT_MEMORY_LIMIT = "10MiB"
  })
  afterEach(() => {
    if (limit === undefined) delete process.env.DISTMT_MEMORY_LIMIT
    else process.env.DISTMT_MEMORY_LIMIT = limit
  })

  it("the estimate names the fields that drive it, and counts the units running at once", async () => {
    const quick = await Effect.runPromise(loadSpec(SPEC, { quick: true }))
    // 4 agents × 5,000 transitions × (2 × 6 × 100 + 6) bytes = 23 MiB per unit.
    expect(deepCostProblem(quick, 1)).toBe(
      "agents: 4, learner.dqn.replayCapacity: 5000 → replay buffers of about 23.0 MiB per unit, more than the DISTMT_MEMORY_LIMIT limit of 10.0 MiB; " +
        "lower them, or pass --force to run it anyway"
    )
    expect(deepCostProblem(quick, 2)).toMatch(/2 units at a time \(one per thread\): about 46\.0 MiB, .*; lower them or --threads, or pass --force/)
    process.env.DISTMT_MEMORY_LIMIT = "1GiB"
    expect(deepCostProblem(quick, 2)).toBeUndefined()
  })

  it("refuses a run of more than 1e12 frames, naming its largest factor: --seeds 1e9 crashed the process (V8 heap, exit 134)", async () => {
    process.env.DISTMT_MEMORY_LIMIT = "1GiB"
    const quick = await Effect.runPromise(loadSpec(SPEC, { quick: true }))
    // 1e9 seeds × 3 algorithms × 4 agents × 3,000 frames.
    expect(deepCostProblem({ ...quick, seeds: 1e9 }, 2, "point agents=4: ")).toBe(
      "point agents=4: seeds: 1e9 → 3.60e13 frames in all, more than 1e12: it would not finish; pass --force to run it anyway"
    )
    expect(deepCostProblem({ ...quick, seeds: 1000 }, 2)).toBeUndefined()
  })

  it("distmt run and distmt sweep refuse it, writing nothing", () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-cost-"))
    for (const command of ["run", "sweep"]) {
      const out = path.join(base, command)
      const r = distmt({ DISTMT_MEMORY_LIMIT: "10MiB" }, command, SPEC, "--quick", "--out", out)
      expect(r.status, r.stdout).toBe(1)
      expect(r.stderr).toMatch(command === "run" ? /^minatar: agents: 4, .*pass --force to run it anyway$/m : /point agents=2: agents: 2, .*pass --force/)
      expect(fs.existsSync(out)).toBe(false)
    }
  })

  it("distmt validate says that run would refuse it, as it says so of a linear spec; the spec stays valid", () => {
    const tight = distmt({ DISTMT_MEMORY_LIMIT: "10MiB" }, "validate", SPEC)
    expect(tight.status, tight.stderr).toBe(0)
    expect(tight.stdout).toMatch(/valid\. Deep stage/)
    expect(tight.stderr).toMatch(/^note: run and sweep refuse it as it is: agents: 20, learner\.dqn\.replayCapacity: \d+ → .*pass --force/m)
    const roomy = distmt({ DISTMT_MEMORY_LIMIT: "100GiB" }, "validate", SPEC)
    expect(roomy.status, roomy.stderr).toBe(0)
    expect(roomy.stderr).not.toMatch(/refuse/)
  })

  it("validate of the API says it in the API's words: force: true, not --force", async () => {
    // deep.refused told an API caller to "pass --force", which it cannot.
    const r = await validate(SPEC)
    expect(r.deep?.refused).toMatch(/^agents: 20, learner\.dqn\.replayCapacity: \d+ → .*; lower them or threads, or pass force: true to run it anyway$/)
  })

  it("runDeep fails with a CostError, and runs with force", async () => {
    const e = await Effect.runPromise(Effect.flip(runDeepEffect(SPEC, { quick: true })))
    expect(e._tag).toBe("CostError")
    expect(e.message).toMatch(/^specs\/minatar\.spec\.ts: agents: 4, /)
    // The API's options, not the CLI's flags: a script has no --force or --threads to pass.
    expect(e.message).toMatch(/, or pass force: true to run it anyway$/)
    expect(e.message).not.toMatch(/--/)
    const r = await Effect.runPromise(runDeepEffect(SPEC, { quick: true, force: true, set: { "learner.framesPerAgent": 600 } }))
    expect(r.summary.complete).toBe(true)
  })
}, 120_000)

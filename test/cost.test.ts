/**
 * Issue 15, item 2: cost checked before running. Before, `agents: 1e9` passed `validate` and died
 * 72 s into `run` with a V8 out-of-memory trace, and `seeds: 1e9` or `schedule({ k1: 1e12 })` ran
 * for ever; `validate` gave no estimate. Now `validate` prints one, and `run` and `sweep` refuse
 * such a spec in seconds, naming the field that drives the estimate, unless `--force`.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { validate } from "../src/index.ts"
import { compile } from "../src/spec/compile.ts"
import { expandSweep } from "../src/spec/sweep.ts"
import { costProblem, estimateCost, jobsProblem, MEMORY_LIMIT_ENV } from "../src/spec/cost.ts"
import { tinySweepSpec } from "./fixtures/tinySweepSpec.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
// A bounded wait: before the fix these runs never ended, so a timeout (status null) is the failure.
const distmt = (args: Array<string>, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 40_000, env: { ...process.env, ...env } })
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-cost-"))

const compiled = (file: string) => Effect.runPromise(Effect.flatMap(loadSpec(file), (s) => compile(s, file)))

describe("the estimate", () => {
  it("of the tiny spec: 2 agents' learners of H·d² + H·S·d numbers, and the adaptive episode bound", async () => {
    const cost = estimateCost(await compiled("test/fixtures/tiny.spec.ts"))
    // H = 2, S = 2, d = S·A = 4: 2·16 + 2·2·4 = 48 numbers of 8 bytes, for each of N = 2 agents.
    expect(cost.learnerBytes).toBe(2 * 48 * 8)
    // 1 seed × 1 algorithm × max(N, M) = 2 instances × 2·maxEpisodes.
    expect(cost.episodes).toBe(2 * 2 * 5000)
    expect(cost.rows).toBe(1 * 1 * 2 * 2)
    expect(costProblem(cost)).toBeUndefined()
  })

  it("names the field that drives it", async () => {
    expect(costProblem(estimateCost(await compiled("test/fixtures/cost/agents-1e9.spec.ts")))).toMatch(/^agents: 1e9 → about \d+\.\d GiB of learner memory, more than this machine's/)
    expect(costProblem(estimateCost(await compiled("test/fixtures/cost/seeds-1e9.spec.ts")))).toMatch(/^seeds: 1e9 → at most .* episodes, more than 1e12/)
    expect(costProblem(estimateCost(await compiled("test/fixtures/cost/schedule-1e12.spec.ts")))).toMatch(/^stopping\.k1 \+ k2: 1\.00e12 episodes per learner/)
  })
})

describe("the estimate of a sweep (validate's sweepCost)", () => {
  // validate gave only the spec as written's: scaling's 10 agents, not its points' up to 50.
  it("adds up its points' episode bounds, names its largest point's memory, and counts its runs", async () => {
    const v = await validate("specs/scaling.spec.ts")
    if (v.deep !== undefined) throw new Error("a linear spec")
    const points = await Effect.runPromise(Effect.flatMap(loadSpec("specs/scaling.spec.ts"), (s) => expandSweep(s, "scaling")))
    const costs = points.map((p) => estimateCost(p.compiled))
    expect(v.sweepCost).toEqual({
      points: 6,
      runs: 6 * 3 * 3,
      episodes: costs.reduce((n, c) => n + c.episodes, 0),
      learnerBytes: Math.max(...costs.map((c) => c.learnerBytes)),
      largest: "agents = 50"
    })
    expect(v.sweepCost!.episodes).toBeGreaterThan(v.cost.episodes)
    // No sweep, no sweep estimate.
    expect((await validate("test/fixtures/tiny.spec.ts")).sweepCost).toBeUndefined()
  })
})

describe("the commands", () => {
  it("validate prints the estimate", () => {
    const r = distmt(["validate", "test/fixtures/tiny.spec.ts"])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/estimate: at most 20000 episodes, learner memory about 768 B, result files about .* \(4 rows\)/)
    expect(r.stderr).toBe("")
  })

  it("validate says that run would refuse a valid spec too big to finish, and why", () => {
    const r = distmt(["validate", "test/fixtures/cost/seeds-1e9.spec.ts"])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/: valid\./)
    expect(r.stderr).toMatch(/^note: run and sweep refuse it as it is: seeds: 1e9 → at most .* episodes, more than 1e12: it would not finish; pass --force/)
  })

  it("validate tells run's refusal from sweep's: a spec whose own run fits, with a point that does not", () => {
    // seeds-1e9's own fields but one seed: 2 agents run; its sweep's second point has 1e9.
    const fitsWithBigPoint = ["test/fixtures/cost/seeds-1e9.spec.ts", "--set", "seeds=1", "--set", "sweep.agents=[2,1e9]"]
    const r = distmt(["validate", ...fitsWithBigPoint])
    expect(r.status).toBe(0)
    const sweepSays = distmt(["sweep", ...fitsWithBigPoint, "--out", path.join(os.tmpdir(), `distmt-cost-${process.pid}`)])
    expect(sweepSays.status).not.toBe(0)
    const reason = sweepSays.stderr.trim().replace(/^.*?\.spec\.ts: /, "")
    expect(reason).toMatch(/^point agents = 1000000000: agents: 1e9 → about .* of learner memory/)
    // The same words as sweep's, and nothing said of run, which runs the spec as written (2 agents).
    expect(r.stderr.trim()).toBe(`note: sweep refuses it as it is: ${reason}`)
  })

  for (const [file, field] of [
    ["agents-1e9", /agents: 1e9 → about .* of learner memory/],
    ["seeds-1e9", /seeds: 1e9 → at most/],
    ["schedule-1e12", /stopping\.k1 \+ k2: 1\.00e12 episodes per learner/]
  ] as const) {
    it(`run refuses ${file} at once, naming the field, and writes nothing`, () => {
      const out = path.join(tmp(), "out")
      const r = distmt(["run", `test/fixtures/cost/${file}.spec.ts`, "--out", out])
      expect(r.status).toBe(1)
      expect(r.stderr).toMatch(field)
      expect(r.stderr).toMatch(/--force/)
      expect(fs.existsSync(out)).toBe(false)
    })
  }

  it("sweep refuses agents: 1e9 the same way", () => {
    const out = path.join(tmp(), "out")
    const r = distmt(["sweep", "test/fixtures/cost/agents-1e9.spec.ts", "--out", out])
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/agents: 1e9 → about .* of learner memory/)
    expect(fs.existsSync(path.join(out, "sweep.json"))).toBe(false)
  })

  it("a stated limit is honoured, and --force overrides it", () => {
    const out = path.join(tmp(), "out")
    const limited = { DISTMT_MEMORY_LIMIT: "100" }
    const refused = distmt(["run", "test/fixtures/tiny.spec.ts", "--out", out], limited)
    expect(refused.status).toBe(1)
    expect(refused.stderr).toMatch(/about 768 B of learner memory, more than the DISTMT_MEMORY_LIMIT limit of 100 B/)
    const forced = distmt(["run", "test/fixtures/tiny.spec.ts", "--out", out, "--force"], limited)
    expect(forced.status).toBe(0)
    expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete).toBe(true)
  })
})

describe("a sweep's --jobs (units that run at once)", () => {
  /** Runs `f` with DISTMT_MEMORY_LIMIT set to `limit`, then restores it. */
  const withLimit = <A>(limit: string, f: () => A): A => {
    const before = process.env[MEMORY_LIMIT_ENV]
    process.env[MEMORY_LIMIT_ENV] = limit
    try {
      return f()
    } finally {
      if (before === undefined) delete process.env[MEMORY_LIMIT_ENV]
      else process.env[MEMORY_LIMIT_ENV] = before
    }
  }

  it("adds up the memory of the largest units that run at once, and says how many fit", async () => {
    const cost = estimateCost(await compiled("test/fixtures/tiny.spec.ts")) // 768 B of learners per unit
    const points = [{ cost, units: 3, where: "" }]
    withLimit("1000", () => {
      expect(costProblem(cost)).toBeUndefined() // one unit fits
      expect(jobsProblem(points, 2, "--jobs 2")).toBe(
        "features/environment: 48 numbers per learner (H·d² + H·S·d) → about 768 B of learner memory per run, and --jobs 2 runs 2 at once: " +
          "about 1.5 KiB, more than the DISTMT_MEMORY_LIMIT limit of 1000 B; lower --jobs to 1, or pass --force to run it anyway"
      )
      expect(jobsProblem(points, 1, "--jobs 1")).toBeUndefined()
      // Never more at once than there are units.
      expect(jobsProblem([{ cost, units: 1, where: "" }], 2, "--jobs 2")).toBeUndefined()
    })
    withLimit("2000", () => expect(jobsProblem(points, 3, "--jobs 3")).toMatch(/runs 3 at once: about 2\.3 KiB, .*; lower --jobs to 2,/))
  })

  // The spec lives in specs/ so that `import ... from "distmt"` resolves as it does for users.
  const specFile = path.join(root, "specs", `.cost-jobs-${process.pid}.spec.ts`)
  fs.writeFileSync(specFile, tinySweepSpec("cost-jobs", "{ agents: [1, 2] }", []))
  afterAll(() => fs.rmSync(specFile, { force: true }))

  it("sweep refuses --jobs 2 when one unit fits but two do not, naming the field and the jobs; --jobs 1 or --force runs", () => {
    // Units of 576 B (N = 1) and 1152 B (N = 2) of learners: either fits in 1500 B, both together do not.
    const limited = { DISTMT_MEMORY_LIMIT: "1500" }
    const out = path.join(tmp(), "out")
    const r = distmt(["sweep", specFile, "--out", out, "--jobs", "2", "--dry-run"], limited)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(
      `${specFile}: point agents = 2: features/environment: 72 numbers per learner (H·d² + H·S·d) → about 1.1 KiB of learner memory per run, ` +
        "and --jobs 2 runs 2 at once: about 1.7 KiB, more than the DISTMT_MEMORY_LIMIT limit of 1.5 KiB; lower --jobs to 1, or pass --force to run it anyway"
    )
    expect(fs.existsSync(out)).toBe(false)
    for (const ok of [["--jobs", "1"], ["--jobs", "2", "--force"]]) {
      const r = distmt(["sweep", specFile, "--out", out, ...ok, "--dry-run"], limited)
      expect(r.status, `${ok.join(" ")}: ${r.stderr}`).toBe(0)
      expect(r.stdout).toContain("= 2 runs")
    }
  })
})

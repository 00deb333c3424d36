/**
 * `distmt sweep --sample K` end to end, as a user runs it: a spec with ranges is refused without
 * --sample (naming the field), validated at its ranges' ends or at the drawn points, dry-run twice
 * to the same points, killed after some runs and run again (nothing finished is redone), and
 * reported with scatters; a sample of another seed is refused in that folder, and bad flags are named.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { sweep } from "../src/index.ts"
import { valueWithoutWallClock } from "./folders.ts"
import { tinySweepSpec } from "./fixtures/tinySweepSpec.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, CI: "true" } })

// The spec lives in specs/ so that `import ... from "distmt"` resolves as it does for users.
const specFile = path.join(root, "specs", `.sweep-sample-e2e-${process.pid}.spec.ts`)
fs.writeFileSync(
  specFile,
  tinySweepSpec("sweep-sample-e2e", "{ epsilon: Sweep.range(0.15, 0.3, { log: true }), agents: Sweep.range(1, 3, { integer: true }) }", ["independent"])
)
afterAll(() => fs.rmSync(specFile, { force: true }))

const runFiles = (dir: string) =>
  fs.existsSync(path.join(dir, "runs")) ? fs.readdirSync(path.join(dir, "runs")).filter((f) => f.endsWith(".json")).sort() : []

/** The `point i: …` lines of a dry run: the points drawn. */
const pointLines = (stdout: string) => stdout.split("\n").filter((l) => /^ {2}point \d+:/.test(l))

describe("distmt sweep --sample: a random search over ranges", () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-sample-")), "out")
  const planned = 4 * 2 // points × algorithms (one seed)

  it("without --sample a range is an error naming the field; validate checks the ends, or the points drawn", () => {
    const r = distmt("sweep", specFile, "--out", out)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/sweep\.epsilon: expected a list of values: .*distmt sweep --sample K/)
    expect(r.stderr).toMatch(/sweep\.agents: /)
    expect(fs.existsSync(out)).toBe(false)
    const v = distmt("validate", specFile)
    expect(v.status).toBe(0)
    expect(v.stdout).toMatch(/range axes epsilon, agents: checked at both ends/)
    const vs = distmt("validate", specFile, "--sample", "4")
    expect(vs.status).toBe(0)
    expect(vs.stdout).toMatch(/all 4 sweep points checked/)
    expect(vs.stdout).toMatch(/the 4 points drawn by --sample 4 --sample-seed 0 checked/)
  })

  it("the same command draws the same points; a killed sweep resumes without redoing finished runs", async () => {
    const dry = distmt("sweep", specFile, "--sample", "4", "--out", out, "--dry-run")
    expect(dry.status).toBe(0)
    expect(dry.stdout).toContain(`= ${planned} runs; 0 already finished`)
    const drawn = pointLines(dry.stdout)
    expect(drawn).toHaveLength(4)
    expect(pointLines(distmt("sweep", specFile, "--sample", "4", "--out", out, "--dry-run").stdout)).toEqual(drawn)
    expect(pointLines(distmt("sweep", specFile, "--sample", "4", "--sample-seed", "1", "--out", out, "--dry-run").stdout)).not.toEqual(drawn)

    const child = spawn(process.execPath, [cli, "sweep", specFile, "--sample", "4", "--out", out, "--jobs", "1"], { cwd: root, stdio: "ignore" })
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
    const deadline = Date.now() + 90_000
    while (runFiles(out).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    child.kill("SIGKILL")
    await exited
    const before = runFiles(out)
    expect(before.length).toBeGreaterThanOrEqual(2)
    expect(before.length).toBeLessThan(planned)
    const saved = new Map(before.map((f) => [f, fs.statSync(path.join(out, "runs", f)).mtimeMs]))

    const r = distmt("sweep", specFile, "--sample", "4", "--out", out)
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`= ${planned} runs; ${before.length} already finished in ${out}/`)
    for (const [f, mtime] of saved) expect(fs.statSync(path.join(out, "runs", f)).mtimeMs).toBe(mtime)
    expect(r.stderr.match(/^ {2}\[\d+\/\d+\]/gm)?.length).toBe(planned - before.length)
    expect(runFiles(out)).toHaveLength(planned)

    // sweep.csv holds the drawn values, one row per run; the report draws scatters against each axis.
    const rows = fs.readFileSync(path.join(out, "sweep.csv"), "utf8").trim().split("\n")
    expect(rows[0].split(",").slice(0, 4)).toEqual(["point", "epsilon", "agents", "algorithm"])
    expect(rows).toHaveLength(1 + planned)
    const values = new Set(rows.slice(1).map((l) => l.split(",").slice(1, 3).join(", ")))
    expect([...values].map((v) => { const [e, n] = v.split(", "); return `epsilon = ${e}, agents = ${n}` }).sort())
      .toEqual(drawn.map((l) => /point \d+: (epsilon = [\d.]+, agents = \d+):/.exec(l)![1]).sort())
    const md = fs.readFileSync(path.join(out, "report.md"), "utf8")
    expect(md).toContain("4 points drawn at random (`--sample 4 --sample-seed 0`)")
    expect(md).toContain("](plots/sampled-episodes-vs-epsilon.svg)")
    expect(md).toContain("](plots/sampled-episodes-vs-agents.svg)")
    expect(md).not.toContain("## Episodes per agent against N")
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "sweep.json"), "utf8"))
    expect(manifest.sample).toMatchObject({ count: 4, seed: 0 })

    // The library API draws the same points and gives the numbers of the sweep's summary.json.
    const api = await sweep(specFile, { sample: { count: 4, seed: 0 }, threads: 1 })
    expect(api.points.map((p) => p.values)).toEqual(manifest.points.map((p: { values: unknown }) => p.values))
    expect(valueWithoutWallClock(api.summary)).toEqual(valueWithoutWallClock(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))))
  }, 180_000)

  it("a sample of another seed is refused in that folder, and a bad --sample or --sample-seed is named", () => {
    const other = distmt("sweep", specFile, "--sample", "4", "--sample-seed", "2", "--out", out)
    expect(other.status).toBe(1)
    expect(other.stderr.trim()).toBe(`Cannot sweep into ${out}: it holds a sample drawn with --sample-seed 0; run with --sample-seed 0 to resume it, or give another folder`)
    const usage = distmt("sweep", specFile, "--sample-seed", "2", "--out", out)
    expect(usage.status).toBe(1)
    expect(usage.stderr).toMatch(/--sample-seed: it seeds --sample K, which was not given/)
    const zero = distmt("sweep", specFile, "--sample", "0", "--out", out)
    expect(zero.stderr).toMatch(/--sample: expected a number of points from 1 to 10000, got 0/)
  })
})

/**
 * The deep stage's experiment as a user runs it (docs/deep.md, "DistMT with deep learners"):
 * `distmt run specs/minatar.spec.ts --quick`, then its folder: every file there, summary.json last
 * and complete, and the summary's and the report's numbers the ones results.csv gives.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 300_000 })

const parseCsv = (text: string): Array<Record<string, string>> => {
  const [head, ...lines] = text.trim().split("\n")
  const keys = head.split(",")
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [keys[i], v])))
}

describe("distmt run specs/minatar.spec.ts --quick", () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-")), "run")
  const r = distmt("run", "specs/minatar.spec.ts", "--quick", "--out", out)

  it("runs the three algorithms and writes every file, summary.json complete", () => {
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/deep stage, N = 4 agents, M = 4 tasks/)
    // independent's agents get 750 frames a task, past replayStart 500: nothing to warn of.
    expect(r.stderr).not.toMatch(/warning/)
    expect(r.stdout).toMatch(/^distmt\s/m)
    expect(r.stdout).toMatch(/^oracle\s/m)
    expect(r.stdout).toMatch(/^independent\s/m)
    for (const f of ["summary.json", "results.csv", "curves.csv", "report.md", "plots/returns.svg", "plots/task-0.png"]) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true)
    }
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
    expect(summary.stage).toBe("deep")
    expect(summary.complete).toBe(true)
    expect(summary.tasks).toHaveLength(4)
    // As a linear run's: the overrides applied (none here) and the units run at a time.
    expect(summary.overrides).toEqual({})
    expect(summary.threads).toBeGreaterThanOrEqual(1)
  })

  it("records its overrides in summary.json", () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-run-")), "run")
    const r = distmt("run", "specs/minatar.spec.ts", "--quick", "--set", "learner.framesPerAgent=1000", "--out", dir)
    expect(r.status, r.stderr).toBe(0)
    // 250 frames a task for independent's agents, against replayStart 500: said before the run, not found after it.
    expect(r.stderr).toMatch(/^warning: minatar: the independent baseline never trains: its agents meet all 4 tasks, and the 250 frames of each instance .*learner\.dqn\.replayStart \(500\)/)
    expect(JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8")).overrides).toEqual({ "learner.framesPerAgent": 1000 })
  })

  it("summary.json's figures are results.csv's", () => {
    const rows = parseCsv(fs.readFileSync(path.join(out, "results.csv"), "utf8"))
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
    for (const s of summary.algorithms) {
      const mine = rows.filter((row) => row.algorithm === s.algorithm)
      // Every agent holds a policy of every task that appeared (fetched at the end, §3 step 4).
      expect(mine).toHaveLength(4 * 4)
      expect(s.success).toBeCloseTo(mine.filter((row) => row.success === "true").length / mine.length, 12)
      const returns = mine.filter((row) => row.return !== "").map((row) => Number(row.return))
      expect(s.meanReturn).toBeCloseTo(returns.reduce((a, b) => a + b, 0) / returns.length, 4)
      for (const row of mine.filter((x) => x.return !== "")) {
        expect(row.success).toBe(String(Number(row.return) >= Number(row.target)))
      }
    }
    const distmtSummary = summary.algorithms.find((s: { algorithm: string }) => s.algorithm === "distmt")
    expect(distmtSummary.bytes).toBeGreaterThan(0)
    // Unidentified is a share of the instances met (rows with a slot), as in the linear stage; it was a count per seed.
    for (const s of summary.algorithms) {
      const instances = rows.filter((row) => row.algorithm === s.algorithm && row.slot !== "")
      expect(s.unidentifiedRate).toBeCloseTo(instances.filter((row) => row.role === "unidentified").length / instances.length, 12)
    }
    expect(summary.algorithms.find((s: { algorithm: string }) => s.algorithm === "independent").bytes).toBe(0)
  })

  it("the report shows the printed table and a row per task with a strip of frames", () => {
    const report = fs.readFileSync(path.join(out, "report.md"), "utf8")
    const table = r.stdout.split("\n").filter((l) => /^(distmt|independent|oracle)\s/.test(l))
    expect(table).toHaveLength(3)
    for (const line of table) expect(report).toContain(line)
    // Its "unidentified" column is summary.json's rate, as the linear table's is (it printed 1.0 beside "ident. acc. 1.00" for 1 of 4).
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
    const header = r.stdout.split("\n").find((l) => l.startsWith("algorithm"))!.trim().split(/\s{2,}/)
    for (const line of table) {
      const cells = line.trim().split(/\s{2,}/)
      const s = summary.algorithms.find((a: { algorithm: string }) => a.algorithm === cells[0])
      expect(cells[header.indexOf("unidentified")]).toBe(cells[0] === "independent" ? "—" : s.unidentifiedRate.toFixed(2))
    }
    for (let m = 0; m < 4; m++) expect(report).toContain(`![task ${m}](plots/task-${m}.png)`)
    // A PNG, not an empty file.
    expect(fs.readFileSync(path.join(out, "plots", "task-0.png")).subarray(1, 4).toString()).toBe("PNG")
  })

  it("resumes a folder missing a unit: runs only that one, and ends with the uninterrupted run's files", () => {
    const results = fs.readFileSync(path.join(out, "results.csv"), "utf8")
    const curves = fs.readFileSync(path.join(out, "curves.csv"), "utf8")
    // As if the run had stopped before its oracle unit.
    fs.rmSync(path.join(out, "units", "oracle-seed0.json"))
    fs.writeFileSync(path.join(out, "results.csv"), "stale")
    const again = distmt("run", "specs/minatar.spec.ts", "--quick", "--out", out)
    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/resuming: 2 of 3 \(algorithm, seed\) units/)
    expect(fs.readFileSync(path.join(out, "results.csv"), "utf8")).toBe(results)
    expect(fs.readFileSync(path.join(out, "curves.csv"), "utf8")).toBe(curves)
  })

  it("marks the folder complete only after the report: a report that fails leaves it incomplete, and a rerun completes it", () => {
    // report.md as a folder makes the report's write fail after the results are written.
    fs.rmSync(path.join(out, "report.md"))
    fs.mkdirSync(path.join(out, "report.md"))
    const failed = distmt("run", "specs/minatar.spec.ts", "--quick", "--out", out)
    expect(failed.status).not.toBe(0)
    expect(failed.stderr + failed.stdout).toMatch(/the results are saved in .*, but the report failed/)
    expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete).toBe(false)
    fs.rmSync(path.join(out, "report.md"), { recursive: true })
    const again = distmt("run", "specs/minatar.spec.ts", "--quick", "--out", out)
    expect(again.status, again.stderr).toBe(0)
    expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete).toBe(true)
    expect(fs.statSync(path.join(out, "report.md")).isFile()).toBe(true)
  })

  it("refuses an --out folder that holds another spec's run, naming it, and writes nothing there", () => {
    const before = fs.readFileSync(path.join(out, "summary.json"), "utf8")
    const other = distmt("run", "specs/minatar.spec.ts", "--quick", "--set", "seeds=2", "--out", out)
    expect(other.status).not.toBe(0)
    expect(other.stderr + other.stdout).toMatch(/--out .*: it holds a deep run of another spec: seeds 1 \(folder\) vs 2 \(now\); give another folder, or --fresh/)
    expect(fs.readFileSync(path.join(out, "summary.json"), "utf8")).toBe(before)
    const linear = distmt("run", "specs/minatar.spec.ts", "--quick", "--out", path.join(root, "specs"))
    expect(linear.status).not.toBe(0)
    expect(linear.stderr + linear.stdout).toMatch(/--out .*specs.*holds other files/)
  })
}, 300_000)

describe("distmt sweep specs/minatar.spec.ts --quick", () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-sweep-")), "sweep")
  const first = distmt("sweep", "specs/minatar.spec.ts", "--quick", "--out", out)

  it("runs every point as a whole deep run and tabulates them", () => {
    expect(first.status, first.stderr).toBe(0)
    const rows = parseCsv(fs.readFileSync(path.join(out, "sweep.csv"), "utf8"))
    // The quick variant sweeps agents over {2, 4}: two points, three algorithms each.
    expect(rows.map((r) => `${r.agents}/${r.algorithm}`)).toEqual(["2/distmt", "2/independent", "2/oracle", "4/distmt", "4/independent", "4/oracle"])
    for (const n of [2, 4]) {
      const summary = JSON.parse(fs.readFileSync(path.join(out, "points", `agents=${n}`, "summary.json"), "utf8"))
      expect(summary.complete).toBe(true)
      expect(summary.spec.agents).toBe(n)
      // sweep.csv's figures are the point's own.
      const distmtRow = rows.find((r) => r.agents === String(n) && r.algorithm === "distmt")!
      expect(Number(distmtRow.mean_return)).toBeCloseTo(summary.algorithms[0].meanReturn, 3)
    }
    expect(fs.readFileSync(path.join(out, "report.md"), "utf8")).toMatch(/\| 4 \| oracle \|/)
    expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))).toMatchObject({ stage: "deep-sweep", complete: true, points: ["agents=2", "agents=4"] })
  })

  it("marks the sweep folder complete only after its report: a report that fails leaves it incomplete", () => {
    fs.rmSync(path.join(out, "report.md"))
    fs.mkdirSync(path.join(out, "report.md"))
    const failed = distmt("sweep", "specs/minatar.spec.ts", "--quick", "--out", out)
    expect(failed.status).not.toBe(0)
    expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete).toBe(false)
    fs.rmSync(path.join(out, "report.md"), { recursive: true })
  })

  it("a rerun finds every point finished and runs none again", () => {
    const before = fs.statSync(path.join(out, "points", "agents=2", "results.csv")).mtimeMs
    const again = distmt("sweep", "specs/minatar.spec.ts", "--quick", "--out", out)
    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout.match(/finished earlier/g)).toHaveLength(2)
    expect(fs.statSync(path.join(out, "points", "agents=2", "results.csv")).mtimeMs).toBe(before)
  })

  it("report rewrites its table and report.md as the sweep wrote them; plot says where the curves are", () => {
    const [csv, md] = ["sweep.csv", "report.md"].map((f) => fs.readFileSync(path.join(out, f), "utf8"))
    for (const f of ["sweep.csv", "report.md"]) fs.rmSync(path.join(out, f))
    // From the folder above too: a deep sweep is found under it, as linear sweeps are.
    const r = distmt("report", path.dirname(out))
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/minatar: deep-stage sweep; table and report in /)
    expect(fs.readFileSync(path.join(out, "sweep.csv"), "utf8")).toBe(csv)
    expect(fs.readFileSync(path.join(out, "report.md"), "utf8")).toBe(md)
    const p = distmt("plot", out)
    expect(p.status).toBe(1)
    expect(p.stderr.trim()).toBe(`Cannot plot ${out}: a deep-stage sweep: each point's run has its own curves, e.g. \`distmt plot ${path.join(out, "points", "agents=2")}\``)
  })

  it("given other overrides, or into a folder of something else, it refuses and reuses nothing", () => {
    const files = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String).sort()
    const before = files(out)
    const summary = fs.readFileSync(path.join(out, "summary.json"), "utf8")
    const other = distmt("sweep", "specs/minatar.spec.ts", "--quick", "--set", "learner.framesPerAgent=1500", "--out", out)
    expect(other.status).toBe(1)
    expect(other.stderr).toMatch(/Cannot sweep into .*: it holds a deep sweep of another spec: learner\.framesPerAgent 3000 \(folder\) vs 1500 \(now\); give another folder/)
    expect(other.stdout).not.toMatch(/finished earlier/)
    expect(files(out)).toEqual(before)
    expect(fs.readFileSync(path.join(out, "summary.json"), "utf8")).toBe(summary)
    const mine = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-sweep-mine-"))
    fs.writeFileSync(path.join(mine, "summary.json"), "{\"mine\": true}\n")
    const foreign = distmt("sweep", "specs/minatar.spec.ts", "--quick", "--out", mine)
    expect(foreign.status).toBe(1)
    expect(foreign.stderr).toMatch(/holds other files/)
    expect(fs.readdirSync(mine)).toEqual(["summary.json"])
    expect(fs.readFileSync(path.join(mine, "summary.json"), "utf8")).toBe("{\"mine\": true}\n")
  })

  it("refuses an override of a sweep axis, and --jobs, as one line, writing nothing", () => {
    const fresh = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-sweep-")), "sweep")
    const axis = distmt("sweep", "specs/minatar.spec.ts", "--quick", "--set", "agents=3", "--out", fresh)
    expect(axis.status).toBe(1)
    expect(axis.stderr.trim()).toBe("--set agents=3: agents is a sweep axis of this spec, set at every point; change the axis's values in the spec instead")
    const jobs = distmt("sweep", "specs/minatar.spec.ts", "--quick", "--jobs", "1", "--out", fresh)
    expect(jobs.status).toBe(1)
    expect(jobs.stderr).toMatch(/--jobs is for linear-stage sweeps/)
    expect(fs.existsSync(fresh)).toBe(false)
  })
}, 300_000)

/**
 * `distmt sweep` end to end, as a user runs it: a tiny sweep is killed after some runs finished,
 * then run again with the same folder. Finished runs are not redone (their files are untouched and
 * the second run counts them as finished), and the final table holds every run. Bad input changes
 * nothing already written. Then `distmt report` rebuilds the report from the folder.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { tinySweepSpec } from "./fixtures/tinySweepSpec.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, CI: "true" } })

// The spec lives in specs/ so that `import ... from "distmt"` resolves as it does for users.
const specFile = path.join(root, "specs", `.sweep-e2e-${process.pid}.spec.ts`)
const specSource = tinySweepSpec("sweep-e2e", "{ agents: [1, 2, 4] }", ["independent", "oracle"], {
  seeds: 2,
  quick: "{ seeds: 1, sweep: { agents: [1, 2] } }"
})
fs.writeFileSync(specFile, specSource)
afterAll(() => fs.rmSync(specFile, { force: true }))

const runFiles = (dir: string) =>
  fs.existsSync(path.join(dir, "runs")) ? fs.readdirSync(path.join(dir, "runs")).filter((f) => f.endsWith(".json")).sort() : []

const snapshot = (dir: string, files: ReadonlyArray<string>) =>
  new Map(files.map((f) => {
    const p = path.join(dir, "runs", f)
    return [f, { content: fs.readFileSync(p, "utf8"), mtime: fs.statSync(p).mtimeMs }]
  }))

describe("distmt sweep: interrupted, then resumed", () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-sweep-")), "out")
  const planned = 3 * 2 * 3 // agents values × seeds × algorithms

  it("kill after some runs finished, run again: nothing finished is redone, the table is complete", async () => {
    // One worker, so that the runs finish one at a time and the kill lands mid-sweep.
    const child = spawn(process.execPath, [cli, "sweep", specFile, "--out", out, "--jobs", "1"], { cwd: root, stdio: "ignore" })
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
    const deadline = Date.now() + 90_000
    while (runFiles(out).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    child.kill("SIGKILL")
    await exited
    const before = runFiles(out)
    expect(before.length).toBeGreaterThanOrEqual(3)
    expect(before.length).toBeLessThan(planned)
    // Every file present is a complete run (written atomically); no temporary file is taken for one.
    for (const f of before) expect(() => JSON.parse(fs.readFileSync(path.join(out, "runs", f), "utf8"))).not.toThrow()
    const saved = snapshot(out, before)

    const r = distmt("sweep", specFile, "--out", out)
    expect(r.stderr).not.toMatch(/Error|at .*\.ts:\d+/)
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`= ${planned} runs; ${before.length} already finished in ${out}/`)
    // The finished runs were not redone: same files, same bytes, same modification times.
    for (const [f, s] of saved) {
      const p = path.join(out, "runs", f)
      expect(fs.readFileSync(p, "utf8")).toBe(s.content)
      expect(fs.statSync(p).mtimeMs).toBe(s.mtime)
    }
    // The second run ran only the rest: one progress line per run it did.
    expect(r.stderr.match(/^ {2}\[\d+\/\d+\]/gm)?.length).toBe(planned - before.length)
    expect(runFiles(out)).toHaveLength(planned)
    expect(fs.readdirSync(path.join(out, "runs")).filter((f) => f.endsWith(".tmp"))).toEqual([])

    const table = fs.readFileSync(path.join(out, "sweep.csv"), "utf8").trim().split("\n")
    expect(table).toHaveLength(1 + planned)
    const header = table[0].split(",")
    expect(header.slice(0, 4)).toEqual(["point", "agents", "algorithm", "seed"])
    const rows = table.slice(1).map((l) => l.split(","))
    expect(new Set(rows.map((c) => `${c[1]}/${c[2]}/${c[3]}`)).size).toBe(planned)
    expect(rows.every((c) => c[header.indexOf("success_rate")] === "1")).toBe(true)
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
    expect(summary.complete).toBe(true)
    expect(summary.points).toHaveLength(3)
    for (const f of ["report.md", "report.html", "plots/episodes-vs-agents.svg"]) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true)
    }
    // Success in words, and the exact gaps plotted unless every policy is exactly optimal (nothing to plot).
    const md = fs.readFileSync(path.join(out, "report.md"), "utf8")
    expect(md).toMatch(/## Success: the exact gaps against ε[\s\S]*(\(plots\/gaps\.svg\)|Every final policy is exactly optimal)/)

    // A third run has nothing to do.
    const again = distmt("sweep", specFile, "--out", out)
    expect(again.status).toBe(0)
    expect(again.stdout).toContain(`${planned} already finished`)
    expect(again.stderr.match(/^ {2}\[\d+\/\d+\]/gm)).toBeNull()
  }, 120_000)

  it("distmt report rebuilds the report from the folder alone", () => {
    fs.rmSync(path.join(out, "report.md"))
    fs.rmSync(path.join(out, "plots"), { recursive: true })
    const r = distmt("report", out)
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/sweep-e2e: learning episodes per agent ∝ N\^/)
    const md = fs.readFileSync(path.join(out, "report.md"), "utf8")
    expect(md).toMatch(/the fitted slope is \*\*−[01]\.\d\d/)
    expect(fs.readFileSync(path.join(out, "plots", "episodes-vs-agents.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>$/)
  })

  it("bad input changes nothing already written", () => {
    const listing = () => fs.readdirSync(out).sort().map((f) => [f, fs.statSync(path.join(out, f)).mtimeMs])
    const before = listing()
    const csv = fs.readFileSync(path.join(out, "sweep.csv"), "utf8")
    // A bad axis value: the error names it, no stack trace, exit code 1.
    const bad = path.join(root, "specs", `.sweep-bad-${process.pid}.spec.ts`)
    fs.writeFileSync(bad, specSource.replace("agents: [1, 2, 4]", "agents: [1, 2.5]"))
    try {
      const r = distmt("sweep", bad, "--out", out)
      expect(r.status).toBe(1)
      expect(r.stderr).toMatch(/sweep\.agents\[1\]: expected an integer, got 2\.5/)
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/)
    } finally {
      fs.rmSync(bad, { force: true })
    }
    // The --quick variant into the full sweep's folder: refused, with what to do instead.
    const q = distmt("sweep", specFile, "--quick", "--out", out)
    expect(q.status).toBe(1)
    expect(q.stderr.trim()).toBe(`Cannot sweep into ${out}: it holds a full sweep; run without --quick to resume it, or give another folder`)
    // A folder that holds something else, also a file that only looks like a sweep's temporary
    // (`<name>.<n>.<n>.tmp`): refused, and left as it was.
    let other = ""
    for (const file of ["notes.txt", "data.7.1.tmp"]) {
      other = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-other-"))
      fs.writeFileSync(path.join(other, file), "mine")
      const o = distmt("sweep", specFile, "--out", other)
      expect(o.status).toBe(1)
      expect(o.stderr).toMatch(/is not empty and holds no sweep.json/)
      expect(fs.readdirSync(other)).toEqual([file])
    }
    // report on a folder without a sweep.
    const rep = distmt("report", other)
    expect(rep.status).toBe(1)
    expect(rep.stderr).toMatch(/Cannot report on .*: no sweep.json in it or in its sub-folders/)
    expect(listing()).toEqual(before)
    expect(fs.readFileSync(path.join(out, "sweep.csv"), "utf8")).toBe(csv)
  })
})

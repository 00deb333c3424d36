/**
 * Issue 15, item 4, for `distmt report`: it rewrites the tables, plots and report of a sweep folder,
 * and its marker of completion (summary.json, `"complete": true`) comes last, as `run` and `sweep`
 * write theirs. It used to rewrite summary.json first, so that a report that failed or was killed
 * halfway left a folder that said complete with a report half old, half new. The failure is
 * injected between two files: report.html made a folder, so the rename that writes it fails after
 * the plots and report.md are written. Also: plots an earlier report drew and this one does not
 * are removed (an old success.svg stayed), never a file of the user's; and a sweep still writing
 * the folder (its lock) is not written over.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import { LOCK_FILE } from "../src/cli/outDir.ts"
import { tinySweepSpec } from "./fixtures/tinySweepSpec.ts"
import { folderFiles } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, CI: "true" } })

// The spec lives in specs/ so that `import ... from "distmt"` resolves as it does for users.
const specFile = path.join(root, "specs", `.report-faults-${process.pid}.spec.ts`)
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-report-faults-")), "sweep")
const complete = () => (JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as { complete: boolean }).complete

beforeAll(() => {
  fs.writeFileSync(specFile, tinySweepSpec("report-faults", "{ agents: [1, 2] }", []))
  const r = distmt("sweep", specFile, "--out", out, "--jobs", "1")
  expect(r.status, r.stderr).toBe(0)
}, 120_000)
afterAll(() => fs.rmSync(specFile, { force: true }))

it("a report that fails between two files leaves the folder marked incomplete; a report that succeeds marks it complete", () => {
  expect(complete()).toBe(true)
  const html = path.join(out, "report.html")
  fs.rmSync(html)
  fs.mkdirSync(path.join(html, "in-the-way"), { recursive: true })
  const failed = distmt("report", out)
  expect(failed.status).toBe(1)
  expect(failed.stderr.trim().split("\n")).toEqual([`Cannot report on ${out}: cannot write ${html} (EISDIR)`])
  expect(fs.statSync(path.join(out, "report.md")).isFile()).toBe(true)
  expect(complete()).toBe(false)

  fs.rmSync(html, { recursive: true })
  const r = distmt("report", out)
  expect(r.status, r.stderr).toBe(0)
  expect(fs.readFileSync(html, "utf8")).toMatch(/^<!DOCTYPE html>/)
  expect(complete()).toBe(true)
  expect(fs.readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([])
}, 120_000)

it("a plot an earlier report linked to and this one does not draw is removed; other files in plots/ stay", () => {
  // Whatever the test above left (it runs alone too).
  fs.rmSync(path.join(out, "report.html"), { recursive: true, force: true })
  expect(distmt("report", out).status).toBe(0)
  const plots = path.join(out, "plots")
  const drawn = fs.readdirSync(plots).sort()
  expect(drawn.length).toBeGreaterThan(0)
  // An earlier report (of an older distmt) that drew one more plot; and a file the user put there.
  fs.appendFileSync(path.join(out, "report.md"), "\n![Success rate](plots/success.svg)\n")
  fs.writeFileSync(path.join(plots, "success.svg"), "<svg></svg>")
  fs.writeFileSync(path.join(plots, "mine.svg"), "<svg></svg>")
  const r = distmt("report", out)
  expect(r.status, r.stderr).toBe(0)
  expect(fs.readdirSync(plots).sort()).toEqual([...drawn, "mine.svg"].sort())
  expect(complete()).toBe(true)
}, 120_000)

it("a report on a folder a live process holds the lock of is refused with its PID, and writes nothing", () => {
  const lock = path.join(out, LOCK_FILE)
  fs.writeFileSync(lock, `${process.pid}\n`)
  try {
    const before = fs.statSync(path.join(out, "summary.json")).mtimeMs
    const r = distmt("report", out)
    expect(r.status).toBe(1)
    expect(r.stderr.trim().split("\n")).toEqual([
      `Cannot report on ${out}: another distmt process (PID ${process.pid}) is writing in this folder; wait for it to end, or give another folder`
    ])
    expect(fs.statSync(path.join(out, "summary.json")).mtimeMs).toBe(before)
  } finally {
    fs.rmSync(lock, { force: true })
  }
}, 120_000)

it("a damaged sweep.json is one line naming its bad field, and nothing in the folder is written", () => {
  // Each failed with a bare TypeError (null seeds after rewriting the tables); a unit's file now
  // also stays under runs/.
  const damages: ReadonlyArray<readonly [(m: Record<string, any>) => void, string]> = [
    [(m) => (m.units[0] = null), "units[0]: expected object"],
    [(m) => (m.units[0].file = 3), "units[0].file: expected string"],
    [(m) => (m.units[0].file = "../../elsewhere.json"), "units[0].file: expected a run file under runs/ (runs/<algorithm>-seed<seed>-<key>.json)"],
    [(m) => (m.units[0].point = 99), "units[0].point: expected the index of one of the points, got 99"],
    [(m) => (m.points[0] = {}), "points[0].index: expected a value (missing)"],
    [(m) => (m.points[0].values = null), "points[0].values: expected object"],
    [(m) => (m.seeds = null), "seeds: expected array"],
    [(m) => (m.algorithms = ["nope"]), "algorithms[0]: expected \"distmt\" | \"independent\" | \"oracle\""]
  ]
  for (const [damage, problem] of damages) {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-report-manifest-")), "sweep")
    fs.cpSync(out, dir, { recursive: true })
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "sweep.json"), "utf8"))
    damage(manifest)
    fs.writeFileSync(path.join(dir, "sweep.json"), JSON.stringify(manifest))
    const before = folderFiles(dir)
    const r = distmt("report", dir)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`Cannot report on ${dir}: sweep.json is not a whole distmt-sweep/1 manifest: ${problem}`)
    expect(folderFiles(dir)).toEqual(before)
  }
})

it("a sweep with a one-task point (separation null in sweep.json) is reported", () => {
  // E1's M = 1 point: its separation is Infinity, written null; the manifest's check refused it as damaged.
  const oneTask = path.join(root, "specs", `.report-faults-one-${process.pid}.spec.ts`)
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-report-one-task-")), "sweep")
  try {
    fs.writeFileSync(oneTask, tinySweepSpec("report-one-task", `{ "contexts.count": [1, 2] }`, []))
    expect(distmt("sweep", oneTask, "--out", dir, "--jobs", "1").status).toBe(0)
    expect(JSON.parse(fs.readFileSync(path.join(dir, "sweep.json"), "utf8")).points[0].separation).toBeNull()
    const r = distmt("report", dir)
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
  } finally {
    fs.rmSync(oneTask, { force: true })
  }
}, 120_000)

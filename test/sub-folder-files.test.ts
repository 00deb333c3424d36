/**
 * A results folder whose units/ (a run's), runs/ (a sweep's) or points/ (a deep sweep's) is a file
 * instead of a folder (and plot and report, a run's or a sweep's plots/ too): each command stopped with ENOTDIR's stack trace, after it had taken the
 * folder (its lock, a summary marked incomplete). Now it is refused in one line naming the path and
 * what was expected, and nothing in the folder changes.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { folderProblem } from "../src/deep/distmt/runDeep.ts"
import { sweepFolderProblem } from "../src/deep/distmt/sweep.ts"
import { MANIFEST_FORMAT } from "../src/report/sweepFiles.ts"
import { tinySweepSpec } from "./fixtures/tinySweepSpec.ts"
import { folderFiles } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-sub-folder-"))
const expected = (dir: string, sub: string) =>
  `${path.join(dir, sub)} is a file, where a folder ${sub}/ of its results was expected; move it away, or give another folder`

// The spec lives in specs/ so that `import ... from "distmt"` resolves as it does for users.
const sweepSpec = path.join(root, "specs", `.sub-folder-files-${process.pid}.spec.ts`)
fs.writeFileSync(sweepSpec, tinySweepSpec("sub-folder-files", "{ agents: [1, 2] }", []))
afterAll(() => fs.rmSync(sweepSpec, { force: true }))

/** `distmt ...args` ends with `line` alone on stderr, and `dir` is as it was: its files, and no lock or temporary left. */
const expectRefused = (dir: string, args: ReadonlyArray<string>, line: string) => {
  const before = folderFiles(dir)
  const r = distmt(...args)
  expect(r.status).toBe(1)
  expect(r.stderr.trim()).toBe(line)
  expect(folderFiles(dir)).toEqual(before)
  expect(fs.readdirSync(dir).some((f) => f.startsWith("."))).toBe(false)
}
/** A deep sweep's folder (its marker summary.json) whose points/ is a file. */
const deepSweepWithPointsFile = (): string => {
  const sweep = tmp()
  fs.writeFileSync(path.join(sweep, "summary.json"), JSON.stringify({ stage: "deep-sweep", spec: { name: "x" }, complete: false }))
  fs.writeFileSync(path.join(sweep, "points"), "mine\n")
  return sweep
}

describe("a results folder whose sub-folder is a file", () => {
  it("run: refused in one line naming units, with or without --fresh; nothing changes", () => {
    const dir = tmp()
    expect(distmt("run", "test/fixtures/tiny.spec.ts", "--out", dir).status).toBe(0)
    fs.rmSync(path.join(dir, "units"), { recursive: true })
    fs.writeFileSync(path.join(dir, "units"), "mine\n")
    for (const fresh of [[], ["--fresh"]]) expectRefused(dir, ["run", "test/fixtures/tiny.spec.ts", "--out", dir, ...fresh], `--out ${dir}: ${expected(dir, "units")}`)
  })

  it("sweep: refused in one line naming runs; nothing changes", () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, "sweep.json"), JSON.stringify({ format: MANIFEST_FORMAT, name: "sub-folder-files", quick: false }))
    fs.writeFileSync(path.join(dir, "runs"), "mine\n")
    expectRefused(dir, ["sweep", sweepSpec, "--out", dir], `Cannot sweep into ${dir}: ${expected(dir, "runs")}`)
  })

  // plot and report were left without the check: mkdir's EEXIST, or ENOTDIR named as a write that failed.
  it("plot and run: refused in one line naming a run's plots/; plot, a deep sweep's points/; nothing changes", () => {
    const dir = tmp()
    expect(distmt("run", "test/fixtures/tiny.spec.ts", "--out", dir).status).toBe(0)
    fs.writeFileSync(path.join(dir, "plots"), "mine\n")
    // run too: --fresh removes the plots distmt plot drew in plots/.
    for (const fresh of [[], ["--fresh"]]) expectRefused(dir, ["run", "test/fixtures/tiny.spec.ts", "--out", dir, ...fresh], `--out ${dir}: ${expected(dir, "plots")}`)
    expectRefused(dir, ["plot", dir], `Cannot plot ${dir}: ${expected(dir, "plots")}`)
    const sweep = deepSweepWithPointsFile()
    expectRefused(sweep, ["plot", sweep], `Cannot plot ${sweep}: ${expected(sweep, "points")}`)
  })

  it("report: refused in one line naming a sweep's runs/ or plots/, a deep sweep's points/, given or under the folder; nothing changes", () => {
    for (const sub of ["runs", "plots"]) {
      const parent = tmp()
      const dir = path.join(parent, "sweep")
      fs.mkdirSync(dir)
      fs.writeFileSync(path.join(dir, "sweep.json"), JSON.stringify({ format: MANIFEST_FORMAT, name: "sub-folder-files", quick: false, units: [] }))
      fs.writeFileSync(path.join(dir, sub), "mine\n")
      for (const given of [dir, parent]) expectRefused(dir, ["report", given], `Cannot report on ${dir}: ${expected(dir, sub)}`)
    }
    const sweep = deepSweepWithPointsFile()
    expectRefused(sweep, ["report", sweep], `Cannot report on ${sweep}: ${expected(sweep, "points")}`)
  })

  it("a deep run's units/ and a deep sweep's points/", async () => {
    const spec = await Effect.runPromise(loadSpec("specs/minatar.spec.ts", { quick: true }))
    const run = tmp()
    fs.writeFileSync(path.join(run, "summary.json"), JSON.stringify({ stage: "deep", complete: true, spec }))
    fs.writeFileSync(path.join(run, "units"), "mine\n")
    expect(folderProblem(run, spec)).toBe(expected(run, "units"))
    expect(folderProblem(run, spec, true)).toBe(expected(run, "units"))
    const sweep = tmp()
    fs.writeFileSync(path.join(sweep, "summary.json"), JSON.stringify({ stage: "deep-sweep", spec: spec.name, complete: false }))
    fs.writeFileSync(path.join(sweep, "points"), "mine\n")
    expect(sweepFolderProblem(sweep, spec)).toBe(expected(sweep, "points"))
  })
})

/**
 * A results folder whose units/ (a run's), runs/ (a sweep's) or points/ (a deep sweep's) is a file
 * instead of a folder: each command stopped with ENOTDIR's stack trace, after it had taken the
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

describe("a results folder whose sub-folder is a file", () => {
  it("run: refused in one line naming units, with or without --fresh; nothing changes", () => {
    const dir = tmp()
    expect(distmt("run", "test/fixtures/tiny.spec.ts", "--out", dir).status).toBe(0)
    fs.rmSync(path.join(dir, "units"), { recursive: true })
    fs.writeFileSync(path.join(dir, "units"), "mine\n")
    const before = folderFiles(dir)
    for (const fresh of [[], ["--fresh"]]) {
      const r = distmt("run", "test/fixtures/tiny.spec.ts", "--out", dir, ...fresh)
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(`--out ${dir}: ${expected(dir, "units")}`)
      expect(folderFiles(dir)).toEqual(before)
      expect(fs.readdirSync(dir).some((f) => f.startsWith("."))).toBe(false)
    }
  })

  it("sweep: refused in one line naming runs; nothing changes", () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, "sweep.json"), JSON.stringify({ format: MANIFEST_FORMAT, name: "sub-folder-files", quick: false }))
    fs.writeFileSync(path.join(dir, "runs"), "mine\n")
    const before = folderFiles(dir)
    const r = distmt("sweep", sweepSpec, "--out", dir)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`Cannot sweep into ${dir}: ${expected(dir, "runs")}`)
    expect(folderFiles(dir)).toEqual(before)
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

/**
 * The runnable example of docs/api.md (examples/api.ts) runs as a user runs it, from another
 * folder: it validates, runs into a folder, scans ε in memory and reports a bad override as a
 * typed error; run a second time, it resumes its folder instead of recomputing.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")

const example = (cwd: string) =>
  spawnSync(process.execPath, ["--import", pathToFileURL(path.join(root, "node_modules/tsx/dist/loader.mjs")).href, path.join(root, "examples/api.ts")], { cwd, encoding: "utf8", timeout: 180_000 })

describe("examples/api.ts", () => {
  it("runs, writes its folder, and resumes it on a second run", () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-example-"))
    const first = example(cwd)
    expect(first.status, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/^api-example: 2 tasks, separation/m)
    expect(first.stdout).toMatch(/ε = 0\.1: success 1, .* \(0 units resumed from runs\/api-example\)/)
    expect(first.stdout).toMatch(/refused \(OverrideError\): .*learner\.lamda/)
    expect(JSON.parse(fs.readFileSync(path.join(cwd, "runs/api-example/summary.json"), "utf8")).complete).toBe(true)
    const second = example(cwd)
    expect(second.status, second.stderr).toBe(0)
    expect(second.stdout).toMatch(/\(6 units resumed from runs\/api-example\)/)
  }, 240_000)
})

/**
 * tools/check-policies.mjs, the check written without distmt's code (README), pointed at a folder
 * that is not a linear run's (a sweep's, a deep run's, a typo): one line saying which file is
 * missing and what folder to give. It was Node's ENOENT stack trace.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const tool = path.resolve(import.meta.dirname, "..", "tools", "check-policies.mjs")

describe("check-policies on a folder without a run", () => {
  it("says so in one line, with exit code 2", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-check-"))
    fs.writeFileSync(path.join(dir, "sweep.json"), "{}")
    const r = spawnSync(process.execPath, [tool, dir], { encoding: "utf8" })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe("")
    expect(r.stderr).toBe(
      `check-policies: cannot read ${path.join(dir, "model.json")} (ENOENT): give the folder of a \`distmt run\` of a linear-stage spec, ` +
        "which holds model.json, policies.json and summary.json (a sweep's or a deep run's folder has no policy tables)\n"
    )
  })
})

/**
 * A write that fails mid-run (a full disk, a folder removed or replaced) ends the command in one line
 * naming the file as the user knows it and the system's reason: `cannot write DIR/results.csv: no
 * space left on device (ENOSPC)`. A run said `Unknown: FileSystem.writeAll (22)` (a descriptor, no
 * reason) or named the temporary copy, and a deep run's unit file ended it with a stack trace.
 * A full disk is made here by /dev/full (Linux) and by a unit file's name taken by a folder.
 */
import { spawnSync } from "node:child_process"
import { Effect } from "effect"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { writeAtomic, writeAtomicPieces, writeFailure } from "../src/report/files.ts"

const root = path.resolve(import.meta.dirname, "..")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd: root, encoding: "utf8", timeout: 60_000 })
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-write-failure-"))

/** A unit file's name taken by a folder: its write, aside then renamed, fails at the rename. */
const blockUnit = (dir: string, unit: string) => fs.mkdirSync(path.join(dir, "units", unit, "blocked"), { recursive: true })

/** One line naming the file and the system's reason, nothing of a temporary, a descriptor or a stack. */
const oneLine = (stderr: string, file: string) => {
  const line = stderr.trim().split("\n").at(-1)!
  expect(line).toMatch(new RegExp(`^cannot write ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: [a-z ]+ \\(E[A-Z]+\\)$`))
  expect(stderr).not.toMatch(/\.tmp|FileSystem\.| at |Unknown|Error:/)
}

describe("a write that fails", () => {
  it("names the file, not its temporary, and the reason", async () => {
    const file = path.join(tmp(), "gone", "summary.json")
    for (const write of [writeAtomic(file, "{}"), writeAtomicPieces(file, ["{", "}"])]) {
      const e = await Effect.runPromise(Effect.flip(write).pipe(Effect.provide(NodeServices.layer)))
      expect(e._tag).toBe("PlatformError")
      expect(e.message).toBe(`cannot write ${file}: no such file or directory (ENOENT)`)
    }
  })

  it.runIf(fs.existsSync("/dev/full"))("a full disk is called that", () => {
    let thrown: unknown
    try {
      fs.writeFileSync("/dev/full", "x")
    } catch (e) {
      thrown = e
    }
    expect(writeFailure(thrown, "runs/x/results.csv").message).toBe("cannot write runs/x/results.csv: no space left on device (ENOSPC)")
  })

  it("ends a linear run in one line, the folder marked incomplete", () => {
    const out = path.join(tmp(), "run")
    blockUnit(out, "distmt-seed0.json")
    const r = distmt("run", "test/fixtures/tiny.spec.ts", "--out", out)
    expect(r.status).toBe(1)
    oneLine(r.stderr, path.join(out, "units", "distmt-seed0.json"))
    expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete).toBe(false)
  })

  it("ends a deep run in one line, not a stack trace, the folder marked incomplete", () => {
    const out = path.join(tmp(), "deep")
    blockUnit(out, "distmt-seed0.json")
    const small = ["--set", "learner.framesPerAgent=200", "--set", "learner.dqn.replayStart=100", "--set", "baselines=[]"]
    const r = distmt("run", "specs/minatar.spec.ts", "--quick", ...small, "--out", out)
    expect(r.status).toBe(1)
    oneLine(r.stderr, path.join(out, "units", "distmt-seed0.json"))
    expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete).toBe(false)
  }, 60_000)
})

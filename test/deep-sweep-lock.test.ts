/**
 * A deep-stage sweep's folder has one writer at a time, as a linear sweep's does. It took no lock:
 * a second `distmt sweep` given the folder ran the points the first had not reached (refused only
 * at one the first held), each wrote the other's marker of completion over, and `distmt report`,
 * which takes the folder's lock, rewrote the table while a sweep wrote it.
 */
import { spawn, spawnSync } from "node:child_process"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { LOCK_FILE } from "../src/cli/outDir.ts"
import { sweepFolderProblem } from "../src/deep/distmt/sweep.ts"
import { deadPid } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")

it("a deep sweep into a folder another live sweep writes is refused with its PID, and writes nothing there", async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-sweep-lock-")), "sweep")
  const args = [cli, "sweep", "specs/minatar.spec.ts", "--quick", "--out", dir]
  const first = spawn(process.execPath, args, { cwd: root, stdio: "ignore" })
  const ended = new Promise<void>((resolve) => first.on("exit", () => resolve()))
  const lock = path.join(dir, LOCK_FILE)
  for (const deadline = Date.now() + 30_000; !(fs.existsSync(lock) && fs.readFileSync(lock, "utf8").trim() === String(first.pid));) {
    expect(Date.now() < deadline, "the first sweep takes its folder's lock").toBe(true)
    await new Promise((r) => setTimeout(r, 10))
  }
  const summary = () => fs.readFileSync(path.join(dir, "summary.json"), "utf8")
  const before = fs.existsSync(path.join(dir, "summary.json")) ? summary() : undefined
  const second = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" })
  first.kill("SIGKILL")
  await ended
  expect(second.status).toBe(1)
  expect(second.stderr.trim()).toBe(`Cannot sweep into ${dir}: another distmt process (PID ${first.pid}) is writing in this folder; wait for it to end, or give another folder`)
  expect(second.stdout).toBe("")
  if (before !== undefined) expect(summary()).toBe(before)

  // The killed sweep's lock, left alone or beside its files, does not make the folder anyone else's: it is resumed.
  const spec = await Effect.runPromise(loadSpec("specs/minatar.spec.ts", { quick: true }))
  expect(sweepFolderProblem(dir, spec)).toBeUndefined()
  const stopped = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-sweep-lock-"))
  fs.writeFileSync(path.join(stopped, LOCK_FILE), `${deadPid()}\n`)
  expect(sweepFolderProblem(stopped, spec)).toBeUndefined()
}, 60_000)

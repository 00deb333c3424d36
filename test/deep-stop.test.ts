/**
 * Ctrl-C during a deep run (docs/deep.md, "The files"): the run stops as the linear stage's does,
 * with exit code 130, its "interrupted" line and its lock released, and the same command resumes
 * it. It used to abort Node instead (exit 134, `FATAL ERROR: … napi_define_properties …
 * onnxruntime_binding.node`): the pool terminated its workers inside onnxruntime's native calls
 * (src/cli/workerPool.ts, src/deep/onnx/calls.ts).
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
// Twice the quick variant's frames: its three units run for seconds each, two at a time.
const args = (out: string, command = "run") => [command, "specs/minatar.spec.ts", "--quick", "--set", "learner.framesPerAgent=6000", "--out", out]

/**
 * Starts the run and sends it SIGINT once its progress line shows frames played: the line is drawn
 * as each unit starts (stderr is not a terminal), so that is when the third unit starts, the first
 * one finished and saved, and two units are training on the workers.
 */
const interrupted = (out: string, command = "run") =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args(out, command)], { cwd: root })
    let stderr = ""
    let sent = false
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
      const played = [...stderr.matchAll(/: ([\d,]+)\/[\d,]+ frames/g)].some((m) => m[1] !== "0")
      if (played && !sent) sent = child.kill("SIGINT")
    })
    child.stdout.resume()
    child.on("exit", (code, signal) => resolve({ code, signal, stderr }))
  })

it("a deep run stopped with SIGINT while units train ends as an interrupted run, and the same command resumes it", async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-stop-")), "run")
  const r = await interrupted(out)
  expect(r.stderr).not.toMatch(/FATAL|Aborted|terminate called/)
  expect([r.code, r.signal], r.stderr).toEqual([130, null])
  expect(r.stderr).toMatch(new RegExp(`interrupted: the finished units are saved in ${out}/; run again with --out ${out} to resume`))
  expect(fs.readdirSync(out).filter((f) => f.includes(".lock"))).toEqual([])
  expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete).toBe(false)

  const again = spawnSync(process.execPath, [cli, ...args(out)], { cwd: root, encoding: "utf8", timeout: 300_000 })
  expect(again.status, again.stderr).toBe(0)
  expect(again.stdout).toMatch(/resuming: [12] of 3 \(algorithm, seed\) units/)
  expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete).toBe(true)
}, 300_000)

it("a deep sweep stopped the same way says to run the sweep again, not its point alone", async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-stop-")), "sweep")
  const r = await interrupted(out, "sweep")
  expect([r.code, r.signal], r.stderr).toEqual([130, null])
  expect(r.stderr).toMatch(/interrupted: the finished units are saved in .*points\/agents=2\/; run the same `distmt sweep` command again to resume the sweep/)
  expect(r.stderr).not.toMatch(/run again with --out/)
}, 300_000)

/**
 * `distmt train-dqn` given its own earlier folder again (docs/deep.md, "Training": a run of the same
 * game is written again) and stopped part-way. summary.json is the mark of a finished run: the
 * earlier run's stood beside the new run's curve, so the folder read as a finished run of 300
 * frames and one seed while its curve was another run's. Also: the temporaries a killed run leaves
 * (each file is written aside, then renamed) do not make its folder someone else's files; and a
 * second run given a folder that a live run writes is refused with its PID, as run and sweep are.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"
import { LOCK_FILE } from "../src/cli/outDir.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const train = (out: string, ...args: Array<string>) => ["train-dqn", "--game", "breakout", "--out", out, ...args]

/** Runs `args`, killing it with SIGKILL as soon as its stderr matches `when`; resolves with whether it was killed. */
const killedWhen = (args: Array<string>, when: RegExp) =>
  new Promise<boolean>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ["ignore", "ignore", "pipe"] })
    let stderr = ""
    let killed = false
    child.stderr.on("data", (d) => {
      stderr += d
      if (!killed && when.test(stderr)) killed = child.kill("SIGKILL")
    })
    child.on("exit", () => resolve(killed))
  })

it("a train-dqn run written again over its folder and killed after a seed leaves no earlier summary.json beside its curve; rerun, it finishes", async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-train-faults-")), "dqn")
  expect(spawnSync(process.execPath, [cli, ...train(out, "--frames", "300")], { cwd: root }).status).toBe(0)
  expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).frames).toBe(300)

  // Killed once its first seed is done (its curve written), while the second trains.
  const again = train(out, "--frames", "4000", "--seeds", "2")
  const killed = await killedWhen(again, /seed 1: 4,000 frames/)
  const present = fs.readdirSync(out).sort()
  console.log(`killed: ${killed}; the folder holds [${present.join(", ")}]`)
  expect(fs.readFileSync(path.join(out, "curve.csv"), "utf8").split("\n")[0]).toMatch(/,seed_1,/)
  // Killed: no summary.json (the run is not finished). Ended first: the summary is this run's.
  if (present.includes("summary.json")) {
    expect(killed, "killed, yet a summary.json stands beside its curve").toBe(false)
    expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))).toMatchObject({ frames: 4000, seeds: [1, 2] })
  } else expect(killed).toBe(true)

  // What a run killed while writing leaves: a temporary of its own, taken as part of its folder and removed.
  fs.writeFileSync(path.join(out, "curve.csv.99999.3.tmp"), "frame,mean_ret")
  const rerun = spawnSync(process.execPath, [cli, ...again], { cwd: root, encoding: "utf8" })
  expect(rerun.status, rerun.stderr).toBe(0)
  expect(fs.readdirSync(out).sort()).toEqual(["curve.csv", "curve.svg", "summary.json"])
  expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))).toMatchObject({ frames: 4000, seeds: [1, 2] })
  expect(fs.readFileSync(path.join(out, "curve.csv"), "utf8").split("\n")[0]).toMatch(/,seed_1,seed_2,/)
}, 60_000)

it("a train-dqn run into a folder another live one writes is refused with its PID; once that one is killed, its lock is taken over", async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-train-faults-")), "dqn")
  // Long enough to outlast the second run's start; killed once that one is refused.
  const first = spawn(process.execPath, [cli, ...train(out, "--frames", "1000000")], { cwd: root, stdio: "ignore" })
  const ended = new Promise<void>((resolve) => first.on("exit", () => resolve()))
  const lock = path.join(out, LOCK_FILE)
  for (const deadline = Date.now() + 20_000; !(fs.existsSync(lock) && fs.readFileSync(lock, "utf8").trim() === String(first.pid));) {
    expect(Date.now() < deadline, "the first run takes the folder's lock").toBe(true)
    await new Promise((r) => setTimeout(r, 10))
  }
  const second = spawnSync(process.execPath, [cli, ...train(out, "--frames", "300")], { cwd: root, encoding: "utf8" })
  first.kill("SIGKILL")
  await ended
  expect(second.status).toBe(1)
  expect(second.stderr.trim()).toBe(
    `distmt train-dqn: --out ${out}: another distmt process (PID ${first.pid}) is writing in this folder; wait for it to end, or give another folder`
  )
  // The killed run's lock is stale: taken over, and released at the end.
  expect(fs.readFileSync(lock, "utf8").trim()).toBe(String(first.pid))
  const again = spawnSync(process.execPath, [cli, ...train(out, "--frames", "300")], { cwd: root, encoding: "utf8" })
  expect(again.status, again.stderr).toBe(0)
  expect(fs.readdirSync(out).sort()).toEqual(["curve.csv", "curve.svg", "summary.json"])
  expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))).toMatchObject({ frames: 300, seeds: [1] })
}, 60_000)

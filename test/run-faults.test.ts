/**
 * Issue 15, item 6 (for `run`): faults as tests. `run` is killed with SIGKILL at random moments of
 * writing its folder (the first files, the renames, the marker of completion); after each kill the folder must be
 * either complete (`summary.json` says `"complete": true` and every file is there) or marked
 * incomplete (`"complete": false`, or no result file at all), and a rerun into the same folder must
 * give the files of an uninterrupted run, apart from wall-clock times. The kill moments are drawn
 * afresh each time (ms after the folder appears) and printed, so a failure can be replayed with
 * DISTMT_FAULT_TIMES=ms,ms,ms. `sweep` is killed the same way in test/sweep-faults.test.ts.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"
import { withoutWallClock } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const SPEC = "test/fixtures/tiny.spec.ts"
const FILES = ["curves.csv", "model.json", "policies.json", "results.csv", "summary.json"]
const KILLS = 3
/** Kills land this many ms after the folder appears, at most. */
const WINDOW_MS = 120

const run = (out: string) => spawnSync(process.execPath, [cli, "run", SPEC, "--out", out], { cwd: root, encoding: "utf8", timeout: 60_000 })

/**
 * Starts `run` and kills it with SIGKILL `ms` after its folder appears (or lets it end first);
 * resolves when it has ended. Timed from the folder, not the start: start-up takes seconds and
 * varies with load, while the folder's files are all written within a few hundred ms of it.
 */
const runKilledAfter = (out: string, ms: number) =>
  new Promise<{ killed: boolean }>((resolve) => {
    const child = spawn(process.execPath, [cli, "run", SPEC, "--out", out], { cwd: root, stdio: "ignore" })
    let killed = false
    let timer: NodeJS.Timeout | undefined
    const poll = setInterval(() => {
      if (!fs.existsSync(out)) return
      clearInterval(poll)
      timer = setTimeout(() => {
        killed = child.kill("SIGKILL")
      }, ms)
    }, 2)
    child.on("exit", () => {
      clearInterval(poll)
      clearTimeout(timer)
      resolve({ killed })
    })
  })


it("a run killed at random moments leaves a folder complete or marked incomplete; a rerun gives the uninterrupted files", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-faults-"))
  const reference = path.join(tmp, "reference")
  const started = Date.now()
  expect(run(reference).status).toBe(0)
  const duration = Date.now() - started
  const times = process.env.DISTMT_FAULT_TIMES?.split(",").map(Number) ??
    // Within the time the folder is being written (its first file to the marker of completion, and a little after).
    Array.from({ length: KILLS }, () => Math.round(Math.random() * WINDOW_MS))
  console.log(`run took ${duration} ms; killing ${times.join(", ")} ms after the folder appears (replay: DISTMT_FAULT_TIMES=${times.join(",")})`)

  for (const [i, ms] of times.entries()) {
    const out = path.join(tmp, `killed-${i}`)
    const { killed } = await runKilledAfter(out, ms)
    const present = fs.existsSync(out) ? fs.readdirSync(out) : []
    const at = `killed ${ms} ms after the folder appeared (${killed ? "killed" : "had ended"}), folder holds [${present.join(", ")}]`
    console.log(at)
    if (present.includes("summary.json")) {
      const complete = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete
      expect(typeof complete, at).toBe("boolean")
      // Complete means every file is there, in its final form.
      if (complete) for (const f of FILES) expect(withoutWallClock(path.join(out, f)), `${at}: ${f}`).toBe(withoutWallClock(path.join(reference, f)))
    } else {
      // Without a summary.json no result file may stand as if it were one (only a lock or temporaries).
      expect(present.filter((f) => FILES.includes(f)), at).toEqual([])
    }
    const rerun = run(out)
    expect(rerun.status, `${at}; rerun: ${rerun.stderr}`).toBe(0)
    const after = fs.readdirSync(out).filter((f) => !f.endsWith(".lock") && !f.startsWith("."))
    // units/: each finished (algorithm, seed) unit, from which the rerun resumed (src/api/runFolder.ts).
    expect(after.sort(), at).toEqual([...FILES, "units"].sort())
    for (const f of FILES) expect(withoutWallClock(path.join(out, f)), `${at}: ${f}`).toBe(withoutWallClock(path.join(reference, f)))
  }
}, 60_000)

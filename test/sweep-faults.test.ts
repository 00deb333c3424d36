/**
 * Issue 15, item 6 (for `sweep`): faults as tests. One folder's `distmt sweep` is killed with
 * SIGKILL several times, each time at a random moment after it took the folder's lock (while units
 * run, between the renames of the tables, during the report), and resumed each time. After every
 * kill the folder is either complete (summary.json says `"complete": true`, and then every file is
 * the uninterrupted sweep's) or marked incomplete (no summary.json, or `"complete": false`); every
 * unit file present is whole and the uninterrupted sweep's. A unit saved before a kill is never run
 * again (same bytes, same modification time), each attempt counts every saved unit as finished, and
 * the last resume gives the uninterrupted sweep's files, each unit once. Wall-clock times apart.
 *
 * The kill moments are fractions of each attempt's expected time, from a seed drawn afresh each
 * time and printed: DISTMT_FAULT_SEED=<seed> draws the same fractions again (where they land
 * varies with the machine's load). Whatever the moments, the checks must hold.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, expect, it } from "vitest"
import { LOCK_FILE } from "../src/cli/outDir.ts"
import { make } from "../src/rng/Rng.ts"
import { deadPid, folderFiles, withoutWallClock } from "./folders.ts"
import { tinySweepSpec } from "./fixtures/tinySweepSpec.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const KILLS = 5
const PLANNED = 2 * 2 * 2 // agents values × seeds × algorithms

// The spec lives in specs/ so that `import ... from "distmt"` resolves as it does for users.
const specFile = path.join(root, "specs", `.sweep-faults-${process.pid}.spec.ts`)
fs.writeFileSync(specFile, tinySweepSpec("sweep-faults", "{ agents: [1, 2] }", ["independent"], { seeds: 2 }))
afterAll(() => fs.rmSync(specFile, { force: true }))

/** The report states wall-clock times in its prose and plots: compared by presence only. */
const isReport = (f: string) => /^(report\.(md|html)|plots[/\\].*)$/.test(f)

const runFiles = (dir: string) =>
  fs.existsSync(path.join(dir, "runs")) ? fs.readdirSync(path.join(dir, "runs")).filter((f) => f.endsWith(".json")).sort() : []

/**
 * Runs `distmt sweep` into `out` and kills it with SIGKILL `ms` after it holds the folder's lock
 * (its PID in .distmt.lock), unless it ends first. Timed from the lock, not the start: start-up
 * takes seconds and varies with load, while everything the sweep writes comes after the lock.
 * Resolves with whether it was killed, how long it held the lock, and its stdout.
 */
const sweepKilledAfter = (out: string, ms: number) =>
  new Promise<{ killed: boolean; held: number; stdout: string; code: number | null }>((resolve) => {
    const child = spawn(process.execPath, [cli, "sweep", specFile, "--out", out, "--jobs", "2"], {
      cwd: root,
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, CI: "true" }
    })
    let stdout = ""
    child.stdout.on("data", (d) => (stdout += d))
    let killed = false
    let lockedAt: number | undefined
    let timer: NodeJS.Timeout | undefined
    const poll = setInterval(() => {
      try {
        if (fs.readFileSync(path.join(out, LOCK_FILE), "utf8").trim() !== String(child.pid)) return
      } catch {
        return
      }
      clearInterval(poll)
      lockedAt = Date.now()
      if (Number.isFinite(ms)) timer = setTimeout(() => (killed = child.kill("SIGKILL")), ms)
    }, 2)
    child.on("exit", (code) => {
      clearInterval(poll)
      clearTimeout(timer)
      resolve({ killed, held: lockedAt === undefined ? 0 : Date.now() - lockedAt, stdout, code })
    })
  })

it("a sweep killed at random moments leaves a folder complete or marked incomplete; resumed, it gives the uninterrupted files", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-sweep-faults-"))
  const reference = path.join(tmp, "reference")
  const whole = await sweepKilledAfter(reference, Infinity)
  expect(whole.code).toBe(0)
  const expected = folderFiles(reference, isReport)
  expect(runFiles(reference)).toHaveLength(PLANNED)

  // What a writer killed anywhere leaves: its lock and temporaries in the folder, runs/ and plots/.
  fs.writeFileSync(path.join(reference, LOCK_FILE), `${deadPid()}\n`)
  for (const f of ["sweep.csv.99999.tmp", "runs/x.json.99999.tmp", "plots/gaps.svg.99999.tmp"]) fs.writeFileSync(path.join(reference, f), "half")
  // Run again, the complete folder is only rewritten (tables, report, marker), the leftovers removed.
  // The time that takes, and that of a unit, tell how long each attempt below will hold the lock.
  const tail = await sweepKilledAfter(reference, Infinity)
  expect(tail.stdout).toContain(`= ${PLANNED} runs; ${PLANNED} already finished`)
  expect(folderFiles(reference, isReport)).toEqual(expected)
  const perUnit = Math.max(whole.held - tail.held, 0) / PLANNED

  const seed = Number(process.env.DISTMT_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31))
  const rng = make(seed)
  // Each kill lands at a fraction of the time its attempt would hold the lock: anywhere among the
  // units left, the tables, the report and the marker.
  const fractions = Array.from({ length: KILLS }, () => rng.next())
  console.log(`lock held ${whole.held} ms, ${tail.held} ms rerun; kill fractions ${fractions.map((f) => f.toFixed(3)).join(", ")} (replay: DISTMT_FAULT_SEED=${seed})`)

  let out = path.join(tmp, "killed-0")
  // Each saved unit file as first seen: a resume must never write it again.
  const saved = new Map<string, { content: string; mtime: number }>()
  for (const [i, fraction] of [...fractions, Infinity].entries()) {
    const before = runFiles(out)
    const ms = Math.round(fraction * (tail.held + perUnit * (PLANNED - before.length)))
    const r = await sweepKilledAfter(out, ms)
    const present = fs.existsSync(out) ? fs.readdirSync(out).sort() : []
    const at = `attempt ${i} (seed ${seed}), ${r.killed ? `killed ${ms} ms after the lock` : "ended by itself"}, folder holds [${present.join(", ")}]`
    console.log(at)
    if (!r.killed) expect(r.code, at).toBe(0)
    // Nothing lost: every unit saved before this attempt counted as finished, when it got that far.
    const counted = new RegExp(`= ${PLANNED} runs; (\\d+) already finished`).exec(r.stdout)
    if (counted !== null) expect(Number(counted[1]), at).toBe(before.length)

    // Complete, with every file in its final form, or marked incomplete.
    const summary = present.includes("summary.json") ? JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) : undefined
    if (summary !== undefined) expect(typeof summary.complete, at).toBe("boolean")
    if (summary?.complete === true) expect(folderFiles(out, isReport), at).toEqual(expected)
    // Every unit file present is whole and the uninterrupted sweep's; one saved earlier is untouched.
    for (const f of runFiles(out)) {
      const file = path.join(out, "runs", f)
      expect(fs.existsSync(path.join(reference, "runs", f)), `${at}: ${f} is a planned unit`).toBe(true)
      expect(withoutWallClock(file), `${at}: ${f}`).toBe(withoutWallClock(path.join(reference, "runs", f)))
      const first = saved.get(f)
      const now = { content: fs.readFileSync(file, "utf8"), mtime: fs.statSync(file).mtimeMs }
      if (first === undefined) saved.set(f, now)
      else expect(now, `${at}: ${f} was run again`).toEqual(first)
    }
    // A sweep that finished before its kill: the next kills go to a new folder, so that they land among units too.
    if (!r.killed && i < KILLS) {
      expect(summary?.complete, at).toBe(true)
      out = path.join(tmp, `killed-${i + 1}`)
      saved.clear()
    }
  }

  // The last attempt was not killed: the uninterrupted sweep's files, each unit once.
  expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete).toBe(true)
  expect(folderFiles(out, isReport)).toEqual(expected)
  const rows = fs.readFileSync(path.join(out, "sweep.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(",").slice(0, 4).join(","))
  expect(new Set(rows).size).toBe(PLANNED)
  expect(rows).toHaveLength(PLANNED)
  expect(fs.readdirSync(out).filter((f) => f.startsWith("."))).toEqual([]) // the lock released, no claim left
}, 150_000)

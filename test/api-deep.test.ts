/**
 * The library API's `runDeep` (docs/api.md, "runDeep"): a deep-stage spec run from a script gives
 * the numbers `distmt run` writes (summary.json, results.csv's rows), with progress; into a folder
 * it writes the CLI's files and resumes them; a linear spec given to it, or a deep spec given to
 * `run`, is a typed error that says which function runs it.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Assignment, type DeepProgress, run, runDeep, runDeepEffect, sweep, validate } from "../src/index.ts"
import { deadPid, valueWithoutWallClock } from "./folders.ts"
import { folderProblem } from "../src/deep/distmt/runDeep.ts"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { compile } from "../src/spec/compile.ts"

const SPEC = "specs/minatar.spec.ts"
const asFile = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v)))

describe("runDeep", () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-api-deep-")), "run")

  it("runs the quick variant into a folder: the summary it returns is the summary.json it writes, with progress on the way", async () => {
    const seen: Array<DeepProgress> = []
    const r = await runDeep(SPEC, { quick: true, threads: 2, out, onProgress: (p) => seen.push(p) })
    expect(r.dir).toBe(out)
    expect(r.resumed).toBe(0)
    expect(r.summary.complete).toBe(true)
    expect(r.summary.algorithms.map((a) => a.algorithm)).toEqual(["distmt", "independent", "oracle"])
    expect(valueWithoutWallClock(asFile(r.summary))).toEqual(valueWithoutWallClock(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))))
    // One row per (agent, task) per unit, as results.csv has them (header aside).
    const lines = fs.readFileSync(path.join(out, "results.csv"), "utf8").trim().split("\n").length - 1
    expect(r.runs.reduce((n, run) => n + run.rows.length, 0)).toBe(lines)
    expect(seen.filter((p) => p.event === "unit-done").map((p) => p.unitsDone)).toEqual([1, 2, 3])
    // Each unit-done names the unit that finished, once each: with two at a time, the unit that
    // started last was named instead (one unit twice, another never).
    expect(seen.filter((p) => p.event === "unit-done").map((p) => p.unit).sort()).toEqual(["distmt · seed 0", "independent · seed 0", "oracle · seed 0"])
    expect(seen.filter((p) => p.event === "unit-started")).toHaveLength(3)
    const last = seen[seen.length - 1]
    expect(last.units).toBe(3)
    expect(last.frames).toBe(last.totalFrames)
    expect(last.totalFrames).toBe(3 * 4 * 3_000) // 3 units × 4 agents × 3,000 frames (the quick variant)
    // Every learner of the quick variant trains.
    expect(r.warnings).toEqual([])
  }, 300_000)

  // The CLI printed it and validate() returned it; runDeep() said nothing of it.
  it("returns the warning of an independent baseline that never trains, in the words the CLI prints (test/deep-run.test.ts)", async () => {
    const r = await runDeep(SPEC, { quick: true, threads: 2, set: { "learner.framesPerAgent": 1000 } })
    expect(r.warnings).toHaveLength(1)
    expect(r.warnings[0]).toMatch(/^the independent baseline never trains: its agents meet all 4 tasks, and the 250 frames of each instance .*learner\.dqn\.replayStart \(500\)/)
  }, 300_000)

  it("resumes the folder: every unit read back, none run, the same rows", async () => {
    const before = fs.readFileSync(path.join(out, "results.csv"), "utf8")
    const r = await runDeep(SPEC, { quick: true, threads: 1, out })
    expect(r.resumed).toBe(3)
    expect(fs.readFileSync(path.join(out, "results.csv"), "utf8")).toBe(before)
  }, 300_000)

  it("refuses the folder of another spec's run, writing nothing there", async () => {
    const before = fs.readFileSync(path.join(out, "summary.json"), "utf8")
    const e = await Effect.runPromise(Effect.flip(runDeepEffect(SPEC, { quick: true, seeds: 2, out })))
    expect(e._tag).toBe("DeepOutError")
    // Named as run() names a folder, `DIR: …` (it said `out DIR: …`).
    expect(e.message.startsWith(`${out}: it holds a deep run of another spec: `)).toBe(true)
    expect(fs.readFileSync(path.join(out, "summary.json"), "utf8")).toBe(before)
  })

  it("with fresh, refuses a folder of other files or of a linear run as well, and deletes nothing there", async () => {
    const mine = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-api-deep-mine-"))
    fs.writeFileSync(path.join(mine, "results.csv"), "important\n")
    const linear = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-api-deep-linear-"))
    fs.writeFileSync(path.join(linear, "summary.json"), JSON.stringify({ complete: true, spec: { name: "chain" } }))
    fs.writeFileSync(path.join(linear, "results.csv"), "rows\n")
    for (const [dir, reason] of [[mine, /holds other files/], [linear, /linear-stage run/]] as const) {
      const e = await Effect.runPromise(Effect.flip(runDeepEffect(SPEC, { quick: true, fresh: true, out: dir })))
      expect(e._tag).toBe("DeepOutError")
      expect(e.message).toMatch(reason)
    }
    expect(fs.readFileSync(path.join(mine, "results.csv"), "utf8")).toBe("important\n")
    expect(fs.readdirSync(linear).sort()).toEqual(["results.csv", "summary.json"])
    // A deep run of another spec is what fresh starts over (the test above refuses it without).
    expect(folderProblem(out, { ...JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).spec, seeds: 9 }, true)).toBeUndefined()
  })

  it("resumes a folder left by a run stopped before its first unit (its lock and units/ only), and refuses one with more", async () => {
    const stopped = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-api-deep-stopped-"))
    fs.writeFileSync(path.join(stopped, ".distmt.lock"), `${deadPid()}\n`)
    fs.mkdirSync(path.join(stopped, "units"))
    fs.writeFileSync(path.join(stopped, "summary.json.99999.1.tmp"), "half")
    // summary.json, with the spec and marked incomplete, is there before the first unit has run.
    let first: unknown
    const onProgress = () => {
      if (first !== undefined) return
      const file = path.join(stopped, "summary.json")
      first = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : null
    }
    expect(folderProblem(stopped, (await runDeep(SPEC, { quick: true, out: stopped, onProgress })).spec)).toBeUndefined()
    expect(first).toMatchObject({ complete: false, spec: { name: expect.any(String) } })
    expect(JSON.parse(fs.readFileSync(path.join(stopped, "summary.json"), "utf8")).complete).toBe(true)
    const mixed = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-api-deep-mixed-"))
    fs.writeFileSync(path.join(mixed, ".distmt.lock"), `${deadPid()}\n`)
    fs.writeFileSync(path.join(mixed, "notes.7.1.tmp"), "mine")
    await expect(runDeep(SPEC, { quick: true, out: mixed })).rejects.toMatchObject({ _tag: "DeepOutError", message: expect.stringMatching(/holds other files/) })
  }, 300_000)

  it("says which function runs which spec", async () => {
    const linear = await Effect.runPromise(Effect.flip(runDeepEffect("specs/linear-chain.spec.ts")))
    expect(linear._tag).toBe("NotDeepSpec")
    expect(linear.message).toMatch(/not a deep-stage spec .*run\(\)/)
    await expect(run(SPEC)).rejects.toMatchObject({ _tag: "DeepStageSpec", message: expect.stringMatching(/runDeep\(\)/) })
  })

  it("refuses a sweep of a deep spec, naming the CLI's sweep; the linear compile names what runs it", async () => {
    // Was a SpecError saying that the library API runs linear-stage specs only.
    await expect(sweep(SPEC, { quick: true })).rejects.toMatchObject({ _tag: "DeepStageSpec", message: expect.stringMatching(/sweep\(\).*npx distmt sweep/) })
    const decoded = await Effect.runPromise(loadSpec(SPEC))
    const e = await Effect.runPromise(Effect.flip(compile(decoded, SPEC)))
    expect(e.issues[0].message).toMatch(/distmt sweep.*runDeep\(\)/)
    expect(e.issues[0].message).not.toMatch(/for now/)
  })

  it("validate of a deep spec counts its sweep points, and leaves out the linear stage's fields", async () => {
    const v = await validate(SPEC)
    // Was points: 1, and dim, horizon, beta and a cost of 0 that are not the deep stage's.
    expect([v.points, v.quickPoints]).toEqual([4, 2])
    expect(v.deep).toMatchObject({ framesPerAgent: 20_000, games: ["breakout", "space_invaders"], units: 6 })
    for (const field of ["dim", "horizon", "beta", "cost"]) expect(field in v, field).toBe(false)
    // Every point is decoded, as the sweep decodes it before running anything; a bad value is named at its axis, as a linear sweep's is.
    await expect(validate(SPEC, { set: { sweep: { agents: [5, 0] } } })).rejects.toMatchObject({ _tag: "SpecError", issues: [{ path: "sweep.agents[1]" }] })
    // Two equal values of an axis were two points of one folder (points/agents=5), run twice; refused as the linear sweep refuses them.
    await expect(validate(SPEC, { set: { sweep: { agents: [5, 10, 5] } } })).rejects.toMatchObject({
      _tag: "SpecError",
      issues: [{ path: "sweep.agents[2]", message: "expected distinct values: the same as sweep.agents[0]" }]
    })
    // Two builders' values of one kind are named alike (points/assignment=Random): the second point ran
    // into the first one's folder, was refused there, and the sweep ended halfway. Values of two kinds are fine.
    const random = [Assignment.random(1), Assignment.random(2)]
    await expect(validate(SPEC, { set: { sweep: { assignment: random } } })).rejects.toMatchObject({
      _tag: "SpecError",
      issues: [{
        path: "sweep.assignment[1]",
        message: "expected a value of another kind than sweep.assignment[0] (both Random): a deep sweep names a point's folder by the kind alone " +
          "(points/assignment=Random); sweep a numeric field inside it instead (sweep: { \"assignment.…\": [...] })"
      }]
    })
    expect((await validate(SPEC, { set: { sweep: { assignment: [Assignment.partition(), random[1]] } } })).points).toBe(2)
  })

  it("an abort rejects with Interrupted, saying where the finished units are; the same call resumes them", async () => {
    // Was Effect's untagged "All fibers interrupted without error". One unit at a time, in this
    // process: the worker threads' own interruption is src/cli/workerPool.ts's.
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-api-deep-abort-")), "run")
    const stop = new AbortController()
    const options = { quick: true, threads: 1, out: dir }
    const e = await runDeep(SPEC, { ...options, signal: stop.signal, onProgress: (p) => p.event === "unit-done" && stop.abort() }).catch((e: unknown) => e)
    expect(e).toMatchObject({ _tag: "Interrupted", message: `runDeep() interrupted: the units finished so far are saved in ${dir}/; call runDeep() again with the same spec and options (without fresh) to resume them` })
    expect((await runDeep(SPEC, options)).resumed).toBe(1)
  }, 300_000)

  it("refuses a threads option that is not a whole number from 1 to 64 or \"auto\"", async () => {
    for (const threads of [0, 1.5, Number.NaN]) {
      await expect(runDeep(SPEC, { quick: true, threads })).rejects.toMatchObject({ _tag: "OverrideError", message: expect.stringMatching(/^threads: expected/) })
    }
  })
})

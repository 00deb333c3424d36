/**
 * Issue 13, item 4: resumable runs. Every finished (algorithm, seed) unit is saved losslessly to
 * DIR/units/; `distmt run --out DIR` into a folder holding a run of the same spec resumes it, and
 * the result files are then those of an uninterrupted run (wall-clock times apart). A spec or an
 * override that differs is refused in one line naming the difference, and the folder is left as
 * it was; `--fresh` starts over. The unit codec round-trips every field of a run, and any plain
 * data a later field may hold.
 */
import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import tiny from "./fixtures/tiny.spec.ts"
import { decodeLossless, encodedPieces, encodeLossless } from "../src/api/codec.ts"
import { prepareUnits, writeUnit } from "../src/api/runFolder.ts"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { run } from "../src/index.ts"
import { runAlgorithm } from "../src/run/runExperiment.ts"
import { compile } from "../src/spec/compile.ts"
import { Features } from "../src/spec/Spec.ts"
import { folderFiles } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })
const SPEC = "test/fixtures/tiny.spec.ts"
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-resume-"))

const unitFiles = (dir: string) => (fs.existsSync(path.join(dir, "units")) ? fs.readdirSync(path.join(dir, "units")).sort() : [])

describe("resuming a run", () => {
  const reference = tmp()
  const args = ["--threads", "1", "--seeds", "3", "--set", "epsilon=0.25"]

  it("a run interrupted after its first unit resumes there and writes the uninterrupted run's files", async () => {
    expect(distmt("run", SPEC, "--out", reference, ...args).status).toBe(0)
    expect(unitFiles(reference)).toEqual(["distmt-seed0.json", "distmt-seed1.json", "distmt-seed2.json"])
    // Interrupted through the API's signal as soon as the first unit is saved.
    const dir = path.join(tmp(), "run")
    const stop = new AbortController()
    const interrupted = await run(SPEC, {
      out: dir,
      threads: 1,
      seeds: 3,
      set: { epsilon: 0.25 },
      signal: stop.signal,
      onProgress: (p) => p.event === "unit-done" && stop.abort()
    }).then(() => "finished", () => "interrupted")
    expect(interrupted).toBe("interrupted")
    expect(unitFiles(dir)).toEqual(["distmt-seed0.json"])
    expect(JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8")).complete).toBe(false)
    const resumed = distmt("run", SPEC, "--out", dir, ...args)
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain("resuming: 1 of 3 (algorithm, seed) units already finished in this folder")
    expect(resumed.stderr).not.toMatch(/distmt · seed 0/) // the finished unit is not run again
    expect(folderFiles(dir)).toEqual(folderFiles(reference))
  })

  it("a run killed (SIGKILL) once its first unit is saved resumes to the same files", async () => {
    const many = ["--threads", "1", "--seeds", "12"]
    const whole = tmp()
    expect(distmt("run", SPEC, "--out", whole, ...many).status).toBe(0)
    const dir = path.join(tmp(), "killed")
    const saved = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [cli, "run", SPEC, "--out", dir, ...many], { cwd: root, stdio: "ignore" })
      const poll = setInterval(() => {
        if (unitFiles(dir).some((f) => f.endsWith(".json"))) {
          clearInterval(poll)
          child.kill("SIGKILL")
        }
      }, 2)
      child.on("exit", () => {
        clearInterval(poll)
        resolve(unitFiles(dir).filter((f) => f.endsWith(".json")).length)
      })
    })
    expect(saved).toBeGreaterThan(0)
    expect(saved, "the run was killed before its end").toBeLessThan(12)
    const resumed = distmt("run", SPEC, "--out", dir, ...many)
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain(`resuming: ${saved} of 12`)
    expect(folderFiles(dir)).toEqual(folderFiles(whole))
  })

  it("a complete run given again runs nothing and rewrites the same files", () => {
    const dir = tmp()
    fs.cpSync(reference, dir, { recursive: true })
    const again = distmt("run", SPEC, "--out", dir, ...args)
    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout).toContain("resuming: 3 of 3")
    expect(again.stderr).not.toMatch(/task instances/)
    expect(folderFiles(dir)).toEqual(folderFiles(reference))
  })

  it("another spec or override is refused in one line naming the difference, and the folder is left as it was", () => {
    const dir = tmp()
    fs.cpSync(reference, dir, { recursive: true })
    const before = folderFiles(dir)
    const mtimes = fs.readdirSync(dir).map((f) => fs.statSync(path.join(dir, f)).mtimeMs)
    const r = distmt("run", SPEC, "--out", dir, "--threads", "1", "--seeds", "3", "--set", "epsilon=0.2")
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`spec differs from the run in ${dir}: epsilon 0.25 (folder) vs 0.2 (now); use --fresh or another --out`)
    const two = distmt("run", SPEC, "--out", dir, "--threads", "1")
    expect(two.stderr.trim()).toBe(`spec differs from the run in ${dir}: epsilon 0.25 (folder) vs 0.3 (now), seeds 3 (folder) vs 1 (now); use --fresh or another --out`)
    expect(folderFiles(dir)).toEqual(before)
    expect(fs.readdirSync(dir).map((f) => fs.statSync(path.join(dir, f)).mtimeMs)).toEqual(mtimes)
    // Other threads are the same run: resumed, not refused.
    expect(distmt("run", SPEC, "--out", dir, ...args.slice(2), "--threads", "2").stdout).toContain("resuming: 3 of 3")
  })

  it("--fresh starts over: the earlier units go, the new spec's are written", () => {
    const dir = tmp()
    fs.cpSync(reference, dir, { recursive: true })
    const r = distmt("run", SPEC, "--out", dir, "--threads", "1", "--set", "epsilon=0.2", "--fresh")
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).not.toContain("resuming")
    expect(unitFiles(dir)).toEqual(["distmt-seed0.json"])
    const summary = JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8"))
    expect([summary.spec.epsilon, summary.spec.seeds, summary.complete]).toEqual([0.2, 1, true])
  })

  // A unit file edited by hand but well formed was trusted: its numbers went into the tables.
  it("a unit file edited since it was written is run again, said in one line; one only rewritten the same is read back", () => {
    const whole = tmp()
    expect(distmt("run", SPEC, "--out", whole, ...args).status).toBe(0)
    const dir = tmp()
    fs.cpSync(whole, dir, { recursive: true })
    const unit = path.join(dir, "units", "distmt-seed1.json")
    const file = JSON.parse(fs.readFileSync(unit, "utf8"))
    // Parsed and written again unchanged: the same text, trusted.
    fs.writeFileSync(unit, JSON.stringify(file) + "\n")
    expect(distmt("run", SPEC, "--out", dir, ...args).stdout).toContain("resuming: 3 of 3")
    file.run.rows[0].gap = file.run.rows[0].gap + 0.5
    fs.writeFileSync(unit, JSON.stringify(file) + "\n")
    const again = distmt("run", SPEC, "--out", dir, ...args)
    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout).toContain("resuming: 2 of 3")
    const told = again.stdout.split("\n").filter((line) => line.includes("units/distmt-seed1.json"))
    expect(told).toEqual(["running again 1 unit whose file was changed since it was written (its sha256 no longer matches): units/distmt-seed1.json"])
    for (const f of ["results.csv", "curves.csv", "policies.json"]) {
      expect(fs.readFileSync(path.join(dir, f), "utf8")).toBe(fs.readFileSync(path.join(whole, f), "utf8"))
    }
  })

  it("the library API's run names such a unit file in rerun", async () => {
    const dir = tmp()
    await run(SPEC, { out: dir })
    expect((await run(SPEC, { out: dir })).rerun).toEqual([])
    const unit = path.join(dir, "units", "distmt-seed0.json")
    fs.writeFileSync(unit, fs.readFileSync(unit, "utf8").replace(`"registered":2`, `"registered":3`))
    const again = await run(SPEC, { out: dir })
    expect([again.rerun, again.resumed]).toEqual([["units/distmt-seed0.json"], 0])
  })

  it("a spec whose function computes other tables (same fields) is refused", async () => {
    const dir = path.join(tmp(), "tables")
    const features = (scale: number) => Features.custom(4, function phi(s: number, a: number) {
      const v = [0, 0, 0, 0]
      v[s * 2 + a] = scale
      return v
    })
    await run({ ...tiny, features: features(1) }, { out: dir })
    const e = await run({ ...tiny, features: features(0.5) }, { out: dir }).catch((e: unknown) => e)
    expect(e).toMatchObject({ _tag: "ResumeError" })
    expect((e as Error).message).toMatch(new RegExp(`^spec differs from the run in ${dir}: its distmt seed 0 was run on other tables .*; pass fresh: true, or another out$`))
  })
})

describe("the unit codec", () => {
  it("round-trips a real run, every field (policies, NaN, undefined, curves) equal", async () => {
    const c = await Effect.runPromise(Effect.flatMap(loadSpec(SPEC), (s) => compile(s, SPEC)))
    const unit = await Effect.runPromise(runAlgorithm(c, "distmt", 0))
    // A missing policy's row (NaN values, an empty table) and fields a later version may add.
    const withExtras = {
      ...unit,
      rows: [...unit.rows, { ...unit.rows[0], slot: undefined, role: undefined, vPi: Number.NaN, gap: Number.NaN, actions: new Int32Array(0) }],
      extra: [{ phase: "identify", lower: -0, upper: Number.POSITIVE_INFINITY, values: new Float64Array([1.5, Number.NaN]) }]
    }
    const back = decodeLossless(JSON.parse(JSON.stringify(encodeLossless(withExtras))))
    expect(back).toStrictEqual(withExtras)
    expect(unit.rows.every((r) => r.actions instanceof Int32Array && r.actions.length > 0)).toBe(true)
  })

  it("round-trips any plain data: NaN, ±Infinity, -0, undefined, typed arrays, a `$` key", () => {
    fc.assert(
      fc.property(fc.anything({ withTypedArray: true, withBigInt: false, withBoxedValues: false, withMap: false, withSet: false, withDate: false, withNullPrototype: false, withSparseArray: false }), (value) => {
        expect(decodeLossless(JSON.parse(JSON.stringify(encodeLossless(value))))).toStrictEqual(value)
      }),
      { numRuns: 300 }
    )
    expect(decodeLossless(JSON.parse(JSON.stringify(encodeLossless({ $: "NaN", x: [-0] }))))).toStrictEqual({ $: "NaN", x: [-0] })
  })

  it("writes in pieces the text it would write at once (unit files are written row by row)", async () => {
    const whole = (value: unknown) => JSON.stringify(encodeLossless(value))
    const pieces = (value: unknown, depth: number) => [...encodedPieces(value, depth)].join("")
    fc.assert(
      fc.property(
        fc.anything({ withTypedArray: true, withBigInt: false, withBoxedValues: false, withMap: false, withSet: false, withDate: false, withNullPrototype: false, withSparseArray: true }),
        fc.integer({ min: 0, max: 4 }),
        (value, depth) => {
          expect(pieces(value, depth)).toBe(whole(value))
        }
      ),
      { numRuns: 300 }
    )
    const c = await Effect.runPromise(Effect.flatMap(loadSpec(SPEC), (s) => compile(s, SPEC)))
    const unit = await Effect.runPromise(runAlgorithm(c, "distmt", 0))
    expect(pieces({ $: 1, run: unit, tags: [{ $: "x" }, [Number.NaN, undefined, -0]] }, 3)).toBe(whole({ $: 1, run: unit, tags: [{ $: "x" }, [Number.NaN, undefined, -0]] }))
    expect(pieces({ format: "f", run: unit }, 3)).toBe(whole({ format: "f", run: unit }))
    // Written through writeUnit: one line, the unit as encodeLossless and JSON.stringify write it.
    const dir = tmp()
    prepareUnits(dir, false)
    await Effect.runPromise(writeUnit(dir, c, unit).pipe(Effect.provide(NodeServices.layer)))
    const text = fs.readFileSync(path.join(dir, "units", "distmt-seed0.json"), "utf8")
    const file = JSON.parse(text)
    // The object, and last the SHA-256 of its text before that field (a hand edit is run again).
    const body = JSON.stringify({ format: file.format, key: file.key, algorithm: "distmt", seed: 0, run: encodeLossless(unit) }).slice(0, -1)
    expect(text).toBe(`${body},"sha256":"${createHash("sha256").update(body).digest("hex")}"}\n`)
    expect(decodeLossless(file.run)).toStrictEqual(unit)
  })
})

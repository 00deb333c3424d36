/**
 * A run's units/ file and a sweep's runs/ file that parse as JSON, have the right format and key,
 * but whose run is damaged (a row that is null, a certificate missing, a gap that is text, the
 * traffic gone). They were trusted: a resumed `distmt run` then failed with a bare TypeError inside
 * the tables after rewriting its summary.json (or, for a gap that is text, wrote "abc" into
 * results.csv), and `distmt report` and a resumed `distmt sweep` failed the same way. Such a file is
 * now what a file that does not parse always was (src/report/runShape.ts): its unit runs again, and a
 * report counts it unfinished. A deep run's unit file, which has no format or key, failed even when
 * cut short; it now runs again too, and is written anew (src/deep/distmt/unitFiles.ts).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { decodeLossless } from "../src/api/codec.ts"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { isUnitRun } from "../src/report/runShape.ts"
import { parseRunFile, runFileJson } from "../src/report/sweepFiles.ts"
import { runAlgorithm } from "../src/run/runExperiment.ts"
import type { SweepUnit } from "../src/run/sweepPlan.ts"
import { compile } from "../src/spec/compile.ts"

const root = path.resolve(import.meta.dirname, "..")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })
const SPEC = "test/fixtures/tiny.spec.ts"
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-damaged-"))

type Json = Record<string, any>

/** Each damage, done to a run as its file holds it (JSON), in place. */
const DAMAGES: ReadonlyArray<readonly [string, (run: Json) => void]> = [
  ["a row that is null", (run) => {
    run.rows[0] = null
  }],
  ["a row without its certificate", (run) => {
    delete run.rows[0].certificate
  }],
  ["a gap that is text", (run) => {
    run.rows[0].gap = "abc"
  }],
  ["no traffic", (run) => {
    delete run.traffic
  }],
  ["rows that are not a list", (run) => {
    run.rows = { 0: run.rows[0] }
  }]
]

describe("a resumed run's damaged unit file", () => {
  const reference = tmp()
  const args = ["--threads", "1", "--seeds", "2"]
  beforeAll(() => {
    expect(distmt("run", SPEC, "--out", reference, ...args).status).toBe(0)
  })

  it.each(DAMAGES)("%s: the unit runs again, the files are the undamaged run's", (_label, damage) => {
    const dir = tmp()
    fs.cpSync(reference, dir, { recursive: true })
    const unit = path.join(dir, "units", "distmt-seed1.json")
    const file = JSON.parse(fs.readFileSync(unit, "utf8"))
    damage(file.run)
    // Without its digest, as a file written before digests: the run's shape is what refuses it.
    delete file.sha256
    fs.writeFileSync(unit, JSON.stringify(file))
    const again = distmt("run", SPEC, "--out", dir, ...args)
    expect(again.status, again.stderr).toBe(0)
    expect(again.stderr).not.toMatch(/TypeError/)
    expect(again.stdout).toContain("resuming: 1 of 2")
    for (const f of ["results.csv", "curves.csv", "policies.json"]) {
      expect(fs.readFileSync(path.join(dir, f), "utf8")).toBe(fs.readFileSync(path.join(reference, f), "utf8"))
    }
    expect(isUnitRun(decodeLossless(JSON.parse(fs.readFileSync(unit, "utf8")).run))).toBe(true)
  })

  it("a unit file of another seed's run (its key kept) runs again too", () => {
    const dir = tmp()
    fs.cpSync(reference, dir, { recursive: true })
    const unit = path.join(dir, "units", "distmt-seed1.json")
    const seed0 = JSON.parse(fs.readFileSync(path.join(dir, "units", "distmt-seed0.json"), "utf8"))
    fs.writeFileSync(unit, JSON.stringify({ ...JSON.parse(fs.readFileSync(unit, "utf8")), run: seed0.run, sha256: undefined }))
    const again = distmt("run", SPEC, "--out", dir, ...args)
    expect(again.stdout).toContain("resuming: 1 of 2")
    expect(fs.readFileSync(path.join(dir, "results.csv"), "utf8")).toBe(fs.readFileSync(path.join(reference, "results.csv"), "utf8"))
  })
})

describe("a sweep's damaged run file", async () => {
  const c = await Effect.runPromise(Effect.flatMap(loadSpec(SPEC), (s) => compile(s, SPEC)))
  const unit = { point: { index: 0, values: {} }, key: "k" } as unknown as SweepUnit
  // independent's rows have no entry and no identification (null in the file).
  const texts = [runFileJson(unit, await Effect.runPromise(runAlgorithm(c, "distmt", 0))), runFileJson(unit, await Effect.runPromise(runAlgorithm(c, "independent", 0)))]

  it("an undamaged one is read, with its absent fields as null or left out (as JSON.stringify leaves out undefined)", () => {
    for (const text of texts) {
      expect(parseRunFile(text, "k")?.run.rows.length).toBeGreaterThan(0)
      const file = JSON.parse(text)
      for (const row of file.run.rows) for (const k of ["slot", "entry", "role", "identificationCorrect"]) if (row[k] === null) delete row[k]
      expect(parseRunFile(JSON.stringify(file), "k")?.run.rows).toEqual(parseRunFile(text, "k")?.run.rows)
    }
  })

  it.each(DAMAGES)("%s: unfinished, not a TypeError", (_label, damage) => {
    for (const text of texts) {
      const file = JSON.parse(text)
      damage(file.run)
      expect(parseRunFile(JSON.stringify(file), "k")).toBeUndefined()
    }
  })
})

describe("a resumed deep run's damaged unit file", () => {
  // A deep unit file was read as it was: a truncated one failed the run with a bare SyntaxError,
  // `null` or a row without its certificate with a TypeError, `{}` inside the tables.
  const reference = tmp()
  const args = ["specs/minatar.spec.ts", "--quick", "--set", "learner.framesPerAgent=600"]
  beforeAll(() => {
    expect(distmt("run", ...args, "--out", reference).status).toBe(0)
  })
  const damages: ReadonlyArray<readonly [string, (text: string) => string]> = [
    ["cut short", (text) => text.slice(0, 200)],
    ["null", () => "null"],
    ["an empty object", () => "{}"],
    ["a row without its certificate", (text) => {
      const run = JSON.parse(text)
      delete run.rows[0].certificate
      return JSON.stringify(run)
    }]
  ]

  it.each(damages)("%s: the unit runs again and is written anew, the files are the undamaged run's", (_label, damage) => {
    const dir = tmp()
    fs.cpSync(reference, dir, { recursive: true })
    const unit = path.join(dir, "units", "distmt-seed0.json")
    fs.writeFileSync(unit, damage(fs.readFileSync(unit, "utf8")))
    const again = distmt("run", ...args, "--out", dir)
    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout).toContain("resuming: 2 of 3")
    for (const f of ["results.csv", "curves.csv"]) expect(fs.readFileSync(path.join(dir, f), "utf8")).toBe(fs.readFileSync(path.join(reference, f), "utf8"))
    // Whole again: a third run resumes every unit.
    expect(distmt("run", ...args, "--out", dir).stdout).toContain("resuming: 3 of 3")
  })

  it("edited by hand but well formed: its digest no longer matches, so the unit runs again, and the run says so", () => {
    const dir = tmp()
    fs.cpSync(reference, dir, { recursive: true })
    const unit = path.join(dir, "units", "distmt-seed0.json")
    const run = JSON.parse(fs.readFileSync(unit, "utf8"))
    expect(run.sha256).toMatch(/^[0-9a-f]{64}$/)
    run.rows[0].learningEpisodes += 1 // a number of the run's own, changed; key order and digest kept
    fs.writeFileSync(unit, JSON.stringify(run))
    const again = distmt("run", ...args, "--out", dir)
    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout).toContain("resuming: 2 of 3")
    expect(again.stdout).toContain("running again 1 unit whose file was changed since it was written (its sha256 no longer matches): units/distmt-seed0.json")
    for (const f of ["results.csv", "curves.csv"]) expect(fs.readFileSync(path.join(dir, f), "utf8")).toBe(fs.readFileSync(path.join(reference, f), "utf8"))
    expect(distmt("run", ...args, "--out", dir).stdout).toContain("resuming: 3 of 3")
  })
})

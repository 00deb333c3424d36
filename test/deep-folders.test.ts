/**
 * What a deep run or a deep sweep says of an --out folder it refuses (docs/deep.md, "The files"):
 * the refusal names what the folder holds. Every folder whose summary.json was not a deep run's was
 * called "a linear-stage run", a deep sweep's and a train-dqn run's too; and the sweep called every
 * folder it refused "a run, or a linear-stage sweep", whatever it held. These folders are made by
 * hand, as each writer leaves them (their marker files), so no run is needed. Also: report and plot
 * given a folder of another kind name what it holds.
 */
import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { folderProblem } from "../src/deep/distmt/runDeep.ts"
import { sweepFolderProblem } from "../src/deep/distmt/sweep.ts"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { run, runDeepEffect } from "../src/index.ts"
import { runFolderProblem } from "../src/api/runFolder.ts"
import tiny from "./fixtures/tiny.spec.ts"
import { folderFiles } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })

const folder = (files: Record<string, string>): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-folders-"))
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
  return dir
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n"

// The marker files each kind of results folder has (src/deep/distmt/sweep.ts, src/deep/train.ts,
// src/run/, src/cli/sweep.ts), with only the fields that tell them apart.
const deepSweep = () => folder({ "summary.json": json({ stage: "deep-sweep", spec: { name: "minatar" }, complete: true, points: [] }) })
const deepRun = () => folder({ "summary.json": json({ stage: "deep", complete: true, spec: { name: "minatar" } }), "results.csv": "x\n" })
const trainDqn = () => folder({ "summary.json": json({ game: "breakout", frames: 200, seeds: [1], engine: "onnx", config: { batchSize: 32 } }), "curve.csv": "x\n" })
const linearRun = () => folder({ "summary.json": json({ spec: { name: "chain" }, complete: true, algorithms: {} }), "results.csv": "x\n" })
const linearSweep = () => folder({ "summary.json": json({ source: "specs/scaling.spec.ts", name: "scaling", complete: true }), "sweep.json": "{}\n" })
const otherFiles = () => folder({ "summary.json": json({ mine: true }) })

describe("deep --out refusals name what the folder holds", async () => {
  const spec = await Effect.runPromise(loadSpec("specs/minatar.spec.ts", { quick: true }))

  it("a deep run refuses a deep sweep's, a train-dqn run's, a linear sweep's and a linear run's folder as what they are", () => {
    expect(folderProblem(deepSweep(), spec)).toBe("it holds a deep-stage sweep; give another folder")
    expect(folderProblem(trainDqn(), spec)).toBe("it holds a train-dqn run; give another folder")
    expect(folderProblem(linearSweep(), spec)).toBe("it holds a linear-stage sweep; give another folder")
    expect(folderProblem(linearRun(), spec)).toBe("it holds a linear-stage run; give another folder")
    expect(folderProblem(otherFiles(), spec)).toMatch(/it holds other files$/)
    // With --fresh too: only a deep run's own files are ever started over.
    expect(folderProblem(deepSweep(), spec, true)).toBe("it holds a deep-stage sweep; give another folder")
  })

  it("a deep run and a deep sweep name a damaged summary.json as such, not as other files", () => {
    const damaged = `its summary.json is damaged (not a JSON object), so what the folder holds cannot be told; repair or remove it, or give another folder`
    // A deep run's summary.json cut short, beside its results.
    const cut = () => folder({ "summary.json": `{"stage": "deep", "complete": tr`, "results.csv": "x\n" })
    expect(folderProblem(cut(), spec)).toBe(damaged)
    expect(folderProblem(cut(), spec, true)).toBe(damaged)
    expect(sweepFolderProblem(cut(), spec)).toBe(damaged)
    // A summary.json that reads is what it says, as before.
    expect(folderProblem(otherFiles(), spec)).toMatch(/it holds other files$/)
  })

  it("a deep sweep refuses a deep run's, a train-dqn run's, a linear sweep's folder as what they are, and other files as such", () => {
    expect(sweepFolderProblem(deepRun(), spec)).toBe("it holds a deep-stage run, not a deep-stage sweep; give another folder")
    expect(sweepFolderProblem(trainDqn(), spec)).toBe("it holds a train-dqn run, not a deep-stage sweep; give another folder")
    expect(sweepFolderProblem(linearSweep(), spec)).toBe("it holds a linear-stage sweep, not a deep-stage sweep; give another folder")
    expect(sweepFolderProblem(otherFiles(), spec)).toMatch(/it holds other files$/)
  })

  it("a linear sweep refuses a run's, a deep sweep's and a train-dqn run's folder as what they are, and other files as such", () => {
    // It said of each only that the folder "holds no sweep.json".
    for (const [dir, holds] of [[linearRun(), "a linear-stage run"], [deepRun(), "a deep-stage run"], [deepSweep(), "a deep-stage sweep"], [trainDqn(), "a train-dqn run"]] as const) {
      const r = distmt("sweep", "specs/scaling.spec.ts", "--quick", "--out", dir)
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(`Cannot sweep into ${dir}: it holds ${holds}, not a linear-stage sweep; give another folder`)
    }
    const other = otherFiles()
    expect(distmt("sweep", "specs/scaling.spec.ts", "--quick", "--out", other).stderr.trim()).toBe(
      `Cannot sweep into ${other}: the folder is not empty and holds no sweep.json; give a new or empty folder, or the folder of an earlier sweep to resume it`
    )
  })
})

describe("an --out that cannot be a folder", () => {
  // A file, and a path under that file: neither can hold a run. Each is refused in one line before
  // anything is written; the file is left as it was.
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-out-file-")), "notes.txt")
  fs.writeFileSync(file, "mine\n")

  it("runDeep fails with an OutDirError naming it, not Node's untagged ENOTDIR", async () => {
    for (const out of [file, path.join(file, "run")]) {
      const e = await Effect.runPromise(Effect.flip(runDeepEffect("specs/minatar.spec.ts", { quick: true, out })))
      expect(e._tag).toBe("OutDirError")
      // Named as run() names it, `DIR: …`.
      expect(e.message.startsWith(`${out}: `)).toBe(true)
      expect(e.message).toMatch(out === file ? /notes\.txt: exists and is not a folder/ : /: cannot create it: .*notes\.txt is a file/)
    }
    expect(fs.readFileSync(file, "utf8")).toBe("mine\n")
  })

  it("distmt sweep of a deep spec refuses it in one line, without a stack trace", () => {
    const r = distmt("sweep", "specs/minatar.spec.ts", "--quick", "--out", file)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`Cannot sweep into ${file}: exists and is not a folder; give a folder`)
    expect(fs.readFileSync(file, "utf8")).toBe("mine\n")
  })
}, 120_000)

describe("a finished deep run given again", () => {
  // Every unit is read back and none runs: summary.json (its `threads`, the run's units at a time)
  // stays as the run wrote it. It recorded the units left at the rerun (1), and the progress line
  // printed ": 0/0 frames (0/s), 0 s" with no unit named.
  it("leaves its files as they were and prints no empty progress line", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-rerun-")), "run")
    const args = ["run", "specs/minatar.spec.ts", "--quick", "--threads", "2", "--set", "learner.framesPerAgent=1000", "--out", out]
    const first = distmt(...args)
    expect(first.status, first.stderr).toBe(0)
    const files = ["summary.json", "results.csv", "curves.csv", "report.md"]
    const before = files.map((f) => fs.readFileSync(path.join(out, f), "utf8"))
    expect(JSON.parse(before[0]).threads).toBe(2)
    // Sizes as the linear table shows them (cost.ts's bytes): independent sends nothing, "0 B", not "0.0 MiB".
    expect(first.stdout).toMatch(/^independent .*\s0 B\s+[0-9.]+$/m)
    const again = distmt(...args)
    expect(again.status, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/resuming: 3 of 3 \(algorithm, seed\) units already finished/)
    expect(files.map((f) => fs.readFileSync(path.join(out, f), "utf8"))).toEqual(before)
    expect(again.stderr).not.toMatch(/^: /m)
  })
}, 120_000)

describe("report and plot given a folder of another kind", () => {
  // report of a run's folder said only "no sweep.json"; plot of a train-dqn run said its summary.json
  // "has no spec with epsilon and cSep". Each now names what the folder holds and what draws its plots.
  it("report names the run it holds and the command that draws its curves", () => {
    for (const [dir, holds] of [[linearRun(), "a linear-stage run"], [deepRun(), "a deep-stage run"]] as const) {
      const r = distmt("report", dir)
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(`Cannot report on ${dir}: no sweep.json in it or in its sub-folders (run \`distmt sweep\` first); it holds ${holds}: \`distmt plot ${dir}\` draws its curves`)
    }
    const train = trainDqn()
    expect(distmt("report", train).stderr.trim()).toBe(`Cannot report on ${train}: no sweep.json in it or in its sub-folders (run \`distmt sweep\` first); it holds a train-dqn run, which draws its curve itself (curve.svg)`)
    const other = otherFiles()
    expect(distmt("report", other).stderr.trim()).toBe(`Cannot report on ${other}: no sweep.json in it or in its sub-folders (run \`distmt sweep\` first)`)
  })

  it("plot of a train-dqn run says it draws its own curve, and writes nothing", () => {
    const train = trainDqn()
    const before = fs.readdirSync(train).sort()
    const r = distmt("plot", train)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`Cannot plot ${train}: a train-dqn run: it draws its curve itself (curve.svg, from curve.csv)`)
    expect(fs.readdirSync(train).sort()).toEqual(before)
  })
})

describe("a linear run given a deep run's folder of the same spec name", () => {
  // Only the name was compared: with --fresh the linear run removed the deep run's units/ and wrote
  // its own files over the deep results (report.md and plots/ left beside them).
  it("is refused, --fresh or not, and the folder is left as it was", async () => {
    expect(runFolderProblem(deepRun(), "minatar")).toBe("it holds a deep-stage run; give another folder")
    expect(runFolderProblem(deepSweep(), "minatar")).toBe("it holds a deep-stage sweep; give another folder")
    const dir = deepRun()
    const before = folderFiles(dir)
    for (const fresh of [false, true]) {
      const e = await run({ ...tiny, name: "minatar" }, { out: dir, fresh }).catch((e: unknown) => e)
      expect(e).toMatchObject({ _tag: "OutDirError", message: `${dir}: it holds a deep-stage run; give another folder` })
    }
    expect(folderFiles(dir)).toEqual(before)
  })
})

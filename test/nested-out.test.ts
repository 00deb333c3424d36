/**
 * An output folder inside another results folder (src/report/folderKind.ts). `distmt run --out
 * RUN/units/x` (or SWEEP/plots/x, or a deep run's plots/x) wrote a run there, among the files of
 * the run or sweep around it: `--fresh` on that run removes its units/ (a deep run's plots/ too)
 * with the nested run in them. Every command that takes an output folder now refuses one inside a
 * run's, a sweep's or a train-dqn run's folder, in one line naming it, before anything is written.
 * The folders are made by hand with each writer's marker files, so no run is needed to make them.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import tiny from "./fixtures/tiny.spec.ts"
import { run } from "../src/index.ts"
import { enclosingResultsProblem } from "../src/report/folderKind.ts"
import { folderFiles } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })

const folder = (files: Record<string, string>): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-nested-"))
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    fs.writeFileSync(path.join(dir, name), text)
  }
  return dir
}
const json = (value: unknown) => JSON.stringify(value) + "\n"
const linearRun = () => folder({ "summary.json": json({ spec: { name: "tiny-fixture" }, complete: true }), "units/distmt-seed0.json": "{}\n" })
const linearSweep = () => folder({ "summary.json": json({ name: "sw", complete: true }), "sweep.json": "{}\n", "plots/a.svg": "<svg/>\n" })
const deepRun = () => folder({ "summary.json": json({ stage: "deep", spec: { name: "minatar" }, complete: true }), "plots/returns.svg": "<svg/>\n" })

describe("an output folder inside another results folder", () => {
  it("is named with the folder around it and what that holds; a folder beside one is not", () => {
    const r = linearRun()
    expect(enclosingResultsProblem(path.join(r, "units", "x"))).toBe(`it is inside ${r}, which holds a linear-stage run; give a folder outside it`)
    const s = linearSweep()
    expect(enclosingResultsProblem(path.join(s, "plots", "x", "y"))).toBe(`it is inside ${s}, which holds a linear-stage sweep; give a folder outside it`)
    const d = deepRun()
    expect(enclosingResultsProblem(path.join(d, "x"))).toBe(`it is inside ${d}, which holds a deep-stage run; give a folder outside it`)
    // The results folder itself (resumed, or refused for what it holds), and a sibling, are not inside one.
    expect(enclosingResultsProblem(r)).toBeUndefined()
    expect(enclosingResultsProblem(path.join(path.dirname(r), "sibling"))).toBeUndefined()
  })

  it("distmt run, sweep and train-dqn refuse it in one line, and the folder around it is left as it was", () => {
    const r = linearRun()
    const s = linearSweep()
    const d = deepRun()
    const before = [r, s, d].map((f) => folderFiles(f))
    for (const [args, line] of [
      [["run", "test/fixtures/tiny.spec.ts", "--out", path.join(r, "units", "x")], `--out ${path.join(r, "units", "x")}: it is inside ${r}, which holds a linear-stage run; give a folder outside it`],
      [["run", "specs/minatar.spec.ts", "--quick", "--out", path.join(s, "plots", "x")], `--out ${path.join(s, "plots", "x")}: it is inside ${s}, which holds a linear-stage sweep; give a folder outside it`],
      [["sweep", "specs/scaling.spec.ts", "--quick", "--out", path.join(d, "plots", "x")], `Cannot sweep into ${path.join(d, "plots", "x")}: it is inside ${d}, which holds a deep-stage run; give a folder outside it`],
      [["sweep", "specs/minatar.spec.ts", "--quick", "--out", path.join(r, "x")], `Cannot sweep into ${path.join(r, "x")}: it is inside ${r}, which holds a linear-stage run; give a folder outside it`],
      [["train-dqn", "--game", "breakout", "--frames", "100", "--out", path.join(d, "x")], `distmt train-dqn: --out ${path.join(d, "x")}: it is inside ${d}, which holds a deep-stage run; give a folder outside it`]
    ] as const) {
      const result = distmt(...args)
      expect(result.status, args.join(" ")).toBe(1)
      expect(result.stderr.trim()).toBe(line)
    }
    expect([r, s, d].map((f) => folderFiles(f))).toEqual(before)
  })

  it("the library API's run() and runDeep() refuse it with OutDirError", async () => {
    const r = linearRun()
    const before = folderFiles(r)
    const out = path.join(r, "units", "x")
    expect(await run(tiny, { out }).catch((e: unknown) => e)).toMatchObject({ _tag: "OutDirError", message: `${out}: it is inside ${r}, which holds a linear-stage run; give a folder outside it` })
    const { runDeep } = await import("../src/index.ts")
    expect(await runDeep("specs/minatar.spec.ts", { quick: true, out }).catch((e: unknown) => e)).toMatchObject({ _tag: "OutDirError", message: `${out}: it is inside ${r}, which holds a linear-stage run; give a folder outside it` })
    expect(folderFiles(r)).toEqual(before)
  })
})

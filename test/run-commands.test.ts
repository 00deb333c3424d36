/**
 * The design card's commands, run as a user types them (README, "Set up, run, test"):
 * `npx tsx run <spec>` (the root `run` file) and `npx tsx <spec>` (a spec file executed directly
 * runs itself, src/spec/selfRun.ts), on a spec that runs in a second. And the cases that must not
 * start a run: the `distmt` command importing a spec, and a test importing one.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"
import { calledFromEntry, stackFiles } from "../src/spec/selfRun.ts"

const root = path.resolve(import.meta.dirname, "..")
const SPEC = "test/fixtures/tiny.spec.ts"
const npx = (...args: Array<string>) => spawnSync("npx", args, { cwd: root, encoding: "utf8", timeout: 120_000 })
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-run-commands-"))

/** The run's summary.json, after checking that the command succeeded and printed the table. */
const ranSpec = (r: ReturnType<typeof npx>, out: string) => {
  expect(r.status, r.stderr).toBe(0)
  expect(r.stdout).toMatch(/distmt: tiny-fixture: N = 2 agents/)
  expect(r.stdout).toMatch(/DistMT-LSVI\s+\d\.\d\d/)
  expect(r.stdout.match(/^algorithm\s+success/gm)).toHaveLength(1) // one run, not two
  const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
  expect(summary.spec.name).toBe("tiny-fixture")
  for (const f of ["results.csv", "model.json", "policies.json"]) expect(fs.existsSync(path.join(out, f)), f).toBe(true)
  return summary
}

describe("npx tsx run <spec>", () => {
  it("runs the spec as distmt run does, options included", () => {
    const out = tmp()
    const summary = ranSpec(npx("tsx", "run", SPEC, "--out", out, "--threads", "1"), out)
    expect(summary.algorithms.distmt.successRate).toBeGreaterThan(0)
  })

  it("reports the CLI's own errors", () => {
    const r = npx("tsx", "run", "test/fixtures/no-such.spec.ts")
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/Cannot load spec test\/fixtures\/no-such\.spec\.ts: no such file/)
  })

  it("a spec outside this package imports \"distmt\" all the same: it validates and runs", () => {
    const dir = tmp() // no node_modules and no package.json here or above: "distmt" resolves to this package
    const spec = path.join(dir, "mine.spec.ts")
    fs.copyFileSync(path.join(root, SPEC), spec)
    expect(fs.readFileSync(spec, "utf8")).toMatch(/from "distmt"/)
    const bin = (...args: Array<string>) => spawnSync(process.execPath, [path.join(root, "bin/distmt.mjs"), ...args], { cwd: dir, encoding: "utf8" })
    const v = bin("validate", spec)
    expect(v.status, v.stderr).toBe(0)
    expect(v.stdout).toMatch(/mine\.spec\.ts: valid\./)
    ranSpec(bin("run", spec, "--out", path.join(dir, "out")), path.join(dir, "out"))
  })

  it("a command line that does not parse: its error and where the options are, not a screenful of help", () => {
    const out = path.join(tmp(), "run")
    const r = spawnSync(process.execPath, [path.join(root, "bin/distmt.mjs"), "run", SPEC, "--bogus", "--out", out], { cwd: root, encoding: "utf8" })
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr.trim().split("\n")).toEqual([
      "ERROR",
      "  Unrecognized flag: --bogus in command distmt run",
      "(`distmt run --help` lists the arguments and options)"
    ])
    expect(fs.existsSync(out)).toBe(false)
  })
})

describe("npx tsx <spec>", () => {
  it("runs the spec file itself, passing on its options", () => {
    const out = tmp()
    ranSpec(npx("tsx", SPEC, "--out", out), out)
  })

  it("does not run when the distmt command imports the spec", () => {
    const r = npx("distmt", "validate", SPEC)
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout.trim()).toMatch(/^test\/fixtures\/tiny\.spec\.ts: valid\./)
    expect(r.stdout).not.toMatch(/algorithm\s+success|Results in/)
  })

  it("does not run when a test imports the spec", async () => {
    const argv = [...process.argv]
    const mod = await import(pathToFileURL(path.join(root, SPEC)).href)
    await new Promise((resolve) => setImmediate(resolve))
    expect(mod.default.name).toBe("tiny-fixture")
    expect(process.argv).toEqual(argv)
    expect((globalThis as Record<symbol, unknown>)[Symbol.for("distmt.selfRunStarted")]).toBeUndefined()
  })
})

describe("calledFromEntry", () => {
  const here = path.join(root, "src", "spec", "Spec.ts")
  const spec = path.join(root, "specs", "linear-chain.spec.ts")
  const other = path.join(root, "specs", "theory.spec.ts")
  const stack = (caller: string, asUrl: boolean) =>
    [
      "Error",
      `    at Object.make (${asUrl ? pathToFileURL(here).href : here}:270:5)`,
      `    at ${asUrl ? pathToFileURL(caller).href : caller}:8:27`,
      "    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)"
    ].join("\n")

  it("reads the files of a stack, as paths or file: URLs", () => {
    expect(stackFiles(stack(spec, true))).toEqual([here, spec])
    expect(stackFiles(stack(spec, false))).toEqual([here, spec])
  })

  it("is true only when Experiment.make's caller is the entry script", () => {
    expect(calledFromEntry(stack(spec, true), spec)).toBe(true)
    expect(calledFromEntry(stack(spec, false), spec)).toBe(true)
    // A spec imported by the entry spec (theory-practical imports theory) does not run itself.
    expect(calledFromEntry(stack(other, true), spec)).toBe(false)
    expect(calledFromEntry("Error\n    at Object.make (node:internal/x:1:1)", spec)).toBe(false)
  })
})

describe("a spec of one task and one agent", () => {
  // validate printed "1 tasks (separation Infinity ≥ cSep 0.2)" and run "N = 1 agents, M = 1 tasks,
  // cSep = 0.2 (actual Infinity)": a family of one task has nothing to separate.
  const distmt = (...args: Array<string>) =>
    spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })
  const one = ["specs/single-agent.spec.ts", "--set", "contexts.count=1", "--set", "seeds=1"]
  it("is described in the singular, without a separation", () => {
    const v = distmt("validate", ...one)
    expect(v.status, v.stderr).toBe(0)
    expect(v.stdout).toContain("valid. 1 task (nothing to separate it from), 1 agent, d = 4")
    const r = distmt("run", ...one, "--set", "baselines=[]", "--out", path.join(tmp(), "run"))
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain("N = 1 agent, M = 1 task, ε = 0.08, cSep = 0.2 (one task: nothing to separate)")
  })
})

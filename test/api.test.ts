/**
 * Issue 13, item 2: the library API. `run`, `sweep` and `validate` from "distmt" give the numbers
 * the CLI writes (summary.json of `distmt run` and of `distmt sweep`) for the same spec, given as
 * a path or as a value; errors are typed values, never an exit; and importing "distmt" (what every
 * spec file does) does not load the runner: the API loads it when called.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { beforeAll, describe, expect, it } from "vitest"
import tiny from "./fixtures/tiny.spec.ts"
import { decodeLossless } from "../src/api/codec.ts"
import { Contexts, Env, Experiment, Lsvi, run, runEffect, sweep, validate } from "../src/index.ts"
import { Effect } from "effect"
import { valueWithoutWallClock } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })
const SPEC = "test/fixtures/tiny.spec.ts"
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-api-"))

/** JSON as a file holds it, wall-clock times (the only numbers that differ between two runs) set to 0. */
const withoutWallClock = valueWithoutWallClock
const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, "utf8"))

describe("run", () => {
  const out = tmp()
  beforeAll(() => {
    const r = distmt("run", SPEC, "--out", out, "--threads", "1", "--seeds", "2", "--set", "epsilon=0.25")
    expect(r.status, r.stderr).toBe(0)
  })

  it("gives the numbers of the CLI's summary.json, for a path and for a value", async () => {
    const fromFile = withoutWallClock(readJson(path.join(out, "summary.json")))
    const byPath = await run(SPEC, { threads: 1, seeds: 2, set: { epsilon: 0.25 } })
    expect(byPath.dir).toBeUndefined() // no `out`: nothing written
    expect(withoutWallClock(byPath.summary)).toEqual(fromFile)
    const byValue = await run(tiny, { threads: 1, seeds: 2, set: { epsilon: 0.25 } })
    expect(withoutWallClock(byValue.summary)).toEqual(fromFile)
    expect(byValue.source).toBe("tiny-fixture (given as a value)")
    // The runs themselves (rows, policies, curves) are those the CLI saved, field for field.
    const saved = ["distmt-seed0", "distmt-seed1"].map((u) => decodeLossless((readJson(path.join(out, "units", `${u}.json`)) as { run: unknown }).run))
    expect(byValue.runs.map((r) => ({ ...r, wallSeconds: 0 }))).toStrictEqual(saved.map((r) => ({ ...(r as object), wallSeconds: 0 })))
    expect(byValue.runs.flatMap((r) => r.rows)).toHaveLength(fs.readFileSync(path.join(out, "results.csv"), "utf8").trim().split("\n").length - 1)
  })

  it("with `out`, writes the CLI's files; the Effect form gives the same result", async () => {
    const dir = path.join(tmp(), "api")
    const progress: Array<string> = []
    const r = await Effect.runPromise(
      runEffect(SPEC, { out: dir, threads: 1, seeds: 2, set: { epsilon: 0.25 }, onProgress: (p) => p.event === "unit-done" && progress.push(`${p.unit} ${p.unitsDone}/${p.units}`) })
    )
    expect(r.dir).toBe(dir)
    expect(progress).toEqual(["distmt · seed 0 1/2", "distmt · seed 1 2/2"])
    for (const f of ["results.csv", "policies.json", "model.json"]) {
      expect(fs.readFileSync(path.join(dir, f), "utf8"), f).toBe(fs.readFileSync(path.join(out, f), "utf8"))
    }
    expect(withoutWallClock(readJson(path.join(dir, "summary.json")))).toEqual(withoutWallClock(readJson(path.join(out, "summary.json"))))
  })

  it("fails with typed errors, and never ends the process", async () => {
    const bad = await run({ ...tiny, epsilon: -1 }).catch((e: unknown) => e)
    expect(bad).toMatchObject({ _tag: "SpecError", issues: [{ path: "epsilon" }] })
    const override = await run(tiny, { set: { epsilom: 1 } }).catch((e: unknown) => e)
    expect(override).toMatchObject({ _tag: "OverrideError", message: `set["epsilom"]: the spec has no field epsilom (docs/spec-reference.md lists them)` })
    // The threads option is checked as the spec's threads field and --threads are.
    for (const threads of [0, -5, 2.5, Number.NaN, 65]) {
      expect(await run(tiny, { threads }).catch((e: unknown) => e)).toMatchObject({
        _tag: "OverrideError",
        message: `threads: expected a whole number of threads from 1 to 64, or "auto" (one per core); got ${String(threads)}`
      })
      expect(await sweep(tiny, { threads }).catch((e: unknown) => e)).toMatchObject({ _tag: "OverrideError" })
    }
    // sweep's sample is checked as --sample K --sample-seed S are: no points the CLI could not draw
    // again. Before, { count: 0 } ran nothing and succeeded, 1.5 ran 2 points, a seed of -1 drew
    // points no --sample-seed can name.
    const samples = [
      [{ count: 0, seed: 0 }, "sample.count: expected a number of points from 1 to 10000, got 0"],
      [{ count: 1.5, seed: 0 }, "sample.count: expected a number of points from 1 to 10000, got 1.5"],
      [{ count: 2, seed: -1 }, "sample.seed: expected a whole number from 0 to 4294967295, got -1"],
      [{ count: 2, seed: 0.5 }, "sample.seed: expected a whole number from 0 to 4294967295, got 0.5"]
    ] as const
    for (const [sample, message] of samples) {
      expect(await sweep(tiny, { sample }).catch((e: unknown) => e)).toMatchObject({ _tag: "OverrideError", message })
    }
    // A refusal for its cost names the API's way past it: a script has no --force to pass.
    for (const refused of [await run(tiny, { seeds: 1e9 }).catch((e: unknown) => e), await sweep(tiny, { seeds: 1e9 }).catch((e: unknown) => e)]) {
      expect(refused).toMatchObject({ _tag: "CostError", message: expect.stringMatching(/seeds: 1e9 → .*; pass force: true to run it anyway$/) })
    }
    const file = path.join(tmp(), "file")
    fs.writeFileSync(file, "")
    expect(await run(tiny, { out: file }).catch((e: unknown) => e)).toMatchObject({ _tag: "OutDirError" })
    expect(await run("test/fixtures/no-such.spec.ts").catch((e: unknown) => e)).toMatchObject({ _tag: "SpecLoadError" })
    expect(process.exitCode ?? 0).toBe(0)
  })
})

describe("aborting", () => {
  // An abort rejected with an untagged `Error: All fibers interrupted without error`.
  const abortAtFirstUnit = () => {
    const stop = new AbortController()
    return { signal: stop.signal, onProgress: (p: { readonly event: string }) => p.event === "unit-done" && stop.abort() }
  }

  it("rejects run() with Interrupted, saying where the finished units are; the same call resumes them", async () => {
    const out = path.join(tmp(), "aborted")
    const options = { out, threads: 1, seeds: 2 }
    const e = await run(SPEC, { ...options, ...abortAtFirstUnit() }).catch((e: unknown) => e)
    expect(e).toMatchObject({ _tag: "Interrupted", message: `run() interrupted: the units finished so far are saved in ${out}/; call run() again with the same spec and options (without fresh) to resume them` })
    expect(e).toBeInstanceOf(Error)
    expect((await run(SPEC, options)).resumed).toBe(1)
  })

  it("rejects run() without out with Interrupted, saying that nothing was saved", async () => {
    expect(await run(SPEC, { threads: 1, seeds: 2, ...abortAtFirstUnit() }).catch((e: unknown) => e)).toMatchObject({
      _tag: "Interrupted",
      message: expect.stringMatching(/^run\(\) interrupted: nothing was saved \(no out\)/)
    })
  })

  it("rejects sweep() with Interrupted, naming the CLI's sweep, which saves and resumes", async () => {
    expect(await sweep(SPEC, { set: { sweep: { agents: [1, 2] } }, threads: 1, ...abortAtFirstUnit() }).catch((e: unknown) => e)).toMatchObject({
      _tag: "Interrupted",
      message: expect.stringMatching(/^sweep\(\) interrupted: nothing was saved .*npx distmt sweep/)
    })
  })
})

describe("validate and sweep", () => {
  it("validate gives what distmt validate prints", async () => {
    const v = await validate(SPEC, { set: { epsilon: 0.25 } })
    const printed = distmt("validate", SPEC, "--set", "epsilon=0.25")
    expect(printed.status, printed.stderr).toBe(0)
    expect(printed.stdout).toContain(`${v.tasks} tasks (separation ${v.separation.toPrecision(4)} ≥ cSep ${v.cSep}), ${v.agents} agents, d = ${v.dim}`)
    expect([v.name, v.points]).toEqual(["tiny-fixture", 1])
  })

  it("validate checks the quick variant as run with quick: true runs it (as written), not only its sweep's points", async () => {
    // E2's shape before its fix: ten tasks as written; the variant spaces them by 0.4 and sweeps
    // two and four, so its points fit, but `run --quick` (no sweep) asks for ten that do not.
    const e2 = (quickContexts: Record<string, number>) =>
      Experiment.make({
        name: "quick-as-written",
        environment: Env.linearChain({ length: 2, horizon: 3 }),
        contexts: Contexts.separated({ count: 10, lowest: 0.2, vary: "reward", within: [0, 1], bases: [{ goal: 1, slip: 0.1 }, { goal: 0, slip: 0.1 }] }),
        agents: 2,
        epsilon: 0.08,
        cSep: 0.2,
        delta: 0.05,
        learner: Lsvi.ucb({ beta: 2 }),
        sweep: { "contexts.count": [2, 4] },
        quick: { contexts: quickContexts, cSep: 0.4, epsilon: 0.15, sweep: { "contexts.count": [2, 4] } }
      })
    const refused = await validate(e2({ lowest: 0.3 })).then(() => undefined, (e: unknown) => e)
    expect(refused).toMatchObject({ _tag: "SpecError" })
    const issues = (refused as { issues: ReadonlyArray<{ path: string; message: string }> }).issues
    expect(issues.map((i) => [i.path, /\(in the quick variant, run with quick: true\)/.test(i.message)])).toEqual([["contexts", true]])
    const fixed = await validate(e2({ lowest: 0.3, count: 4 }))
    expect([fixed.points, fixed.quickPoints]).toEqual([2, 2])
  })

  it("sweep gives the numbers of distmt sweep's summary.json", async () => {
    const out = path.join(tmp(), "sweep")
    const axes = { agents: [1, 2] }
    const r = distmt("sweep", SPEC, "--out", out, "--set", `sweep=${JSON.stringify(axes)}`)
    expect(r.status, r.stderr).toBe(0)
    const s = await sweep(SPEC, { set: { sweep: axes }, threads: 1 })
    expect(withoutWallClock(s.summary)).toEqual(withoutWallClock(readJson(path.join(out, "summary.json"))))
    expect(s.runs.map((u) => [u.point, u.values, u.run.algorithm])).toEqual([[0, { agents: 1 }, "distmt"], [1, { agents: 2 }, "distmt"]])
  })
})

describe("importing distmt", () => {
  it("does not load the runner, the report or the platform layer; calling the API does", () => {
    // A child on this Node, logging every module it resolves, imports src/index.ts (as a spec does), then calls validate.
    const script = path.join(tmp(), "load.mjs")
    fs.writeFileSync(
      script,
      [
        `import { registerHooks } from "node:module"`,
        `const seen = []`,
        `registerHooks({ resolve: (s, c, next) => { const r = next(s, c); seen.push(r.url); return r } })`,
        `const { register } = await import(${JSON.stringify(pathToFileURL(path.join(root, "node_modules/tsx/dist/esm/api/index.mjs")).href)})`,
        `register()`,
        `const api = await import(${JSON.stringify(pathToFileURL(path.join(root, "src/index.ts")).href)})`,
        `const before = [...seen]`,
        `await api.validate(${JSON.stringify(path.join(root, SPEC))})`,
        `console.log(JSON.stringify({ before, after: seen }))`
      ].join("\n")
    )
    const r = spawnSync(process.execPath, [script], { cwd: root, encoding: "utf8", timeout: 120_000 })
    expect(r.status, r.stderr).toBe(0)
    const { before, after } = JSON.parse(r.stdout.trim().split("\n").pop()!) as { before: Array<string>; after: Array<string> }
    const heavy = /\/src\/(run|report|cli|api\/(run|validate|sweep))\/?|\/node_modules\/(vega|vega-lite|@effect\/platform-node)\//
    expect(before.filter((u) => heavy.test(u))).toEqual([])
    expect(before.some((u) => u.endsWith("/src/api/index.ts"))).toBe(true)
    expect(after.some((u) => u.endsWith("/src/api/validate.ts"))).toBe(true)
    expect(after.filter((u) => heavy.test(u)).length).toBeGreaterThan(0) // the pattern does see the runner's modules
  })
})

describe("a spec outside this package", () => {
  it("loads through the API as through `distmt run`: its `import … from \"distmt\"` resolves to this package", () => {
    // Before, `distmt run` resolved it (bin/distmt.mjs registers the hook) but a script calling
    // validate() or run() with the same path failed: "Cannot find module 'distmt'".
    const dir = tmp()
    const spec = path.join(dir, "outside.spec.ts")
    fs.copyFileSync(path.join(root, SPEC), spec)
    const script = path.join(dir, "script.mts") // no package.json here: .mts for top-level await
    fs.writeFileSync(
      script,
      [
        `const api = await import(${JSON.stringify(pathToFileURL(path.join(root, "src/index.ts")).href)})`,
        `const v = await api.validate(${JSON.stringify(spec)})`,
        `const r = await api.run(${JSON.stringify(spec)})`,
        `console.log(JSON.stringify({ name: v.name, success: r.summary.algorithms.distmt.successRate }))`
      ].join("\n")
    )
    const loader = pathToFileURL(path.join(root, "node_modules/tsx/dist/loader.mjs")).href
    const r = spawnSync(process.execPath, ["--import", loader, script], { cwd: dir, encoding: "utf8", timeout: 120_000 })
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.trim().split("\n").pop()!)).toEqual({ name: "tiny-fixture", success: 1 })
  })
})

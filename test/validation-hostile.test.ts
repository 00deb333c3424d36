/**
 * Issue 15, items 3, 5, 7 (and the run folders of item 4): validation that sees everything,
 * errors about output paths that say what to do, and small things. Each case failed before:
 * oversized tables were cut to size, `validate` passed sweep points that `sweep --dry-run`
 * refused, 200,000 contexts took half a minute to validate and `Contexts.separated` with a huge
 * count ran for hours; `--out notes.txt` printed `AlreadyExists: FileSystem.makeDirectory`;
 * summary.json said `"threads": "auto"`; sweep.csv had `agents` twice; NaN ε printed two lines.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { checkSpec } from "../src/cli/specCheck.ts"
import { newRunDir, outDirProblem } from "../src/cli/outDir.ts"
import { separation } from "../src/env/solve.ts"
import { manifestOf, sweepCsv } from "../src/report/sweepFiles.ts"
import { planUnits } from "../src/run/sweepPlan.ts"
import { decode } from "../src/spec/schema.ts"
import { Contexts, Env, Experiment, Lsvi } from "../src/spec/Spec.ts"
import { expandSweep } from "../src/spec/sweep.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })
const hostile = (name: string) => `test/fixtures/hostile/${name}.spec.ts`
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-hostile-"))

const checked = (file: string, options: { sweep?: boolean; allVariants?: boolean } = {}) =>
  Effect.runPromise(
    checkSpec(file, { ...options, timeoutSeconds: 60 }).pipe(
      Effect.map(() => "valid"),
      Effect.catch((e) => Effect.succeed(e.message))
    )
  )

describe("validation that sees everything", () => {
  it("tables larger than declared are refused: an extra action, extra states, an H+1-th stage", async () => {
    // Both contexts' tables have the extra entry: one line with its count (issue 13 item 5).
    expect(await checked(hostile("oversized-action"))).toContain(
      // Every row has it: one line at [*], not one per state.
      "environment.build(context *).reward[*]: expected 2 entries, one per action (environment.actions), got 3 entries (in 2 of 2 contexts)"
    )
    expect(await checked(hostile("oversized-state"))).toContain(
      "environment.build(context *).reward: expected 2 rows, one per state (environment.states), got 3 rows (in 2 of 2 contexts)"
    )
    expect(await checked(hostile("oversized-stage"))).toContain(
      "environment.build(context *).reward: expected 2 stages (environment.horizon), or one table for every stage, got 3 stages (in 2 of 2 contexts)"
    )
  })

  it("validate decodes and checks every sweep point, as sweep --dry-run does", () => {
    const r = distmt("validate", hostile("sweep-bad"))
    expect(r.status).toBe(1)
    expect(r.stderr).toContain("sweep.agents[1]: expected an integer, got 2.5")
    expect(r.stderr).toMatch(/sweep\.cSep\[1\]: expected at most the family's actual separation 0\.5050 .*got 5/)
  })

  it("the separation is the closest pair, found by sorting (the pair in index order)", () => {
    expect(separation([0.9, 0.1, 0.5, 0.55, 0.0])).toEqual({ value: 0.050000000000000044, pair: [2, 3] })
    expect(separation([1, 3, 1.5, 2]).pair).toEqual([0, 2]) // equal gaps: the first pair, as the pairwise scan gave
    expect(separation([0.4])).toEqual({ value: Infinity, pair: undefined })
    // 200,000 values: the pairwise scan took about half a minute.
    const many = Array.from({ length: 200_000 }, (_, i) => ((i * 7919) % 200_000) / 200_000)
    const t0 = performance.now()
    expect(separation(many).value).toBeCloseTo(1 / 200_000, 12)
    expect(performance.now() - t0).toBeLessThan(2_000)
  })

  it("validate of 200,000 contexts takes seconds", async () => {
    const t0 = Date.now()
    expect(await checked(hostile("many-contexts"))).toBe("valid")
    expect(Date.now() - t0).toBeLessThan(25_000)
  })

  it("Contexts.separated with a huge count reports its cost instead of running for hours", async () => {
    const t0 = Date.now()
    expect(await checked(hostile("separated-huge"))).toMatch(
      /contexts\.count: expected a family that can be solved before the run: .* 6\.4e\+9 operations for 1000000 tasks, above the limit/
    )
    expect(Date.now() - t0).toBeLessThan(25_000)
  })
})

describe("errors about output paths", () => {
  it("--out naming a file, or a path under a file, is one line naming the path", () => {
    const dir = tmp()
    const notes = path.join(dir, "notes.txt")
    fs.writeFileSync(notes, "mine\n")
    const r = distmt("run", "test/fixtures/tiny.spec.ts", "--out", notes)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`--out ${notes}: exists and is not a folder; give a folder`)
    const under = distmt("run", "test/fixtures/tiny.spec.ts", "--out", path.join(notes, "run"))
    expect(under.stderr.trim()).toBe(`--out ${path.join(notes, "run")}: cannot create it: ${notes} is a file, not a folder`)
    const sweep = distmt("sweep", "test/fixtures/tiny.spec.ts", "--out", path.join(notes, "run"))
    expect(sweep.stderr.trim()).toBe(`Cannot sweep into ${path.join(notes, "run")}: cannot create it: ${notes} is a file, not a folder`)
    for (const x of [r, under, sweep]) expect(x.stderr).not.toMatch(/AlreadyExists|BadResource|FileSystem\.|\.tmp/)
    expect(fs.readFileSync(notes, "utf8")).toBe("mine\n")
  })

  it("train-dqn --out: a file or a folder of someone else's files is refused untouched; its own earlier folder is written again", () => {
    const file = path.join(tmp(), "notes.txt")
    fs.writeFileSync(file, "mine\n")
    const onFile = distmt("train-dqn", "--game", "breakout", "--frames", "300", "--out", file)
    expect(onFile.status).toBe(1)
    expect(onFile.stderr.trim()).toBe(`distmt train-dqn: --out ${file}: exists and is not a folder; give a folder`)
    const other = tmp()
    fs.writeFileSync(path.join(other, "summary.json"), "{\"mine\": true}\n")
    const onOther = distmt("train-dqn", "--game", "breakout", "--frames", "300", "--out", other)
    expect(onOther.status).toBe(1)
    expect(onOther.stderr).toMatch(/--out .*: the folder is not empty and holds no train-dqn run/)
    expect(fs.readFileSync(path.join(other, "summary.json"), "utf8")).toBe("{\"mine\": true}\n")
    const own = path.join(tmp(), "dqn")
    for (let i = 0; i < 2; i++) {
      const r = distmt("train-dqn", "--game", "breakout", "--frames", "300", "--out", own)
      expect(r.status).toBe(0)
      // A run shorter than MinAtar's ε schedule is told where ε ends (all random here: still in the warm-up).
      expect(r.stdout).toMatch(/note: ε falls to 0\.1 only after 105,000 frames \(MinAtar's schedule\); this run ends at ε = 1\.00/)
    }
    expect(fs.readdirSync(own).sort()).toEqual(["curve.csv", "curve.svg", "summary.json"])
    // Another game's run there was written over in silence: refused, and left as it was.
    const before = fs.readdirSync(own).map((f) => fs.readFileSync(path.join(own, f), "utf8"))
    const otherGame = distmt("train-dqn", "--game", "asterix", "--frames", "300", "--out", own)
    expect(otherGame.status).toBe(1)
    expect(otherGame.stderr.trim()).toBe(`distmt train-dqn: --out ${own}: it holds a train-dqn run of breakout, not asterix; give another folder (a run of the same game is written again)`)
    expect(fs.readdirSync(own).map((f) => fs.readFileSync(path.join(own, f), "utf8"))).toEqual(before)
    // Stopped after a seed, before its summary.json: its curve.svg names its game. Another game's run
    // was written over (the check read summary.json only); the same game's is written again.
    fs.rmSync(path.join(own, "summary.json"))
    const curves = fs.readdirSync(own).map((f) => fs.readFileSync(path.join(own, f), "utf8"))
    const stopped = distmt("train-dqn", "--game", "asterix", "--frames", "300", "--out", own)
    expect(stopped.stderr.trim()).toBe(
      `distmt train-dqn: --out ${own}: it holds a stopped train-dqn run of breakout (its curve.svg), not asterix; give another folder (a run of the same game is written again)`
    )
    expect(stopped.status).toBe(1)
    expect(fs.readdirSync(own).map((f) => fs.readFileSync(path.join(own, f), "utf8"))).toEqual(curves)
    expect(distmt("train-dqn", "--game", "breakout", "--frames", "300", "--out", own).status).toBe(0)
  })

  it("an empty --out, --jobs 0 and plot of a file are each one line about the flag or the path", () => {
    const empty = distmt("run", "test/fixtures/tiny.spec.ts", "--out", "")
    expect(empty.status).toBe(1)
    expect(empty.stderr.trim()).toBe("--out : expected a folder, got an empty path")
    const jobs = distmt("sweep", "test/fixtures/tiny.spec.ts", "--jobs", "0", "--out", path.join(tmp(), "sweep"))
    expect(jobs.status).toBe(1)
    expect(jobs.stderr.trim()).toBe("--jobs: expected a whole number of sweep workers from 1 to 64, got 0")
    // Above 64 it was capped at 64 in silence: refused, naming the bound, before anything is written.
    const many = distmt("sweep", "test/fixtures/tiny.spec.ts", "--jobs", "65", "--out", path.join(tmp(), "sweep"))
    expect(many.stderr.trim()).toBe("--jobs: expected a whole number of sweep workers from 1 to 64, got 65")
    expect(many.status).toBe(1)
    const file = path.join(tmp(), "notes.txt")
    fs.writeFileSync(file, "mine\n")
    const plot = distmt("plot", file)
    expect(plot.status).toBe(1)
    expect(plot.stderr.trim()).toBe(`Cannot plot ${file}: is a file; give the folder of a run`)
  })

  // Root may write anywhere, so the permission case can only be seen by another user: as root (CI),
  // the check runs in a child process as the user nobody (util-linux's setpriv), where this
  // checkout and its Node are readable by others (not in a private home folder, say).
  const root0 = process.getuid?.() === 0
  const asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath]
  const nobodyRuns = root0 &&
    spawnSync("setpriv", [...asNobody, "-e", `require("fs").accessSync(${JSON.stringify(path.join(root, "src/cli/outDir.ts"))})`]).status === 0
  if (root0 && !nobodyRuns) console.warn("the write-permission test is SKIPPED: running as root, and the user nobody cannot run this checkout")
  /** `outDirProblem` of each of `dirs`, run as the user nobody, with its files in `parent`. */
  const problemsAsNobody = (parent: string, dirs: ReadonlyArray<string>): ReadonlyArray<string | undefined> => {
    const probe = path.join(parent, "probe.mts")
    fs.writeFileSync(
      probe,
      `import { outDirProblem } from ${JSON.stringify(path.join(root, "src/cli/outDir.ts"))}\n` +
        `console.log(JSON.stringify(${JSON.stringify(dirs)}.map(outDirProblem)))\n`,
      { mode: 0o644 }
    )
    // tsx keeps its cache in TMPDIR: one nobody may write, removed with the rest
    const cache = path.join(parent, "tmp")
    fs.mkdirSync(cache)
    fs.chmodSync(cache, 0o777)
    const r = spawnSync("setpriv", [...asNobody, "--import", "tsx", probe], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, TMPDIR: cache }
    })
    expect(r.status, r.stderr).toBe(0)
    return JSON.parse(r.stdout) as Array<string | undefined>
  }
  it.skipIf(root0 && !nobodyRuns)("a folder without write permission is named", () => {
    // nobody must reach it: the suite's own temporary folder is private, /tmp is not
    const parent = root0 ? fs.mkdtempSync("/tmp/distmt-hostile-") : tmp()
    try {
      fs.chmodSync(parent, 0o755)
      const dir = path.join(parent, "read-only")
      fs.mkdirSync(dir)
      fs.chmodSync(dir, 0o555)
      const dirs = [dir, path.join(dir, "sub")]
      const problems = root0 ? problemsAsNobody(parent, dirs) : dirs.map(outDirProblem)
      expect(problems[0]).toBe("no permission to write in this folder; give another folder")
      expect(problems[1]).toMatch(/^cannot create it: no permission to write in /)
    } finally {
      if (root0) fs.rmSync(parent, { recursive: true, force: true })
    }
  })

  it("two runs started in the same second get two folders", async () => {
    const parent = tmp()
    const [a, b] = await Effect.runPromise(Effect.all([newRunDir(parent, "2026-01-01T00-00-00Z"), newRunDir(parent, "2026-01-01T00-00-00Z")]))
    expect(a).toBe(path.join(parent, "2026-01-01T00-00-00Z"))
    expect(b).toBe(path.join(parent, "2026-01-01T00-00-00Z-2"))
    expect(fs.statSync(b).isDirectory()).toBe(true)
  })
})

describe("small things", () => {
  it("summary.json records the number of threads used, not \"auto\"", () => {
    const out = tmp()
    const r = distmt("run", hostile("auto-threads"), "--out", out)
    expect(r.status, r.stderr).toBe(0)
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
    const used = Math.min(os.availableParallelism(), 2) // "auto": one per core, at most one per agent
    expect(summary.threads).toBe(used)
    expect(summary.spec.threads).toBe(used)
    expect(r.stdout).toContain(`${used} thread${used === 1 ? "" : "s"}`)
  })

  it("sweep.csv names each column once when an axis is one of the point's columns", async () => {
    const spec = Experiment.make({
      name: "csv-columns",
      environment: Env.linearChain({ length: 2, horizon: 2 }),
      contexts: Contexts.list([{ goal: 1, reward: 1, slip: 0.1 }, { goal: 0, reward: 0.2, slip: 0.1 }]),
      agents: 2,
      epsilon: 0.3,
      cSep: 0.4,
      delta: 0.05,
      learner: Lsvi.ucb({ beta: 1 }),
      sweep: { agents: [1, 2], cSep: [0.3, 0.4] }
    })
    const header = await Effect.runPromise(Effect.gen(function*() {
      const s = yield* decode(spec, "csv.spec.ts")
      const units = planUnits(s, yield* expandSweep(s, "csv.spec.ts"))
      return sweepCsv(manifestOf("csv.spec.ts", s, false, units), new Map()).trim().split(",")
    }))
    expect(header.filter((c) => c === "agents")).toHaveLength(1)
    expect(header).not.toContain("c_sep") // the cSep axis gives it
    expect(header.slice(0, 5)).toEqual(["point", "agents", "cSep", "algorithm", "seed"])
    expect(header).toContain("epsilon")
    expect(new Set(header).size).toBe(header.length)
  })

  it("an error line is printed once (NaN ε)", () => {
    const r = distmt("validate", hostile("nan-epsilon"))
    expect(r.status).toBe(1)
    expect(r.stderr.trim().split("\n")).toEqual([
      `Invalid spec ${hostile("nan-epsilon")}:`,
      "  epsilon: expected a finite number, got NaN"
    ])
  })
})

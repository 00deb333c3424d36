/**
 * Issue 13, item 3: overrides without editing a spec. `--set path=value` (repeatable) and
 * `--seeds N` are applied to the spec's raw value before decoding, so the same Schema checks them
 * and the same path-named errors come out, each saying which override it came from. A malformed
 * override (no `=`, an empty path, a field the spec has no place for) is one line. They are
 * recorded in summary.json and in a sweep's manifest.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import tiny from "./fixtures/tiny.spec.ts"
import scaling from "../specs/scaling.spec.ts"
import { applyOverrides, type Override, parseOverrideFlags, withOverrideOrigins } from "../src/spec/overrides.ts"
import { decode } from "../src/spec/schema.ts"
import { type Experiment, lsviOf } from "../src/spec/Spec.ts"
import { snapshotSpec } from "../src/spec/snapshot.ts"
import type { SpecError } from "../src/spec/SpecError.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })
const SPEC = "test/fixtures/tiny.spec.ts"
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-overrides-"))

const parsed = (sets: ReadonlyArray<string>, seeds?: string) => Effect.runSync(Effect.result(parseOverrideFlags(sets, seeds)))

/** The tiny spec with the flags' overrides applied and decoded: the spec, or the error's message. */
const decoded = (sets: ReadonlyArray<string>, seeds?: string, spec: unknown = tiny): Experiment | string => {
  const overrides = parsed(sets, seeds)
  if (Result.isFailure(overrides)) return overrides.failure.message
  const raw = snapshotSpec(spec).value
  const r = Effect.runSync(Effect.result(
    applyOverrides(raw, overrides.success).pipe(
      Effect.flatMap((input) => decode(input, SPEC)),
      Effect.mapError((e) => (e._tag === "SpecError" ? withOverrideOrigins(e as SpecError, overrides.success) : e))
    )
  ))
  return Result.isSuccess(r) ? r.success : r.failure.message
}

describe("--set and --seeds", () => {
  it("parse a value as JSON when it parses, else as text, in order, --seeds last", () => {
    const r = parsed(["epsilon=0.05", "sharing=experience", `assignment={"_tag":"Random","k":2}`, "name=a=b"], "4")
    expect(Result.isSuccess(r) && r.success.map((o: Override) => [o.path, o.value])).toEqual([
      ["epsilon", 0.05],
      ["sharing", "experience"],
      ["assignment", { _tag: "Random", k: 2 }],
      ["name", "a=b"],
      ["seeds", 4]
    ])
  })

  it("set top-level and nested fields, defaults included, through the same Schema", () => {
    const s = decoded(["epsilon=0.25", "agents=3", "learner.lambda=0.5", "stopping.maxEpisodes=100", "contexts.items[1].slip=0.2"], "2")
    expect(typeof s).toBe("object")
    const spec = s as Experiment
    expect([spec.epsilon, spec.agents, spec.seeds, lsviOf(spec).lambda, lsviOf(spec).beta]).toEqual([0.25, 3, 2, 0.5, 1])
    expect(spec.stopping).toEqual({ _tag: "Adaptive", maxEpisodes: 100 })
    expect(spec.contexts).toEqual({ _tag: "List", items: [{ goal: 1, reward: 1, slip: 0.1 }, { goal: 0, reward: 0.2, slip: 0.2 }] })
    // The spec's own value is not changed by an override (a copy is).
    expect(tiny.epsilon).toBe(0.3)
  })

  it("a field the spec leaves out and has no default for can be set (environment.distractor)", () => {
    const s = decoded(["environment.distractor=0.5"]) as Experiment
    expect(s.environment).toEqual({ _tag: "LinearChain", length: 2, horizon: 2, distractor: 0.5 })
  })

  it("malformed overrides are one line each, naming the flag", () => {
    expect(decoded(["epsilon"])).toBe("--set epsilon: expected path=value, e.g. --set epsilon=0.05")
    expect(decoded(["=3"])).toMatch(/^--set =3: expected a field path before "=", e\.g\. /)
    expect(decoded(["a..b=1"])).toMatch(/^--set a\.\.b=1: "a\.\.b" is not a field path; e\.g\. /)
    expect(decoded(["epsilom=0.1"])).toBe("--set epsilom=0.1: the spec has no field epsilom (docs/spec-reference.md lists them)")
    expect(decoded(["environment.lenght=3"])).toBe("--set environment.lenght=3: the spec has no field environment.lenght (docs/spec-reference.md lists them)")
    expect(decoded(["learner.foo.bar=1"])).toBe("--set learner.foo.bar=1: the spec has no field learner.foo")
    expect(decoded(["contexts.items[5].goal=1"])).toBe("--set contexts.items[5].goal=1: contexts.items has 2 entries; there is no contexts.items[5]")
    expect(decoded(["epsilon.x=1"])).toBe("--set epsilon.x=1: epsilon is 0.3, which has no fields; there is no epsilon.x")
    for (const message of [decoded(["epsilon"]), decoded(["epsilom=0.1"])]) expect(String(message)).not.toContain("\n")
  })

  it("a bad value gets the Schema's path-named error, saying which override it came from", () => {
    // The Schema's own words in the middle (another part of the code owns them); the path first, the origin last.
    expect(decoded(["epsilon=-1"])).toMatch(new RegExp(`^Invalid spec ${SPEC}:\n {2}epsilon: expected .*, got -1 \\(from --set epsilon=-1\\)$`))
    expect(decoded([], "abc")).toMatch(/^ {2}seeds: expected .*, got "abc" \(from --seeds abc\)$/m)
    expect(decoded(["learner.lambda=0"])).toMatch(/^ {2}learner\.lambda: expected a value greater than 0, got 0 \(from --set learner\.lambda=0\)$/m)
    // A whole number beyond the safe integers is told so, not "expected an integer"; a fraction still is.
    expect(decoded([], "1e20")).toMatch(/^ {2}seeds: expected a whole number of at most 9,007,199,254,740,991, got 100000000000000000000 \(from --seeds 1e20\)$/m)
    expect(decoded([], "2.5")).toMatch(/^ {2}seeds: expected an integer, got 2\.5 \(from --seeds 2\.5\)$/m)
    // An override of the quick variant's own field is named at quick.<field> too.
    expect(decoded(["quick.epsilon=-1"], undefined, scaling)).toMatch(/^ {2}quick\.epsilon: expected a value greater than 0, got -1 \(from --set quick\.epsilon=-1\)$/m)
  })
})

describe("the tables' size limit", () => {
  it("is named at its larger factor, and with the override that drove it", () => {
    // The tiny chain: H·S·A·S = 8·H per context, 2 contexts; the limit is 5e7 table entries.
    const long = distmt("validate", SPEC, "--set", "environment.horizon=4000000")
    expect(long.status).toBe(1)
    expect(long.stderr).toMatch(
      /^ {2}environment: expected at most 50000000 table entries over all 2 contexts \(H·S·A·S·M = 4000000·2·2·2·2\), got .* \(from --set environment\.horizon=4000000\)$/m
    )
    // Many contexts of a small chain: the contexts are the larger factor.
    const axes = { goal: [0, 1], reward: Array.from({ length: 1000 }, (_, i) => i / 1000), slip: Array.from({ length: 500 }, (_, i) => i / 1000) }
    const many = distmt("validate", SPEC, "--set", `contexts=${JSON.stringify({ _tag: "Grid", axes })}`, "--set", "environment.horizon=1000")
    expect(many.status).toBe(1)
    expect(many.stderr).toMatch(/^ {2}contexts: expected at most 50000000 table entries over all 1000000 contexts \(H·S·A·S·M = 1000·2·2·2·1000000\), got 1000000 contexts/m)
  })
})

describe("overrides and the quick variant", () => {
  // The tiny spec with a quick variant that lists contexts of its own: its list replaces the spec's.
  const raw = { ...(snapshotSpec(tiny).value as Record<string, unknown>), quick: { seeds: 1, contexts: { _tag: "List", items: [{ goal: 1, reward: 0.9 }] } } }
  const load = (sets: ReadonlyArray<string>, quick: boolean) => {
    const overrides = parsed(sets)
    if (Result.isFailure(overrides)) throw new Error(overrides.failure.message)
    const r = Effect.runSync(Effect.result(Effect.flatMap(applyOverrides(raw, overrides.success, quick), (input) => decode(input, SPEC, { quick }))))
    return Result.isSuccess(r) ? r.success : r.failure.message
  }

  it("an override inside a field the variant replaces (a list) applies to the variant's own value with --quick", () => {
    const q = load(["contexts.items[0].slip=0.3", "seeds=3"], true) as Experiment
    // slip is not in the variant's own context: the override adds it there (the variant's list replaces the spec's).
    expect(q.contexts).toEqual({ _tag: "List", items: [{ goal: 1, reward: 0.9, slip: 0.3 }] })
    expect(q.seeds).toBe(3)
    const full = load(["contexts.items[0].slip=0.3"], false) as Experiment
    expect(full.contexts).toEqual({ _tag: "List", items: [{ goal: 1, reward: 1, slip: 0.3 }, { goal: 0, reward: 0.2, slip: 0.1 }] })
  })

  it("one that the variant's value has no place for is an error with --quick, and applies to the spec without", () => {
    expect(load(["contexts.items[1].slip=0.3"], true)).toBe(
      "--set contexts.items[1].slip=0.3: contexts.items has 1 entry; there is no contexts.items[1] in the quick variant (--quick), whose value there replaces the spec's"
    )
    expect((load(["contexts.items[1].slip=0.3"], false) as Experiment).contexts).toMatchObject({ items: [{ slip: 0.1 }, { slip: 0.3 }] })
  })
})

describe("overrides on the command line", () => {
  it("run records them in summary.json and runs the overridden spec", () => {
    const out = tmp()
    const r = distmt("run", SPEC, "--out", out, "--set", "epsilon=0.25", "--set", "agents=3", "--seeds", "2")
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain("N = 3 agents")
    expect(r.stdout).toContain("overrides: epsilon = 0.25, agents = 3, seeds = 2")
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
    expect(summary.overrides).toEqual({ epsilon: 0.25, agents: 3, seeds: 2 })
    expect([summary.spec.epsilon, summary.spec.agents, summary.spec.seeds]).toEqual([0.25, 3, 2])
    expect(summary.algorithms.distmt.seeds).toBe(2)
  })

  it("a malformed --set is refused in one line before anything is written", () => {
    const out = path.join(tmp(), "never")
    for (const [flag, message] of [
      ["epsilon", "--set epsilon: expected path=value, e.g. --set epsilon=0.05"],
      ["epsilom=0.1", "--set epsilom=0.1: the spec has no field epsilom (docs/spec-reference.md lists them)"]
    ]) {
      const r = distmt("run", SPEC, "--out", out, "--set", flag)
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(message)
    }
    expect(fs.existsSync(out)).toBe(false)
  })

  it("a bad value is the spec check's error, from its process, naming the override", () => {
    const r = distmt("validate", SPEC, "--set", "cSep=0.9")
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/^ {2}cSep: expected at most the family's actual separation .*, got 0\.9 \(from --set cSep=0\.9\)$/m)
  })

  it("sweep records them in its manifest, and refuses an override of an axis", () => {
    const out = path.join(tmp(), "sweep")
    const axes = `sweep={"agents":[1,2]}`
    const r = distmt("sweep", SPEC, "--out", out, "--set", axes, "--set", "epsilon=0.25")
    expect(r.status, r.stderr).toBe(0)
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "sweep.json"), "utf8"))
    expect(manifest.overrides).toEqual({ sweep: { agents: [1, 2] }, epsilon: 0.25 })
    expect(manifest.points.map((p: { agents: number; epsilon: number }) => [p.agents, p.epsilon])).toEqual([[1, 0.25], [2, 0.25]])
    const refused = distmt("sweep", SPEC, "--out", path.join(tmp(), "x"), "--set", axes, "--set", "agents=3", "--dry-run")
    expect(refused.status).toBe(1)
    expect(refused.stderr.trim()).toBe("--set agents=3: agents is a sweep axis of this spec, set at every point; change the axis's values in the spec instead")
  })
})

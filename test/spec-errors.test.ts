/**
 * Issue 13, item 5: errors in the user's own terms. Each case failed before: a stationary `[S][A]`
 * table was shown with an `[h]` index the spec never wrote, once per step and per context; a short
 * row, a hole or an `undefined` entry said "expected a reward in [0, 1]" with nothing found; a typo
 * in a context field (`ctx.rigth`) showed up as a bad entry in every context; and a spec that failed
 * to decode (`agents: 0`) hid every problem of its tables until that was fixed.
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { checkSpec } from "../src/cli/specCheck.ts"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { Contexts, Env, Experiment, type ExperimentInput } from "../src/spec/Spec.ts"
import { formatIssue, type SpecIssue } from "../src/spec/SpecError.ts"

const SOURCE = "errors.spec.ts"

/** The issues of a spec as lines (`path: message, got value (in n of m contexts)`), or "valid". */
const lines = (input: unknown): Promise<ReadonlyArray<string> | "valid"> =>
  Effect.runPromise(
    Effect.suspend(() => decode(input, SOURCE)).pipe(
      Effect.flatMap((s) => compile(s, SOURCE)),
      Effect.map(() => "valid" as const),
      Effect.catch((e) => Effect.succeed(e.issues.map(formatIssue)))
    )
  )

const issues = (input: unknown): Promise<ReadonlyArray<SpecIssue>> =>
  Effect.runPromise(
    Effect.suspend(() => decode(input, SOURCE)).pipe(
      Effect.flatMap((s) => compile(s, SOURCE)),
      Effect.map(() => [] as ReadonlyArray<SpecIssue>),
      Effect.catch((e) => Effect.succeed(e.issues))
    )
  )

type Build = Parameters<typeof Env.tabular>[0]["build"]
type Table = Array<Array<unknown>>

const S = 4
const A = 2
const H = 3
/** 12 contexts, `{ right, left }`: context i has right = [0, 0.2, 0.4][⌊i/4⌋], left = [0, 0.5, 0.7, 0.9][i mod 4]. */
const GRID = Contexts.grid({ right: [0, 0.2, 0.4], left: [0, 0.5, 0.7, 0.9] })

const spec = (build: Build, extra: Partial<ExperimentInput> = {}): ExperimentInput =>
  Experiment.make({
    name: "errors",
    environment: Env.tabular({ states: S, actions: A, horizon: H, build }),
    contexts: GRID,
    agents: 1,
    epsilon: 0.1,
    cSep: 0.01,
    delta: 0.05,
    ...extra
  })

/** The rewards of one state: V*(s0) is then distinct for the 12 contexts (cSep holds). */
const rewardRow = (left: number, right: number): Array<unknown> => [left, left + 0.1 * right]
/** A valid stationary reward [S][A]. */
const rewardOf = (ctx: Readonly<Record<string, number>>): Table => Array.from({ length: S }, () => rewardRow(ctx.left, ctx.right))
/** A valid stationary transition [S][A][S]: every action stays. */
const stay = (): Array<Array<Array<unknown>>> =>
  Array.from({ length: S }, (_, s) => Array.from({ length: A }, () => Array.from({ length: S }, (_, t) => (t === s ? 1 : 0))))

/** Tables built from valid ones, then spoiled by `spoil`. */
const spoiled = (spoil: (t: { reward: Table; transition: ReturnType<typeof stay> }, ctx: Readonly<Record<string, number>>) => void): Build =>
(ctx) => {
  const t = { reward: rewardOf(ctx), transition: stay() }
  spoil(t, ctx)
  return t as never
}

describe("a table's bad entry in the user's own indexing", () => {
  it("the valid tables compile (every case below spoils them)", async () => {
    expect(await lines(spec(spoiled(() => {})))).toBe("valid")
  })

  it("a stationary [S][A] reward is named reward[s][a], without an [h] the spec never wrote", async () => {
    const out = await lines(spec(spoiled((t, ctx) => {
      if (ctx.right === 0 && ctx.left === 0.7) t.reward[3][1] = 1.5 // context 2 only
    })))
    // It was reward[0][3][1], reward[1][3][1] and reward[2][3][1].
    expect(out).toEqual(["environment.build(context 2).reward[3][1]: expected a reward in [0, 1], got 1.5"])
  })

  it("a stationary [S][A][S] transition likewise: transition[s][a][s']", async () => {
    const out = await lines(spec(spoiled((t, ctx) => {
      if (ctx.right === 0.2 && ctx.left === 0) t.transition[1][0] = [0.5, 0.6, -0.1, 0] // context 4
    })))
    expect(out).toEqual(["environment.build(context 4).transition[1][0][2]: expected a probability ≥ 0, got -0.1"])
  })

  it("stage-dependent [H][S][A] and [H][S][A][S] tables keep their [h]", async () => {
    const out = await lines(spec((ctx) => {
      const reward = Array.from({ length: H }, () => rewardOf(ctx))
      const transition = Array.from({ length: H }, stay)
      reward[1][3][1] = 2
      transition[2][0][1] = [0, 0.5, 0, 0]
      return { reward, transition } as never
    }))
    expect(out).toEqual([
      "environment.build(context *).reward[1][3][1]: expected a reward in [0, 1], got 2 (in 12 of 12 contexts)",
      "environment.build(context *).transition[2][0][1]: expected probabilities summing to 1, got sum 0.5 (in 12 of 12 contexts)"
    ])
  })
})

describe("missing rows and entries say so", () => {
  const only = async (spoil: Parameters<typeof spoiled>[0]) => lines(spec(spoiled(spoil)))

  it("a short row: the absent entry, missing, with the row's length", async () => {
    // It was "expected a reward in [0, 1]", with no value, once per step and context.
    expect(await only((t) => void (t.reward[2] = [0.1]))).toEqual([
      "environment.build(context *).reward[2][1]: missing: expected 2 entries, one per action (environment.actions), got 1 entry (in 12 of 12 contexts)"
    ])
  })

  it("a table short of rows: the absent rows, one line for a range", async () => {
    expect(await only((t) => void (t.reward.length = 3))).toEqual([
      "environment.build(context *).reward[3]: missing: expected 4 rows, one per state (environment.states), got 3 rows (in 12 of 12 contexts)"
    ])
    expect(await only((t) => void (t.transition.length = 2))).toEqual([
      "environment.build(context *).transition[2..3]: missing: expected 4 rows, one per state (environment.states), got 2 rows (in 12 of 12 contexts)"
    ])
  })

  it("a hole, an undefined entry and an undefined row are missing", async () => {
    expect(await only((t) => void delete t.reward[1][0])).toEqual([
      "environment.build(context *).reward[1][0]: missing: expected a reward in [0, 1] (in 12 of 12 contexts)"
    ])
    expect(await only((t) => void (t.transition[0][1][3] = undefined))).toEqual([
      "environment.build(context *).transition[0][1][3]: missing: expected a probability ≥ 0 (in 12 of 12 contexts)"
    ])
    expect(await only((t) => void (t.reward[2] = undefined as never))).toEqual([
      "environment.build(context *).reward[2]: missing: expected 2 entries, one per action (environment.actions) (in 12 of 12 contexts)"
    ])
  })

  it("a whole table missing, and a misspelt one named beside it", async () => {
    const out = await lines(spec((ctx) => ({ rewards: rewardOf(ctx), transition: stay() }) as never))
    expect(out).toEqual([
      "environment.build(context *).rewards: unexpected field of the tables; expected only reward and transition (in 12 of 12 contexts)",
      "environment.build(context *).reward: missing: expected 4 rows, one per state (environment.states) (in 12 of 12 contexts)"
    ])
  })

  it("a stage-dependent table short of stages", async () => {
    const out = await lines(spec((ctx) => ({ reward: [rewardOf(ctx), rewardOf(ctx)], transition: stay() }) as never))
    expect(out).toEqual([
      "environment.build(context *).reward[2]: missing: expected 3 stages (environment.horizon), or one table for every stage, got 2 stages (in 12 of 12 contexts)"
    ])
  })

  it("a hole among the stages is missing, and an extra stage is refused, not checked as a step", async () => {
    const holed = await lines(spec((ctx) => {
      const reward = Array.from({ length: H }, () => rewardOf(ctx))
      delete reward[1]
      return { reward, transition: stay() } as never
    }))
    expect(holed).toEqual([
      "environment.build(context *).reward[1]: missing: expected 4 rows, one per state (environment.states) (in 12 of 12 contexts)"
    ])
    const extra = await lines(spec((ctx) => {
      const reward = Array.from({ length: H + 1 }, () => rewardOf(ctx))
      reward[H][0][0] = 7 // in the refused stage: not a problem of its own
      return { reward, transition: stay() } as never
    }))
    expect(extra).toEqual([
      "environment.build(context *).reward: expected 3 stages (environment.horizon), or one table for every stage, got 4 stages (in 12 of 12 contexts)"
    ])
  })

  it("a wrong type is not called missing", async () => {
    expect(await only((t) => void (t.reward[0][0] = "0.5"))).toEqual([
      `environment.build(context *).reward[0][0]: expected a reward in [0, 1], got "0.5" (in 12 of 12 contexts)`
    ])
  })
})

describe("undefined context fields", () => {
  it("a field that no context has is named, with the likely one, instead of its consequences", async () => {
    const out = await lines(spec((ctx) => ({ reward: Array.from({ length: S }, () => rewardRow(ctx.left, ctx.rigth)), transition: stay() }) as never))
    // It was "reward[h][s][1]: expected a reward in [0, 1]" for every h, s and context: 144 lines.
    expect(out).toEqual([
      "environment.build(context *): undefined context field `rigth`: no context has it (the contexts have right, left; did you mean `right`?) (in 12 of 12 contexts)"
    ])
  })

  it("a default for a field that no context has is still a typo (ctx.rigth ?? 0.5)", async () => {
    const out = await lines(spec((ctx) => ({ reward: Array.from({ length: S }, () => rewardRow(ctx.left, ctx.rigth ?? 0.5)), transition: stay() }) as never))
    expect(out).toEqual([
      "environment.build(context *): undefined context field `rigth`: no context has it (the contexts have right, left; did you mean `right`?) (in 12 of 12 contexts)"
    ])
  })

  it("a field tested with `in` or hasOwn first is the spec's own choice, not an error", async () => {
    const out = await lines(spec((ctx) => {
      const bonus = "bonus" in ctx ? ctx.bonus : Object.hasOwn(ctx, "extra") ? ctx.extra : 0
      return { reward: Array.from({ length: S }, () => rewardRow(ctx.left, ctx.right + bonus * 0)), transition: stay() } as never
    }))
    expect(out).toBe("valid")
  })

  it("an optional field that some contexts have may default in the others (ctx.bonus ?? 0)", async () => {
    const contexts = Contexts.list([{ right: 0.2, left: 0, bonus: 0.3 }, { right: 0.4, left: 0 }])
    const build: Build = (ctx) => ({ reward: Array.from({ length: S }, () => rewardRow(ctx.left, ctx.right + (ctx.bonus ?? 0))), transition: stay() }) as never
    expect(await lines(spec(build, { contexts }))).toBe("valid")
    // …but when the context's tables are wrong, the absent field is named as their likely cause.
    const noDefault: Build = (ctx) => ({ reward: Array.from({ length: S }, () => rewardRow(ctx.left, ctx.right + ctx.bonus)), transition: stay() }) as never
    expect(await lines(spec(noDefault, { contexts }))).toEqual([
      "environment.build(context 1).reward[0][1]: expected a finite number, got NaN",
      "environment.build(context 1).reward[1][1]: expected a finite number, got NaN",
      "environment.build(context 1).reward[2][1]: expected a finite number, got NaN",
      "environment.build(context 1).reward[3][1]: expected a finite number, got NaN",
      "environment.build(context 1): undefined context field `bonus`: this context does not have it (other contexts do)"
    ])
  })

  it("what JavaScript itself looks up on any object raises no false alarm", async () => {
    const out = await lines(spec((ctx) => {
      // JSON.stringify reads toJSON; a template literal Symbol.toPrimitive and toString; Promise.resolve reads then.
      const probes = [JSON.stringify(ctx), `${ctx}`, String(ctx), Object.keys(ctx).length, { ...ctx }.right, ctx.hasOwnProperty("z"), ctx.constructor.name]
      void Promise.resolve(ctx)
      // structuredClone cannot copy a Proxy: such a build is given the plain context.
      const copy = structuredClone(ctx)
      expect(probes).toHaveLength(7)
      return { reward: Array.from({ length: S }, () => rewardRow(copy.left, ctx.right)), transition: stay() } as never
    }))
    expect(out).toBe("valid")
  })

  it("a build that throws after reading an undefined field names both", async () => {
    const out = await lines(spec((ctx) => {
      const p = (ctx as unknown as { params: { right: number } }).params
      return { reward: Array.from({ length: S }, () => rewardRow(ctx.left, p.right)), transition: stay() } as never
    }))
    expect(out).toHaveLength(2)
    expect(out[0]).toBe(
      "environment.build(context *): undefined context field `params`: no context has it (the contexts have right, left) (in 12 of 12 contexts)"
    )
    expect(out[1]).toMatch(/^environment\.build\(context \*\): expected the tables, but build threw: .*reading 'right'.* \(in 12 of 12 contexts\)$/)
  })
})

describe("one issue per distinct problem, with a count", () => {
  it("the same bad entry in every context is one line (it was once per step and context: 36 lines)", async () => {
    const found = await issues(spec(spoiled((t) => void (t.reward[3][1] = NaN))))
    expect(found).toEqual([
      { path: "environment.build(context *).reward[3][1]", message: "expected a finite number", actual: "NaN", inContexts: { count: 12, of: 12 } }
    ])
    expect(formatIssue(found[0])).toBe("environment.build(context *).reward[3][1]: expected a finite number, got NaN (in 12 of 12 contexts)")
  })

  it("in some contexts: which ones, and the distinct values found", async () => {
    const out = await lines(spec(spoiled((t, ctx) => {
      if (ctx.left === 0) t.reward[0][0] = 2 + 5 * ctx.right // contexts 0, 4, 8: 2, 3, 4
      if (ctx.left > 0) t.transition[3][1] = [0, 0, 0, 0.9] // the 9 others
    })))
    expect(out).toEqual([
      "environment.build(contexts 0, 4, 8).reward[0][0]: expected a reward in [0, 1], got 2, 3, 4 (in 3 of 12 contexts)",
      "environment.build(contexts 1, 2, 3, 5, 6, …).transition[3][1]: expected probabilities summing to 1, got sum 0.9 (in 9 of 12 contexts)"
    ])
  })

  it("a bad axis value of Contexts.grid is one line at that value, not one per combination", async () => {
    const chain = Experiment.make({
      name: "grid",
      environment: Env.linearChain({ length: 3, horizon: 2 }),
      contexts: Contexts.grid({ goal: [2, 7], reward: [0.5, 1], slip: [0.1, 0.2] }),
      agents: 1,
      epsilon: 0.1,
      cSep: 0.01,
      delta: 0.05
    })
    // It was 4 lines, `contexts.axes (context 4: {"goal":7,...}).goal` and the three others.
    expect(await lines(chain)).toEqual(["contexts.axes.goal[1]: expected a state index in 0..2, got 7"])
    const { slip: _, ...axes } = { goal: [2, 1], reward: [0.5, 1], slip: [0.1] }
    expect(await lines({ ...chain, contexts: Contexts.grid(axes) })).toEqual(["contexts.axes.slip: expected a probability in [0, 1] (missing)"])
  })

  it("a table wrong everywhere lists its first 20 problems and says there are more", async () => {
    const out = await lines(spec(spoiled((t) => {
      for (const row of t.reward) row.fill(2)
      for (const row of t.transition) for (const a of row) a.fill(-1) // 8 rewards and 32 probabilities
    })))
    expect(out).toHaveLength(21)
    expect(out[0]).toBe("environment.build(context *).reward[0][0]: expected a reward in [0, 1], got 2 (in 12 of 12 contexts)")
    expect(out[20]).toBe("environment.build(context *): more problems in these tables, not listed: fix the ones above first (in 12 of 12 contexts)")
  })
})

describe("every independent error at once", () => {
  it("a field that fails to decode does not hide the tables' problems", async () => {
    // It was `agents` alone; the NaN came only after agents was fixed.
    expect(await lines(spec(spoiled((t) => void (t.reward[3][1] = NaN)), { agents: 0 }))).toEqual([
      "agents: expected a value greater than 0, got 0",
      "environment.build(context *).reward[3][1]: expected a finite number, got NaN (in 12 of 12 contexts)"
    ])
  })

  it("every decode error, in nested builders and the quick variant too", async () => {
    const out = await lines({
      ...spec(spoiled(() => {})),
      name: "bad name",
      environment: { _tag: "Tabular", states: 0, actions: 2.5, horizon: 3, build: 1 },
      stopping: { _tag: "Schedule", k1: 0 },
      quick: { epsilon: -1 }
    })
    expect(out).toEqual([
      `name: expected a name of letters, digits, '.', '_' or '-' (it names the results folder), got "bad name"`,
      "environment.states: expected a value greater than 0, got 0",
      "environment.actions: expected an integer, got 2.5",
      "environment.build: expected a function, got 1",
      "stopping.k1: expected a value greater than 0, got 0",
      "stopping.k2: expected a value: this field is required (missing)",
      "quick.epsilon: expected a value greater than 0, got -1"
    ])
  })

  it("compile's checks that do not need the tables are reported with their problems", async () => {
    // ε above H and a start state out of range each used to wait until the tables were right.
    const out = await lines({
      ...spec(spoiled((t) => void (t.reward[0][0] = -1)), { epsilon: 5 }),
      environment: Env.tabular({ states: S, actions: A, horizon: H, start: 9, build: spoiled((t) => void (t.reward[0][0] = -1)) })
    })
    expect(out).toEqual([
      "environment.start: expected a state index in 0..3, got 9",
      "environment.build(context *).reward[0][0]: expected a reward in [0, 1], got -1 (in 12 of 12 contexts)",
      "epsilon: expected at most the horizon H = 3 (values lie in [0, H]), got 5"
    ])
  })

  it("ε above H is reported beside a field's own problem, not after it is fixed", async () => {
    const out = await lines({ ...spec(spoiled(() => {}), { epsilon: 5 }), agents: -2 })
    expect(out).toEqual([
      "agents: expected a value greater than 0, got -2",
      "epsilon: expected at most the horizon H = 3 (values lie in [0, H]), got 5"
    ])
  })
})

describe("distmt validate, end to end through the spec-check process", () => {
  it("prints each problem once, in the spec's indexing, with its count", () => {
    const root = path.resolve(import.meta.dirname, "..")
    const file = "test/fixtures/errors/tabular-errors.spec.ts"
    const r = spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), "validate", file], { cwd: root, encoding: "utf8", timeout: 120_000 })
    expect(r.status).toBe(1)
    expect(r.stderr.trim().split("\n")).toEqual([
      `Invalid spec ${file}:`,
      "  agents: expected a value greater than 0, got 0",
      "  environment.build(context *).reward[3][1]: expected a finite number, got NaN (in 12 of 12 contexts)",
      "  environment.build(contexts 8, 9, 10, 11).transition[2][1]: missing: expected 2 entries, one per action (environment.actions), got 1 entry (in 4 of 12 contexts)"
    ])
  })

  it("an undefined context field is found in the worker too", async () => {
    const message = await Effect.runPromise(
      checkSpec("test/fixtures/errors/context-typo.spec.ts", { timeoutSeconds: 60 }).pipe(
        Effect.map(() => "valid"),
        Effect.catch((e) => Effect.succeed(e.message))
      )
    )
    expect(message.split("\n")).toEqual([
      "Invalid spec test/fixtures/errors/context-typo.spec.ts:",
      "  environment.build(context *): undefined context field `rigth`: no context has it (the contexts have right, left; did you mean `right`?) (in 6 of 6 contexts)"
    ])
  })
})

describe("one problem, one line, across the rows of a table", () => {
  it("an extra action column in every row is one line at [*]; in one row only, that row's index", async () => {
    const everyRow = spoiled((t) => t.reward.forEach((row) => row.push(0)))
    expect(await lines(spec(everyRow))).toEqual([
      "environment.build(context *).reward[*]: expected 2 entries, one per action (environment.actions), got 3 entries (in 12 of 12 contexts)"
    ])
    const oneRow = spoiled((t) => t.reward[2].push(0))
    expect(await lines(spec(oneRow))).toEqual([
      "environment.build(context *).reward[2]: expected 2 entries, one per action (environment.actions), got 3 entries (in 12 of 12 contexts)"
    ])
  })
})

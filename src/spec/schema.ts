/**
 * The run-time schema of a spec (effect/Schema) and `decode`, which checks an unknown value
 * against it and fills in the documented defaults. Unknown fields are errors, not ignored: a
 * misspelt `epsilon` must never fall back silently to a default (docs/algorithm.md §6, item 6).
 */
import { Effect, Result, Schema, SchemaIssue } from "effect"
import type { Experiment, MinAtarEnv } from "./Spec.ts"
import { minatarTasks, MinAtarEnvSchema } from "../env/minatar/spec.ts"
import { deepMerge, getAt, isPlainObject, parseFieldPath } from "./paths.ts"
import { formatPath, show, SpecError, type SpecIssue } from "./SpecError.ts"

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Probability = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
const Fn = Schema.declare((u: unknown): u is (...args: ReadonlyArray<never>) => unknown => typeof u === "function", {
  expected: "a function"
})

const LinearChainEnv = Schema.Struct({
  _tag: Schema.Literal("LinearChain"),
  length: PositiveInt.check(Schema.isGreaterThanOrEqualTo(2)),
  horizon: PositiveInt,
  distractor: Schema.optionalKey(Probability)
})

const RandomLinearEnv = Schema.Struct({
  _tag: Schema.Literal("RandomLinear"),
  states: PositiveInt,
  actions: PositiveInt,
  dim: PositiveInt,
  horizon: PositiveInt,
  seed: Schema.optionalKey(NonNegativeInt)
})

const TabularEnv = Schema.Struct({
  _tag: Schema.Literal("Tabular"),
  states: PositiveInt,
  actions: PositiveInt,
  horizon: PositiveInt,
  start: Schema.optionalKey(NonNegativeInt),
  build: Fn
})

const Environment = Schema.Union([LinearChainEnv, RandomLinearEnv, TabularEnv, MinAtarEnvSchema]).annotate({
  expected: "an environment: Env.linearChain({...}), Env.randomLinear({...}), Env.tabular({...}) or Env.minatar({...})"
})

/** "__proto__" would be dropped when the record is rebuilt: refuse it rather than lose it silently. */
const ContextKey = Schema.String.check(
  Schema.makeFilter((k: string) => k !== "__proto__", { expected: "a context field name other than __proto__" })
)
const ContextRecord = Schema.Record(ContextKey, Schema.Finite)
const Contexts = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("List"), items: Schema.Array(ContextRecord).check(Schema.isMinLength(1)) }),
  Schema.Struct({
    _tag: Schema.Literal("Grid"),
    axes: Schema.Record(ContextKey, Schema.Array(Schema.Finite).check(Schema.isMinLength(1)))
  }),
  Schema.Struct({ _tag: Schema.Literal("Seeds"), count: PositiveInt }),
  Schema.Struct({
    _tag: Schema.Literal("Separated"),
    count: PositiveInt,
    spacing: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0))),
    lowest: Schema.Finite,
    vary: ContextKey.check(Schema.isMinLength(1)),
    within: Schema.Tuple([Schema.Finite, Schema.Finite]).check(
      Schema.makeFilter((t: readonly [number, number]) => t[0] < t[1], { expected: "an interval [low, high] with low < high" })
    ),
    bases: Schema.optionalKey(Schema.Array(ContextRecord).check(Schema.isMinLength(1)))
  })
]).annotate({
  expected: "contexts: Contexts.list([...]), Contexts.grid({...}), Contexts.seeds(M) or Contexts.separated({...})"
})

const Features = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Native") }),
  Schema.Struct({ _tag: Schema.Literal("OneHot") }),
  Schema.Struct({ _tag: Schema.Literal("Custom"), dim: PositiveInt, map: Fn })
]).annotate({ expected: "features: Features.native(), Features.oneHot() or Features.custom(dim, (s, a) => [...])" })

const Assignment = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Partition") }),
  Schema.Struct({ _tag: Schema.Literal("Stream") }),
  Schema.Struct({ _tag: Schema.Literal("Random"), k: PositiveInt })
]).annotate({ expected: "an assignment: Assignment.partition(), Assignment.stream() or Assignment.random(k)" })

const Learner = Schema.Struct({
  _tag: Schema.Literal("LsviUcb"),
  beta: Schema.optionalKey(
    Schema.Union([Schema.Literal("theory"), Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))]).annotate({
      expected: `"theory" or a number ≥ 0`
    })
  ),
  cBeta: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0))),
  lambda: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0)))
})

const Kappa = Schema.Finite.check(Schema.isGreaterThan(0))
const Stopping = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Adaptive"), maxEpisodes: Schema.optionalKey(PositiveInt) }),
  Schema.Struct({ _tag: Schema.Literal("Schedule"), k1: PositiveInt, k2: PositiveInt }),
  Schema.Struct({ _tag: Schema.Literal("Theory"), kappa1: Kappa, kappa2: Kappa, maxEpisodes: Schema.optionalKey(PositiveInt) })
]).annotate({
  expected: "a stopping rule: Stopping.adaptive(), Stopping.schedule({ k1, k2 }) or Stopping.theory({ kappa1, kappa2 })"
})

/**
 * One value of a sweep axis: a number (numeric axes), a string (`sharing`) or a builder's plain
 * value with a `_tag` (`assignment`, `learner`, `stopping`). Whether it fits its field is checked per
 * point, by decoding the point's spec (src/spec/sweep.ts), so that an error names `sweep.<key>[i]`.
 */
const SweepValue = Schema.Union([
  Schema.Finite,
  Schema.String,
  Schema.declare((u: unknown): u is { readonly _tag: string } => isPlainObject(u) && typeof u._tag === "string", {
    expected: "a builder's value such as Assignment.stream()"
  })
]).annotate({ expected: "a number, a string, or a builder's value such as Assignment.random(2)" })

/** Default of `threads`. */
export const DEFAULT_THREADS: number | "auto" = "auto"
/** More learner threads than this is a typo, not a machine. */
export const MAX_THREADS = 64

/** The spec as written (optional fields optional). */
export const ExperimentInput = Schema.Struct({
  name: Schema.String.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    expected: "a name of letters, digits, '.', '_' or '-' (it names the results folder)"
  })),
  environment: Environment,
  contexts: Contexts,
  features: Schema.optionalKey(Features),
  agents: PositiveInt,
  assignment: Schema.optionalKey(Assignment),
  epsilon: Schema.Finite.check(Schema.isGreaterThan(0)),
  cSep: Schema.Finite.check(Schema.isGreaterThan(0)),
  delta: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true })),
  learner: Schema.optionalKey(Learner),
  stopping: Schema.optionalKey(Stopping),
  sharing: Schema.optionalKey(Schema.Literals(["policy", "experience"])),
  baselines: Schema.optionalKey(Schema.Array(Schema.Literals(["independent", "oracle"]))),
  seeds: Schema.optionalKey(PositiveInt),
  seed: Schema.optionalKey(NonNegativeInt),
  threads: Schema.optionalKey(
    Schema.Union([PositiveInt.check(Schema.isLessThanOrEqualTo(MAX_THREADS)), Schema.Literal("auto")]).annotate({
      expected: `a whole number of threads from 1 to ${MAX_THREADS}, or "auto" (one per core)`
    })
  ),
  description: Schema.optionalKey(Schema.String),
  sweep: Schema.optionalKey(Schema.Record(Schema.String, Schema.Array(SweepValue).check(Schema.isMinLength(1))))
})

/** Default of `Stopping.adaptive().maxEpisodes`: a phase that has not converged by then gives up. */
export const DEFAULT_MAX_EPISODES = 50_000
/** Default of `Stopping.theory().maxEpisodes`: theory budgets with K1 + K2 above it are refused. */
export const DEFAULT_THEORY_MAX_EPISODES = 1_000_000

const valueAt = (root: unknown, path: ReadonlyArray<PropertyKey>): { readonly found: boolean; readonly value: unknown } => {
  let cur: unknown = root
  for (const k of path) {
    if (cur === null || typeof cur !== "object" || !(k in (cur as object))) return { found: false, value: undefined }
    cur = (cur as Record<PropertyKey, unknown>)[k]
  }
  return { found: true, value: cur }
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** The issues of a failed decode, each with its path, expectation and the value found. */
const issuesOf = (issue: SchemaIssue.Issue, input: unknown): Array<SpecIssue> =>
  firstPerPath(formatter(issue).issues).map((i) => {
    const path = (i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))
    const at = valueAt(input, path)
    // The schema says "Missing key" for an absent required field; say which field and that it is required.
    const message = i.message === "Missing key" ? "expected a value: this field is required (missing)" : i.message.replace(/^Expected /, "expected ")
    return at.found ? { path: formatPath(path), message, actual: show(at.value) } : { path: formatPath(path), message }
  })

/**
 * One issue per field: the schema checks a field's type before its range and reports both for one
 * bad value (NaN is "not finite" and "not greater than 0"); the first says what is wrong.
 */
const firstPerPath = <I extends { readonly path?: ReadonlyArray<unknown> | undefined }>(issues: ReadonlyArray<I>): Array<I> => {
  const seen = new Set<string>()
  return issues.filter((i) => {
    const key = JSON.stringify((i.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? p.key : p)))
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

export interface DecodeOptions {
  /** Decode the spec with its `quick` variant merged over it (`distmt sweep --quick`). */
  readonly quick?: boolean
}

/** Decodes the spec as written (no `quick`), or returns its issues. */
const decodeInput = (input: unknown): { readonly spec?: typeof ExperimentInput.Type; readonly issues: Array<SpecIssue> } => {
  const options = { errors: "all", onExcessProperty: "error" } as const
  const result = Schema.decodeUnknownResult(ExperimentInput)(input, options)
  if (Result.isSuccess(result)) {
    return { spec: result.success, issues: [...sweepIssues(result.success, Object.keys(result.success.sweep ?? {})), ...minatarIssues(result.success)] }
  }
  const issues = issuesOf(result.failure.issue, input)
  // The axes' keys are still checked when only their values (or other fields) are wrong, if the rest decodes.
  if (isPlainObject(input) && isPlainObject(input.sweep)) {
    const rest = Schema.decodeUnknownResult(ExperimentInput)({ ...input, sweep: {} }, options)
    if (Result.isSuccess(rest)) {
      const reported = new Set(issues.map((i) => i.path))
      issues.push(...sweepIssues(rest.success, Object.keys(input.sweep)).filter((i) => !reported.has(i.path)))
    }
  }
  return { issues }
}

/**
 * Decodes a spec and fills in every default, or fails with all the problems found. A `quick`
 * variant is always checked (its issues are reported under `quick.`), and used if `options.quick`.
 */
export const decode = (input: unknown, source: string, options: DecodeOptions = {}): Effect.Effect<Experiment, SpecError> => {
  const hasQuick = isPlainObject(input) && Object.hasOwn(input, "quick")
  const written = hasQuick ? omitQuick(input) : input
  const base = decodeInput(written)
  const issues = [...base.issues]
  let merged: ReturnType<typeof decodeInput> | undefined
  if (hasQuick) {
    const quick = input.quick
    if (!isPlainObject(quick)) {
      issues.push({ path: "quick", message: "expected an object of the fields to change for --quick", actual: show(quick) })
    } else if (Object.hasOwn(quick, "quick")) {
      issues.push({ path: "quick.quick", message: "unexpected field: a quick variant has no quick variant of its own", actual: show(quick.quick) })
    } else {
      merged = decodeInput(deepMerge(written, quick))
      const seen = new Set(base.issues.map((i) => `${i.path}\u0000${i.message}`))
      for (const i of merged.issues) {
        if (seen.has(`${i.path}\u0000${i.message}`)) continue
        issues.push({ ...i, path: i.path === "(spec)" ? "quick" : `quick.${i.path}` })
      }
    }
  }
  if (issues.length > 0) return Effect.fail(new SpecError({ source, issues }))
  const s = options.quick === true && merged?.spec !== undefined ? merged.spec : base.spec!
  return Effect.succeed(withDefaults(s))
}

const omitQuick = (input: Record<string, unknown>): Record<string, unknown> => {
  const { quick: _quick, ...rest } = input
  return rest
}

/** The decoded spec with every documented default filled in. */
const withDefaults = (s: typeof ExperimentInput.Type): Experiment => {
  const learner = s.learner ?? { _tag: "LsviUcb" as const }
  const stopping = s.stopping ?? { _tag: "Adaptive" as const }
  return {
    name: s.name,
    environment: s.environment as Experiment["environment"],
    contexts: s.contexts,
    features: (s.features ?? { _tag: "Native" }) as Experiment["features"],
    agents: s.agents,
    assignment: s.assignment ?? { _tag: "Partition" },
    epsilon: s.epsilon,
    cSep: s.cSep,
    delta: s.delta,
    learner: { _tag: "LsviUcb", beta: learner.beta ?? "theory", cBeta: learner.cBeta ?? 1, lambda: learner.lambda ?? 1 },
    stopping: stopping._tag === "Adaptive"
      ? { _tag: "Adaptive", maxEpisodes: stopping.maxEpisodes ?? DEFAULT_MAX_EPISODES }
      : stopping._tag === "Theory"
      ? { ...stopping, maxEpisodes: stopping.maxEpisodes ?? DEFAULT_THEORY_MAX_EPISODES }
      : stopping,
    sharing: s.sharing ?? "policy",
    baselines: s.baselines ?? [],
    seeds: s.seeds ?? 1,
    seed: s.seed ?? 0,
    threads: s.threads ?? DEFAULT_THREADS,
    ...(s.description === undefined ? {} : { description: s.description }),
    sweep: s.sweep ?? {}
  }
}

/** The most points (combinations of axis values) a sweep may have: a typo must not plan a million runs. */
export const MAX_SWEEP_POINTS = 10_000

/** Fields a sweep axis may not name: seeds are swept by `seeds`, and these are not parameters of a run. */
const NOT_SWEEPABLE = new Set(["seed", "seeds", "name", "sweep", "quick", "description", "threads"])

/**
 * The categorical fields a sweep axis may name: their values are strings or builders' plain values,
 * each a different run of the same protocol (docs/algorithm.md §2–§4), with a readable label.
 */
export const CATEGORICAL_AXES: ReadonlyArray<string> = ["sharing", "assignment", "learner", "stopping"]

/**
 * A sweep axis must name a numeric field of the spec, defaults included (`stopping.maxEpisodes`
 * exists even if left out), or one of the categorical fields. Whether each value is valid there is
 * checked per point (src/spec/sweep.ts).
 */
const sweepIssues = (s: typeof ExperimentInput.Type, keys: ReadonlyArray<string>): Array<SpecIssue> => {
  const issues: Array<SpecIssue> = []
  const spec = withDefaults({ ...s, sweep: {} })
  const points = Object.values(s.sweep ?? {}).reduce((n, v) => n * v.length, 1)
  for (const key of keys) {
    const path = parseFieldPath(key)
    const at = `sweep.${key}`
    if (path === undefined) {
      issues.push({ path: at, message: "expected the path of a numeric field of the spec, e.g. agents, cSep, stopping.k1, stopping.kappa1, contexts.count, or a categorical field such as sharing" })
      continue
    }
    if (NOT_SWEEPABLE.has(String(path[0]))) {
      issues.push({
        path: at,
        message: path[0] === "seed" || path[0] === "seeds"
          ? "expected a parameter of a run: seeds are swept by the spec's `seeds` field"
          : "expected a numeric parameter of a run"
      })
      continue
    }
    const found = getAt(spec, path)
    if (!found.found) {
      const hint = path[0] === "contexts" && path[1] === "count"
        ? ` (the number of tasks M can be swept with Contexts.separated({ count }) or Contexts.seeds(count), not ${show(spec.contexts._tag)})`
        : ""
      issues.push({ path: at, message: `expected the path of a numeric field of this spec; there is no ${key}${hint}` })
    } else if (typeof found.value !== "number" && !CATEGORICAL_AXES.includes(key)) {
      issues.push({
        path: at,
        message: `expected the path of a numeric field, or one of the categorical fields ${CATEGORICAL_AXES.join(", ")}; ${key} is ${show(found.value)} in this spec`
      })
    }
  }
  if (points > MAX_SWEEP_POINTS) {
    issues.push({
      path: "sweep",
      message: `expected at most ${MAX_SWEEP_POINTS} combinations of axis values`,
      actual: `${points} combinations`
    })
  }
  return issues
}

// ─── MinAtar-style games (the deep stage, issue 11) ────────────────────────────────────────────────

/** An `Env.minatar` spec's contexts, each checked against its game's parameters (src/env/minatar/spec.ts). */
const minatarIssues = (s: typeof ExperimentInput.Type): ReadonlyArray<SpecIssue> =>
  s.environment._tag === "MinAtar" ? minatarTasks(s.environment as MinAtarEnv, s.contexts).issues : []

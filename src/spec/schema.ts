/**
 * The run-time schema of a spec (effect/Schema) and `decode`, which checks an unknown value
 * against it and fills in the documented defaults. Unknown fields are errors, not ignored: a
 * misspelt `epsilon` must never fall back silently to a default (docs/algorithm.md §6, item 6).
 * The schemas of the builders' values (`Env.*`, `Contexts.*`, …) are in fields.ts.
 */
import { Effect, Result, Schema, SchemaIssue } from "effect"
import type { Experiment, MinAtarEnv } from "./Spec.ts"
import { CLI_REMEDIES, type Remedies } from "./cost.ts"
import { minatarTasks } from "../env/minatar/spec.ts"
import { Assignment, Contexts, CSep, Environment, familyIssues, Features, Learner, NonNegativeInt, PositiveInt, Stopping } from "./fields.ts"
import { baselineIssues, replayIssues, seedIssues } from "./crossFields.ts"
import { deepMerge, getAt, isPlainObject, parseFieldPath } from "./paths.ts"
import { formatPath, show, SpecError, type SpecIssue } from "./SpecError.ts"

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

/**
 * A range to draw from (`Sweep.range`, `distmt sweep --sample K`). Its own consistency (max above
 * min, a log scale above 0, whole-number ends) is checked by sweepIssues, each at its field.
 */
const SweepRange = Schema.Struct({
  _tag: Schema.Literal("Range"),
  min: Schema.Finite,
  max: Schema.Finite,
  scale: Schema.optionalKey(Schema.Literals(["linear", "log"])),
  integer: Schema.optionalKey(Schema.Boolean)
})

/** A sweep axis: a non-empty list of values (a grid), or a range (random search). */
const SweepAxis = Schema.Union([Schema.Array(SweepValue).check(Schema.isMinLength(1)), SweepRange]).annotate({
  expected: "a list of values, or Sweep.range(min, max) for distmt sweep --sample"
})

/** Default of `threads`. */
export const DEFAULT_THREADS: number | "auto" = "auto"
/** More learner threads than this is a typo, not a machine. */
export const MAX_THREADS = 64

/** Learner threads: the spec's `threads`, and the `threads` option of the library API (src/spec/overrides.ts `threadsOption`). */
export const Threads = Schema.Union([PositiveInt.check(Schema.isLessThanOrEqualTo(MAX_THREADS)), Schema.Literal("auto")]).annotate({
  expected: `a whole number of threads from 1 to ${MAX_THREADS}, or "auto" (one per core)`
})

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
  cSep: CSep,
  delta: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true })),
  learner: Schema.optionalKey(Learner),
  stopping: Schema.optionalKey(Stopping),
  sharing: Schema.optionalKey(Schema.Literals(["policy", "experience"])),
  baselines: Schema.optionalKey(Schema.Array(Schema.Literals(["independent", "oracle"]))),
  seeds: Schema.optionalKey(PositiveInt),
  seed: Schema.optionalKey(NonNegativeInt),
  threads: Schema.optionalKey(Threads),
  description: Schema.optionalKey(Schema.String),
  sweep: Schema.optionalKey(Schema.Record(Schema.String, SweepAxis))
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
    let message = i.message === "Missing key" ? "expected a value: this field is required (missing)" : i.message.replace(/^Expected /, "expected ")
    // The schema's integers are safe integers: 1e20 is whole, and "expected an integer" would puzzle.
    if (message === "expected an integer" && typeof at.value === "number" && Number.isInteger(at.value)) {
      message = `expected a whole number of at most ${Number.MAX_SAFE_INTEGER.toLocaleString("en-US")}`
    }
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
  /** How messages name the quick variant: `--quick` by default, `quick: true` for the library API. */
  readonly remedies?: Remedies
}

/** Decodes the spec as written (no `quick`), or returns its issues. */
const decodeInput = (input: unknown): { readonly spec?: typeof ExperimentInput.Type; readonly issues: Array<SpecIssue> } => {
  const options = { errors: "all", onExcessProperty: "error" } as const
  const result = Schema.decodeUnknownResult(ExperimentInput)(input, options)
  if (Result.isSuccess(result)) {
    const s = result.success
    return { spec: s, issues: [...seedIssues(s), ...baselineIssues(s), ...sweepIssues(s, Object.keys(s.sweep ?? {})), ...minatarIssues(s)] }
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
 * Decodes a spec and fills in every default, or fails with all the problems found: every field
 * that does not decode (`errors: "all"`), and then what compile would find in the tables, contexts
 * and feature map if those decoded (familyIssues). A `quick` variant is always checked (its issues
 * are reported under `quick.`), and used if `options.quick`.
 */
export const decode = (input: unknown, source: string, options: DecodeOptions = {}): Effect.Effect<Experiment, SpecError> => {
  const remedies = options.remedies ?? CLI_REMEDIES
  const hasQuick = isPlainObject(input) && Object.hasOwn(input, "quick")
  const written = hasQuick ? omitQuick(input) : input
  const base = decodeInput(written)
  const issues = [...base.issues]
  let merged: ReturnType<typeof decodeInput> | undefined
  if (hasQuick) {
    const quick = input.quick
    if (!isPlainObject(quick)) {
      issues.push({ path: "quick", message: `expected an object of the fields to change for ${remedies.quick}`, actual: show(quick) })
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
  // --quick on a spec with no variant would run the full experiment, maybe for hours: refused.
  if (options.quick === true && !hasQuick) {
    issues.push({
      path: "quick",
      message: `expected a quick variant for ${remedies.quick} (missing): add \`quick: { ... }\` with the fields to make smaller ` +
        `(docs/spec-reference.md, "The quick variant"), or run the spec as written, without ${remedies.quick}`
    })
  }
  if (issues.length > 0) return Effect.fail(new SpecError({ source, issues: [...issues, ...familyIssues(written, issues)] }))
  const s = options.quick === true && merged?.spec !== undefined ? merged.spec : base.spec!
  // Of the variant that runs only: `--quick --set learner.framesPerAgent=1000` leaves the spec as
  // written below its own replayStart, which does not run.
  const replay = replayIssues(s)
  if (replay.length > 0) {
    return Effect.fail(new SpecError({ source, issues: options.quick === true ? replay.map((i) => ({ ...i, message: `${i.message} (in the quick variant, ${remedies.runQuick})` })) : replay }))
  }
  return Effect.succeed(withDefaults(s))
}

const omitQuick = (input: Record<string, unknown>): Record<string, unknown> => {
  const { quick: _quick, ...rest } = input
  return rest
}

/** The decoded spec with every documented default filled in. */
const withDefaults = (s: typeof ExperimentInput.Type): Experiment => {
  const learner = s.learner ?? { _tag: "LsviUcb" as const }
  const settings: Experiment["learner"] = learner._tag === "Dqn"
    ? {
      _tag: "Dqn",
      framesPerAgent: learner.framesPerAgent,
      dqn: learner.dqn ?? {},
      returnTarget: learner.returnTarget,
      evaluationEpisodes: learner.evaluationEpisodes ?? 20,
      evaluationFrames: learner.evaluationFrames ?? 2_000,
      engine: learner.engine ?? "onnx",
      identification: learner.identification ?? "occupancy",
      identificationFrames: learner.identificationFrames ?? 2_500,
      lifelong: learner.lifelong ?? false
    }
    : { _tag: "LsviUcb", beta: learner.beta ?? "theory", cBeta: learner.cBeta ?? 1, lambda: learner.lambda ?? 1 }
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
    learner: settings,
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
  // Ranges are drawn from, never crossed: only the lists make a grid.
  const points = Object.values(s.sweep ?? {}).reduce((n, v) => n * (Array.isArray(v) ? v.length : 1), 1)
  for (const key of keys) {
    const path = parseFieldPath(key)
    const at = `sweep.${key}`
    if (path === undefined) {
      issues.push({ path: at, message: "expected the path of a numeric field of the spec, e.g. agents, cSep, stopping.k1, stopping.kappa1, contexts.count, or a categorical field such as sharing" })
      continue
    }
    const outer = keys.find((k) => k !== key && isInside(path, parseFieldPath(k)))
    if (outer !== undefined) {
      // `learner` and `learner.beta` together: the inner axis rewrites what the outer one's label names.
      issues.push({
        path: at,
        message: `expected a field no other axis holds: sweep.${outer} sets the whole of ${outer} at every point, ` +
          `and ${key} inside it would run other values than its labels say; give sweep.${outer} those values instead`
      })
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
    } else {
      const axis = s.sweep?.[key]
      if (axis !== undefined && !Array.isArray(axis)) issues.push(...rangeIssues(at, key, axis as typeof SweepRange.Type, typeof found.value === "number"))
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

/** Whether `path` lies strictly inside `outer` (`learner.beta` inside `learner`). */
const isInside = (path: ReadonlyArray<string | number>, outer: ReadonlyArray<string | number> | undefined): boolean =>
  outer !== undefined && outer.length < path.length && outer.every((part, i) => part === path[i])

/** A range's own problems, each at its field (`sweep.epsilon.max`): the values it draws are checked per point. */
const rangeIssues = (at: string, key: string, r: typeof SweepRange.Type, numeric: boolean): Array<SpecIssue> => {
  if (!numeric) {
    return [{ path: at, message: `expected a list of values: ${key} is categorical, and a range (Sweep.range) is for numeric fields` }]
  }
  const issues: Array<SpecIssue> = []
  if (r.integer === true) {
    for (const end of ["min", "max"] as const) {
      if (!Number.isInteger(r[end])) issues.push({ path: `${at}.${end}`, message: "expected an integer: the range is declared { integer: true }", actual: show(r[end]) })
    }
  }
  if (r.scale === "log" && r.min <= 0) issues.push({ path: `${at}.min`, message: "expected a number > 0: a log scale cannot reach 0 or below", actual: show(r.min) })
  if (r.max <= r.min) issues.push({ path: `${at}.max`, message: `expected a number > min = ${r.min}: a range needs room to draw from`, actual: show(r.max) })
  return issues
}

// ─── MinAtar-style games (the deep stage, issue 11) ────────────────────────────────────────────────

/** An `Env.minatar` spec's contexts, each checked against its game's parameters (src/env/minatar/spec.ts). */
const minatarIssues = (s: typeof ExperimentInput.Type): ReadonlyArray<SpecIssue> => {
  const deep = s.learner?._tag === "Dqn"
  if (s.environment._tag !== "MinAtar") {
    return deep ? [{ path: "learner._tag", message: "expected Lsvi.ucb({...}): Dqn.learner is for Env.minatar games", actual: "Dqn" }] : []
  }
  const { tasks, issues } = minatarTasks(s.environment as MinAtarEnv, s.contexts)
  const more: Array<SpecIssue> = []
  if (!deep) more.push({ path: "learner", message: "expected Dqn.learner({ framesPerAgent, returnTarget, ... }): Env.minatar games need the deep learner", ...(s.learner === undefined ? {} : { actual: "Lsvi.ucb" }) })
  const target = s.learner?._tag === "Dqn" ? s.learner.returnTarget : undefined
  if (Array.isArray(target) && issues.length === 0 && target.length !== tasks.length) {
    more.push({ path: "learner.returnTarget", message: `expected one number, or one per context (${tasks.length})`, actual: `${target.length} numbers` })
  }
  if (s.stopping !== undefined && s.stopping._tag !== "Adaptive") {
    more.push({ path: "stopping", message: "expected Stopping.adaptive({ maxEpisodes }) for the deep stage: its learning stops by learner.framesPerAgent", actual: s.stopping._tag })
  }
  return [...issues, ...more]
}

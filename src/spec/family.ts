/**
 * The family of tasks a spec describes: its M contexts, each built into a finite MDP by the
 * environment, and the feature table. Everything here depends only on `environment`, `contexts`
 * and `features` (and `cSep`, the default spacing of `Contexts.separated`), so it is checked by
 * `compile`, and also by `decode` when another field of the spec is wrong: every independent
 * problem of a spec is reported at once (docs/spec-reference.md).
 */
import { type FeatureTable, type FiniteMdp, oneHotFeatures } from "../env/FiniteMdp.ts"
import { buildLinearChain } from "../env/linearChain.ts"
import { buildRandomLinear, randomLinearFeatures } from "../env/randomLinear.ts"
import { MAX_SOLVE_COST, SOLVES_PER_TASK, solveCost, solveSeparated } from "../env/separated.ts"
import { optimalValues } from "../env/solve.ts"
import { mark, Step } from "./activity.ts"
import { Issues } from "./issues.ts"
import type { Context, Experiment, LinearChainEnv, RandomLinearEnv, TabularEnv } from "./Spec.ts"
import { Described, formatIssue, show } from "./SpecError.ts"
import { tabularMdp } from "./tabular.ts"

/** What the tasks and the features are built from. */
export interface Family {
  /** The environments with finite tables (compile refuses `Env.minatar` before). */
  readonly environment: LinearChainEnv | RandomLinearEnv | TabularEnv
  readonly contexts: Experiment["contexts"]
  readonly features: Experiment["features"]
  /** The default spacing of `Contexts.separated`; undefined when the spec's cSep is itself wrong. */
  readonly cSep: number | undefined
}

export interface BuiltFamily {
  /** The M contexts, task id = index (empty when there are too many to list). */
  readonly contexts: ReadonlyArray<Context>
  /** One MDP per context; complete only when no issue was found. */
  readonly tasks: ReadonlyArray<FiniteMdp>
  /** Undefined when the feature map is wrong or too large. */
  readonly features: FeatureTable | undefined
  readonly horizon: number
  readonly states: number
  readonly actions: number
  /** d, known from the spec even when the feature table is not built. */
  readonly dim: number
  /** The sizes are within the limits, so the tables could be built. */
  readonly fits: boolean
}

/** Feature norms may exceed 1 by rounding only. */
const NORM_TOLERANCE = 1e-9

/**
 * The most entries compile (and a run) may allocate for one kind of table: the transition tables of
 * all M contexts (H·S·A·S·M), the feature table (S·A·d) and the learner's Λ⁻¹ (H·d²). Beyond it a
 * spec is refused with an issue instead of crashing on an allocation (docs/algorithm.md §6 item 6).
 */
export const MAX_TABLE_ENTRIES = 50_000_000
/** The most contexts compile will list (each is checked one by one). */
export const MAX_CONTEXTS = 1_000_000

type FieldCheck = Record<string, { readonly check: (v: number) => boolean; readonly expected: string }>

const isInt = (v: number) => Number.isInteger(v)

const linearChainFields = (length: number): FieldCheck => ({
  goal: { check: (v) => isInt(v) && v >= 0 && v < length, expected: `a state index in 0..${length - 1}` },
  reward: { check: (v) => v >= 0 && v <= 1, expected: "a reward in [0, 1]" },
  slip: { check: (v) => v >= 0 && v <= 1, expected: "a probability in [0, 1]" }
})

const SEED_FIELDS: FieldCheck = { seed: { check: (v) => isInt(v) && v >= 0, expected: "an integer seed ≥ 0" } }

/** The contexts with the path each came from, for error messages. */
const expandContexts = (
  contexts: Experiment["contexts"],
  separated: ReadonlyArray<Context>
): Array<{ readonly context: Context; readonly path: string }> => {
  switch (contexts._tag) {
    case "Separated":
      return separated.map((context, i) => ({ context, path: `contexts (task ${i}: ${show(context)})` }))
    case "List":
      return contexts.items.map((context, i) => ({ context, path: `contexts.items[${i}]` }))
    case "Seeds":
      return Array.from({ length: contexts.count }, (_, i) => ({ context: { seed: i }, path: `contexts.count` }))
    case "Grid": {
      let out: Array<Record<string, number>> = [{}]
      for (const [k, values] of Object.entries(contexts.axes)) {
        out = out.flatMap((prefix) => values.map((v) => ({ ...prefix, [k]: v })))
      }
      return out.map((context) => ({ context, path: "contexts.axes" }))
    }
  }
}

/** Every field any context of the family has: the fields `build` may read (contextReads.ts). */
const contextFields = (contexts: Experiment["contexts"]): ReadonlySet<string> => {
  switch (contexts._tag) {
    case "List":
      return new Set(contexts.items.flatMap((c) => Object.keys(c)))
    case "Grid":
      return new Set(Object.keys(contexts.axes))
    case "Seeds":
      return new Set(["seed"])
    case "Separated":
      return new Set([...(contexts.bases ?? []).flatMap((c) => Object.keys(c)), contexts.vary])
  }
}

/** Checks a context's fields against the ones an environment reads, with their ranges. */
const checkFields = (issues: Issues, context: Context, path: string, fields: FieldCheck) => {
  for (const [k, f] of Object.entries(fields)) {
    const v = context[k]
    if (v === undefined) issues.add(`${path}.${k}`, `expected ${f.expected} (missing)`)
    else if (!f.check(v)) issues.add(`${path}.${k}`, `expected ${f.expected}`, v)
  }
  for (const k of Object.keys(context)) {
    if (!Object.hasOwn(fields, k)) issues.add(`${path}.${k}`, `unexpected context field; expected only ${Object.keys(fields).join(", ")}`, context[k])
  }
}

/**
 * The axes of `Contexts.grid`, checked as the user wrote them (`contexts.axes.goal[1]`): a bad
 * value is one problem, not one per combination that holds it.
 */
const checkAxes = (issues: Issues, axes: Readonly<Record<string, ReadonlyArray<number>>>, fields: FieldCheck) => {
  for (const [k, f] of Object.entries(fields)) {
    if (!Object.hasOwn(axes, k)) issues.add(`contexts.axes.${k}`, `expected ${f.expected} (missing)`)
    else axes[k].forEach((v, j) => f.check(v) || issues.add(`contexts.axes.${k}[${j}]`, `expected ${f.expected}`, v))
  }
  for (const k of Object.keys(axes)) {
    if (!Object.hasOwn(fields, k)) issues.add(`contexts.axes.${k}`, `unexpected context field; expected only ${Object.keys(fields).join(", ")}`, axes[k])
  }
}

const checkContexts = (
  issues: Issues,
  contexts: Experiment["contexts"],
  entries: ReadonlyArray<{ readonly context: Context; readonly path: string }>,
  fields: FieldCheck
) => {
  if (contexts._tag === "Grid") checkAxes(issues, contexts.axes, fields)
  else for (const { context, path } of entries) checkFields(issues, context, path, fields)
}

const contextCount = (c: Experiment["contexts"]): number =>
  c._tag === "List"
    ? c.items.length
    : c._tag === "Seeds" || c._tag === "Separated"
    ? c.count
    : Object.values(c.axes).reduce((n, v) => n * v.length, 1)

/** S, A, H and d of a family. */
const sizesOf = (family: Family) => {
  const env = family.environment
  const S = env._tag === "LinearChain" ? env.length : env.states
  const A = env._tag === "LinearChain" ? 2 : env.actions
  const f = family.features
  const d = f._tag === "Custom" ? f.dim : f._tag === "Native" && env._tag === "RandomLinear" ? env.dim : S * A
  return { env, S, A, H: env.horizon, d }
}

/** Checks the sizes of what is about to be built, before anything is allocated. */
const checkSizes = (issues: Issues, family: Family): { readonly fits: boolean; readonly listable: boolean } => {
  const { env, S, A, H, d } = sizesOf(family)
  const M = contextCount(family.contexts)
  const f = family.features
  const before = issues.size
  const limit = `at most ${MAX_TABLE_ENTRIES} table entries`
  const listable = M <= MAX_CONTEXTS
  if (!listable) issues.add("contexts", `expected at most ${MAX_CONTEXTS} contexts`, new Described(`${M} contexts`))
  if (H * S * A * S > MAX_TABLE_ENTRIES) {
    issues.add("environment", `expected an environment of ${limit} (H·S·A·S = ${H}·${S}·${A}·${S})`, env)
  } else if (listable && H * S * A * S * M > MAX_TABLE_ENTRIES) {
    // Named at the larger factor: the environment's tables (H·S·A·S) or the number of contexts M.
    const message = `expected ${limit} over all ${M} contexts (H·S·A·S·M = ${H}·${S}·${A}·${S}·${M})`
    if (H * S * A * S >= M) issues.add("environment", message, env)
    else issues.add("contexts", message, new Described(`${M} contexts`))
  }
  if (S * A * d > MAX_TABLE_ENTRIES || H * d * d > MAX_TABLE_ENTRIES) {
    const [path, actual] = f._tag === "Custom" ? ["features.dim", d] : ["environment", env]
    issues.add(path, `expected features of ${limit} (S·A·d and H·d², d = ${d})`, actual)
  }
  return { fits: issues.size === before, listable }
}

/** The feature map's problems listed one by one; past them, one line counts the rest. */
const LISTED_FEATURE_PROBLEMS = 10

/** Tabulates and checks the feature map: length d, finite entries, ‖φ(s,a)‖₂ ≤ 1 (§1). */
const featureTable = (issues: Issues, family: Family, S: number, A: number): FeatureTable | undefined => {
  const f = family.features
  const env = family.environment
  if (f._tag === "OneHot" || (f._tag === "Native" && env._tag !== "RandomLinear")) return oneHotFeatures(S, A)
  if (f._tag === "Native" && env._tag === "RandomLinear") {
    return randomLinearFeatures({ ...env, seed: env.seed ?? 0 })
  }
  if (f._tag !== "Custom") return undefined
  const d = f.dim
  const values = new Float64Array(S * A * d)
  // Every pair is checked (a valid map is called for each anyway); the first ones are listed, and a
  // last line counts the rest, so that a map wrong on 400 pairs does not read as wrong on the 10 shown.
  let found = 0
  const problem = (path: string, message: string, actual?: unknown) => {
    if (found++ < LISTED_FEATURE_PROBLEMS) issues.add(path, message, actual)
  }
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const path = `features.map(${s}, ${a})`
      let row: unknown
      try {
        mark(Step.features, s, a)
        row = f.map(s, a)
        mark(Step.compile)
      } catch (e) {
        problem(path, `expected a vector of length ${d}, but the map threw: ${e instanceof Error ? e.message : String(e)}`)
        continue
      }
      if (!Array.isArray(row) && !(row instanceof Float64Array)) {
        problem(path, `expected an array of ${d} numbers`, row)
        continue
      }
      const v = row as ArrayLike<unknown>
      if (v.length !== d) {
        problem(path, `expected a vector of length ${d} (features.dim)`, new Described(`length ${v.length}`))
        continue
      }
      let norm2 = 0
      let finite = true
      for (let i = 0; i < d; i++) {
        const x = v[i]
        if (typeof x !== "number" || !Number.isFinite(x)) finite = false
        else norm2 += x * x
      }
      if (!finite) {
        problem(path, "expected finite numbers (no NaN or Infinity)", row)
        continue
      }
      if (Math.sqrt(norm2) > 1 + NORM_TOLERANCE) {
        problem(path, "expected ‖φ(s,a)‖₂ ≤ 1", new Described(`norm ${Math.sqrt(norm2)}`))
        continue
      }
      values.set(v as ArrayLike<number>, (s * A + a) * d)
    }
  }
  if (found > LISTED_FEATURE_PROBLEMS) {
    issues.add("features.map", `${found - LISTED_FEATURE_PROBLEMS} more (s, a) pairs with problems, not listed: fix the ones above first`)
  }
  return found === 0 ? { dim: d, states: S, actions: A, values } : undefined
}

/**
 * The contexts of `Contexts.separated` (src/env/separated.ts): solved on exact V*, before the
 * per-environment checks see them like any other contexts.
 */
const separatedContexts = (issues: Issues, family: Family): ReadonlyArray<Context> => {
  const c = family.contexts
  if (c._tag !== "Separated") return []
  const spacing = c.spacing ?? family.cSep
  if (spacing === undefined) return [] // the spec's cSep is wrong, and says so: nothing to solve for
  const env = family.environment
  const distractor = env._tag === "LinearChain" ? env.distractor ?? 0.05 : 0
  const fields = contextFields(c)
  const startValue = (context: Context): number | string => {
    const probe = new Issues()
    let mdp: FiniteMdp | undefined
    switch (env._tag) {
      case "LinearChain":
        checkFields(probe, context, "context", linearChainFields(env.length))
        if (probe.size === 0) {
          mdp = buildLinearChain({ length: env.length, horizon: env.horizon, distractor }, context as { goal: number; reward: number; slip: number })
        }
        break
      case "Tabular":
        if ((env.start ?? 0) >= env.states) return "the environment's start state is out of range"
        mdp = tabularMdp(probe, env, context, -1, fields)
        break
      case "RandomLinear":
        return "Env.randomLinear contexts are seeds, which V* does not vary with continuously"
    }
    if (mdp === undefined) return probe.list.map((i) => formatIssue(i).replace(/^environment\.build\(context 0\)/, "build")).join("; ")
    return optimalValues(mdp).V[mdp.start]
  }
  const solvable = { ...c, spacing, bases: c.bases ?? [{}] }
  const before = issues.size
  for (const [i, b] of solvable.bases.entries()) {
    if (Object.hasOwn(b, c.vary)) issues.add(`contexts.bases[${i}].${c.vary}`, `unexpected field: ${c.vary} is the field solved for (contexts.vary)`, b[c.vary])
  }
  if (issues.size > before) return []
  // Each task is solved by bisection: refuse with its cost a count that would run for hours.
  const entries = env._tag === "LinearChain"
    ? env.horizon * env.length * 2 * env.length
    : env._tag === "Tabular"
    ? env.horizon * env.states * env.actions * env.states
    : 0
  const cost = solveCost(c.count, entries)
  if (cost > MAX_SOLVE_COST) {
    issues.add(
      "contexts.count",
      `expected a family that can be solved before the run: Contexts.separated solves each task by bisection on V* ` +
        `(about ${SOLVES_PER_TASK} solves of ${entries} transition entries each), ${cost.toExponential(1)} operations for ${c.count} tasks, ` +
        `above the limit of ${MAX_SOLVE_COST.toExponential(0)} (about half a minute); use fewer tasks, or list them with Contexts.list`,
      c.count
    )
    return []
  }
  const solved = solveSeparated(solvable, startValue)
  switch (solved._tag) {
    case "Solved":
      return solved.contexts
    case "Unreachable": {
      const [lo, hi] = c.within
      issues.add(
        "contexts",
        `expected task ${solved.task}'s V*(s0) = ${solved.target.toPrecision(6)} (lowest + ${solved.task}·spacing) to be reachable by ` +
          `varying ${c.vary} in [${lo}, ${hi}] from ${show(solved.base)}; V*(s0) there goes from ${solved.range[0].toPrecision(6)} to ${solved.range[1].toPrecision(6)}`,
        new Described(`count ${c.count}, spacing ${spacing}, lowest ${c.lowest}`)
      )
      return []
    }
    case "Failed":
      issues.add("contexts", `expected contexts that extend their base with ${c.vary}; task ${solved.task}: ${solved.reason}`)
      return []
  }
}

/**
 * ε above the horizon: every value lies in [0, H] (docs/algorithm.md §1), so no policy could be
 * told ε-optimal. Checked by compile, and beside the fields' own problems (fields.ts `familyIssues`).
 */
export const epsilonIssue = (issues: Issues, epsilon: number, H: number): void => {
  if (epsilon > H) issues.add("epsilon", `expected at most the horizon H = ${H} (values lie in [0, H])`, epsilon)
}

/**
 * Builds and checks the family's contexts, tasks and features, adding every problem found to
 * `issues`. Nothing is allocated when the sizes are beyond the limits.
 */
export const buildFamily = (issues: Issues, family: Family): BuiltFamily => {
  const { env, S, A, H, d } = sizesOf(family)
  // Too big to build: every other check still runs, but nothing is allocated.
  const { fits, listable } = checkSizes(issues, family)
  const separated = listable && fits ? separatedContexts(issues, family) : []
  const entries = listable ? expandContexts(family.contexts, separated) : []
  issues.contexts = entries.length
  const tasks: Array<FiniteMdp> = []
  const before = issues.size
  switch (env._tag) {
    case "LinearChain": {
      checkContexts(issues, family.contexts, entries, linearChainFields(env.length))
      const params = { length: env.length, horizon: env.horizon, distractor: env.distractor ?? 0.05 }
      if (issues.size === before && fits) {
        for (const { context } of entries) tasks.push(buildLinearChain(params, context as { goal: number; reward: number; slip: number }))
      }
      break
    }
    case "RandomLinear": {
      checkContexts(issues, family.contexts, entries, SEED_FIELDS)
      const params = { ...env, seed: env.seed ?? 0 }
      if (issues.size === before && fits) for (const { context } of entries) tasks.push(buildRandomLinear(params, context as { seed: number }))
      break
    }
    case "Tabular": {
      // A start state out of range does not stop the tables from being checked: both are reported.
      if ((env.start ?? 0) >= S) issues.add("environment.start", `expected a state index in 0..${S - 1}`, env.start)
      if (fits) {
        const fields = contextFields(family.contexts)
        entries.forEach(({ context }, i) => {
          const m = tabularMdp(issues, env, context, i, fields)
          if (m !== undefined) tasks.push(m)
        })
      }
      break
    }
  }
  const features = fits ? featureTable(issues, family, S, A) : undefined
  return { contexts: entries.map((e) => e.context), tasks, features, horizon: H, states: S, actions: A, dim: d, fits }
}

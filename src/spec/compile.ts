/**
 * From a decoded spec to what a run needs: the M task MDPs, the feature table, the exact optimal
 * values and the family's separation, and β. Everything that only the built environment can tell
 * is checked here, before anything runs: context fields, a user's tables, a user's feature map
 * (length, NaN, norm ≤ 1), and the declared cSep against the actual separation (docs/algorithm.md §1).
 */
import { Effect } from "effect"
import { type FeatureTable, type FiniteMdp, oneHotFeatures } from "../env/FiniteMdp.ts"
import { buildLinearChain } from "../env/linearChain.ts"
import { buildRandomLinear, randomLinearFeatures } from "../env/randomLinear.ts"
import { MAX_SOLVE_COST, SOLVES_PER_TASK, solveCost, solveSeparated } from "../env/separated.ts"
import { optimalValues, separation, type Values } from "../env/solve.ts"
import type { Context, Experiment, TabularEnv } from "./Spec.ts"
import { mark, Step } from "./activity.ts"
import { Described, show, SpecError } from "./SpecError.ts"
import { Issues } from "./issues.ts"
import { tabularMdp } from "./tabular.ts"
import { resolveBeta, type ResolvedExperiment, resolveStopping } from "./theory.ts"

export { resolveBeta, type ResolvedExperiment } from "./theory.ts"

export interface Compiled {
  readonly spec: ResolvedExperiment
  /** The M contexts, task id = index. */
  readonly contexts: ReadonlyArray<Context>
  readonly tasks: ReadonlyArray<FiniteMdp>
  readonly features: FeatureTable
  readonly optimal: ReadonlyArray<Values>
  /** V*_1(s0) per task. */
  readonly startValues: ReadonlyArray<number>
  readonly separation: { readonly value: number; readonly pair: readonly [number, number] | undefined }
  readonly horizon: number
  readonly states: number
  readonly actions: number
  /** The β the learners use (resolved from "theory" if so). */
  readonly beta: number
}

/** Feature norms may exceed 1 by rounding only. */
const NORM_TOLERANCE = 1e-9


/** The contexts with the path each came from, for error messages. */
const expandContexts = (
  spec: Experiment,
  separated: ReadonlyArray<Context>
): Array<{ readonly context: Context; readonly path: string }> => {
  const c = spec.contexts
  switch (c._tag) {
    case "Separated":
      return separated.map((context, i) => ({ context, path: `contexts (task ${i}: ${show(context)})` }))
    case "List":
      return c.items.map((context, i) => ({ context, path: `contexts.items[${i}]` }))
    case "Seeds":
      return Array.from({ length: c.count }, (_, i) => ({ context: { seed: i }, path: `contexts.count` }))
    case "Grid": {
      let out: Array<Record<string, number>> = [{}]
      for (const [k, values] of Object.entries(c.axes)) {
        out = out.flatMap((prefix) => values.map((v) => ({ ...prefix, [k]: v })))
      }
      return out.map((context) => ({ context, path: "contexts.axes" }))
    }
  }
}

/** Checks a context's fields against the ones an environment reads, with their ranges. */
const checkFields = (
  issues: Issues,
  context: Context,
  path: string,
  fields: Record<string, { readonly check: (v: number) => boolean; readonly expected: string }>
) => {
  for (const [k, f] of Object.entries(fields)) {
    const v = context[k]
    if (v === undefined) issues.add(`${path}.${k}`, `expected ${f.expected} (missing)`)
    else if (!f.check(v)) issues.add(`${path}.${k}`, `expected ${f.expected}`, v)
  }
  for (const k of Object.keys(context)) {
    if (!Object.hasOwn(fields, k)) issues.add(`${path}.${k}`, `unexpected context field; expected only ${Object.keys(fields).join(", ")}`, context[k])
  }
}

const isInt = (v: number) => Number.isInteger(v)

/**
 * The most entries compile (and a run) may allocate for one kind of table: the transition tables of
 * all M contexts (H·S·A·S·M), the feature table (S·A·d) and the learner's Λ⁻¹ (H·d²). Beyond it a
 * spec is refused with an issue instead of crashing on an allocation (docs/algorithm.md §6 item 6).
 */
export const MAX_TABLE_ENTRIES = 50_000_000
/** The most contexts compile will list (each is checked one by one). */
export const MAX_CONTEXTS = 1_000_000

const contextCount = (c: Experiment["contexts"]): number =>
  c._tag === "List"
    ? c.items.length
    : c._tag === "Seeds" || c._tag === "Separated"
    ? c.count
    : Object.values(c.axes).reduce((n, v) => n * v.length, 1)

/** Checks the sizes of what compile is about to build, before anything is allocated. */
const checkSizes = (issues: Issues, spec: Experiment): { readonly fits: boolean; readonly listable: boolean } => {
  const env = spec.environment
  if (env._tag === "MinAtar") return { fits: false, listable: false } // refused by compile (deep stage)
  const S = env._tag === "LinearChain" ? env.length : env.states
  const A = env._tag === "LinearChain" ? 2 : env.actions
  const H = env.horizon
  const M = contextCount(spec.contexts)
  const f = spec.features
  const d = f._tag === "Custom" ? f.dim : f._tag === "Native" && env._tag === "RandomLinear" ? env.dim : S * A
  const before = issues.list.length
  const limit = `at most ${MAX_TABLE_ENTRIES} table entries`
  const listable = M <= MAX_CONTEXTS
  if (!listable) issues.add("contexts", `expected at most ${MAX_CONTEXTS} contexts`, new Described(`${M} contexts`))
  if (H * S * A * S > MAX_TABLE_ENTRIES) {
    issues.add("environment", `expected an environment of ${limit} (H·S·A·S = ${H}·${S}·${A}·${S})`, env)
  } else if (listable && H * S * A * S * M > MAX_TABLE_ENTRIES) {
    issues.add("contexts", `expected ${limit} over all ${M} contexts (H·S·A·S·M = ${H}·${S}·${A}·${S}·${M})`, new Described(`${M} contexts`))
  }
  if (S * A * d > MAX_TABLE_ENTRIES || H * d * d > MAX_TABLE_ENTRIES) {
    const [path, actual] = f._tag === "Custom" ? ["features.dim", d] : ["environment", env]
    issues.add(path, `expected features of ${limit} (S·A·d and H·d², d = ${d})`, actual)
  }
  return { fits: issues.list.length === before, listable }
}

/** Tabulates and checks the feature map: length d, finite entries, ‖φ(s,a)‖₂ ≤ 1 (§1). */
const featureTable = (issues: Issues, spec: Experiment, S: number, A: number): FeatureTable | undefined => {
  const f = spec.features
  const env = spec.environment
  if (f._tag === "OneHot" || (f._tag === "Native" && env._tag !== "RandomLinear")) return oneHotFeatures(S, A)
  if (f._tag === "Native" && env._tag === "RandomLinear") {
    return randomLinearFeatures({ ...env, seed: env.seed ?? 0 })
  }
  if (f._tag !== "Custom") return undefined
  const d = f.dim
  const values = new Float64Array(S * A * d)
  const before = issues.list.length
  for (let s = 0; s < S && issues.list.length - before < 10; s++) {
    for (let a = 0; a < A; a++) {
      const path = `features.map(${s}, ${a})`
      let row: unknown
      try {
        mark(Step.features, s, a)
        row = f.map(s, a)
        mark(Step.compile)
      } catch (e) {
        issues.add(path, `expected a vector of length ${d}, but the map threw: ${e instanceof Error ? e.message : String(e)}`)
        continue
      }
      if (!Array.isArray(row) && !(row instanceof Float64Array)) {
        issues.add(path, `expected an array of ${d} numbers`, row)
        continue
      }
      const v = row as ArrayLike<unknown>
      if (v.length !== d) {
        issues.add(path, `expected a vector of length ${d} (features.dim)`, new Described(`length ${v.length}`))
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
        issues.add(path, "expected finite numbers (no NaN or Infinity)", row)
        continue
      }
      if (Math.sqrt(norm2) > 1 + NORM_TOLERANCE) {
        issues.add(path, "expected ‖φ(s,a)‖₂ ≤ 1", new Described(`norm ${Math.sqrt(norm2)}`))
        continue
      }
      values.set(v as ArrayLike<number>, (s * A + a) * d)
    }
  }
  return issues.list.length === before ? { dim: d, states: S, actions: A, values } : undefined
}

const linearChainFields = (length: number) => ({
  goal: { check: (v: number) => isInt(v) && v >= 0 && v < length, expected: `a state index in 0..${length - 1}` },
  reward: { check: (v: number) => v >= 0 && v <= 1, expected: "a reward in [0, 1]" },
  slip: { check: (v: number) => v >= 0 && v <= 1, expected: "a probability in [0, 1]" }
})

/**
 * The contexts of `Contexts.separated` (src/env/separated.ts): solved on exact V*, before the
 * per-environment checks below see them like any other contexts.
 */
const separatedContexts = (issues: Issues, spec: Experiment): ReadonlyArray<Context> => {
  const c = spec.contexts
  if (c._tag !== "Separated") return []
  const env = spec.environment
  const distractor = env._tag === "LinearChain" ? env.distractor ?? 0.05 : 0
  const startValue = (context: Context): number | string => {
    const probe = new Issues()
    let mdp: FiniteMdp | undefined
    switch (env._tag) {
      case "LinearChain":
        checkFields(probe, context, "context", linearChainFields(env.length))
        if (probe.list.length === 0) {
          mdp = buildLinearChain({ length: env.length, horizon: env.horizon, distractor }, context as { goal: number; reward: number; slip: number })
        }
        break
      case "Tabular":
        if ((env.start ?? 0) >= env.states) return "the environment's start state is out of range"
        mdp = tabularMdp(probe, env, context, -1)
        break
      case "RandomLinear":
        return "Env.randomLinear contexts are seeds, which V* does not vary with continuously"
    }
    if (mdp === undefined) return probe.list.map((i) => `${i.path.replace(/^environment\.build\(context 0\)/, "build")}: ${i.message}${i.actual === undefined ? "" : `, got ${i.actual}`}`).join("; ")
    return optimalValues(mdp).V[mdp.start]
  }
  const family = { ...c, spacing: c.spacing ?? spec.cSep, bases: c.bases ?? [{}] }
  const where = "contexts"
  for (const [i, b] of family.bases.entries()) {
    if (Object.hasOwn(b, c.vary)) issues.add(`contexts.bases[${i}].${c.vary}`, `unexpected field: ${c.vary} is the field solved for (contexts.vary)`, b[c.vary])
  }
  if (issues.list.length > 0) return []
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
  const solved = solveSeparated(family, startValue)
  switch (solved._tag) {
    case "Solved":
      return solved.contexts
    case "Unreachable": {
      const [lo, hi] = c.within
      issues.add(
        where,
        `expected task ${solved.task}'s V*(s0) = ${solved.target.toPrecision(6)} (lowest + ${solved.task}·spacing) to be reachable by ` +
          `varying ${c.vary} in [${lo}, ${hi}] from ${show(solved.base)}; V*(s0) there goes from ${solved.range[0].toPrecision(6)} to ${solved.range[1].toPrecision(6)}`,
        new Described(`count ${c.count}, spacing ${family.spacing}, lowest ${c.lowest}`)
      )
      return []
    }
    case "Failed":
      issues.add(where, `expected contexts that extend their base with ${c.vary}; task ${solved.task}: ${solved.reason}`)
      return []
  }
}

/** Builds and checks everything; fails with every problem found, before anything runs. */
export const compile = (spec: Experiment, source: string): Effect.Effect<Compiled, SpecError> =>
  Effect.suspend(() => {
    if (spec.environment._tag === "MinAtar") {
      // Games need a deep learner: this linear-stage pipeline refuses them instead of failing later.
      const message = "the deep stage's experiment (issue 12) is not available yet: environment minatar needs a deep learner"
      return Effect.fail(new SpecError({ source, issues: [{ path: "environment", message, actual: show(spec.environment) }] }))
    }
    mark(Step.compile)
    const issues = new Issues()
    // Too big to build: every other check still runs, but nothing is allocated.
    const { fits, listable } = checkSizes(issues, spec)
    const env = spec.environment
    const separated = listable && fits ? separatedContexts(issues, spec) : []
    const entries = listable ? expandContexts(spec, separated) : []
    const tasks: Array<FiniteMdp> = []
    let S = 0
    let A = 0
    let H = 0
    switch (env._tag) {
      case "LinearChain": {
        S = env.length
        A = 2
        H = env.horizon
        const params = { length: env.length, horizon: env.horizon, distractor: env.distractor ?? 0.05 }
        entries.forEach(({ context, path }, i) => {
          const at = spec.contexts._tag === "List" || spec.contexts._tag === "Separated" ? path : `${path} (context ${i}: ${show(context)})`
          const before = issues.list.length
          checkFields(issues, context, at, linearChainFields(env.length))
          if (issues.list.length === before && fits) {
            tasks.push(buildLinearChain(params, context as { goal: number; reward: number; slip: number }))
          }
        })
        break
      }
      case "RandomLinear": {
        S = env.states
        A = env.actions
        H = env.horizon
        const params = { ...env, seed: env.seed ?? 0 }
        entries.forEach(({ context, path }) => {
          const before = issues.list.length
          checkFields(issues, context, path, { seed: { check: (v) => isInt(v) && v >= 0, expected: "an integer seed ≥ 0" } })
          if (issues.list.length === before && fits) tasks.push(buildRandomLinear(params, context as { seed: number }))
        })
        break
      }
      case "Tabular": {
        S = env.states
        A = env.actions
        H = env.horizon
        if ((env.start ?? 0) >= S) issues.add("environment.start", `expected a state index in 0..${S - 1}`, env.start)
        else if (fits) {
          entries.forEach(({ context }, i) => {
            const m = tabularMdp(issues, env, context, i)
            if (m !== undefined) tasks.push(m)
          })
        }
        break
      }
    }
    const features = fits ? featureTable(issues, spec, S, A) : undefined
    if (issues.list.length > 0 || features === undefined) return Effect.fail(new SpecError({ source, issues: issues.list }))

    const optimal = tasks.map(optimalValues)
    const startValues = tasks.map((m, i) => optimal[i].V[m.start])
    const sep = separation(startValues)
    if (spec.cSep > sep.value) {
      const [i, j] = sep.pair ?? [0, 0]
      issues.add(
        "cSep",
        `expected at most the family's actual separation ${sep.value.toPrecision(4)} ` +
          `(tasks ${i} and ${j}: V* = ${startValues[i].toPrecision(6)} and ${startValues[j].toPrecision(6)})`,
        spec.cSep
      )
    }
    if (spec.epsilon > H) issues.add("epsilon", `expected at most the horizon H = ${H} (values lie in [0, H])`, spec.epsilon)
    const stopping = resolveStopping(spec, features.dim, H)
    if (stopping.issue !== undefined) issues.list.push(stopping.issue)
    const resolved: ResolvedExperiment = { ...spec, stopping: stopping.rule }
    if (issues.list.length > 0) return Effect.fail(new SpecError({ source, issues: issues.list }))
    return Effect.succeed({
      spec: resolved,
      contexts: entries.map((e) => e.context),
      tasks,
      features,
      optimal,
      startValues,
      separation: sep,
      horizon: H,
      states: S,
      actions: A,
      beta: resolveBeta(resolved, features.dim, H)
    })
  })

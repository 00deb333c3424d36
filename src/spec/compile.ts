/**
 * From a decoded spec to what a run needs: the M task MDPs, the feature table, the exact optimal
 * values and the family's separation, and β. Everything that only the built environment can tell
 * is checked here, before anything runs: context fields, a user's tables, a user's feature map
 * (length, NaN, norm ≤ 1), and the declared cSep against the actual separation (docs/algorithm.md §1).
 */
import { Effect } from "effect"
import type { FeatureTable, FiniteMdp } from "../env/FiniteMdp.ts"
import { optimalValues, separation, type Values } from "../env/solve.ts"
import type { Context, Experiment } from "./Spec.ts"
import { mark, Step } from "./activity.ts"
import { buildFamily, epsilonIssue } from "./family.ts"
import { show, SpecError } from "./SpecError.ts"
import { Issues } from "./issues.ts"
import { resolveBeta, type ResolvedExperiment, resolveStopping } from "./theory.ts"

export { MAX_CONTEXTS, MAX_TABLE_ENTRIES } from "./family.ts"
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

/** Builds and checks everything; fails with every problem found, before anything runs. */
export const compile = (spec: Experiment, source: string): Effect.Effect<Compiled, SpecError> =>
  Effect.suspend(() => {
    if (spec.environment._tag === "MinAtar") {
      // Games run on the deep stage's own runner (src/deep/distmt/), which `distmt run`, `distmt
      // sweep` and the API's runDeep() call; every caller sends a deep spec there before compiling,
      // so this refusal is a guard against a new caller that does not, not a user's error.
      const message = "a deep-stage spec (Env.minatar) is not compiled by the linear stage: " +
        "`distmt run`, `distmt sweep` and the library API's runDeep() run it on the deep stage's runner"
      return Effect.fail(new SpecError({ source, issues: [{ path: "environment", message, actual: show(spec.environment) }] }))
    }
    mark(Step.compile)
    const issues = new Issues()
    const env = spec.environment
    const family = buildFamily(issues, { environment: env, contexts: spec.contexts, features: spec.features, cSep: spec.cSep })
    const { tasks, features, horizon: H } = family
    // The separation needs every task; the other checks are independent of the tables, and are
    // reported with their problems rather than after they are fixed.
    const built = issues.size === 0 && features !== undefined
    const optimal = built ? tasks.map(optimalValues) : []
    const startValues = optimal.map((o, i) => o.V[tasks[i].start])
    const sep = separation(startValues) // Infinity without tasks: nothing to compare cSep with
    if (spec.cSep > sep.value) {
      const [i, j] = sep.pair ?? [0, 0]
      issues.add(
        "cSep",
        `expected at most the family's actual separation ${sep.value.toPrecision(4)} ` +
          `(tasks ${i} and ${j}: V* = ${startValues[i].toPrecision(6)} and ${startValues[j].toPrecision(6)})`,
        spec.cSep
      )
    }
    epsilonIssue(issues, spec.epsilon, H)
    const stopping = resolveStopping(spec, family.dim, H)
    if (family.fits && stopping.issue !== undefined) issues.push(stopping.issue)
    if (issues.size > 0 || features === undefined) return Effect.fail(new SpecError({ source, issues: issues.list }))
    const resolved: ResolvedExperiment = { ...spec, stopping: stopping.rule }
    return Effect.succeed({
      spec: resolved,
      contexts: family.contexts,
      tasks,
      features,
      optimal,
      startValues,
      separation: sep,
      horizon: H,
      states: family.states,
      actions: family.actions,
      beta: resolveBeta(resolved, features.dim, H)
    })
  })

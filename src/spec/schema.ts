/**
 * The run-time schema of a spec (effect/Schema) and `decode`, which checks an unknown value
 * against it and fills in the documented defaults. Unknown fields are errors, not ignored: a
 * misspelt `epsilon` must never fall back silently to a default (ALGORITHM.md §6, item 6).
 */
import { Effect, Result, Schema, SchemaIssue } from "effect"
import type { Experiment } from "./Spec.ts"
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

const Environment = Schema.Union([LinearChainEnv, RandomLinearEnv, TabularEnv]).annotate({
  expected: "an environment: Env.linearChain({...}), Env.randomLinear({...}) or Env.tabular({...})"
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
  Schema.Struct({ _tag: Schema.Literal("Seeds"), count: PositiveInt })
]).annotate({ expected: "contexts: Contexts.list([...]), Contexts.grid({...}) or Contexts.seeds(M)" })

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

const Stopping = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Adaptive"), maxEpisodes: Schema.optionalKey(PositiveInt) }),
  Schema.Struct({ _tag: Schema.Literal("Schedule"), k1: PositiveInt, k2: PositiveInt })
]).annotate({ expected: "a stopping rule: Stopping.adaptive() or Stopping.schedule({ k1, k2 })" })

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
  sharing: Schema.optionalKey(
    Schema.Literal("policy").annotate({ expected: `"policy" ("experience" sharing is not available yet)` })
  ),
  baselines: Schema.optionalKey(Schema.Array(Schema.Literals(["independent", "oracle"]))),
  seeds: Schema.optionalKey(PositiveInt),
  seed: Schema.optionalKey(NonNegativeInt)
})

/** Default of `Stopping.adaptive().maxEpisodes`: a phase that has not converged by then gives up. */
export const DEFAULT_MAX_EPISODES = 50_000

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
  formatter(issue).issues.map((i) => {
    const path = (i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))
    const at = valueAt(input, path)
    // The schema says "Missing key" for an absent required field; say which field and that it is required.
    const message = i.message === "Missing key" ? "expected a value: this field is required (missing)" : i.message.replace(/^Expected /, "expected ")
    return at.found ? { path: formatPath(path), message, actual: show(at.value) } : { path: formatPath(path), message }
  })

/** Decodes a spec and fills in every default, or fails with all the problems found. */
export const decode = (input: unknown, source: string): Effect.Effect<Experiment, SpecError> => {
  const result = Schema.decodeUnknownResult(ExperimentInput)(input, { errors: "all", onExcessProperty: "error" })
  if (Result.isFailure(result)) {
    return Effect.fail(new SpecError({ source, issues: issuesOf(result.failure.issue, input) }))
  }
  const s = result.success
  const learner = s.learner ?? { _tag: "LsviUcb" as const }
  const stopping = s.stopping ?? { _tag: "Adaptive" as const }
  return Effect.succeed({
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
    stopping: stopping._tag === "Adaptive" ? { _tag: "Adaptive", maxEpisodes: stopping.maxEpisodes ?? DEFAULT_MAX_EPISODES } : stopping,
    sharing: "policy",
    baselines: s.baselines ?? [],
    seeds: s.seeds ?? 1,
    seed: s.seed ?? 0
  })
}

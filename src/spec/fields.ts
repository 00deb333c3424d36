/**
 * The run-time schemas of a spec's fields that builders make (`Env.*`, `Contexts.*`, `Features.*`,
 * `Assignment.*`, `Lsvi.ucb`, `Stopping.*`), used by the spec's schema (schema.ts); and the check of
 * the family they describe when another field of a spec fails to decode (familyIssues).
 */
import { Result, Schema } from "effect"
import { MinAtarEnvSchema } from "../env/minatar/spec.ts"
import { buildFamily, epsilonIssue, type Family } from "./family.ts"
import { Issues } from "./issues.ts"
import { isPlainObject } from "./paths.ts"
import type { Experiment } from "./Spec.ts"
import type { SpecIssue } from "./SpecError.ts"

export const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
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

export const Environment = Schema.Union([LinearChainEnv, RandomLinearEnv, TabularEnv, MinAtarEnvSchema]).annotate({
  expected: "an environment: Env.linearChain({...}), Env.randomLinear({...}), Env.tabular({...}) or Env.minatar({...})"
})

/** "__proto__" would be dropped when the record is rebuilt: refuse it rather than lose it silently. */
const ContextKey = Schema.String.check(
  Schema.makeFilter((k: string) => k !== "__proto__", { expected: "a context field name other than __proto__" })
)
const ContextRecord = Schema.Record(ContextKey, Schema.Finite)
export const Contexts = Schema.Union([
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

export const Features = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Native") }),
  Schema.Struct({ _tag: Schema.Literal("OneHot") }),
  Schema.Struct({ _tag: Schema.Literal("Custom"), dim: PositiveInt, map: Fn })
]).annotate({ expected: "features: Features.native(), Features.oneHot() or Features.custom(dim, (s, a) => [...])" })

export const Assignment = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Partition") }),
  Schema.Struct({ _tag: Schema.Literal("Stream") }),
  Schema.Struct({ _tag: Schema.Literal("Random"), k: PositiveInt })
]).annotate({ expected: "an assignment: Assignment.partition(), Assignment.stream() or Assignment.random(k)" })

const LsviLearner = Schema.Struct({
  _tag: Schema.Literal("LsviUcb"),
  beta: Schema.optionalKey(
    Schema.Union([Schema.Literal("theory"), Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))]).annotate({
      expected: `"theory" or a number ≥ 0`
    })
  ),
  cBeta: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0))),
  lambda: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0)))
})

const Positive = Schema.Finite.check(Schema.isGreaterThan(0))
const Unit = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
const WholePositive = Schema.Int.check(Schema.isGreaterThan(0))

/** `Dqn.learner({...})`: the deep stage's learner (src/deep/config.ts for the DQN fields). */
const DqnLearner = Schema.Struct({
  _tag: Schema.Literal("Dqn"),
  framesPerAgent: WholePositive.check(Schema.isLessThanOrEqualTo(1e9)),
  dqn: Schema.optionalKey(Schema.Struct({
    batchSize: Schema.optionalKey(WholePositive.check(Schema.isLessThanOrEqualTo(4096))),
    replayCapacity: Schema.optionalKey(WholePositive.check(Schema.isLessThanOrEqualTo(10_000_000))),
    replayStart: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
    epsilonStart: Schema.optionalKey(Unit),
    epsilonEnd: Schema.optionalKey(Unit),
    epsilonFrames: Schema.optionalKey(WholePositive),
    trainEvery: Schema.optionalKey(WholePositive),
    targetUpdateEvery: Schema.optionalKey(WholePositive),
    gamma: Schema.optionalKey(Unit),
    learningRate: Schema.optionalKey(Positive),
    hidden: Schema.optionalKey(WholePositive.check(Schema.isLessThanOrEqualTo(4096))),
    convChannels: Schema.optionalKey(WholePositive.check(Schema.isLessThanOrEqualTo(256))),
    ewcLambda: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
    fisherSamples: Schema.optionalKey(WholePositive.check(Schema.isLessThanOrEqualTo(1_000_000)))
  })),
  returnTarget: Schema.Union([Schema.Finite, Schema.Array(Schema.Finite).check(Schema.isMinLength(1))]).annotate({
    expected: "a return to reach (one number, or one per context)"
  }),
  evaluationEpisodes: Schema.optionalKey(WholePositive.check(Schema.isLessThanOrEqualTo(100_000))),
  evaluationFrames: Schema.optionalKey(WholePositive.check(Schema.isLessThanOrEqualTo(1_000_000))),
  engine: Schema.optionalKey(Schema.Literals(["onnx", "ts"])),
  identification: Schema.optionalKey(Schema.Literals(["occupancy", "simnet"])),
  identificationFrames: Schema.optionalKey(WholePositive.check(Schema.isLessThanOrEqualTo(1_000_000))),
  lifelong: Schema.optionalKey(Schema.Boolean)
})

export const Learner = Schema.Union([LsviLearner, DqnLearner]).annotate({
  expected: "a learner: Lsvi.ucb({...}) or, for Env.minatar, Dqn.learner({...})"
})

const Kappa = Schema.Finite.check(Schema.isGreaterThan(0))
export const Stopping = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Adaptive"), maxEpisodes: Schema.optionalKey(PositiveInt) }),
  Schema.Struct({ _tag: Schema.Literal("Schedule"), k1: PositiveInt, k2: PositiveInt }),
  Schema.Struct({ _tag: Schema.Literal("Theory"), kappa1: Kappa, kappa2: Kappa, maxEpisodes: Schema.optionalKey(PositiveInt) })
]).annotate({
  expected: "a stopping rule: Stopping.adaptive(), Stopping.schedule({ k1, k2 }) or Stopping.theory({ kappa1, kappa2 })"
})

export const CSep = Schema.Finite.check(Schema.isGreaterThan(0))

/** The fields the tasks and features are built from (src/spec/family.ts). */
const FamilyInput = Schema.Struct({ environment: Environment, contexts: Contexts, features: Schema.optionalKey(Features) })
const FAMILY_FIELDS = ["environment", "contexts", "features"]

/**
 * When a spec fails to decode, what compile would say about its tables, contexts and feature map,
 * and about ε against the horizon, if those fields decoded: every independent problem of a spec is
 * reported at once, not the tables' only after `agents` is fixed. Nothing is built when any of them
 * has an issue of its own.
 */
export const familyIssues = (input: unknown, reported: ReadonlyArray<SpecIssue>): ReadonlyArray<SpecIssue> => {
  if (!isPlainObject(input)) return []
  const within = (path: string, field: string) => path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`)
  if (reported.some((i) => FAMILY_FIELDS.some((f) => within(i.path, f)))) return []
  const picked = Object.fromEntries(FAMILY_FIELDS.filter((f) => Object.hasOwn(input, f)).map((f) => [f, input[f]]))
  const family = Schema.decodeUnknownResult(FamilyInput)(picked)
  if (Result.isFailure(family) || family.success.environment._tag === "MinAtar") return []
  const cSep = Schema.decodeUnknownResult(CSep)(input.cSep)
  const issues = new Issues()
  const built = buildFamily(issues, {
    environment: family.success.environment as Family["environment"],
    contexts: family.success.contexts,
    features: (family.success.features ?? { _tag: "Native" }) as Experiment["features"],
    cSep: Result.isSuccess(cSep) ? cSep.success : undefined
  })
  const epsilon = Schema.decodeUnknownResult(Schema.Finite)(input.epsilon)
  if (Result.isSuccess(epsilon) && !reported.some((i) => within(i.path, "epsilon"))) epsilonIssue(issues, epsilon.success, built.horizon)
  return issues.list
}

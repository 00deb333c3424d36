/**
 * What `validate` checks and prints about a spec: decoded, compiled and, when asked, every point
 * of its sweep and its quick variant. The same steps for a spec module checked in the spec-check
 * process (src/cli/specCheckChild.ts) and for a spec the library API is given (src/api/validate.ts),
 * each of which says how to load the spec.
 */
import { Effect } from "effect"
import { mark, Step } from "./activity.ts"
import { compile } from "./compile.ts"
import { type Cost, estimateCost } from "./cost.ts"
import { type Override, withOverrideOrigins } from "./overrides.ts"
import type { Experiment } from "./Spec.ts"
import { SpecError } from "./SpecError.ts"
import { expandSweep, hasRanges } from "./sweep.ts"
import type { SampleOptions } from "./sweepSample.ts"
import { compileDeep } from "../deep/distmt/compile.ts"
import { statisticSeparation } from "../deep/distmt/statistic.ts"

/** What validate prints about a valid spec. */
export interface CheckSummary {
  readonly name: string
  readonly tasks: number
  readonly separation: number
  readonly cSep: number
  readonly agents: number
  readonly dim: number
  readonly horizon: number
  readonly beta: number
  /** Sweep points checked (1 without sweep axes), per variant checked. */
  readonly points: number
  readonly quickPoints?: number
  /** The sweep's range axes (Sweep.range), if any: checked at their ends, or at the points --sample drew. */
  readonly rangeAxes?: ReadonlyArray<string>
  /** The estimate of the spec as written (src/spec/cost.ts). */
  readonly cost: Cost
  /** A deep-stage spec: its frames and games; `separation` is then the identification statistic's, estimated. */
  readonly deep?: {
    readonly framesPerAgent: number
    readonly games: ReadonlyArray<string>
    readonly units: number
    /** The replay buffers of one unit's agents at once (observations as bytes, src/deep/replay.ts). */
    readonly replayBytes: number
  }
}

/**
 * A deep-stage spec (decode has checked its games, contexts and learner): the identification
 * statistic's separation is estimated from random play (src/deep/distmt/statistic.ts), cheap next
 * to a run. Its cost is frames, not episodes: the linear estimate's fields stay at 0.
 */
const deepSummary = (spec: Experiment): CheckSummary => {
  const c = compileDeep(spec)
  const units = spec.seeds * (1 + spec.baselines.length)
  const framesPerAgent = c.settings.framesPerAgent
  const none = { episodes: 0, seeds: spec.seeds, instances: 0, perLearner: 0, stoppingField: "learner.framesPerAgent", learnerBytes: 0, perLearnerNumbers: 0, agents: spec.agents, rows: 0, resultBytes: 0 }
  return {
    name: spec.name,
    tasks: c.tasks.length,
    separation: statisticSeparation(c.tasks, c.channels, 100).value,
    cSep: spec.cSep,
    agents: spec.agents,
    dim: 0,
    horizon: 0,
    beta: 0,
    points: 1,
    cost: none,
    deep: {
      framesPerAgent,
      games: [...new Set(c.tasks.map((t) => t.game))],
      units,
      replayBytes: spec.agents * Math.min(c.config.replayCapacity, framesPerAgent * spec.agents) * (2 * c.channels * 100 + 6)
    }
  }
}

export interface CheckRequestOptions {
  /** Check the spec's `quick` variant (`sweep --quick`). */
  readonly quick: boolean
  /** Also expand and check every sweep point (and those of the quick variant, if `allVariants`). */
  readonly sweep: boolean
  /** `validate`: check the spec as written and its quick variant, if it has one. */
  readonly allVariants: boolean
  /**
   * `--sample K --sample-seed S`: check the points drawn from the sweep's ranges. Without it a range
   * is checked at its ends by `validate`, and refused by `sweep` (src/spec/sweep.ts).
   */
  readonly sample?: SampleOptions
}

/** An issue found only in the quick variant says so, and which command meets it. */
const withQuickNote = (command: "sweep --quick" | "run --quick") => (e: SpecError): SpecError =>
  new SpecError({ source: e.source, issues: e.issues.map((i) => ({ ...i, message: `${i.message} (in the quick variant, ${command})` })) })

/**
 * The spec as written is compiled when it runs as written (`run`, and `validate` checks what `run`
 * would do); a sweep runs only its points, so a spec with axes checked for `sweep` compiles those.
 * `load(quick)` gives the decoded spec or its variant; `hasQuick` whether it has a variant.
 */
export const checkSpecWith = <E>(
  source: string,
  load: (quick: boolean) => Effect.Effect<Experiment, E | SpecError>,
  hasQuick: Effect.Effect<boolean>,
  request: CheckRequestOptions,
  /** The overrides `load` applies: an issue compile finds at an overridden field says so too. */
  overrides: ReadonlyArray<Override> = []
): Effect.Effect<CheckSummary, E | SpecError> =>
  Effect.gen(function*() {
    const spec: Experiment = yield* load(request.quick)
    if (spec.environment._tag === "MinAtar") return deepSummary(spec)
    const hasAxes = Object.keys(spec.sweep).length > 0
    const expand = { sample: request.sample, rangeEnds: request.allVariants }
    const points = request.sweep && hasAxes ? yield* expandSweep(spec, source, expand) : []
    const c = points.length > 0 && !request.allVariants ? points[0].compiled : yield* compile(spec, source)
    let quickPoints: number | undefined
    if (request.allVariants && (yield* hasQuick)) {
      const quick = yield* load(true)
      // As written, as `run --quick` runs it (the sweep's fields stay those of the spec as written
      // where the variant does not set them), then its sweep's points, as `sweep --quick` runs them.
      yield* compile(quick, source).pipe(Effect.mapError(withQuickNote("run --quick")))
      quickPoints = request.sweep && Object.keys(quick.sweep).length > 0
        ? yield* Effect.map(expandSweep(quick, source, expand), (ps) => ps.length).pipe(Effect.mapError(withQuickNote("sweep --quick")))
        : 1
    }
    mark(Step.idle)
    return {
      name: spec.name,
      tasks: c.tasks.length,
      separation: c.separation.value,
      cSep: spec.cSep,
      agents: spec.agents,
      dim: c.features.dim,
      horizon: c.horizon,
      beta: c.beta,
      points: Math.max(points.length, 1),
      cost: estimateCost(c),
      ...(quickPoints === undefined ? {} : { quickPoints }),
      ...(hasRanges(spec) ? { rangeAxes: Object.entries(spec.sweep).flatMap(([k, a]) => (Array.isArray(a) ? [] : [k])) } : {})
    } satisfies CheckSummary
  }).pipe(Effect.mapError((e) => (e instanceof SpecError ? withOverrideOrigins(e, overrides) : e)))

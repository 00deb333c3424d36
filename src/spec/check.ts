/**
 * What `validate` checks and prints about a spec: decoded, compiled and, when asked, every point
 * of its sweep and its quick variant. The same steps for a spec module checked in the spec-check
 * process (src/cli/specCheckChild.ts) and for a spec the library API is given (src/api/validate.ts),
 * each of which says how to load the spec.
 */
import { Effect } from "effect"
import { mark, Step } from "./activity.ts"
import { compile } from "./compile.ts"
import { CLI_REMEDIES, type Cost, costProblem, estimateCost, type Remedies, type SweepCost } from "./cost.ts"
import { type Override, withOverrideOrigins } from "./overrides.ts"
import type { Experiment } from "./Spec.ts"
import { SpecError } from "./SpecError.ts"
import { describePoint, expandSweep, hasRanges, listPoints, sweepAxes, type SweepPoint, type SweepValue } from "./sweep.ts"
import type { SampleOptions } from "./sweepSample.ts"
import { compileDeep, deepCostProblem, replayBytes, trainingWarnings } from "../deep/distmt/compile.ts"
import { statisticSeparation } from "../deep/distmt/statistic.ts"

/** What validate prints about a valid spec, on either stage. */
interface SummaryOfAnyStage {
  readonly name: string
  readonly tasks: number
  readonly separation: number
  readonly cSep: number
  readonly agents: number
  /** Sweep points checked (1 without sweep axes), per variant checked. */
  readonly points: number
  readonly quickPoints?: number
  /** The sweep's range axes (Sweep.range), if any: checked at their ends, or at the points --sample drew. */
  readonly rangeAxes?: ReadonlyArray<string>
}

/** A linear-stage spec's: its d, H and β, and the estimate of it as written (src/spec/cost.ts). */
export interface LinearCheckSummary extends SummaryOfAnyStage {
  readonly dim: number
  readonly horizon: number
  readonly beta: number
  readonly cost: Cost
  /**
   * The estimate of the points `distmt sweep` runs (the grid, or the points --sample drew), when the
   * spec has a sweep; absent without one, and when ranges are checked at their ends only (not
   * points a sweep runs).
   */
  readonly sweepCost?: SweepCost
  readonly deep?: undefined
}

/**
 * A deep-stage spec's: its frames and games in `deep`, and `separation` the identification
 * statistic's, estimated. The linear stage's d, H, β and episode estimate mean nothing for DQN
 * learners on games, so they are absent rather than 0.
 */
export interface DeepCheckSummary extends SummaryOfAnyStage {
  readonly deep: {
    readonly framesPerAgent: number
    readonly games: ReadonlyArray<string>
    /** (algorithm, seed) units of a run of the spec as written: seeds × (DistMT and the baselines). */
    readonly units: number
    /** The replay buffers of one unit's agents at once (observations as bytes, src/deep/replay.ts). */
    readonly replayBytes: number
    /**
     * Why `run` would refuse the spec as it is (its replay buffers beyond this machine's memory, or
     * more than 1e12 frames: src/deep/distmt/compile.ts `deepCostProblem`), if it would.
     */
    readonly refused?: string
    /**
     * Learners that would never train, though the spec is valid: the independent baseline's, when
     * its instances' frames do not pass replayStart (src/deep/distmt/compile.ts `trainingWarnings`).
     */
    readonly warnings: ReadonlyArray<string>
  }
  readonly dim?: undefined
  readonly horizon?: undefined
  readonly beta?: undefined
  readonly cost?: undefined
  readonly sweepCost?: undefined
}

/** Tell the two apart by `deep`: present for a deep-stage spec, absent for a linear one. */
export type CheckSummary = LinearCheckSummary | DeepCheckSummary

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
  /** How notes and `deep.refused` name --force and --quick: the CLI's flags by default, the API's options for its validate. */
  readonly remedies?: Remedies
}

/** An issue found only in the quick variant says so, and which command meets it. */
const withQuickNote = (command: string) => (e: SpecError): SpecError =>
  new SpecError({ source: e.source, issues: e.issues.map((i) => ({ ...i, message: `${i.message} (in the quick variant, ${command})` })) })

/**
 * A deep sweep's points (src/deep/distmt/sweep.ts runs each as a whole deep run): the grid of its
 * lists, each point decoded as that sweep decodes it before running anything. A range has no
 * points there (it runs no random search), so it is an issue, as `distmt sweep` would refuse it.
 */
const deepPoints = (spec: Experiment, source: string): Effect.Effect<ReadonlyArray<Experiment>, SpecError> =>
  Effect.gen(function*() {
    const axes = sweepAxes(spec)
    const ranges = axes.filter(([, a]) => !Array.isArray(a)).map(([k]) => k)
    if (ranges.length > 0) {
      const message = "expected a list of values: a deep-stage sweep runs the grid of its lists, not a range (Sweep.range)"
      return yield* Effect.fail(new SpecError({ source, issues: ranges.map((k) => ({ path: `sweep.${k}`, message })) }))
    }
    return (yield* listPoints(spec, source, axes as ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]>)).map((p) => p.spec)
  })

/**
 * A deep-stage spec (decode has checked its games, contexts and learner): its sweep's points and
 * those of its quick variant as the linear stage counts them, and the identification statistic's
 * separation estimated from random play (src/deep/distmt/statistic.ts), cheap next to a run.
 */
const deepSummary = <E>(spec: Experiment, source: string, load: (quick: boolean) => Effect.Effect<Experiment, E | SpecError>, hasQuick: Effect.Effect<boolean>, request: CheckRequestOptions) =>
  Effect.gen(function*() {
    const remedies = request.remedies ?? CLI_REMEDIES
    const points = request.sweep ? yield* deepPoints(spec, source) : []
    // What the spec as written, each point and the quick variant would warn of, each warning once.
    const warnings = new Set([spec, ...points].flatMap(trainingWarnings))
    let quickPoints: number | undefined
    if (request.allVariants && (yield* hasQuick)) {
      const quick = yield* load(true)
      const ofQuick = request.sweep ? yield* deepPoints(quick, source).pipe(Effect.mapError(withQuickNote(remedies.sweepQuick))) : []
      quickPoints = Math.max(1, ofQuick.length)
      for (const w of [quick, ...ofQuick].flatMap(trainingWarnings)) warnings.add(`${w} (in the quick variant, ${remedies.quick})`)
    }
    const c = compileDeep(spec)
    const framesPerAgent = c.settings.framesPerAgent
    // What `run` would say of it now (validate prints it as a note, as for the linear stage).
    const refused = deepCostProblem(spec, spec.threads, "", remedies)
    return {
      name: spec.name,
      tasks: c.tasks.length,
      separation: statisticSeparation(c.tasks, c.channels, 100).value,
      cSep: spec.cSep,
      agents: spec.agents,
      points: Math.max(1, points.length),
      ...(quickPoints === undefined ? {} : { quickPoints }),
      deep: {
        framesPerAgent,
        games: [...new Set(c.tasks.map((t) => t.game))],
        units: spec.seeds * (1 + spec.baselines.length),
        replayBytes: replayBytes(c),
        ...(refused === undefined ? {} : { refused }),
        warnings: [...warnings]
      }
    } satisfies DeepCheckSummary
  })

/**
 * The sweep's estimate from each point's, and the first point's refusal, as `distmt sweep` computes
 * them (src/cli/sweep.ts): a spec whose own run fits can have a point that does not.
 */
const sweepCostOf = (points: ReadonlyArray<SweepPoint>, remedies: Remedies): SweepCost => {
  const costs = points.map((p) => ({ point: p, cost: estimateCost(p.compiled) }))
  const largest = costs.reduce((a, b) => (b.cost.learnerBytes > a.cost.learnerBytes ? b : a))
  const refused = costs
    .map(({ point, cost }) => costProblem(cost, points.length > 1 ? `point ${describePoint(point.values)}: ` : "", remedies))
    .find((problem) => problem !== undefined)
  return {
    ...(refused === undefined ? {} : { refused }),
    points: points.length,
    runs: points.reduce((n, p) => n + p.compiled.spec.seeds * (1 + p.compiled.spec.baselines.length), 0),
    episodes: costs.reduce((n, c) => n + c.cost.episodes, 0),
    learnerBytes: largest.cost.learnerBytes,
    largest: describePoint(largest.point.values)
  }
}

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
    const remedies = request.remedies ?? CLI_REMEDIES
    const spec: Experiment = yield* load(request.quick)
    if (spec.environment._tag === "MinAtar") return yield* deepSummary(spec, source, load, hasQuick, request)
    const expand = { sample: request.sample, rangeEnds: request.allVariants }
    // A spec without axes is one point, the spec as written; but --sample K still draws from it, and
    // `sweep --sample K` refuses K > 1 there, so validate checks the draw as sweep makes it.
    const expands = (s: Experiment) => request.sweep && (Object.keys(s.sweep).length > 0 || request.sample !== undefined)
    const points = expands(spec) ? yield* expandSweep(spec, source, expand) : []
    const c = points.length > 0 && !request.allVariants ? points[0].compiled : yield* compile(spec, source)
    let quickPoints: number | undefined
    if (request.allVariants && (yield* hasQuick)) {
      const quick = yield* load(true)
      // As written, as `run --quick` runs it (the sweep's fields stay those of the spec as written
      // where the variant does not set them), then its sweep's points, as `sweep --quick` runs them.
      yield* compile(quick, source).pipe(Effect.mapError(withQuickNote(remedies.runQuick)))
      quickPoints = expands(quick)
        ? yield* Effect.map(expandSweep(quick, source, expand), (ps) => ps.length).pipe(Effect.mapError(withQuickNote(remedies.sweepQuick)))
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
      // Range ends without --sample are checked, not run: no sweep's estimate of them.
      ...(points.length > 0 && (!hasRanges(spec) || request.sample !== undefined) ? { sweepCost: sweepCostOf(points, request.remedies ?? CLI_REMEDIES) } : {}),
      ...(quickPoints === undefined ? {} : { quickPoints }),
      ...(hasRanges(spec) ? { rangeAxes: Object.entries(spec.sweep).flatMap(([k, a]) => (Array.isArray(a) ? [] : [k])) } : {})
    } satisfies LinearCheckSummary
  }).pipe(Effect.mapError((e) => (e instanceof SpecError ? withOverrideOrigins(e, overrides) : e)))

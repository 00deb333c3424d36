/**
 * `sweep` of the library API: every point of a spec's sweep axes × seeds × algorithms, run in this
 * process (each point as `run` runs it, on the learner threads), returning what `distmt sweep`
 * writes to its summary.json and the runs themselves. It writes no files: a sweep folder, its
 * resuming and its report are `distmt sweep`'s (src/cli/sweep.ts). The numbers are the same, since
 * every unit is deterministic given its point, algorithm and seed.
 */
import { checkOptions } from "./options.ts"
import { Effect } from "effect"
import { type RunRecord, manifestOf, sweepSummaryJson, type ManifestPoint } from "../report/sweepFiles.ts"
import { type AlgorithmRun, runExperiment } from "../run/runExperiment.ts"
import { planUnits, RUN_FORMAT } from "../run/sweepPlan.ts"
import { API_REMEDIES, costProblem, estimateCost } from "../spec/cost.ts"
import { OverrideError, overridesOfOptions, overridesRecord, sweepAxisOverride, threadsOption, withOverrideOrigins } from "../spec/overrides.ts"
import { describePoint, expandSweep, type SampleOptions, type SweepValue } from "../spec/sweep.ts"
import { sampleIssue } from "../spec/sweepSample.ts"
import { type Progress, progressCallback } from "./progress.ts"
import { DeepStageSpec } from "../deep/distmt/stage.ts"
import { CostError } from "./run.ts"
import { loadSpecSource, sourceName, type SpecSource } from "./specSource.ts"

export interface SweepOptions {
  /** Run the spec's `quick` variant (as `--quick`). */
  readonly quick?: boolean
  /** Fields to override, by path (as `--set`); a sweep axis cannot be overridden. */
  readonly set?: Readonly<Record<string, unknown>>
  /** Shorthand for `set: { seeds }`. */
  readonly seeds?: number
  /**
   * Draw `count` points from the spec's ranges with the generator's `seed` (as `--sample K
   * --sample-seed S`): the same points as the CLI draws. Needed when the sweep has ranges.
   */
  readonly sample?: SampleOptions
  /** Learner threads per point: a number, or "auto" (default: the spec's `threads`). */
  readonly threads?: number | "auto"
  /** Run even if a point's cost estimate exceeds the machine's memory or 1e12 episodes. */
  readonly force?: boolean
  readonly onProgress?: (progress: Progress) => void
}

export interface SweepRun {
  /** The point's index in `points`, and its axis values. */
  readonly point: number
  readonly values: Readonly<Record<string, SweepValue>>
  readonly run: AlgorithmRun
}

export interface SweepResult {
  readonly source: string
  /** Every point: its axis values, N, M, ε, cSep, the actual separation, β and its decoded spec. */
  readonly points: ReadonlyArray<ManifestPoint>
  /** What `distmt sweep` writes to summary.json: per point and algorithm, the summary over seeds. */
  readonly summary: ReturnType<typeof sweepSummaryJson>
  /** The overrides applied, path → value (as sweep.json records them). */
  readonly overrides: Readonly<Record<string, unknown>>
  /** Every (point, seed, algorithm) run, in plan order. */
  readonly runs: ReadonlyArray<SweepRun>
}

export const sweepApi = (spec: SpecSource, options: SweepOptions = {}) =>
  Effect.gen(function*() {
    yield* checkOptions("sweep", options)
    const source = sourceName(spec)
    const quick = options.quick ?? false
    const overrides = overridesOfOptions(options.set, options.seeds)
    const threads = yield* threadsOption(options.threads)
    const sampleProblem = options.sample === undefined ? undefined : sampleIssue(options.sample)
    if (sampleProblem !== undefined) {
      return yield* new OverrideError({ origin: `sample.${sampleProblem.field}`, reason: `expected ${sampleProblem.expected}, got ${String(options.sample?.[sampleProblem.field])}` })
    }
    const decoded = yield* loadSpecSource(spec, { quick, overrides, remedies: API_REMEDIES })
    // A deep spec's points are whole deep runs, each in its own folder: `distmt sweep` runs them (src/deep/distmt/sweep.ts).
    if (decoded.environment._tag === "MinAtar") return yield* new DeepStageSpec({ source, spec: decoded, given: "sweep" })
    const axisOverride = sweepAxisOverride(Object.keys(decoded.sweep), overrides)
    if (axisOverride !== undefined) return yield* axisOverride
    const points = yield* expandSweep(decoded, source, options.sample === undefined ? {} : { sample: options.sample }).pipe(Effect.mapError((e) => withOverrideOrigins(e, overrides)))
    for (const p of options.force === true ? [] : points) {
      const problem = costProblem(estimateCost(p.compiled), points.length > 1 ? `point ${describePoint(p.values)}: ` : "", API_REMEDIES)
      if (problem !== undefined) return yield* new CostError({ message: `${source}: ${problem}` })
    }
    const units = planUnits(decoded, points)
    const manifest = manifestOf(source, decoded, quick, units, options.sample)
    const records = new Map<string, RunRecord>()
    const runs: Array<SweepRun> = []
    const progress = progressCallback(options.onProgress, units.length)
    for (const p of points) {
      const results = yield* runExperiment(
        p.compiled,
        points.length > 1 ? { ...progress, start: (label, n) => progress.start(`${describePoint(p.values)} · ${label}`, n) } : progress,
        () => Effect.sync(progress.unitDone),
        threads === undefined ? {} : { threads }
      )
      for (const run of results.runs) {
        const unit = units.find((u) => u.point.index === p.index && u.algorithm === run.algorithm && u.seed === run.seed)!
        records.set(unit.key, { format: RUN_FORMAT, key: unit.key, point: p.index, values: p.values, run })
        runs.push({ point: p.index, values: p.values, run })
      }
    }
    return {
      source,
      points: manifest.points,
      summary: sweepSummaryJson(manifest, records, true),
      overrides: overridesRecord(overrides),
      runs
    } satisfies SweepResult
  })

/**
 * Running a spec end to end: the one implementation behind `distmt run` (src/cli/main.ts, which
 * keeps the flags and the printing) and the library API's `run` (src/api/index.ts).
 *
 *   prepareRun   load (a spec module or a value; overrides applied), compile, refuse a run that
 *                cannot fit in memory or finish, and resolve the threads: nothing is written
 *   executeRun   choose and check the folder (a run of the same spec there is resumed; another
 *                spec's, a sweep or files that are no run's refused), run the units still
 *                missing, write each as it finishes, and write the result files; or, without a
 *                folder, run and write nothing
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Data, Effect } from "effect"
import * as path from "node:path"
import type { SpecLoadError } from "../cli/loadSpec.ts"
import { lockDir, newRunDir, OutDirError, outDirProblem } from "../cli/outDir.ts"
import { prepareOutput, type RunSummary, summaryJson, writeResults } from "../report/files.ts"
import { capWarnings } from "../report/summary.ts"
import {
  type Algorithm,
  type AlgorithmRun,
  type ProgressSink,
  runExperiment,
  runUnits,
  silentProgress,
  threadsFor
} from "../run/runExperiment.ts"
import { type Compiled, compile } from "../spec/compile.ts"
import { API_REMEDIES, costProblem, estimateCost, type Remedies } from "../spec/cost.ts"
import { type Override, type OverrideError, overridesOfOptions, overridesRecord, threadsOption, withOverrideOrigins } from "../spec/overrides.ts"
import type { Experiment } from "../spec/Spec.ts"
import type { SpecError } from "../spec/SpecError.ts"
import { DeepStageSpec } from "../deep/distmt/stage.ts"
import { outFolderProblem } from "../report/folderKind.ts"
import { type Progress, progressCallback } from "./progress.ts"
import { checkOptions } from "./options.ts"
import { checkRunFolder, finishedUnits, prepareUnits, removeRunPlots, removeStaleTemporaries, writeUnit } from "./runFolder.ts"
import { loadSpecSource, sourceName, type SpecSource } from "./specSource.ts"

/** A run refused before anything runs: its estimate exceeds the machine's memory or any sane episode count (src/spec/cost.ts). */
export class CostError extends Data.TaggedError("CostError")<{ readonly message: string }> {}

/** A spec loaded, checked and compiled, ready to run. */
export interface Prepared {
  /** How messages name the spec: its path, or its name for a value. */
  readonly source: string
  readonly spec: Experiment
  readonly compiled: Compiled
  /** The learner threads it will use on this machine ("auto" resolved). */
  readonly threads: number
  readonly overrides: ReadonlyArray<Override>
}

export interface PrepareOptions<E> {
  readonly overrides?: ReadonlyArray<Override>
  readonly threads?: number | "auto"
  /** Run even if the estimate exceeds the machine's memory or 1e12 episodes. */
  readonly force?: boolean
  /** How a refusal names `force`: the CLI's flag by default, the option for the library API. */
  readonly remedies?: Remedies
  /** Run the spec's `quick` variant (CI-sized), merged over it. */
  readonly quick?: boolean
  /** A check of a spec module before it is loaded here (the CLI's time-limited worker, src/cli/specCheck.ts). */
  readonly check?: (file: string, overrides: ReadonlyArray<Override>) => Effect.Effect<unknown, E>
}

export const prepareRun = <E = never>(
  spec: SpecSource,
  options: PrepareOptions<E> = {}
): Effect.Effect<Prepared, E | SpecError | SpecLoadError | OverrideError | CostError | DeepStageSpec> =>
  Effect.gen(function*() {
    const overrides = options.overrides ?? []
    const source = sourceName(spec)
    if (typeof spec === "string" && options.check !== undefined) yield* options.check(spec, overrides)
    const decoded = yield* loadSpecSource(spec, {
      overrides,
      ...(options.quick === true ? { quick: true } : {}),
      ...(options.remedies === undefined ? {} : { remedies: options.remedies })
    })
    // The deep stage has its own runner (src/deep/distmt/runDeep.ts), which `distmt run` calls.
    if (decoded.environment._tag === "MinAtar") return yield* new DeepStageSpec({ source, spec: decoded, given: "run" })
    const compiled = yield* compile(decoded, source).pipe(Effect.mapError((e) => withOverrideOrigins(e, overrides)))
    // Refused before anything is written if it cannot fit in memory or would never finish (src/spec/cost.ts).
    const tooCostly = options.force === true ? undefined : costProblem(estimateCost(compiled), "", options.remedies)
    if (tooCostly !== undefined) return yield* new CostError({ message: `${source}: ${tooCostly}` })
    const threads = yield* threadsOption(options.threads)
    return { source, spec: decoded, compiled, threads: threadsFor(compiled, threads ?? decoded.threads), overrides }
  })

/** Runs each (algorithm, seed) unit elsewhere: the CLI's `--cluster` (src/cluster/runAgents.ts); in this process by default. */
export type Units = (algorithm: Algorithm, seed: number) => Effect.Effect<AlgorithmRun>

export interface ExecuteOptions {
  /** The results folder, or a new timestamped folder `<newUnder>/<name>/<timestamp>`; none: nothing is written. */
  readonly out?: string | { readonly newUnder: string }
  /** How errors name the folder (the CLI: `--out DIR`). */
  readonly outLabel?: (dir: string) => string
  /** Start over in a folder that holds a run, rather than resume it (or be refused if it is another spec's). */
  readonly fresh?: boolean
  /** What a refused resume tells the user to do. */
  readonly resumeHint?: string
  readonly progress?: ProgressSink
  /** Told when a unit has finished (and been written). */
  readonly onUnitDone?: () => void
  /** Where the units run, given the results folder (the cluster keys a run by it). */
  readonly units?: (dir: string) => Effect.Effect<Units>
  /** Told once the folder is chosen and checked, before the first unit runs. */
  readonly onStart?: (
    start: {
      readonly dir: string | undefined
      readonly resumed: number
      readonly units: number
      /** Unit files changed since they were written (`units/distmt-seed0.json`), run again: the user is told. */
      readonly changed?: ReadonlyArray<string>
    }
  ) => Effect.Effect<void>
}

export interface RunResult {
  /** The spec's path, or its name for a spec given as a value. */
  readonly source: string
  /** The results folder; undefined when nothing was written. */
  readonly dir: string | undefined
  /** The spec that ran: decoded, defaults filled in, overrides applied. */
  readonly spec: Experiment
  /** What summary.json holds (written or not): the decoded spec, overrides, tasks, and per algorithm the summary over seeds. */
  readonly summary: RunSummary
  /** Every (algorithm, seed) unit, in run order: a row per (agent, task instance) as in results.csv, its policy's action table, and its learning curves. */
  readonly runs: ReadonlyArray<AlgorithmRun>
  /** Units read back from the folder (a resumed run) rather than run. */
  readonly resumed: number
  /**
   * Unit files of `out` changed since they were written (`units/distmt-seed0.json`: their digest no
   * longer matches), whose units were run again rather than read back; the CLI names them as it starts.
   */
  readonly rerun: ReadonlyArray<string>
  /** What a cap did, in words (the CLI prints them under the table); empty when every phase met its target. */
  readonly warnings: ReadonlyArray<string>
}

const timestamp = () => new Date().toISOString().replace(/[:]/g, "-").replace(/\.\d+Z$/, "Z")

export const executeRun = (prepared: Prepared, options: ExecuteOptions = {}) =>
  Effect.gen(function*() {
    const { compiled: c, spec, threads } = prepared
    const record = overridesRecord(prepared.overrides)
    const progress = options.progress ?? silentProgress
    const units = runUnits(c).length
    const finish = (dir: string | undefined, runs: ReadonlyArray<AlgorithmRun>, resumed: number, changed: ReadonlyArray<string> = []): RunResult => ({
      source: prepared.source,
      dir,
      spec,
      summary: summaryJson(c, runs, true, threads, record),
      runs,
      resumed,
      rerun: changed,
      warnings: capWarnings(runs, spec.stopping, spec.cSep)
    })
    const unitDone = Effect.sync(() => options.onUnitDone?.())

    if (options.out === undefined) {
      yield* options.onStart?.({ dir: undefined, resumed: 0, units }) ?? Effect.void
      const results = yield* runExperiment(c, progress, () => unitDone, { threads })
      return finish(undefined, results.runs, 0)
    }
    // A default folder is created here, under a name no other run has taken (outDir.ts).
    const dir = typeof options.out === "string" ? options.out : yield* newRunDir(path.join(options.out.newUnder, spec.name), timestamp())
    const label = options.outLabel?.(dir) ?? dir
    // A folder the user named may not be inside another run's or sweep's (folderKind.ts).
    const problem = typeof options.out === "string" ? outFolderProblem(dir) : outDirProblem(dir)
    if (problem !== undefined) return yield* new OutDirError({ label, reason: problem })
    // One writer per folder (a lock naming its PID); every check below only reads, so a refused run leaves the folder as it was.
    yield* lockDir(dir, label)
    // A folder of someone else's files (or another spec's run, or a sweep) is refused (runFolder.ts).
    yield* checkRunFolder(dir, spec.name, label)
    const { done, changed } = options.fresh === true
      ? { done: [], changed: [] }
      : yield* finishedUnits(dir, c, options.resumeHint ?? "use --fresh or another --out")
    // From here on the folder is this run's: the temporaries a killed run left go, and with --fresh its units.
    removeStaleTemporaries(dir)
    prepareUnits(dir, options.fresh === true)
    yield* prepareOutput(dir, c, threads, record)
    if (done.length > 0) yield* writeResults(dir, c, done, false, threads, record)
    yield* options.onStart?.({ dir, resumed: done.length, units, changed }) ?? Effect.void
    const unit = options.units === undefined ? undefined : yield* options.units(dir)
    const results = yield* runExperiment(
      c,
      progress,
      (runs) =>
        Effect.gen(function*() {
          // The results change with this unit: plots distmt plot drew of the older ones go first,
          // before the unit file, so that a kill in between cannot leave them beside its numbers.
          removeRunPlots(dir)
          yield* writeUnit(dir, c, runs[runs.length - 1])
          // After the last unit the files are written once, below, marked complete.
          if (runs.length < units) yield* writeResults(dir, c, runs, false, threads, record)
          yield* unitDone
        }),
      { threads, done, ...(unit === undefined ? {} : { unit }) }
    )
    yield* writeResults(dir, c, results.runs, true, threads, record)
    return finish(dir, results.runs, done.length, changed)
  }).pipe(Effect.scoped)

/** The library API's `run` options (docs/api.md). */
export interface RunOptions {
  /** The results folder: a new or empty folder, or one holding a run of the same spec, which is resumed. None: nothing is written. */
  readonly out?: string
  /** Learner threads: a number, or "auto" for one per core (default: the spec's `threads`). The results do not depend on it. */
  readonly threads?: number | "auto"
  /** Fields to override, by path: `{ epsilon: 0.05, "learner.lambda": 0.5 }` (as `--set`). */
  readonly set?: Readonly<Record<string, unknown>>
  /** Shorthand for `set: { seeds }`. */
  readonly seeds?: number
  /** Run the spec's `quick` variant (CI-sized), merged over it (as `--quick`). */
  readonly quick?: boolean
  /** Start over in `out` instead of resuming the run there. */
  readonly fresh?: boolean
  /** Run even if the cost estimate exceeds the machine's memory or 1e12 episodes. */
  readonly force?: boolean
  readonly onProgress?: (progress: Progress) => void
}

/** `run` of the library API: prepareRun and executeRun, with the platform's services provided. */
export const runApi = (spec: SpecSource, options: RunOptions = {}) =>
  Effect.gen(function*() {
    yield* checkOptions("run", options)
    const prepared = yield* prepareRun(spec, {
      overrides: overridesOfOptions(options.set, options.seeds),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.force === undefined ? {} : { force: options.force }),
      remedies: API_REMEDIES,
      ...(options.quick === undefined ? {} : { quick: options.quick })
    })
    const progress = progressCallback(options.onProgress, runUnits(prepared.compiled).length)
    return yield* executeRun(prepared, {
      ...(options.out === undefined ? {} : { out: options.out }),
      ...(options.fresh === undefined ? {} : { fresh: options.fresh }),
      resumeHint: "pass fresh: true, or another out",
      progress,
      onUnitDone: progress.unitDone,
      onStart: ({ resumed }) => Effect.sync(() => progress.resumed(resumed))
    })
  }).pipe(Effect.provide(NodeServices.layer))

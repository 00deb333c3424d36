/**
 * The library API (docs/api.md): `run`, `sweep` and `validate` from a script or a notebook, each
 * as a Promise and as an Effect program (`runEffect`, ...), with typed results and typed errors,
 * never a process exit.
 *
 * This module is imported by every spec file (through src/index.ts), so it stays light: the
 * runner, the report and the platform layer are imported inside each function, when it is called,
 * and only types are imported here. Loading a spec costs the Effect core and nothing more.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type { PlatformError } from "effect/PlatformError"
import type { SpecLoadError } from "../cli/loadSpec.ts"
import type { OutDirError } from "../cli/outDir.ts"
import type { OverrideError } from "../spec/overrides.ts"
import type { SpecError } from "../spec/SpecError.ts"
import type { DeepStageSpec } from "../deep/distmt/stage.ts"
import type { DeepOutError } from "../deep/distmt/runDeep.ts"
import type { WorkerError } from "../cli/workerPool.ts"
import type { DeepRunOptions, DeepRunResult, NotDeepSpec } from "./runDeep.ts"
import type { CostError, RunOptions, RunResult } from "./run.ts"
import type { ResumeError } from "./runFolder.ts"
import type { SpecSource } from "./specSource.ts"
import type { SweepOptions, SweepResult } from "./sweep.ts"
import type { ValidateOptions, ValidateResult } from "./validate.ts"
import { Interrupted } from "./interrupted.ts"

export type { Progress } from "./progress.ts"
export type { CostError, RunOptions, RunResult } from "./run.ts"
export type { DeepProgress, DeepRunOptions, DeepRunResult, NotDeepSpec } from "./runDeep.ts"
export type { DeepAlgorithmSummary, DeepSummary } from "../deep/distmt/files.ts"
export type { DeepCurvePoint, DeepRow, DeepRun } from "../deep/distmt/run.ts"
export type { DeepOutError, DeepStageSpec, Interrupted, WorkerError }
export type { ResumeError } from "./runFolder.ts"
export type { SpecSource } from "./specSource.ts"
export type { SweepOptions, SweepResult, SweepRun } from "./sweep.ts"
export type { ValidateOptions, ValidateResult } from "./validate.ts"
export type { SpecLoadError, OutDirError, OverrideError, SpecError }
export type { RunSummary } from "../report/files.ts"
export type { AlgorithmSummary } from "../report/summary.ts"
export type { Algorithm, AlgorithmRun, Row } from "../run/runExperiment.ts"

/**
 * Everything the API can fail with, each a tagged error with a one-line (SpecError: one line per
 * issue) `message`: a bad spec (SpecError: every issue with its field's path), a spec module that
 * does not load (SpecLoadError), a bad override (OverrideError), a run too big for the machine
 * (CostError), a folder that cannot be written (OutDirError) or that holds another spec's run
 * (ResumeError), a file system failure (PlatformError); a deep-stage spec given to `run`
 * (DeepStageSpec) or a linear one to `runDeep` (NotDeepSpec), a deep run's folder refused or its
 * report failed (DeepOutError), a unit's worker thread that failed (WorkerError); a Promise form's
 * call aborted by its `signal` (Interrupted, saying what was saved).
 */
export type DistmtError =
  | SpecError
  | SpecLoadError
  | OverrideError
  | CostError
  | OutDirError
  | ResumeError
  | PlatformError
  | DeepStageSpec
  | NotDeepSpec
  | DeepOutError
  | WorkerError
  | Interrupted

/** Options of the Promise forms: `signal` interrupts the run (finished units stay saved in `out`). */
export interface PromiseOptions {
  readonly signal?: AbortSignal
}

/**
 * Runs a Promise form's program. An abort (or any interruption) would reject with Effect's untagged
 * "All fibers interrupted without error": it rejects with the call's Interrupted instead. Any other
 * failure rejects as Effect.runPromise rejects (the DistmtError, or a defect).
 */
const runPromise = <A>(
  effect: Effect.Effect<A, DistmtError>,
  options: PromiseOptions,
  call: Interrupted["call"],
  out?: string
): Promise<A> =>
  // A signal that is no AbortSignal (or options that are no object) is the program's OverrideError
  // (options.ts), not a TypeError thrown here.
  Effect.runPromiseExit(effect, options?.signal instanceof AbortSignal ? { signal: options.signal } : undefined).then((exit) => {
    if (exit._tag === "Success") return exit.value
    throw Cause.hasInterruptsOnly(exit.cause) ? new Interrupted({ call, out }) : Cause.squash(exit.cause)
  })

/** Runs a spec (a spec module's path, or `Experiment.make({...})`'s value) as `distmt run` does. */
export const runEffect = (spec: SpecSource, options: RunOptions = {}): Effect.Effect<RunResult, DistmtError> =>
  Effect.flatMap(Effect.promise(() => import("./run.ts")), (m) => m.runApi(spec, options))

export const run = (spec: SpecSource, options: RunOptions & PromiseOptions = {}): Promise<RunResult> =>
  runPromise(runEffect(spec, options), options, "run", options?.out)

/**
 * Runs a deep-stage spec (`Env.minatar` with `Dqn.learner`) as `distmt run` does: DistMT and the
 * baselines with DQN learners, units on worker threads; into `out` (resumed if it holds this spec's
 * run) or, without it, writing nothing.
 */
export const runDeepEffect = (spec: SpecSource, options: DeepRunOptions = {}): Effect.Effect<DeepRunResult, DistmtError> =>
  Effect.flatMap(Effect.promise(() => import("./runDeep.ts")), (m) => m.runDeepApi(spec, options))

export const runDeep = (spec: SpecSource, options: DeepRunOptions & PromiseOptions = {}): Promise<DeepRunResult> =>
  runPromise(runDeepEffect(spec, options), options, "runDeep", options?.out)

/** Runs every point of a spec's sweep axes × seeds × algorithms in this process; writes no files. */
export const sweepEffect = (spec: SpecSource, options: SweepOptions = {}): Effect.Effect<SweepResult, DistmtError> =>
  Effect.flatMap(Effect.promise(() => import("./sweep.ts")), (m) => m.sweepApi(spec, options))

export const sweep = (spec: SpecSource, options: SweepOptions & PromiseOptions = {}): Promise<SweepResult> =>
  runPromise(sweepEffect(spec, options), options, "sweep")

/** Decodes and checks a spec, every point of its sweep and its quick variant, as `distmt validate` does. */
export const validateEffect = (spec: SpecSource, options: ValidateOptions = {}): Effect.Effect<ValidateResult, DistmtError> =>
  Effect.flatMap(Effect.promise(() => import("./validate.ts")), (m) => m.validateApi(spec, options))

export const validate = (spec: SpecSource, options: ValidateOptions & PromiseOptions = {}): Promise<ValidateResult> =>
  runPromise(validateEffect(spec, options), options, "validate")

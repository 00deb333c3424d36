/**
 * distmt's public API: what specs, examples and scripts import. Nothing else is public.
 *
 * The spec DSL (Experiment, Env, ...) and the library API (run, sweep, validate; docs/api.md).
 * Every spec file imports this module, so the API's functions load the runner only when called
 * (src/api/index.ts).
 */
export { Assignment, Contexts, Dqn, Env, Experiment, Features, Lsvi, Stopping, Sweep } from "./spec/Spec.ts"
export type {
  Baseline,
  Context,
  Environment,
  Experiment as DecodedExperiment,
  ExperimentInput,
  MinAtarEnv,
  TabularTables
} from "./spec/Spec.ts"
export { run, runDeep, runDeepEffect, runEffect, sweep, sweepEffect, validate, validateEffect } from "./api/index.ts"
export type {
  Algorithm,
  AlgorithmRun,
  AlgorithmSummary,
  CostError,
  DeepAlgorithmSummary,
  DeepCurvePoint,
  DeepOutError,
  DeepProgress,
  DeepRow,
  DeepRun,
  DeepRunOptions,
  DeepRunResult,
  DeepStageSpec,
  DeepSummary,
  DistmtError,
  Interrupted,
  NotDeepSpec,
  OutDirError,
  OverrideError,
  Progress,
  PromiseOptions,
  ResumeError,
  Row,
  RunOptions,
  RunResult,
  RunSummary,
  SpecError,
  SpecLoadError,
  SpecSource,
  SweepOptions,
  SweepResult,
  SweepRun,
  ValidateOptions,
  ValidateResult,
  WorkerError
} from "./api/index.ts"

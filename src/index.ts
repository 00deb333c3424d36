/**
 * distmt's public API: what specs and examples import. Nothing else is public.
 */
export { Assignment, Contexts, Env, Experiment, Features, Lsvi, Stopping } from "./spec/Spec.ts"
export type {
  Baseline,
  Context,
  Environment,
  Experiment as DecodedExperiment,
  ExperimentInput,
  MinAtarEnv,
  TabularTables
} from "./spec/Spec.ts"

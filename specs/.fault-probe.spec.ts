
import { Assignment, Contexts, Env, Experiment, Lsvi, Stopping, Sweep } from "distmt"
export default Experiment.make({
  name: "fault-probe",
  description: "A tiny sweep for an end-to-end test.",
  environment: Env.linearChain({ length: 2, horizon: 3 }),
  contexts: Contexts.separated({ count: 2, lowest: 0.3, vary: "reward", within: [0, 1], bases: [{ goal: 0, slip: 0.1 }] }),
  agents: 1,
  epsilon: 0.15,
  cSep: 0.4,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.adaptive({ maxEpisodes: 50_000 }),
  baselines: ["independent"],
  seeds: 2,
  sweep: { agents: [1, 2] }
})

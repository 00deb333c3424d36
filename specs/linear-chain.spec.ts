/**
 * The main example: a RiverSwim-like chain with 4 hidden tasks (where the reward is, how much, and
 * the slip) shared by 12 agents, so that three agents meet each hidden task.
 */
import { Assignment, Contexts, Env, Experiment, Features, Lsvi, Stopping } from "distmt"

export default Experiment.make({
  name: "linear-chain",
  environment: Env.linearChain({ length: 3, horizon: 4 }),
  contexts: Contexts.list([
    { goal: 2, reward: 0.2, slip: 0.2 },
    { goal: 1, reward: 0.4, slip: 0.1 },
    { goal: 2, reward: 1.0, slip: 0.2 },
    { goal: 1, reward: 1.0, slip: 0.1 }
  ]),
  features: Features.oneHot(),
  agents: 12,
  assignment: Assignment.partition(),
  epsilon: 0.1,
  cSep: 0.45,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2, lambda: 1 }), // a practical β, not the theory's (docs/algorithm.md §8)
  stopping: Stopping.adaptive({ maxEpisodes: 200_000 }),
  sharing: "policy",
  baselines: ["independent", "oracle"],
  seeds: 3
})

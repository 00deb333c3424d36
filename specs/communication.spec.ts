/**
 * E5 (docs/algorithm.md §7): communication. Messages to and from the server, their bytes, and the
 * wall-clock time of a run, against N ∈ {1, 2, 5, 10, 20, 50, 100} at M = 10 (the task family of
 * E3), for DistMT-LSVI and `oracle` (the same server traffic without identification). The protocol
 * costs a few messages per task instance and one fetch per agent, and agents exchange policies
 * and intervals, never raw experience: communication should grow linearly in N.
 */
import { Contexts, Env, Experiment, Lsvi, Stopping } from "distmt"

export default Experiment.make({
  name: "communication",
  description:
    "E5 of the paper (docs/algorithm.md §7): messages, bytes and wall-clock against the number of agents N, at M = 10 tasks. Communication should grow linearly in N: a few messages per agent, and policies rather than data on the wire.",
  environment: Env.linearChain({ length: 2, horizon: 3 }),
  contexts: Contexts.separated({
    count: 10,
    lowest: 0.2,
    vary: "reward",
    within: [0, 1],
    bases: [{ goal: 1, slip: 0.1 }, { goal: 0, slip: 0.1 }]
  }),
  agents: 10,
  epsilon: 0.09,
  cSep: 0.2,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.adaptive({ maxEpisodes: 200_000 }),
  baselines: ["oracle"],
  seeds: 3,
  sweep: { agents: [1, 2, 5, 10, 20, 50, 100] },
  quick: {
    description: "E5, quick variant for CI: M = 4 tasks spaced by 0.4, ε = 0.15, N ∈ {1, 2, 4, 8, 16}, 2 seeds.",
    contexts: { count: 4, lowest: 0.3 },
    cSep: 0.4,
    epsilon: 0.15,
    seeds: 2,
    sweep: { agents: [1, 2, 4, 8, 16] }
  }
})

/**
 * E3 (docs/algorithm.md §7): scaling with the number of agents. M = 10 hidden tasks dealt round-robin
 * to N ∈ {1, 2, 5, 10, 20, 50} agents; DistMT-LSVI against `independent` (every agent learns all M
 * tasks alone) and `oracle` (identities given). The paper's claim: DistMT-LSVI's learning episodes
 * per agent fall like M/N — a log–log slope of −1 against N — a factor 1/N against `independent`.
 *
 * Sizes: a two-state chain with horizon 3 keeps one task at ~30 000 episodes, so that the 880
 * independent learners of the full sweep (Σ N × M per seed) fit in a few minutes on two cores. The
 * ten tasks' V*(s0) are spaced by exactly cSep = 0.2 (Contexts.separated), alternating a goal
 * reached by moving right and a reward for staying put, so that the tasks' optimal policies differ.
 * β = 2 is a practical constant (docs/algorithm.md §8), about the largest state value (V* ≤ 2 at
 * s0), not the analysis's c_β·d·H·√ι, which is an order of magnitude larger. So the certificates are
 * not guaranteed: the report's certificates column checks, after the run, that they held.
 */
import { Assignment, Contexts, Env, Experiment, Lsvi, Stopping } from "distmt"

export default Experiment.make({
  name: "scaling",
  description:
    "E3 of the paper (docs/algorithm.md §7): N agents share M = 10 hidden tasks through the server. Does DistMT-LSVI's learning cost per agent fall like 1/N, a factor N against agents that learn every task alone?",
  environment: Env.linearChain({ length: 2, horizon: 3 }),
  contexts: Contexts.separated({
    count: 10,
    lowest: 0.2,
    vary: "reward",
    within: [0, 1],
    bases: [{ goal: 1, slip: 0.1 }, { goal: 0, slip: 0.1 }]
  }),
  agents: 10,
  assignment: Assignment.partition(),
  epsilon: 0.08,
  cSep: 0.2,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.adaptive({ maxEpisodes: 200_000 }),
  baselines: ["independent", "oracle"],
  seeds: 3,
  sweep: { agents: [1, 2, 5, 10, 20, 50] },
  quick: {
    description: "E3, quick variant for CI: M = 4 tasks spaced by 0.4, ε = 0.15, N ∈ {1, 2, 4, 8}, 3 seeds. The full spec has M = 10 and N up to 50.",
    contexts: { count: 4, lowest: 0.3 },
    cSep: 0.4,
    epsilon: 0.15,
    seeds: 3,
    sweep: { agents: [1, 2, 4, 8] }
  }
})

/**
 * E2 (docs/algorithm.md §7): two agents with overlapping assignments — the separability mechanism at
 * work. Each agent meets all M hidden tasks in its own random order (Assignment.stream), so every
 * task is met by both agents: the first to identify it registers and learns it, the second is
 * matched to it by its interval and downloads (or waits for) the policy. Against `independent`
 * (each agent learns all M tasks alone) and `oracle` (identities given).
 *
 * The paper's claim: identification is right when the widths are below cSep/2, every task is
 * learned once, and each agent's learning cost halves (the factor 1/N at N = 2).
 */
import { Assignment, Contexts, Env, Experiment, Lsvi, Stopping } from "distmt"

export default Experiment.make({
  name: "two-agents",
  description:
    "E2 of the paper (docs/algorithm.md §7): two agents each meet all M hidden tasks, in their own order. Every task should be identified right, learned once and shared, so that each agent learns about half of what it would alone.",
  environment: Env.linearChain({ length: 2, horizon: 3 }),
  contexts: Contexts.separated({
    count: 10,
    lowest: 0.2,
    vary: "reward",
    within: [0, 1],
    bases: [{ goal: 1, slip: 0.1 }, { goal: 0, slip: 0.1 }]
  }),
  agents: 2,
  assignment: Assignment.stream(),
  epsilon: 0.08,
  cSep: 0.2,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.adaptive({ maxEpisodes: 200_000 }),
  baselines: ["independent", "oracle"],
  seeds: 5,
  sweep: { "contexts.count": [2, 4, 6, 8, 10] },
  quick: {
    description: "E2, quick variant for CI: M ∈ {2, 4} tasks spaced by 0.4 (M = 4 for `run --quick`), ε = 0.15, 3 seeds.",
    // count: what `run --quick` runs (it runs no sweep); 10 tasks spaced by 0.4 would not fit.
    contexts: { lowest: 0.3, count: 4 },
    cSep: 0.4,
    epsilon: 0.15,
    seeds: 3,
    sweep: { "contexts.count": [2, 4] }
  }
})

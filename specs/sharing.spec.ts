/**
 * E6: experience sharing against policy sharing, in the regime where sharing is a real effect
 * (docs/algorithm.md §3 step 3). Under `partition` with N ≤ M each task is met by one agent, so
 * the sharing mode changes nothing and E3's factor N follows by arithmetic. Here N ≥ M agents meet
 * the same M = 4 hidden tasks at overlapping times: under `stream` every agent meets all M tasks in
 * its own order; under `random(2)` every agent draws 2 tasks with replacement. An agent matched to
 * a task still being learned either waits for the owner's policy (`policy`) or keeps running
 * episodes and pools its transitions with the task's other contributors (`experience`). Against
 * `independent` (every agent learns all M tasks alone) and `oracle` (identities given; it pools
 * too under `experience`). Measured: episodes per agent, wall-clock in virtual time
 * (`virtualEpisodes`: episodes until the last agent held every policy), and traffic, the policy
 * messages and the experience pool's apart.
 *
 * Sizes: the two-state chain of E3 with H = 3 and one task at a few tens of thousands of episodes;
 * cSep = 0.4 against ε = 0.08, so that identification (to width cSep/2 = 0.2) costs less than
 * learning (to ε), and what sharing saves is visible. β = 2 is a practical constant
 * (docs/algorithm.md §8), not the analysis's β: the certificates are checked after the run.
 */
import { Assignment, Contexts, Env, Experiment, Lsvi, Stopping } from "distmt"

export default Experiment.make({
  name: "sharing",
  description:
    "E6 (docs/algorithm.md §3 step 3): N ∈ {4, 8, 16} agents meet the same M = 4 hidden tasks at overlapping times. Does pooling experience on a task still being learned save episodes and virtual wall-clock against waiting for the owner's policy, and what does it cost in traffic?",
  environment: Env.linearChain({ length: 2, horizon: 3 }),
  contexts: Contexts.separated({
    count: 4,
    lowest: 0.3,
    vary: "reward",
    within: [0, 1],
    bases: [{ goal: 1, slip: 0.1 }, { goal: 0, slip: 0.1 }]
  }),
  agents: 8,
  assignment: Assignment.stream(),
  epsilon: 0.08,
  cSep: 0.4,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.adaptive({ maxEpisodes: 200_000 }),
  sharing: "experience",
  baselines: ["independent", "oracle"],
  seeds: 3,
  sweep: {
    sharing: ["policy", "experience"],
    assignment: [Assignment.stream(), Assignment.random(2)],
    agents: [4, 8, 16]
  },
  quick: {
    description: "E6, quick variant for CI: M = 3 tasks, ε = 0.15, N = 6, 2 seeds. The full spec has M = 4, ε = 0.08 and N ∈ {4, 8, 16}.",
    contexts: { count: 3 },
    epsilon: 0.15,
    seeds: 2,
    sweep: { agents: [6] }
  }
})

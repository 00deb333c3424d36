/**
 * E1 (docs/algorithm.md §7): one agent, M tasks, no one to share with — the non-distributed baseline.
 * The agent meets M hidden tasks one after another; DistMT-LSVI (which still identifies each task
 * with the server) against `independent` (the same agent learning each task alone, no server).
 * The paper's claim: the cost grows linearly in M, Õ(d³H⁶·M·ε⁻²), and with one agent DistMT-LSVI
 * costs the same as learning alone (its identification episodes are reused: it keeps learning on
 * the same data).
 *
 * The task family is the one of E3 (specs/scaling.spec.ts): V*(s0) spaced by exactly cSep = 0.2.
 */
import { Contexts, Env, Experiment, Lsvi, Stopping } from "distmt"

export default Experiment.make({
  name: "single-agent",
  description:
    "E1 of the paper (docs/algorithm.md §7): one agent meets M hidden tasks in turn, with nobody to share with. Episodes should grow linearly in M, and DistMT-LSVI should cost what learning alone costs.",
  environment: Env.linearChain({ length: 2, horizon: 3 }),
  contexts: Contexts.separated({
    count: 10,
    lowest: 0.2,
    vary: "reward",
    within: [0, 1],
    bases: [{ goal: 1, slip: 0.1 }, { goal: 0, slip: 0.1 }]
  }),
  agents: 1,
  epsilon: 0.08,
  cSep: 0.2,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.adaptive({ maxEpisodes: 200_000 }),
  baselines: ["independent"],
  seeds: 5,
  sweep: { "contexts.count": [1, 2, 4, 6, 8, 10] },
  quick: {
    description: "E1, quick variant for CI: M ∈ {1, 2, 4} tasks spaced by 0.4 (M = 4 for `run --quick`), ε = 0.15, 3 seeds.",
    // count: what `run --quick` runs (it runs no sweep); 10 tasks spaced by 0.4 would not fit.
    contexts: { lowest: 0.3, count: 4 },
    cSep: 0.4,
    epsilon: 0.15,
    seeds: 3,
    sweep: { "contexts.count": [1, 2, 4] }
  }
})

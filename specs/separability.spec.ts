/**
 * E4 (docs/algorithm.md §7): separability stress. Families of M = 3 tasks whose V*(s0) are spaced by
 * exactly cSep (Contexts.separated: the spacing defaults to the declared cSep, so declared and
 * actual separation are equal), from 0.1 to 1.0, against a fixed identification budget K1
 * (Stopping.schedule: every instance explores K1 episodes, then asks the server). Six agents, so
 * that every task is met twice and a wrong match shows.
 *
 * The paper's claim: intervals narrower than cSep/2 that contain V* identify right; the width
 * after K1 episodes shrinks like 1/√K1. So the misidentification rate falls as cSep grows and as
 * K1 grows, and vanishes once K1 is of order 1/cSep².
 */
import { Contexts, Env, Experiment, Lsvi, Stopping } from "distmt"

export default Experiment.make({
  name: "separability",
  description:
    "E4 of the paper (docs/algorithm.md §7): task families with a controlled separation cSep from 0.1 to 1.0, and fixed identification budgets K1. How often is a task instance identified wrongly, against cSep and K1?",
  environment: Env.linearChain({ length: 2, horizon: 3 }),
  contexts: Contexts.separated({
    count: 3,
    lowest: 0.3,
    vary: "reward",
    within: [0, 1],
    bases: [{ goal: 0, slip: 0.1 }, { goal: 1, slip: 0.1 }]
  }),
  agents: 6,
  epsilon: 0.1,
  cSep: 0.5,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.schedule({ k1: 1000, k2: 20_000 }),
  seeds: 12,
  sweep: {
    cSep: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    "stopping.k1": [100, 300, 1000, 3000, 10_000, 30_000]
  },
  quick: {
    description: "E4, quick variant for CI: cSep ∈ {0.1, 0.4, 1.0}, K1 ∈ {100, 1000, 10 000}, K2 = 5000, 3 seeds.",
    stopping: { k2: 5000 },
    seeds: 3,
    sweep: { cSep: [0.1, 0.4, 1.0], "stopping.k1": [100, 1000, 10_000] }
  }
})

/**
 * The analysis's β on a family small enough to run in minutes (docs/algorithm.md §8). LSVI-UCB with
 * β = c_β·d·H·√ι (here d = 4, H = 2, ι = log(2dT/δ) with T = 2·maxEpisodes·H: β ≈ 36.6) makes the
 * certificates valid with probability 1 − δ, at the price of many episodes. The same family with a
 * practical β is specs/theory-practical.spec.ts; docs/experiments.md puts the two side by side.
 */
import { type Baseline, Contexts, Env, Experiment, Features, Lsvi, Stopping } from "distmt"

/** Everything but the learner, shared with specs/theory-practical.spec.ts. */
export const family = {
  environment: Env.linearChain({ length: 2, horizon: 2 }),
  // V*(s0) = 0.905 (go right to the reward) and 0.5 (stay left on 0.25): separation 0.405.
  contexts: Contexts.list([
    { goal: 1, reward: 1, slip: 0.1 },
    { goal: 0, reward: 0.25, slip: 0.1 }
  ]),
  features: Features.oneHot(),
  agents: 4,
  epsilon: 0.2,
  cSep: 0.3,
  delta: 0.05,
  baselines: ["independent"] as ReadonlyArray<Baseline>,
  seeds: 3
}

export default Experiment.make({
  name: "theory",
  description: "LSVI-UCB with the analysis's β = c_β·d·H·√ι: certificates valid by the theory, and what they cost in episodes.",
  ...family,
  learner: Lsvi.ucb({ beta: "theory", cBeta: 1 }),
  // About 10⁶ episodes per learner reach width ε with this β; the cap is there, not reached.
  stopping: Stopping.adaptive({ maxEpisodes: 2_000_000 })
})

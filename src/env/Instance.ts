/**
 * A task instance as an agent meets it (docs/algorithm.md §1, hidden identity): it can reset, step,
 * read φ and rewards, and nothing else. The context and the tables stay inside this closure, so the
 * agent's code path has no way to learn which task it is facing.
 */
import * as Rng from "../rng/Rng.ts"
import { type FeatureTable, type FiniteMdp, rewardIndex, transitionOffset } from "./FiniteMdp.ts"

export interface Instance {
  readonly horizon: number
  readonly actions: number
  readonly dim: number
  /** The start state s0 of every episode. */
  readonly reset: () => number
  /** One step at step h (0-based) from state s with action a. */
  readonly step: (h: number, state: number, action: number) => { readonly reward: number; readonly next: number }
  /** φ(s,·) as an |A| × d row-major block (a fresh copy). */
  readonly features: (state: number) => Float64Array
}

export const makeInstance = (mdp: FiniteMdp, features: FeatureTable, rng: Rng.Rng): Instance => {
  const { actions: A } = mdp
  const d = features.dim
  return {
    horizon: mdp.horizon,
    actions: A,
    dim: d,
    reset: () => mdp.start,
    step: (h, state, action) => {
      const reward = mdp.reward[rewardIndex(mdp, h, state, action)]
      const next = Rng.categorical(rng, mdp.transition, transitionOffset(mdp, h, state, action), mdp.states)
      return { reward, next }
    },
    features: (state) => features.values.slice(state * A * d, (state + 1) * A * d)
  }
}

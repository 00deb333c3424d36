/**
 * The linear chain: a RiverSwim-like chain of states 0..L-1 with two actions (0 = left, 1 = right),
 * start state 0 and one-hot features (docs/algorithm.md §1: tabular MDPs are linear MDPs).
 *
 * - `left` moves one state left (or stays at 0) for sure; at state 0 it earns the small
 *   `distractor` reward, the bait that makes exploration matter.
 * - `right` moves one state right with probability 1 − slip, else one state left.
 * - In state `goal`, every action earns `reward`.
 *
 * A context `{ goal, reward, slip }` changes where the reward is, how much, and the slip.
 */
import type { FiniteMdp } from "./FiniteMdp.ts"

export interface LinearChainParams {
  readonly length: number
  readonly horizon: number
  readonly distractor: number
}

export interface LinearChainContext {
  readonly goal: number
  readonly reward: number
  readonly slip: number
}

export const LEFT = 0
export const RIGHT = 1

export const buildLinearChain = (p: LinearChainParams, c: LinearChainContext): FiniteMdp => {
  const S = p.length
  const A = 2
  const H = p.horizon
  const reward = new Float64Array(H * S * A)
  const transition = new Float64Array(H * S * A * S)
  for (let h = 0; h < H; h++) {
    for (let s = 0; s < S; s++) {
      const left = Math.max(s - 1, 0)
      const right = Math.min(s + 1, S - 1)
      const base = (h * S + s) * A
      reward[base + LEFT] = s === 0 ? p.distractor : 0
      if (s === c.goal) {
        reward[base + LEFT] = c.reward
        reward[base + RIGHT] = c.reward
      }
      transition[(base + LEFT) * S + left] += 1
      transition[(base + RIGHT) * S + right] += 1 - c.slip
      transition[(base + RIGHT) * S + left] += c.slip
    }
  }
  return { horizon: H, states: S, actions: A, start: 0, reward, transition }
}

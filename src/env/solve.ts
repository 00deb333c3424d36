/**
 * Exact ground truth (docs/algorithm.md §5): V* by backward induction and V^π by exact policy
 * evaluation on the tables of a finite MDP. Never visible to agents; used by the evaluator, by
 * spec validation (the family's separation, §1) and by the tests.
 */
import { type FiniteMdp, rewardIndex, transitionOffset } from "./FiniteMdp.ts"

export interface Values {
  /** Q_h(s,a) at (h·S + s)·A + a, h = 0..H-1. */
  readonly Q: Float64Array
  /** V_h(s) at h·S + s, h = 0..H (V_H ≡ 0). */
  readonly V: Float64Array
}

const expectedNext = (m: FiniteMdp, V: Float64Array, h: number, s: number, a: number): number => {
  const o = transitionOffset(m, h, s, a)
  const next = (h + 1) * m.states
  let e = 0
  for (let t = 0; t < m.states; t++) e += m.transition[o + t] * V[next + t]
  return e
}

/** Q*_h(s,a) = r_h(s,a) + Σ P_h(s'|s,a) V*_{h+1}(s'), V*_h(s) = max_a Q*_h(s,a). */
export const optimalValues = (m: FiniteMdp): Values => {
  const { horizon: H, states: S, actions: A } = m
  const Q = new Float64Array(H * S * A)
  const V = new Float64Array((H + 1) * S)
  for (let h = H - 1; h >= 0; h--) {
    for (let s = 0; s < S; s++) {
      let best = -Infinity
      for (let a = 0; a < A; a++) {
        const q = m.reward[rewardIndex(m, h, s, a)] + expectedNext(m, V, h, s, a)
        Q[rewardIndex(m, h, s, a)] = q
        if (q > best) best = q
      }
      V[h * S + s] = best
    }
  }
  return { Q, V }
}

/** Q^π and V^π of a deterministic policy given as `actions[h·S + s]`. */
export const policyValues = (m: FiniteMdp, actions: ArrayLike<number>): Values => {
  const { horizon: H, states: S, actions: A } = m
  const Q = new Float64Array(H * S * A)
  const V = new Float64Array((H + 1) * S)
  for (let h = H - 1; h >= 0; h--) {
    for (let s = 0; s < S; s++) {
      for (let a = 0; a < A; a++) {
        Q[rewardIndex(m, h, s, a)] = m.reward[rewardIndex(m, h, s, a)] + expectedNext(m, V, h, s, a)
      }
      V[h * S + s] = Q[rewardIndex(m, h, s, actions[h * S + s])]
    }
  }
  return { Q, V }
}

/** V*_1(s0) of each task. */
export const startValue = (m: FiniteMdp, values: Values): number => values.V[m.start]

/**
 * The family's actual separation min_{m≠m'} |V*_{c_m,1}(s0) − V*_{c_m',1}(s0)| (§1), with the
 * pair that attains it. `Infinity` for a single task.
 */
export const separation = (
  startValues: ReadonlyArray<number>
): { readonly value: number; readonly pair: readonly [number, number] | undefined } => {
  // Sorted by value, the closest pair is adjacent: O(M log M), not O(M²) (200,000 tasks in well under a second).
  const order = Array.from(startValues.keys()).sort((a, b) => startValues[a] - startValues[b] || a - b)
  let value = Infinity
  let pair: readonly [number, number] | undefined
  for (let k = 0; k + 1 < order.length; k++) {
    const [a, b] = [order[k], order[k + 1]]
    const gap = Math.abs(startValues[a] - startValues[b])
    const candidate = a < b ? ([a, b] as const) : ([b, a] as const)
    // Among equal gaps, the first pair (i, j) in index order, as the pairwise scan reported it.
    if (gap < value || (gap === value && pair !== undefined && (candidate[0] < pair[0] || (candidate[0] === pair[0] && candidate[1] < pair[1])))) {
      value = gap
      pair = candidate
    }
  }
  return { value, pair }
}

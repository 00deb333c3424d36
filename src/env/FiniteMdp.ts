/**
 * A finite-horizon, finite-state MDP given by its tables: one task (context) of docs/algorithm.md §1.
 * Tables are flat, row-major `Float64Array`s so that solvers and samplers index them directly.
 */
export interface FiniteMdp {
  readonly horizon: number // H
  readonly states: number // |S|
  readonly actions: number // |A|
  readonly start: number // s0
  /** r_h(s,a) at index (h·S + s)·A + a, h = 0..H-1 (step h+1 of the paper). */
  readonly reward: Float64Array
  /** P_h(s'|s,a) at index ((h·S + s)·A + a)·S + s'. */
  readonly transition: Float64Array
}

/** A feature map tabulated on S × A: φ(s,a) at index (s·A + a)·d. */
export interface FeatureTable {
  readonly dim: number // d
  readonly states: number
  readonly actions: number
  readonly values: Float64Array
}

export const rewardIndex = (m: FiniteMdp, h: number, s: number, a: number): number =>
  (h * m.states + s) * m.actions + a

export const transitionOffset = (m: FiniteMdp, h: number, s: number, a: number): number =>
  ((h * m.states + s) * m.actions + a) * m.states

/** The one-hot map φ(s,a) = e_{s·A+a}, d = |S||A|: tabular MDPs as linear MDPs (§1). */
export const oneHotFeatures = (states: number, actions: number): FeatureTable => {
  const dim = states * actions
  const values = new Float64Array(states * actions * dim)
  for (let s = 0; s < states; s++) {
    for (let a = 0; a < actions; a++) values[(s * actions + a) * dim + s * actions + a] = 1
  }
  return { dim, states, actions, values }
}

/** Tabulates a user's φ(s,a) (validated elsewhere: length, finiteness, norm). */
export const tabulateFeatures = (
  states: number,
  actions: number,
  dim: number,
  phi: (s: number, a: number) => ReadonlyArray<number>
): FeatureTable => {
  const values = new Float64Array(states * actions * dim)
  for (let s = 0; s < states; s++) {
    for (let a = 0; a < actions; a++) values.set(phi(s, a), (s * actions + a) * dim)
  }
  return { dim, states, actions, values }
}

/** Nested arrays `[H][S][A]` of rewards, for files that outside tools read. */
export const rewardTable = (m: FiniteMdp): Array<Array<Array<number>>> =>
  Array.from({ length: m.horizon }, (_, h) =>
    Array.from({ length: m.states }, (_, s) =>
      Array.from({ length: m.actions }, (_, a) => m.reward[rewardIndex(m, h, s, a)])))

/** Nested arrays `[H][S][A][S]` of transition probabilities. */
export const transitionTable = (m: FiniteMdp): Array<Array<Array<Array<number>>>> =>
  Array.from({ length: m.horizon }, (_, h) =>
    Array.from({ length: m.states }, (_, s) =>
      Array.from({ length: m.actions }, (_, a) => {
        const o = transitionOffset(m, h, s, a)
        return Array.from(m.transition.subarray(o, o + m.states))
      })))

/** Nested arrays `[S][A][d]` of features. */
export const featureRows = (f: FeatureTable): Array<Array<Array<number>>> =>
  Array.from({ length: f.states }, (_, s) =>
    Array.from({ length: f.actions }, (_, a) => {
      const o = (s * f.actions + a) * f.dim
      return Array.from(f.values.subarray(o, o + f.dim))
    }))

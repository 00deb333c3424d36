/**
 * What an LSVI-UCB learner hands out (docs/algorithm.md §2): its configuration, the greedy policy of
 * Q̄ that any agent can execute from φ alone, the certificate, the Q formulas, and the interface
 * both learners implement (src/learner/Lsvi.ts, LsviIncremental.ts).
 */
import ndarray from "ndarray"
import * as K from "../linalg/kernels.ts"

export interface LsviConfig {
  readonly horizon: number // H
  readonly dim: number // d
  readonly actions: number // |A|
  readonly beta: number // β
  readonly lambda: number // λ
}

/** What the learner may read of its environment: φ(s,·) as an |A| × d row-major block. */
export type FeaturesOf = (state: number) => Float64Array

/**
 * A greedy policy of Q̄ that any agent can execute from φ alone: the weights w̄_h and Λ_h⁻¹ that
 * define Q̄_h, with β and the caps (§2). This is what the server stores and agents download.
 */
export interface Policy {
  readonly horizon: number
  readonly dim: number
  readonly actions: number
  readonly beta: number
  /** w̄_h at h·d. */
  readonly w: Float64Array
  /** Λ_h⁻¹ at h·d·d. */
  readonly LambdaInv: Float64Array
}

/** The certificate of §2: the interval I = [V̲_1(s0), V̄_1(s0)] and its width. */
export interface Certificate {
  readonly lower: number
  readonly upper: number
  readonly width: number
  /**
   * The deep stage's identification box beyond its first coordinate (src/deep/distmt/statistic.ts);
   * the linear stage's certificates never have it.
   */
  readonly more?: { readonly lower: ReadonlyArray<number>; readonly upper: ReadonlyArray<number> }
  /** The deep stage's SimNet input: the features of the identification phase's transitions. */
  readonly evidence?: Float32Array
}

/** The bonus β‖φ‖_{Λ⁻¹} = β √(φᵀΛ⁻¹φ) (§2); rounding can make the form a hair negative, hence the max. */
export const bonus = (LambdaInv: K.Matrix, beta: number, phi: Float64Array, phiOff: number): number =>
  beta * Math.sqrt(Math.max(K.quadForm(LambdaInv, phi, phiOff), 0))

/** Q̄_h(s,a) = min{ wᵀφ + β‖φ‖_{Λ⁻¹}, H − h + 1 } (0-based h: the cap is H − h). */
export const optimisticQ = (
  w: Float64Array,
  LambdaInv: K.Matrix,
  wOff: number,
  beta: number,
  cap: number,
  phi: Float64Array,
  phiOff: number,
  d: number
): number => {
  return Math.min(K.dot(w, wOff, phi, phiOff, d) + bonus(LambdaInv, beta, phi, phiOff), cap)
}

/** Q̲_h(s,a) = max{ w̲ᵀφ − β‖φ‖_{Λ⁻¹}, 0 }. */
export const pessimisticQ = (
  w: Float64Array,
  LambdaInv: K.Matrix,
  wOff: number,
  beta: number,
  phi: Float64Array,
  phiOff: number,
  d: number
): number => {
  return Math.max(K.dot(w, wOff, phi, phiOff, d) - bonus(LambdaInv, beta, phi, phiOff), 0)
}

/** Λ_h⁻¹ of a flat H·d·d array, as a matrix over the same memory (the kernels only read it). */
const matrixView = (flat: Float64Array, h: number, d: number): K.Matrix =>
  ndarray(flat.subarray(h * d * d, (h + 1) * d * d), [d, d])

/** argmax_a Q̄_h(s,a) of a published policy, ties to the lowest index (§2). */
export const policyAction = (policy: Policy, h: number, phi: Float64Array): number => {
  const { dim: d, actions: A, horizon: H } = policy
  const LambdaInv = matrixView(policy.LambdaInv, h, d)
  let best = 0
  let bestQ = -Infinity
  for (let a = 0; a < A; a++) {
    const q = optimisticQ(policy.w, LambdaInv, h * d, policy.beta, H - h, phi, a * d, d)
    if (q > bestQ) {
      bestQ = q
      best = a
    }
  }
  return best
}

/** The policy as a table `actions[h·S + s]`, for a finite state space with tabulated features. */
export const policyTable = (policy: Policy, states: number, featuresOf: FeaturesOf): Int32Array => {
  const out = new Int32Array(policy.horizon * states)
  for (let h = 0; h < policy.horizon; h++) {
    for (let s = 0; s < states; s++) out[h * states + s] = policyAction(policy, h, featuresOf(s))
  }
  return out
}

/** Bytes of a policy on the wire: its float64 arrays. */
export const policyBytes = (policy: Policy): number => 8 * (policy.w.length + policy.LambdaInv.length)

/** The policy of weights `w` (H·d) and Λ⁻¹ (H·d·d), both taken as they are (pass copies). */
export const policyOf = (config: LsviConfig, w: Float64Array, LambdaInv: Float64Array): Policy => ({
  horizon: config.horizon,
  dim: config.dim,
  actions: config.actions,
  beta: config.beta,
  w,
  LambdaInv
})

/**
 * What an agent needs of an LSVI-UCB learner (§2). Two implementations give the same numbers:
 * `Lsvi` (Lsvi.ts) groups transitions by next state, the fast choice when next states repeat (finite
 * state spaces); `LsviIncremental` (LsviIncremental.ts) keeps the bonus forms of every stored next
 * state up to date by rank-1 updates, the fast choice when they never repeat.
 */
export interface LsviLearner {
  readonly config: LsviConfig
  /** w̄_h and w̲_h at h·d, as of the last backup. */
  readonly wUpper: Float64Array
  readonly wLower: Float64Array
  /** Adds one transition (s_h, a_h, r_h, s_{h+1}) at step h (0-based). */
  addTransition(h: number, state: number, action: number, reward: number, next: number): void
  /** The backward pass of §2; call after adding transitions, before acting or reading the certificate. */
  backup(): void
  act(h: number, state: number): number
  upperQ(h: number, state: number, action: number): number
  lowerQ(h: number, state: number, action: number): number
  certificate(start: number): Certificate
  lambdaInverse(h: number): K.Matrix
  policy(): Policy
}

/** The certificate of §2 at the start state: V̄_1(s0), V̲_1(s0) = Q̲_1(s0, π_1(s0)), their difference. */
export const certificateOf = (learner: LsviLearner, start: number): Certificate => {
  const a = learner.act(0, start)
  const upper = learner.upperQ(0, start, a)
  const lower = learner.lowerQ(0, start, a)
  return { lower, upper, width: upper - lower }
}

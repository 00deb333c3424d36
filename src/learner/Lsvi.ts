/**
 * LSVI-UCB with its pessimistic twin (docs/algorithm.md §2), for one agent on one task instance.
 *
 * The learner sees only what an agent may see: states as opaque integer keys, φ(s,·) for a state
 * (read through the instance), and rewards. It never sees the context.
 *
 * Data structures (the "same numbers, any implementation" freedom of §2):
 * - `LambdaInv[h]` = Λ_h⁻¹, maintained by Sherman–Morrison as each transition arrives;
 * - `phiReward[h]` = Σ_τ φ_h^τ r_h^τ;
 * - transitions are grouped by next state: `phiInto[h][j]` = Σ_{τ : s_{h+1}^τ = s'_j} φ_h^τ.
 *   Then Σ_τ φ_h^τ V̄_{h+1}(s_{h+1}^τ) = Σ_j V̄_{h+1}(s'_j) phiInto[h][j], so a backup costs
 *   O(#distinct next states · A · d²) per step instead of O(K · A · d²), and gives the same w_h
 *   as the direct formula up to floating-point summation order (checked in the tests at 1e-8).
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

/**
 * What an agent needs of an LSVI-UCB learner (§2). Two implementations give the same numbers:
 * `Lsvi` (below) groups transitions by next state, the fast choice when next states repeat (finite
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

/**
 * Everything an `Lsvi` holds, in flat arrays that can move between threads (transferable buffers):
 * `Lsvi.restore(config, featuresOf, learner.snapshot())` behaves exactly as `learner` would,
 * number for number. The next-state groups of step h are `nextStates[groupStart[h] .. groupStart[h+1])`,
 * their sums `phiInto` at `g·d` for group g.
 */
export interface LsviSnapshot {
  readonly LambdaInv: Float64Array
  readonly phiReward: Float64Array
  readonly groupStart: Int32Array
  readonly nextStates: Int32Array
  readonly phiInto: Float64Array
  readonly wUpper: Float64Array
  readonly wLower: Float64Array
}

/** The buffers of a snapshot, for `postMessage`'s transfer list. */
export const snapshotBuffers = (s: LsviSnapshot): Array<ArrayBuffer> =>
  [s.LambdaInv, s.phiReward, s.groupStart, s.nextStates, s.phiInto, s.wUpper, s.wLower].map((a) => a.buffer as ArrayBuffer)

/** The policy of weights `w` (H·d) and Λ⁻¹ (H·d·d), both taken as they are (pass copies). */
export const policyOf = (config: LsviConfig, w: Float64Array, LambdaInv: Float64Array): Policy => ({
  horizon: config.horizon,
  dim: config.dim,
  actions: config.actions,
  beta: config.beta,
  w,
  LambdaInv
})

/** The greedy policy of the learner a snapshot describes: `Lsvi.restore(…, s).policy()`, without φ. */
export const snapshotPolicy = (config: LsviConfig, s: LsviSnapshot): Policy =>
  policyOf(config, s.wUpper.slice(), s.LambdaInv.slice())

/** The certificate of §2 at the start state: V̄_1(s0), V̲_1(s0) = Q̲_1(s0, π_1(s0)), their difference. */
export const certificateOf = (learner: LsviLearner, start: number): Certificate => {
  const a = learner.act(0, start)
  const upper = learner.upperQ(0, start, a)
  const lower = learner.lowerQ(0, start, a)
  return { lower, upper, width: upper - lower }
}

export class Lsvi implements LsviLearner {
  readonly config: LsviConfig

  private readonly LambdaInv: Array<K.Matrix>
  private readonly phiReward: Array<Float64Array>
  /** Per step h: next-state key → group index, and the group sums Σ φ_h^τ. */
  private readonly nextIndex: Array<Map<number, number>>
  private readonly nextStates: Array<Array<number>>
  private readonly phiInto: Array<Array<Float64Array>>
  /** Weights of the last backup: w̄_h and w̲_h at h·d. */
  readonly wUpper: Float64Array
  readonly wLower: Float64Array
  private readonly work: Float64Array
  private readonly rhs: Float64Array
  private readonly featureCache = new Map<number, Float64Array>()
  private readonly featuresOf: FeaturesOf

  constructor(config: LsviConfig, featuresOf: FeaturesOf) {
    this.config = config
    this.featuresOf = featuresOf
    const { horizon: H, dim: d, lambda } = config
    this.LambdaInv = Array.from({ length: H }, () => K.scaledIdentity(d, 1 / lambda))
    this.phiReward = Array.from({ length: H }, () => new Float64Array(d))
    this.nextIndex = Array.from({ length: H }, () => new Map())
    this.nextStates = Array.from({ length: H }, () => [])
    this.phiInto = Array.from({ length: H }, () => [])
    this.wUpper = new Float64Array(H * d)
    this.wLower = new Float64Array(H * d)
    this.work = new Float64Array(d)
    this.rhs = new Float64Array(d)
  }

  /** A copy of the learner's whole state (see `LsviSnapshot`). */
  snapshot(): LsviSnapshot {
    const { horizon: H, dim: d } = this.config
    const phiReward = new Float64Array(H * d)
    const groupStart = new Int32Array(H + 1)
    for (let h = 0; h < H; h++) {
      phiReward.set(this.phiReward[h], h * d)
      groupStart[h + 1] = groupStart[h] + this.nextStates[h].length
    }
    const nextStates = new Int32Array(groupStart[H])
    const phiInto = new Float64Array(groupStart[H] * d)
    for (let h = 0; h < H; h++) {
      nextStates.set(this.nextStates[h], groupStart[h])
      this.phiInto[h].forEach((g, j) => phiInto.set(g, (groupStart[h] + j) * d))
    }
    return {
      LambdaInv: this.flatLambdaInv(),
      phiReward,
      groupStart,
      nextStates,
      phiInto,
      wUpper: this.wUpper.slice(),
      wLower: this.wLower.slice()
    }
  }

  /** Λ_h⁻¹ for every h, copied into one H·d·d array. */
  private flatLambdaInv(): Float64Array {
    const d = this.config.dim
    const flat = new Float64Array(this.config.horizon * d * d)
    this.LambdaInv.forEach((m, h) => flat.set(m.data, h * d * d))
    return flat
  }

  /** A learner in the state `snapshot` describes (it takes copies: the snapshot stays unchanged). */
  static restore(config: LsviConfig, featuresOf: FeaturesOf, snapshot: LsviSnapshot): Lsvi {
    const learner = new Lsvi(config, featuresOf)
    const { horizon: H, dim: d } = config
    for (let h = 0; h < H; h++) {
      learner.LambdaInv[h].data.set(snapshot.LambdaInv.subarray(h * d * d, (h + 1) * d * d))
      learner.phiReward[h].set(snapshot.phiReward.subarray(h * d, (h + 1) * d))
      for (let g = snapshot.groupStart[h]; g < snapshot.groupStart[h + 1]; g++) {
        const next = snapshot.nextStates[g]
        learner.nextIndex[h].set(next, learner.nextStates[h].length)
        learner.nextStates[h].push(next)
        learner.phiInto[h].push(snapshot.phiInto.slice(g * d, (g + 1) * d))
      }
    }
    learner.wUpper.set(snapshot.wUpper)
    learner.wLower.set(snapshot.wLower)
    return learner
  }

  /** φ(s,·), read once per state and cached ("cached next-state features", §2). */
  features(state: number): Float64Array {
    let f = this.featureCache.get(state)
    if (f === undefined) {
      f = this.featuresOf(state)
      this.featureCache.set(state, f)
    }
    return f
  }

  /** Adds one transition (s_h, a_h, r_h, s_{h+1}) at step h (0-based). */
  addTransition(h: number, state: number, action: number, reward: number, next: number): void {
    const d = this.config.dim
    const phi = this.features(state)
    const off = action * d
    K.shermanMorrison(this.LambdaInv[h], phi, off, this.work)
    const pr = this.phiReward[h]
    for (let i = 0; i < d; i++) pr[i] += reward * phi[off + i]
    if (h + 1 < this.config.horizon) {
      let j = this.nextIndex[h].get(next)
      if (j === undefined) {
        j = this.nextStates[h].length
        this.nextIndex[h].set(next, j)
        this.nextStates[h].push(next)
        this.phiInto[h].push(new Float64Array(d))
        this.features(next)
      }
      const g = this.phiInto[h][j]
      for (let i = 0; i < d; i++) g[i] += phi[off + i]
    }
  }

  /**
   * The backward pass of §2 for h = H..1, for Q̄ and its pessimistic twin Q̲ at once.
   * Call after adding an episode's transitions, before acting or reading the certificate.
   */
  backup(): void {
    const { horizon: H, dim: d, actions: A, beta } = this.config
    for (let h = H - 1; h >= 0; h--) {
      // rhs = Σ φ r + Σ_j V̄_{h+1}(s'_j) phiInto_j ; likewise for V̲ with the greedy action of Q̄.
      const upper = this.rhs
      const lower = this.work
      upper.set(this.phiReward[h])
      lower.set(this.phiReward[h])
      if (h + 1 < H) {
        const states = this.nextStates[h]
        const sums = this.phiInto[h]
        for (let j = 0; j < states.length; j++) {
          const phi = this.features(states[j])
          let bestQ = -Infinity
          let bestA = 0
          for (let a = 0; a < A; a++) {
            const q = optimisticQ(this.wUpper, this.LambdaInv[h + 1], (h + 1) * d, beta, H - h - 1, phi, a * d, d)
            if (q > bestQ) {
              bestQ = q
              bestA = a
            }
          }
          const low = pessimisticQ(this.wLower, this.LambdaInv[h + 1], (h + 1) * d, beta, phi, bestA * d, d)
          const g = sums[j]
          for (let i = 0; i < d; i++) {
            upper[i] += bestQ * g[i]
            lower[i] += low * g[i]
          }
        }
      }
      const B = this.LambdaInv[h]
      const wu = this.wUpper.subarray(h * d, (h + 1) * d)
      const wl = this.wLower.subarray(h * d, (h + 1) * d)
      K.gemv(B, upper, 0, wu)
      K.gemv(B, lower, 0, wl)
    }
  }

  /** argmax_a Q̄_h(s,a), ties to the lowest index. */
  act(h: number, state: number): number {
    const { dim: d, actions: A, beta, horizon: H } = this.config
    const phi = this.features(state)
    let best = 0
    let bestQ = -Infinity
    for (let a = 0; a < A; a++) {
      const q = optimisticQ(this.wUpper, this.LambdaInv[h], h * d, beta, H - h, phi, a * d, d)
      if (q > bestQ) {
        bestQ = q
        best = a
      }
    }
    return best
  }

  /** Q̄_h(s,a) under the last backup. */
  upperQ(h: number, state: number, action: number): number {
    const { dim: d, beta, horizon: H } = this.config
    return optimisticQ(this.wUpper, this.LambdaInv[h], h * d, beta, H - h, this.features(state), action * d, d)
  }

  /** Q̲_h(s,a) under the last backup. */
  lowerQ(h: number, state: number, action: number): number {
    const { dim: d, beta } = this.config
    return pessimisticQ(this.wLower, this.LambdaInv[h], h * d, beta, this.features(state), action * d, d)
  }

  /** The certificate at the start state: V̄_1(s0), V̲_1(s0) = Q̲_1(s0, π_1(s0)), their difference. */
  certificate(start: number): Certificate {
    return certificateOf(this, start)
  }

  /** Λ_h⁻¹ as maintained (a copy). */
  lambdaInverse(h: number): K.Matrix {
    const d = this.config.dim
    const m = K.zeros(d, d)
    m.data.set(this.LambdaInv[h].data)
    return m
  }

  /** The greedy policy of the current Q̄, as a self-contained snapshot. */
  policy(): Policy {
    return policyOf(this.config, this.wUpper.slice(), this.flatLambdaInv())
  }
}

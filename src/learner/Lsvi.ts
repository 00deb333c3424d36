/**
 * LSVI-UCB with its pessimistic twin (docs/algorithm.md §2), for one agent on one task instance.
 *
 * The learner sees only what an agent may see: states as opaque integer keys, φ(s,·) for a state
 * (read through the instance), and rewards. It never sees the context.
 *
 * Data structures (the "same numbers, any implementation" freedom of §2):
 * - Λ_h⁻¹, maintained by Sherman–Morrison as each transition arrives;
 * - Σ_τ φ_h^τ r_h^τ;
 * - transitions are grouped by next state (src/learner/groups.ts): group j of step h sums
 *   Σ_{τ : s_{h+1}^τ = s'_j} φ_h^τ. Then Σ_τ φ_h^τ V̄_{h+1}(s_{h+1}^τ) = Σ_j V̄_{h+1}(s'_j) (group
 *   sum j), so a backup costs O(#distinct next states · A · d²) per step instead of O(K · A · d²),
 *   and gives the same w_h as the direct formula up to floating-point summation order (checked in
 *   the tests at 1e-8).
 *
 * On finite state spaces d and the groups are small, so an episode's arithmetic is a few thousand
 * multiply-adds, and anything else the hot path does (allocations, look-ups, copies) weighs as much.
 * Hence: every array is flat and indexed directly (Λ⁻¹ of all steps in one array), state keys index
 * plain arrays, a group keeps its next state's features (and, for one-hot rows, their one entry),
 * a Λ_h⁻¹ that one-hot features keep diagonal is updated and applied entry by entry, and the greedy
 * action of every Q̄_{h+1} the backup evaluates is kept until Λ_{h+1}⁻¹ changes, so that acting on
 * it recomputes nothing.
 * Each number is computed by the same operations in the same order as the direct kernels
 * (src/linalg/kernels.ts) would: reusing a value never changes it.
 */
import * as K from "../linalg/kernels.ts"
import { type Certificate, type FeaturesOf, type LsviConfig, type LsviLearner, type Policy, policyOf } from "./policy.ts"
import { StepGroups } from "./groups.ts"
import { hotDot, hotForm, nonZeros, Pattern, rowDot, rowForm, shermanMorrisonHot, shermanMorrisonNz } from "./sparse.ts"

export {
  bonus,
  type Certificate,
  certificateOf,
  type FeaturesOf,
  type LsviConfig,
  type LsviLearner,
  optimisticQ,
  pessimisticQ,
  type Policy,
  policyAction,
  policyBytes,
  policyOf,
  policyTable
} from "./policy.ts"

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

/** The buffers of a snapshot (one, for `Lsvi.snapshot`'s), for `postMessage`'s transfer list. */
export const snapshotBuffers = (s: LsviSnapshot): Array<ArrayBuffer> => [
  ...new Set([s.LambdaInv, s.phiReward, s.groupStart, s.nextStates, s.phiInto, s.wUpper, s.wLower].map((a) => a.buffer as ArrayBuffer))
]

/** The greedy policy of the learner a snapshot describes: `Lsvi.restore(…, s).policy()`, without φ. */
export const snapshotPolicy = (config: LsviConfig, s: LsviSnapshot): Policy =>
  policyOf(config, s.wUpper.slice(), s.LambdaInv.slice())

export class Lsvi implements LsviLearner {
  readonly config: LsviConfig
  /** Weights of the last backup: w̄_h and w̲_h at h·d. */
  readonly wUpper: Float64Array
  readonly wLower: Float64Array

  /** Λ_h⁻¹ at h·d·d. */
  private readonly LambdaInv: Float64Array
  /** Where Λ⁻¹ may be non-zero, for w = Λ⁻¹·rhs (src/learner/sparse.ts). */
  private pattern: Pattern
  /** Σ φ r of step h at h·d. */
  private readonly phiReward: Float64Array
  /**
   * Per step h: the transitions grouped by next state. Their greedy actions (h < H − 1) hold while
   * `fresh[h + 1]`: Λ_{h+1}⁻¹ and w̄_{h+1} unchanged since the backup that computed them (within an
   * episode, step h + 1 acts before it adds its transition).
   */
  private readonly groups: Array<StepGroups>
  private readonly fresh: Uint8Array
  /** The start state's greedy action at step 0 as the last certificate found it (−1: none). */
  private startState = -1
  private startAction = 0
  private readonly rhsUpper: Float64Array
  private readonly rhsLower: Float64Array
  /** Per action: the bonus and Q̄ of the state at hand (scratch). */
  private readonly bonuses: Float64Array
  private readonly values: Float64Array
  private readonly work: Float64Array
  private readonly nzWork: Int32Array
  /** φ(s,·) by state key, and its non-zero entries (src/learner/sparse.ts: zeros are skipped, exactly). */
  private readonly featureCache: Array<Float64Array | undefined> = []
  private readonly nonZeroCache: Array<Int32Array> = []
  private readonly featuresOf: FeaturesOf

  constructor(config: LsviConfig, featuresOf: FeaturesOf) {
    this.config = config
    this.featuresOf = featuresOf
    const { horizon: H, dim: d, lambda } = config
    this.LambdaInv = new Float64Array(H * d * d)
    for (let h = 0; h < H; h++) for (let i = 0; i < d; i++) this.LambdaInv[h * d * d + i * d + i] = 1 / lambda
    this.pattern = new Pattern(d, this.LambdaInv)
    this.phiReward = new Float64Array(H * d)
    this.groups = Array.from({ length: H }, () => new StepGroups(d, config.actions))
    this.fresh = new Uint8Array(H)
    this.wUpper = new Float64Array(H * d)
    this.wLower = new Float64Array(H * d)
    this.work = new Float64Array(d)
    this.nzWork = new Int32Array(d)
    this.rhsUpper = new Float64Array(d)
    this.rhsLower = new Float64Array(d)
    this.bonuses = new Float64Array(config.actions)
    this.values = new Float64Array(config.actions)
  }

  /**
   * A copy of the learner's whole state (see `LsviSnapshot`), its arrays laid out in one buffer:
   * a chunk moves it to a learner thread and back, and each moved buffer costs a message as much
   * as its bytes do.
   */
  snapshot(): LsviSnapshot {
    const { horizon: H, dim: d } = this.config
    let groups = 0
    for (let h = 0; h < H; h++) groups += this.groups[h].size
    const floats = [H * d * d, H * d, groups * d, H * d, H * d]
    const total = floats.reduce((a, b) => a + b, 0)
    const buffer = new ArrayBuffer(8 * total + 4 * (H + 1 + groups))
    let at = 0
    const [LambdaInv, phiReward, phiInto, wUpper, wLower] = floats.map((n) => {
      const a = new Float64Array(buffer, 8 * at, n)
      at += n
      return a
    })
    const groupStart = new Int32Array(buffer, 8 * total, H + 1)
    const nextStates = new Int32Array(buffer, 8 * total + 4 * (H + 1), groups)
    for (let h = 0; h < H; h++) {
      const g = this.groups[h]
      groupStart[h + 1] = groupStart[h] + g.size
      nextStates.set(g.nextStates, groupStart[h])
      phiInto.set(g.sums.subarray(0, g.size * d), groupStart[h] * d)
    }
    LambdaInv.set(this.LambdaInv)
    phiReward.set(this.phiReward)
    wUpper.set(this.wUpper)
    wLower.set(this.wLower)
    return { LambdaInv, phiReward, groupStart, nextStates, phiInto, wUpper, wLower }
  }

  /** A learner in the state `snapshot` describes (it takes copies: the snapshot stays unchanged). */
  static restore(config: LsviConfig, featuresOf: FeaturesOf, snapshot: LsviSnapshot): Lsvi {
    const learner = new Lsvi(config, featuresOf)
    const { horizon: H, dim: d } = config
    learner.LambdaInv.set(snapshot.LambdaInv)
    learner.pattern = new Pattern(d, learner.LambdaInv)
    learner.phiReward.set(snapshot.phiReward)
    for (let h = 0; h < H; h++) {
      for (let g = snapshot.groupStart[h]; g < snapshot.groupStart[h + 1]; g++) {
        const j = learner.addGroup(h, snapshot.nextStates[g])
        learner.groups[h].sums.set(snapshot.phiInto.subarray(g * d, (g + 1) * d), j * d)
      }
    }
    learner.wUpper.set(snapshot.wUpper)
    learner.wLower.set(snapshot.wLower)
    return learner
  }

  /** φ(s,·), read once per state and cached ("cached next-state features", §2). */
  features(state: number): Float64Array {
    let f = this.featureCache[state]
    if (f === undefined) {
      f = this.featuresOf(state)
      this.featureCache[state] = f
      this.nonZeroCache[state] = nonZeros(f, this.config.actions, this.config.dim)
    }
    return f
  }

  /** A new, empty next-state group of step h; its index. */
  private addGroup(h: number, next: number): number {
    const phi = this.features(next)
    return this.groups[h].add(next, phi, this.nonZeroCache[next])
  }

  /** Adds one transition (s_h, a_h, r_h, s_{h+1}) at step h (0-based). */
  addTransition(h: number, state: number, action: number, reward: number, next: number): void {
    const d = this.config.dim
    const phi = this.features(state)
    const nz = this.nonZeroCache[state]
    const off = action * d
    const at = action * (d + 1)
    const n = nz[at]
    if (n === d) {
      K.shermanMorrisonAt(this.LambdaInv, h * d * d, d, phi, off, this.work)
      this.pattern.fill(h)
    } else if (n === 1 && this.pattern.isDiagonal(h)) {
      shermanMorrisonHot(this.LambdaInv, h * d * d, d, nz[at + 1], phi[off + nz[at + 1]])
    } else {
      const m = shermanMorrisonNz(this.LambdaInv, h * d * d, phi, action, d, nz, this.work, this.nzWork)
      this.pattern.add(h, this.nzWork, m)
    }
    this.fresh[h] = 0
    // Σ φ r and the group sum over the non-zeros of φ (all d entries for a dense row).
    const pr = this.phiReward
    const base = h * d
    for (let p = 1; p <= n; p++) pr[base + nz[at + p]] += reward * phi[off + nz[at + p]]
    if (h + 1 < this.config.horizon) {
      let j = this.groups[h].groupOf[next]
      if (j === undefined) j = this.addGroup(h, next)
      const g = this.groups[h].sums
      const gAt = j * d
      for (let p = 1; p <= n; p++) g[gAt + nz[at + p]] += phi[off + nz[at + p]]
    }
  }

  /**
   * The backward pass of §2 for h = H..1, for Q̄ and its pessimistic twin Q̲ at once.
   * Call after adding an episode's transitions, before acting or reading the certificate.
   */
  backup(): void {
    const { horizon: H, dim: d, actions: A, beta } = this.config
    const B = this.LambdaInv
    const wU = this.wUpper
    const wL = this.wLower
    const upper = this.rhsUpper
    const lower = this.rhsLower
    const bonuses = this.bonuses
    for (let h = H - 1; h >= 0; h--) {
      // rhs = Σ φ r + Σ_j V̄_{h+1}(s'_j) (group sum j); likewise for V̲ with the greedy action of Q̄.
      for (let i = 0; i < d; i++) {
        upper[i] = this.phiReward[h * d + i]
        lower[i] = this.phiReward[h * d + i]
      }
      if (h + 1 < H) {
        const groups = this.groups[h]
        const { features, nonZeros, sums, greedy, hot, hotValue } = groups
        const bOff = (h + 1) * d * d
        const wOff = (h + 1) * d
        const cap = H - h - 1
        for (let j = 0; j < groups.size; j++) {
          // Q̄_{h+1}(s'_j, a) = min{w̄ᵀφ + β‖φ‖_{Λ⁻¹}, cap} as `optimisticQ` computes it, then Q̲ at
          // the greedy action as `pessimisticQ` does, with the bonus just taken. A one-hot row's
          // form and dot product are the single terms that rowForm and rowDot would add.
          let bestQ = -Infinity
          let bestA = 0
          let low: number
          const k = j * A
          if (hot[k] >= 0) {
            for (let a = 0; a < A; a++) {
              const bonus = beta * Math.sqrt(Math.max(hotForm(B, bOff, d, hot[k + a], hotValue[k + a]), 0))
              bonuses[a] = bonus
              const q = Math.min(hotDot(wU, wOff, hot[k + a], hotValue[k + a]) + bonus, cap)
              if (q > bestQ) {
                bestQ = q
                bestA = a
              }
            }
            low = Math.max(hotDot(wL, wOff, hot[k + bestA], hotValue[k + bestA]) - bonuses[bestA], 0)
          } else {
            const phi = features[j]
            const nz = nonZeros[j]
            for (let a = 0; a < A; a++) {
              const bonus = beta * Math.sqrt(Math.max(rowForm(B, bOff, phi, a, d, nz), 0))
              bonuses[a] = bonus
              const q = Math.min(rowDot(wU, wOff, phi, a, d, nz) + bonus, cap)
              if (q > bestQ) {
                bestQ = q
                bestA = a
              }
            }
            low = Math.max(rowDot(wL, wOff, phi, bestA, d, nz) - bonuses[bestA], 0)
          }
          greedy[j] = bestA
          const at = j * d
          for (let i = 0; i < d; i++) {
            upper[i] += bestQ * sums[at + i]
            lower[i] += low * sums[at + i]
          }
        }
        groups.greedyCount = groups.size
      }
      this.pattern.gemv2(B, h, upper, lower, wU, wL, h * d)
    }
    for (let h = 0; h < H; h++) this.fresh[h] = 1
    this.startState = -1
  }

  /** argmax_a Q̄_h(s,a), ties to the lowest index. */
  act(h: number, state: number): number {
    if (this.fresh[h] === 1) {
      if (h === 0) {
        if (state === this.startState) return this.startAction
      } else {
        const groups = this.groups[h - 1]
        const j = groups.groupOf[state]
        if (j !== undefined && j < groups.greedyCount) return groups.greedy[j]
      }
    }
    const A = this.config.actions
    let best = 0
    let bestQ = -Infinity
    for (let a = 0; a < A; a++) {
      const q = this.upperQ(h, state, a)
      if (q > bestQ) {
        bestQ = q
        best = a
      }
    }
    return best
  }

  /** β‖φ_a‖_{Λ⁻¹} for the Λ⁻¹ at `LambdaInv[bOff..]` (`bonus`). */
  private bonusOf(bOff: number, phi: Float64Array, nz: Int32Array, a: number): number {
    return this.config.beta * Math.sqrt(Math.max(rowForm(this.LambdaInv, bOff, phi, a, this.config.dim, nz), 0))
  }

  /** β‖φ(s,a)‖_{Λ_h⁻¹}. */
  private bonusAt(h: number, state: number, action: number): number {
    const d = this.config.dim
    return this.bonusOf(h * d * d, this.features(state), this.nonZeroCache[state], action)
  }

  /** Q̄_h = min{w̄ᵀφ(s,a) + bonus, H − h} (`optimisticQ`), given the bonus. */
  private upperWith(h: number, state: number, action: number, bonus: number): number {
    const { dim: d, horizon: H } = this.config
    return Math.min(rowDot(this.wUpper, h * d, this.features(state), action, d, this.nonZeroCache[state]) + bonus, H - h)
  }

  /** Q̲_h = max{w̲ᵀφ(s,a) − bonus, 0} (`pessimisticQ`), given the bonus. */
  private lowerWith(h: number, state: number, action: number, bonus: number): number {
    const d = this.config.dim
    return Math.max(rowDot(this.wLower, h * d, this.features(state), action, d, this.nonZeroCache[state]) - bonus, 0)
  }

  /** Q̄_h(s,a) under the last backup. */
  upperQ(h: number, state: number, action: number): number {
    return this.upperWith(h, state, action, this.bonusAt(h, state, action))
  }

  /** Q̲_h(s,a) under the last backup. */
  lowerQ(h: number, state: number, action: number): number {
    return this.lowerWith(h, state, action, this.bonusAt(h, state, action))
  }

  /**
   * The certificate at the start state: V̄_1(s0), V̲_1(s0) = Q̲_1(s0, π_1(s0)), their difference
   * (`certificateOf`, each bonus computed once). The greedy action is kept for the episode's first step.
   */
  certificate(start: number): Certificate {
    const { actions: A, horizon: H } = this.config
    const { bonuses, values } = this
    // upperWith and lowerWith at h = 0, with φ(s0, ·) looked up once.
    const phi = this.features(start)
    const nz = this.nonZeroCache[start]
    let best = 0
    let bestQ = -Infinity
    for (let a = 0; a < A; a++) {
      bonuses[a] = this.bonusOf(0, phi, nz, a)
      values[a] = Math.min(rowDot(this.wUpper, 0, phi, a, this.config.dim, nz) + bonuses[a], H)
      if (values[a] > bestQ) {
        bestQ = values[a]
        best = a
      }
    }
    if (this.fresh[0] === 1) {
      this.startState = start
      this.startAction = best
    }
    const upper = values[best]
    const lower = Math.max(rowDot(this.wLower, 0, phi, best, this.config.dim, nz) - bonuses[best], 0)
    return { lower, upper, width: upper - lower }
  }

  /** Λ_h⁻¹ as maintained (a copy). */
  lambdaInverse(h: number): K.Matrix {
    const d = this.config.dim
    const m = K.zeros(d, d)
    m.data.set(this.LambdaInv.subarray(h * d * d, (h + 1) * d * d))
    return m
  }

  /** The greedy policy of the current Q̄, as a self-contained snapshot. */
  policy(): Policy {
    return policyOf(this.config, this.wUpper.slice(), this.LambdaInv.slice())
  }
}

/**
 * LSVI-UCB with its pessimistic twin (docs/algorithm.md §2) for next states that never repeat
 * (infinite state spaces): an incremental backup whose per-episode cost is O(K·A·d·H), not the
 * O(K·A·d²·H) of recomputing every bonus. Same interface and same numbers as `Lsvi`
 * (src/learner/Lsvi.ts), which groups transitions by next state and stays the better choice when
 * next states repeat (finite state spaces).
 *
 * What is kept, per step h (the "same numbers, any implementation" freedom of §2):
 * - the stored transitions in flat float64 chunks: φ_h^τ, r_h^τ, and φ(s_{h+1}^τ, a) for every a;
 * - Λ_h (exact sums) and B_h = Λ_h⁻¹, downdated by Sherman–Morrison as each transition arrives;
 * - q = φᵀ B_{h+1} φ for every stored next-state row φ = φ(s_{h+1}^τ, a). When Λ_{h+1} gains φ_new,
 *   q ← q − (φᵀu)² / (1 + φ_newᵀu) with u = B_{h+1} φ_new (Sherman–Morrison applied to the form),
 *   which costs one dot product of length d per row instead of a d × d quadratic form.
 *
 * A backup then makes one pass per step over the stored next-state rows: two dot products per row
 * (φᵀu for the form, φᵀw̄_{h+1} for the mean), the max over actions, and rhs += V̄ φ_h^τ. That pass
 * runs in WebAssembly SIMD (src/linalg/wasm/lsvi.wat; `kernel: "wasm-plain"` for its build without
 * fused multiply-adds, which runtimes without relaxed SIMD run) or, with `kernel: "js"`, in the
 * TypeScript loops of incremental/kernelsJs.ts, which are the readable statement of the same kernels.
 *
 * Drift. Both B_h and the kept forms accumulate rounding with every rank-1 update (a relative error
 * of roughly (number of updates) × 1e-16). Every `refreshEvery` updates of Λ_h, B_h is recomputed
 * from Λ_h directly (Cholesky) and the forms that depend on it are recomputed from scratch, which
 * bounds the drift; docs/performance.md has the measurements behind the default.
 *
 * Memory: every buffer lives in one `WebAssembly.Memory` per learner, filled by a bump allocator;
 * chunks grow by 1/g of what is stored (g from 2 to 8, `chunkGrowth` in incremental/Store.ts), so
 * that the stored values and the slack stay within 1.4 times the stored features.
 *
 * Three files: this one (the class, and the update as each transition arrives), incremental/Store.ts
 * (the layout of the stored rows), incremental/Backup.ts (the incremental backup and the backup from
 * scratch), with the TypeScript statements of the kernels in incremental/kernelsJs.ts.
 */
import type * as K from "../linalg/kernels.ts"
import { instantiate, simdAvailable } from "../linalg/wasm/simd.ts"
import { type Certificate, certificateOf, type FeaturesOf, type LsviConfig, type LsviLearner, type Policy, policyOf } from "./Lsvi.ts"
import { backup, type Core, fullBackup } from "./incremental/Backup.ts"
import { Store } from "./incremental/Store.ts"
import { zeros } from "../linalg/kernels.ts"

/**
 * Which kernels run the passes: "wasm", the SIMD kernels (the default where WebAssembly SIMD exists),
 * with fused multiply-adds where the runtime has relaxed SIMD; "wasm-plain", the same without them;
 * "js", the same loops in TypeScript.
 */
export type IncrementalKernel = "wasm" | "wasm-plain" | "js"

export interface IncrementalOptions {
  readonly kernel?: IncrementalKernel
  /** Recompute B_h = Λ_h⁻¹ directly, and the forms that use it, after this many rank-1 updates of Λ_h. */
  readonly refreshEvery?: number
  /** Also compute the pessimistic twin w̲ (default true). The bench turns it off to time Q̄ alone. */
  readonly twin?: boolean
}

/** The default of `refreshEvery`: see docs/performance.md ("Drift"). */
export const DEFAULT_REFRESH_EVERY = 4096

export class LsviIncremental implements LsviLearner {
  readonly config: LsviConfig
  /** w̄_h and w̲_h at h·d, as of the last backup. */
  readonly wUpper: Float64Array
  readonly wLower: Float64Array
  /** Which kernels run the passes. */
  readonly kernel: IncrementalKernel
  readonly refreshEvery: number
  readonly twin: boolean

  private readonly featuresOf: FeaturesOf
  private readonly core: Core
  private readonly dp: number
  private readonly work: number // dp
  private readonly phiIn: number // dp: staging for φ_h^τ
  // A two-entry cache of φ(s,·): an episode reads each state twice (as s' at h, as s at h + 1).
  private cacheKeys: [number, number] = [Number.NaN, Number.NaN]
  private cacheValues: [Float64Array, Float64Array]
  private cacheNext = 0

  constructor(config: LsviConfig, featuresOf: FeaturesOf, options: IncrementalOptions = {}) {
    const { horizon: H, dim: d, actions: A, lambda } = config
    if (!(lambda > 0)) throw new RangeError(`LsviIncremental: λ must be > 0 (got ${lambda})`)
    // Store.ts keeps which action each taken row is in 16 bits.
    if (!(A >= 1 && A <= 65535)) throw new RangeError(`LsviIncremental: the actions must be 1 to 65,535 (got ${A})`)
    this.config = config
    this.featuresOf = featuresOf
    this.kernel = options.kernel ?? (simdAvailable() ? "wasm" : "js")
    this.refreshEvery = options.refreshEvery ?? DEFAULT_REFRESH_EVERY
    this.twin = options.twin ?? true
    const dp = d + (d & 1)
    this.dp = dp
    // Past d/2 pending changes, recomputing the forms from scratch (d·dp per row) is cheaper.
    const maxPending = Math.max(1, d >> 1)
    const store = new Store(H, d, A, dp)
    const a = store.arena
    const perStep = (count: number) => Array.from({ length: H }, () => a.alloc(count))
    this.wUpper = new Float64Array(H * d)
    this.wLower = new Float64Array(H * d)
    this.core = {
      config,
      store,
      // "wasm": the runtime's default build
      simd: this.kernel === "js" ? undefined : this.kernel === "wasm-plain" ? instantiate(a.memory, "plain") : instantiate(a.memory),
      twin: this.twin,
      refreshEvery: this.refreshEvery,
      dp,
      maxPending,
      qValid: new Array(H).fill(0),
      pendingCount: new Array(H).fill(0),
      sinceRefresh: new Array(H).fill(0),
      lambdaRows: new Array(H).fill(0),
      pendingU: perStep(maxPending * dp),
      pendingC: perStep(maxPending),
      Lambda: perStep(d * dp),
      B: perStep(d * dp),
      phiReward: perStep(dp),
      wU: a.alloc(H * dp),
      wL: a.alloc(H * dp),
      rhs: a.alloc(dp),
      rhsLow: a.alloc(dp),
      tmp: a.alloc(Math.max(256, 2 * dp)),
      zero: a.alloc(1),
      U: a.alloc(d * ((d + 7) & ~7)),
      wUpper: this.wUpper,
      wLower: this.wLower
    }
    this.work = a.alloc(dp)
    this.phiIn = a.alloc(dp)
    const f = a.f64
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < d; i++) {
        f[(this.core.Lambda[h] >> 3) + i * dp + i] = lambda
        f[(this.core.B[h] >> 3) + i * dp + i] = 1 / lambda
      }
    }
    this.cacheValues = [new Float64Array(0), new Float64Array(0)]
  }

  /** φ(s,·) through a two-entry cache. */
  features(state: number): Float64Array {
    if (this.cacheKeys[0] === state) return this.cacheValues[0]
    if (this.cacheKeys[1] === state) return this.cacheValues[1]
    const v = this.featuresOf(state)
    const slot = this.cacheNext
    this.cacheKeys[slot] = state
    this.cacheValues[slot] = v
    this.cacheNext = 1 - slot
    return v
  }

  /** Adds one transition (s_h, a_h, r_h, s_{h+1}) at step h (0-based). */
  addTransition(h: number, state: number, action: number, reward: number, next: number): void {
    const d = this.config.dim
    const phi = this.features(state)
    if (h + 1 < this.config.horizon) {
      const nextPhi = this.features(next)
      this.addTransitionFeatures(h, phi, action * d, reward, nextPhi, 0)
    } else {
      this.addTransitionFeatures(h, phi, action * d, reward, undefined, 0)
    }
  }

  /**
   * Adds one transition at step h given its features: φ_h = phi[phiOff..+d), the reward, and
   * φ(s_{h+1}, ·) = nextPhi[nextOff..+A·d) (A rows of d; ignored, and may be undefined, at the
   * last step).
   */
  addTransitionFeatures(
    h: number,
    phi: ArrayLike<number>,
    phiOff: number,
    reward: number,
    nextPhi: ArrayLike<number> | undefined,
    nextOff: number
  ): void {
    const { horizon: H, dim: d } = this.config
    const dp = this.dp
    const last = h + 1 >= H
    if (!last && nextPhi === undefined) throw new Error(`LsviIncremental: step ${h} needs the next state's features`)
    const core = this.core
    // Room first: a new chunk may grow the memory (and so renew the views of it).
    core.store.chunkWithRoom(h)
    const f = core.store.arena.f64
    const x = this.phiIn >> 3
    for (let i = 0; i < d; i++) f[x + i] = phi[phiOff + i]

    // u = B_h φ, c = 1 / (1 + φᵀu): the Sherman–Morrison terms of this change of Λ_h.
    const Bh = core.B[h] >> 3
    const u = this.work >> 3
    let phiU = 0
    for (let i = 0; i < d; i++) {
      let s = 0
      const bi = Bh + i * dp
      for (let k = 0; k < d; k++) s += f[bi + k] * f[x + k]
      f[u + i] = s
      phiU += f[x + i] * s
    }
    const cInv = 1 + phiU
    const c = 1 / cInv
    // The forms of step h − 1's stored next states depend on B_h: queue the change for them.
    if (h > 0 && core.qValid[h - 1] > 0) {
      const j = core.pendingCount[h]
      if (j < core.maxPending) {
        const uj = (core.pendingU[h] >> 3) + j * dp
        for (let i = 0; i < dp; i++) f[uj + i] = f[u + i]
        f[(core.pendingC[h] >> 3) + j] = c
        core.pendingCount[h] = j + 1
      } else {
        // Too many changes at once: recompute those forms from scratch at the next backup.
        core.qValid[h - 1] = 0
        core.pendingCount[h] = 0
      }
    }
    // B ← B − (Bφ)(Bφ)ᵀ / (1 + φᵀBφ);  Σφr ← Σφr + rφ. Λ ← Λ + φφᵀ waits until Λ is read (a refresh,
    // every refreshEvery changes): the stored φ rows are the pending terms (`foldLambda` in Backup.ts).
    for (let i = 0; i < d; i++) {
      const ui = f[u + i] / cInv
      const bi = Bh + i * dp
      for (let k = 0; k < d; k++) f[bi + k] -= ui * f[u + k]
    }
    const pr = core.phiReward[h] >> 3
    for (let i = 0; i < d; i++) f[pr + i] += reward * f[x + i]
    core.sinceRefresh[h]++

    core.store.append(h, this.phiIn, reward, nextPhi, nextOff)
  }

  /**
   * The backward pass of §2 for h = H..1, for Q̄ (and Q̲ unless `twin: false`), incremental: call
   * after adding an episode's transitions (or any number of them).
   */
  backup(): void {
    backup(this.core)
  }

  /**
   * The whole backup from the stored transitions alone (start-up, resume): Λ_h from the stored φ,
   * B_h by a direct inverse, Σφr, every form from scratch, then the backward pass.
   */
  fullBackup(): void {
    fullBackup(this.core)
  }

  /** Q̄_h(s,a) from the features block `phi` (A rows of d). */
  private upperFrom(h: number, phi: Float64Array, a: number): number {
    const { dim: d, beta, horizon: H } = this.config
    return Math.min(this.meanAt(this.core.wU, h, phi, a) + beta * Math.sqrt(Math.max(this.formAt(h, phi, a), 0)), H - h)
  }

  private lowerFrom(h: number, phi: Float64Array, a: number): number {
    const { beta } = this.config
    return Math.max(this.meanAt(this.core.wL, h, phi, a) - beta * Math.sqrt(Math.max(this.formAt(h, phi, a), 0)), 0)
  }

  private meanAt(w: number, h: number, phi: Float64Array, a: number): number {
    const d = this.config.dim
    const f = this.core.store.arena.f64
    const wo = (w >> 3) + h * this.dp
    let s = 0
    for (let i = 0; i < d; i++) s += f[wo + i] * phi[a * d + i]
    return s
  }

  private formAt(h: number, phi: Float64Array, a: number): number {
    const d = this.config.dim
    const dp = this.dp
    const f = this.core.store.arena.f64
    const Bo = this.core.B[h] >> 3
    const o = a * d
    let q = 0
    for (let i = 0; i < d; i++) {
      let s = 0
      const bi = Bo + i * dp
      for (let k = 0; k < d; k++) s += f[bi + k] * phi[o + k]
      q += phi[o + i] * s
    }
    return q
  }

  /** argmax_a Q̄_h(s,a), ties to the lowest index. */
  act(h: number, state: number): number {
    const phi = this.features(state)
    let best = 0
    let bestQ = -Infinity
    for (let a = 0; a < this.config.actions; a++) {
      const q = this.upperFrom(h, phi, a)
      if (q > bestQ) {
        bestQ = q
        best = a
      }
    }
    return best
  }

  /** Q̄_h(s,a) under the last backup. */
  upperQ(h: number, state: number, action: number): number {
    return this.upperFrom(h, this.features(state), action)
  }

  /** Q̲_h(s,a) under the last backup. */
  lowerQ(h: number, state: number, action: number): number {
    return this.lowerFrom(h, this.features(state), action)
  }

  /** The certificate at the start state: V̄_1(s0), V̲_1(s0) = Q̲_1(s0, π_1(s0)), their difference. */
  certificate(start: number): Certificate {
    return certificateOf(this, start)
  }

  /** Λ_h⁻¹ as maintained (a copy). */
  lambdaInverse(h: number): K.Matrix {
    const d = this.config.dim
    const m = zeros(d, d)
    const f = this.core.store.arena.f64
    const Bo = this.core.B[h] >> 3
    for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) m.data[i * d + k] = f[Bo + i * this.dp + k]
    return m
  }

  /** The greedy policy of the current Q̄, as a self-contained snapshot. */
  policy(): Policy {
    const { horizon: H, dim: d } = this.config
    const LambdaInv = new Float64Array(H * d * d)
    for (let h = 0; h < H; h++) LambdaInv.set(this.lambdaInverse(h).data, h * d * d)
    return policyOf(this.config, Float64Array.from(this.wUpper), LambdaInv)
  }

  /**
   * Reads every stored next-state row once and returns their sum: the memory floor that the
   * backup's one pass per step over those rows cannot beat (timed by the bench).
   */
  sweepNextStates(): number {
    return this.core.store.sweepNextStates(this.core.simd)
  }

  /** Reads once everything an incremental backup reads (next-state rows, forms, φ_h rows): its floor. */
  sweepUpdateReads(): number {
    return this.core.store.sweepUpdateReads(this.core.simd)
  }

  /**
   * Whether the backup reads step h's φ_h rows as step h − 1's taken rows (the transitions came as
   * episodes, in order; incremental/Store.ts, `shared`), so that they come from memory once.
   */
  sharesPhi(h: number): boolean {
    return this.core.store.shared[h]
  }

  /** Transitions stored at step h. */
  transitions(h: number): number {
    return this.core.store.count[h]
  }

  /**
   * The stored data of step h, chunk by chunk: copies of φ (count × d) and, at h < H − 1, of the
   * next-state rows (count × A × d); r (count) as a view, valid until the next `addTransition*`,
   * which may grow the memory. Used to dump the data set (`distmt bench lsvi --dump`).
   */
  storedChunks(h: number): Generator<{ readonly phi: Float64Array; readonly reward: Float64Array; readonly next: Float64Array | undefined }> {
    return this.core.store.storedChunks(h)
  }

  /** Bytes the learner holds: everything it allocated in its memory (stored data, slack, matrices). */
  bytes(): number {
    return this.core.store.arena.top
  }
}

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
 * runs in WebAssembly SIMD (src/linalg/wasm/lsvi.wat) or, with `kernel: "js"`, in the TypeScript
 * loops below, which are the readable statement of the same kernel.
 *
 * Drift. Both B_h and the kept forms accumulate rounding with every rank-1 update (a relative error
 * of roughly (number of updates) × 1e-16). Every `refreshEvery` updates of Λ_h, B_h is recomputed
 * from Λ_h directly (Cholesky) and the forms that depend on it are recomputed from scratch, which
 * bounds the drift; docs/performance.md has the measurements behind the default.
 *
 * Memory: every buffer lives in one `WebAssembly.Memory` per learner, filled by a bump allocator;
 * chunks grow by an eighth of what is stored, so the slack is at most 1/8 of the stored features.
 */
import * as K from "../linalg/kernels.ts"
import { instantiate, type SimdKernels, simdAvailable } from "../linalg/wasm/simd.ts"
import { type Certificate, certificateOf, type FeaturesOf, type LsviConfig, type LsviLearner, type Policy, policyOf } from "./Lsvi.ts"

export interface IncrementalOptions {
  /** "wasm": the SIMD kernels (the default where WebAssembly SIMD exists); "js": the same loops in TypeScript. */
  readonly kernel?: "wasm" | "js"
  /** Recompute B_h = Λ_h⁻¹ directly, and the forms that use it, after this many rank-1 updates of Λ_h. */
  readonly refreshEvery?: number
  /** Also compute the pessimistic twin w̲ (default true). The bench turns it off to time Q̄ alone. */
  readonly twin?: boolean
}

/** The default of `refreshEvery`: see docs/performance.md ("Drift"). */
export const DEFAULT_REFRESH_EVERY = 4096

const PAGE = 65536
const MIN_CHUNK = 32

/** A bump allocator over a growable WebAssembly memory; offsets are bytes, 16-byte aligned. */
class Arena {
  readonly memory: WebAssembly.Memory
  f64: Float64Array
  top = 16 // offset 0 stays unused
  constructor(initialBytes: number) {
    this.memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(initialBytes / PAGE)) })
    this.f64 = new Float64Array(this.memory.buffer)
  }
  /** Room for `count` float64 values, zeroed; returns the byte offset. */
  alloc(count: number): number {
    const at = this.top
    const end = at + ((count * 8 + 15) & ~15)
    const have = this.memory.buffer.byteLength
    if (end > have) {
      // Grow by at least a quarter of what is there, so that growing is rare; untouched pages cost
      // address space, not memory.
      const need = Math.ceil((end - have) / PAGE)
      const more = Math.max(need, Math.ceil(have / PAGE / 4))
      const max = 65536 // 4 GiB: the limit of a 32-bit WebAssembly memory
      const pages = have / PAGE
      if (pages + need > max) throw new RangeError(`LsviIncremental: the data need more than 4 GiB (${end} bytes)`)
      this.memory.grow(Math.min(more, max - pages))
      this.f64 = new Float64Array(this.memory.buffer)
    }
    this.top = end
    return at
  }
}

/** One chunk of stored transitions of one step: byte offsets of its arrays. */
interface Chunk {
  readonly capacity: number
  count: number
  readonly phi: number // capacity × dp
  readonly reward: number // capacity
  readonly next: number // capacity × A × dp (0 at the last step)
  readonly q: number // capacity × A (0 at the last step)
}

/** The TypeScript statement of the `step` kernel of lsvi.wat (same arguments, offsets in bytes). */
const stepJs = (
  f: Float64Array,
  next: number,
  q: number,
  phi: number,
  n: number,
  fresh0: number,
  A: number,
  d: number,
  dp: number,
  w: number,
  wl: number,
  B: number,
  u: number,
  c: number,
  m: number,
  beta: number,
  cap: number,
  twin: number,
  rhs: number,
  rhsl: number,
  _val: number // scratch of the WebAssembly kernel's two phases; this one-pass statement needs none
): void => {
  let row = next >> 3
  let qi = q >> 3
  let p = phi >> 3
  const W = w >> 3
  const WL = wl >> 3
  const Bo = B >> 3
  const R = rhs >> 3
  const RL = rhsl >> 3
  for (let t = 0; t < n; t++) {
    let best = -Infinity
    let bestRow = row
    let bestQ = 0
    for (let a = 0; a < A; a++) {
      let qv: number
      if (t >= fresh0) {
        // q = φᵀBφ from scratch
        qv = 0
        for (let i = 0; i < d; i++) {
          let s = 0
          const bi = Bo + i * dp
          for (let k = 0; k < dp; k++) s += f[bi + k] * f[row + k]
          qv += f[row + i] * s
        }
      } else {
        // q ← q − c_j (φᵀu_j)² for each pending change of Λ_{h+1}
        qv = f[qi]
        for (let j = 0; j < m; j++) {
          const uj = (u >> 3) + j * dp
          let s = 0
          for (let k = 0; k < dp; k++) s += f[row + k] * f[uj + k]
          qv -= f[(c >> 3) + j] * (s * s)
        }
      }
      f[qi] = qv
      let mean = 0
      for (let k = 0; k < dp; k++) mean += f[row + k] * f[W + k]
      const val = Math.min(mean + beta * Math.sqrt(Math.max(qv, 0)), cap)
      if (val > best) {
        best = val
        bestRow = row
        bestQ = qv
      }
      row += dp
      qi++
    }
    for (let k = 0; k < dp; k++) f[R + k] += best * f[p + k]
    if (twin !== 0) {
      let mean = 0
      for (let k = 0; k < dp; k++) mean += f[bestRow + k] * f[WL + k]
      const low = Math.max(mean - beta * Math.sqrt(Math.max(bestQ, 0)), 0)
      for (let k = 0; k < dp; k++) f[RL + k] += low * f[p + k]
    }
    p += dp
  }
}

/** The TypeScript statement of the `gram` kernel: L += Σ φφᵀ, upper part (from column i & ~1). */
const gramJs = (f: Float64Array, phi: number, n: number, d: number, dp: number, L: number): void => {
  let p = phi >> 3
  const Lo = L >> 3
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < d; i++) {
      const a = f[p + i]
      const li = Lo + i * dp
      for (let k = i & ~1; k < dp; k++) f[li + k] += a * f[p + k]
    }
    p += dp
  }
}

/** The TypeScript statement of the `forms` kernel: q_r = ‖R x_r‖², U = Rᵀ with rows of stride d8. */
const formsJs = (f: Float64Array, x: number, n: number, d: number, dp: number, U: number, q: number): void => {
  const d8 = (d + 7) & ~7
  let xo = x >> 3
  const Uo = U >> 3
  for (let r = 0; r < n; r++) {
    let s = 0
    for (let i = 0; i < d; i++) {
      let y = 0
      for (let j = 0; j <= i; j++) y += f[xo + j] * f[Uo + j * d8 + i]
      s += y * y
    }
    f[(q >> 3) + r] = s
    xo += dp
  }
}

export class LsviIncremental implements LsviLearner {
  readonly config: LsviConfig
  /** w̄_h and w̲_h at h·d, as of the last backup. */
  readonly wUpper: Float64Array
  readonly wLower: Float64Array
  /** Which kernel runs the passes. */
  readonly kernel: "wasm" | "js"
  readonly refreshEvery: number
  readonly twin: boolean

  private readonly featuresOf: FeaturesOf
  private readonly arena: Arena
  private readonly simd: SimdKernels | undefined
  private readonly dp: number
  private readonly maxPending: number
  // Per step h (byte offsets into the arena, or counters):
  private readonly chunks: Array<Array<Chunk>>
  private readonly count: Array<number>
  /** Rows of step h whose q is up to date with B_{h+1} as of the last backup (the rest are new). */
  private readonly qValid: Array<number>
  /** Pending rank-1 changes of Λ_h since the last backup: u_j (maxPending × dp) and c_j. */
  private readonly pendingU: Array<number>
  private readonly pendingC: Array<number>
  private readonly pendingCount: Array<number>
  private readonly sinceRefresh: Array<number>
  private readonly Lambda: Array<number> // d × dp
  private readonly B: Array<number> // d × dp
  private readonly phiReward: Array<number> // dp
  private readonly wU: number // H × dp
  private readonly wL: number // H × dp
  private readonly rhs: number // dp
  private readonly rhsLow: number // dp
  private readonly work: number // dp
  private readonly phiIn: number // dp: staging for φ_h^τ
  private readonly zero: number // one float64 0: the c of a "change" that changes nothing
  /** Scratch for Q̄ of every row of one chunk (the step kernel's phase 1), and its capacity in rows. */
  private val = 0
  private valRows = 0
  private readonly U: number // d × d8: Rᵀ for the forms kernel, R = L⁻¹, Λ = LLᵀ (d8 = d rounded up to 8)
  // A two-entry cache of φ(s,·): an episode reads each state twice (as s' at h, as s at h + 1).
  private cacheKeys: [number, number] = [Number.NaN, Number.NaN]
  private cacheValues: [Float64Array, Float64Array]
  private cacheNext = 0

  constructor(config: LsviConfig, featuresOf: FeaturesOf, options: IncrementalOptions = {}) {
    const { horizon: H, dim: d, lambda } = config
    if (!(lambda > 0)) throw new RangeError(`LsviIncremental: λ must be > 0 (got ${lambda})`)
    this.config = config
    this.featuresOf = featuresOf
    this.kernel = options.kernel ?? (simdAvailable() ? "wasm" : "js")
    this.refreshEvery = options.refreshEvery ?? DEFAULT_REFRESH_EVERY
    this.twin = options.twin ?? true
    const dp = d + (d & 1)
    this.dp = dp
    // Past d/2 pending changes, recomputing the forms from scratch (d·dp per row) is cheaper.
    this.maxPending = Math.max(1, d >> 1)
    this.arena = new Arena(PAGE * 4)
    this.simd = this.kernel === "wasm" ? instantiate(this.arena.memory) : undefined
    const a = this.arena
    this.chunks = Array.from({ length: H }, () => [])
    this.count = new Array(H).fill(0)
    this.qValid = new Array(H).fill(0)
    this.pendingCount = new Array(H).fill(0)
    this.sinceRefresh = new Array(H).fill(0)
    this.pendingU = Array.from({ length: H }, () => a.alloc(this.maxPending * dp))
    this.pendingC = Array.from({ length: H }, () => a.alloc(this.maxPending))
    this.Lambda = Array.from({ length: H }, () => a.alloc(d * dp))
    this.B = Array.from({ length: H }, () => a.alloc(d * dp))
    this.phiReward = Array.from({ length: H }, () => a.alloc(dp))
    this.wU = a.alloc(H * dp)
    this.wL = a.alloc(H * dp)
    this.rhs = a.alloc(dp)
    this.rhsLow = a.alloc(dp)
    this.work = a.alloc(dp)
    this.phiIn = a.alloc(dp)
    this.zero = a.alloc(1)
    this.U = a.alloc(d * ((d + 7) & ~7))
    const f = a.f64
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < d; i++) {
        f[(this.Lambda[h] >> 3) + i * dp + i] = lambda
        f[(this.B[h] >> 3) + i * dp + i] = 1 / lambda
      }
    }
    this.wUpper = new Float64Array(H * d)
    this.wLower = new Float64Array(H * d)
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
    const { horizon: H, dim: d, actions: A } = this.config
    const dp = this.dp
    const last = h + 1 >= H
    if (!last && nextPhi === undefined) throw new Error(`LsviIncremental: step ${h} needs the next state's features`)
    const chunk = this.chunkWithRoom(h)
    const f = this.arena.f64 // read after chunkWithRoom, which may grow the memory
    const x = this.phiIn >> 3
    for (let i = 0; i < d; i++) f[x + i] = phi[phiOff + i]

    // u = B_h φ, c = 1 / (1 + φᵀu): the Sherman–Morrison terms of this change of Λ_h.
    const Bh = this.B[h] >> 3
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
    if (h > 0 && this.qValid[h - 1] > 0) {
      const j = this.pendingCount[h]
      if (j < this.maxPending) {
        const uj = (this.pendingU[h] >> 3) + j * dp
        for (let i = 0; i < dp; i++) f[uj + i] = f[u + i]
        f[(this.pendingC[h] >> 3) + j] = c
        this.pendingCount[h] = j + 1
      } else {
        // Too many changes at once: recompute those forms from scratch at the next backup.
        this.qValid[h - 1] = 0
        this.pendingCount[h] = 0
      }
    }
    // B ← B − (Bφ)(Bφ)ᵀ / (1 + φᵀBφ);  Λ ← Λ + φφᵀ;  Σφr ← Σφr + rφ
    const L = this.Lambda[h] >> 3
    for (let i = 0; i < d; i++) {
      const ui = f[u + i] / cInv
      const xi = f[x + i]
      const bi = Bh + i * dp
      const li = L + i * dp
      for (let k = 0; k < d; k++) {
        f[bi + k] -= ui * f[u + k]
        f[li + k] += xi * f[x + k]
      }
    }
    const pr = this.phiReward[h] >> 3
    for (let i = 0; i < d; i++) f[pr + i] += reward * f[x + i]
    this.sinceRefresh[h]++

    // Store the transition.
    const t = chunk.count
    const po = (chunk.phi >> 3) + t * dp
    for (let i = 0; i < d; i++) f[po + i] = f[x + i]
    f[(chunk.reward >> 3) + t] = reward
    if (!last && nextPhi !== undefined) {
      const no = (chunk.next >> 3) + t * A * dp
      for (let a = 0; a < A; a++) {
        for (let i = 0; i < d; i++) f[no + a * dp + i] = nextPhi[nextOff + a * d + i]
      }
    }
    chunk.count = t + 1
    this.count[h]++
  }

  private chunkWithRoom(h: number): Chunk {
    const list = this.chunks[h]
    const tail = list[list.length - 1]
    if (tail !== undefined && tail.count < tail.capacity) return tail
    const { horizon: H, actions: A } = this.config
    const dp = this.dp
    const capacity = Math.max(MIN_CHUNK, Math.ceil(this.count[h] / 8))
    const last = h + 1 >= H
    const a = this.arena
    const chunk: Chunk = {
      capacity,
      count: 0,
      phi: a.alloc(capacity * dp),
      reward: a.alloc(capacity),
      next: last ? 0 : a.alloc(capacity * A * dp),
      q: last ? 0 : a.alloc(capacity * A)
    }
    list.push(chunk)
    if (!last && capacity * A > this.valRows) {
      this.valRows = capacity * A
      this.val = a.alloc(this.valRows)
    }
    return chunk
  }

  /**
   * B_h ← Λ_h⁻¹ computed directly from Λ_h (Cholesky: Λ = LLᵀ, R = L⁻¹, B = RᵀR), and the forms of
   * every stored next state of step h − 1 recomputed as ‖R φ‖² (= φᵀΛ_h⁻¹φ with half the products).
   */
  private refresh(h: number): void {
    const { actions: A, dim: d } = this.config
    const dp = this.dp
    const d8 = (d + 7) & ~7
    let f = this.arena.f64
    const Lam = K.zeros(d, d)
    const Lo = this.Lambda[h] >> 3
    for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) Lam.data[i * d + k] = f[Lo + i * dp + k]
    const R = K.lowerInverse(K.cholesky(Lam)).data
    const Bo = this.B[h] >> 3
    for (let i = 0; i < d; i++) {
      for (let k = 0; k <= i; k++) {
        // (RᵀR)_{ik} = Σ_{j ≥ max(i,k)} R_{ji} R_{jk}
        let s = 0
        for (let j = i; j < d; j++) s += R[j * d + i] * R[j * d + k]
        f[Bo + i * dp + k] = s
        f[Bo + k * dp + i] = s
      }
    }
    if (h > 0 && this.count[h - 1] > 0) {
      const Uo = this.U >> 3
      for (let j = 0; j < d; j++) {
        for (let i = 0; i < d8; i++) f[Uo + j * d8 + i] = i < d ? R[i * d + j] : 0
      }
      for (const ch of this.chunks[h - 1]) {
        if (this.simd !== undefined) this.simd.forms(ch.next, ch.count * A, d, dp, this.U, ch.q)
        else formsJs(f, ch.next, ch.count * A, d, dp, this.U, ch.q)
        f = this.arena.f64
      }
      this.qValid[h - 1] = this.count[h - 1]
    }
    this.pendingCount[h] = 0
    this.sinceRefresh[h] = 0
  }

  /**
   * The backward pass of §2 for h = H..1, for Q̄ (and Q̲ unless `twin: false`), incremental: call
   * after adding an episode's transitions (or any number of them).
   */
  backup(): void {
    const { horizon: H, dim: d, actions: A, beta } = this.config
    const dp = this.dp
    for (let h = 0; h < H; h++) if (this.sinceRefresh[h] >= this.refreshEvery) this.refresh(h)
    const f = this.arena.f64
    const twin = this.twin ? 1 : 0
    for (let h = H - 1; h >= 0; h--) {
      const R = this.rhs >> 3
      const RL = this.rhsLow >> 3
      const pr = this.phiReward[h] >> 3
      for (let i = 0; i < dp; i++) {
        f[R + i] = f[pr + i]
        f[RL + i] = f[pr + i]
      }
      if (h + 1 < H) {
        const fresh0 = this.qValid[h]
        const w = this.wU + (h + 1) * dp * 8
        // No pending change (after a refresh, or a second backup without new data): run the kernel's
        // one-change path with u = w̄ and c = 0, since q − 0·s² = q exactly; it is the faster path.
        const none = this.pendingCount[h + 1] === 0
        const m = none ? 1 : this.pendingCount[h + 1]
        const u = none ? w : this.pendingU[h + 1]
        const c = none ? this.zero : this.pendingC[h + 1]
        const wl = this.wL + (h + 1) * dp * 8
        const cap = H - h - 1
        let start = 0
        for (const ch of this.chunks[h]) {
          const local = Math.min(Math.max(fresh0 - start, 0), ch.count)
          if (this.simd !== undefined) {
            this.simd.step(ch.next, ch.q, ch.phi, ch.count, local, A, d, dp, w, wl, this.B[h + 1], u, c, m, beta, cap, twin,
              this.rhs, this.rhsLow, this.val)
          } else {
            stepJs(f, ch.next, ch.q, ch.phi, ch.count, local, A, d, dp, w, wl, this.B[h + 1], u, c, m, beta, cap, twin,
              this.rhs, this.rhsLow, this.val)
          }
          start += ch.count
        }
        this.qValid[h] = this.count[h]
        this.pendingCount[h + 1] = 0
      }
      // w̄_h = B_h rhs, w̲_h = B_h rhsLow
      const Bo = this.B[h] >> 3
      const wu = (this.wU >> 3) + h * dp
      const wl = (this.wL >> 3) + h * dp
      for (let i = 0; i < d; i++) {
        let s = 0
        let sl = 0
        const bi = Bo + i * dp
        for (let k = 0; k < d; k++) {
          s += f[bi + k] * f[R + k]
          sl += f[bi + k] * f[RL + k]
        }
        f[wu + i] = s
        f[wl + i] = this.twin ? sl : 0
        this.wUpper[h * d + i] = s
        this.wLower[h * d + i] = this.twin ? sl : 0
      }
    }
  }

  /**
   * The whole backup from the stored transitions alone (start-up, resume): Λ_h from the stored φ,
   * B_h by a direct inverse, Σφr, every form from scratch, then the backward pass.
   */
  fullBackup(): void {
    const { horizon: H, dim: d, lambda } = this.config
    const dp = this.dp
    for (let h = 0; h < H; h++) {
      let f = this.arena.f64
      const L = this.Lambda[h]
      const Lo = L >> 3
      f.fill(0, Lo, Lo + d * dp)
      for (let i = 0; i < d; i++) f[Lo + i * dp + i] = lambda
      const pr = this.phiReward[h] >> 3
      f.fill(0, pr, pr + dp)
      for (const ch of this.chunks[h]) {
        if (this.simd !== undefined) this.simd.gram(ch.phi, ch.count, d, dp, L)
        else gramJs(f, ch.phi, ch.count, d, dp, L)
        f = this.arena.f64
        const p = ch.phi >> 3
        const r = ch.reward >> 3
        for (let t = 0; t < ch.count; t++) {
          const rt = f[r + t]
          const o = p + t * dp
          for (let i = 0; i < d; i++) f[pr + i] += rt * f[o + i]
        }
      }
      // The gram kernels fill the upper part: mirror it.
      for (let i = 0; i < d; i++) for (let k = 0; k < i; k++) f[Lo + i * dp + k] = f[Lo + k * dp + i]
    }
    for (let h = 0; h < H; h++) this.refresh(h)
    this.backup()
  }

  /** Q̄_h(s,a) from the features block `phi` (A rows of d). */
  private upperFrom(h: number, phi: Float64Array, a: number): number {
    const { dim: d, beta, horizon: H } = this.config
    return Math.min(this.meanAt(this.wU, h, phi, a) + beta * Math.sqrt(Math.max(this.formAt(h, phi, a), 0)), H - h)
  }

  private lowerFrom(h: number, phi: Float64Array, a: number): number {
    const { beta } = this.config
    return Math.max(this.meanAt(this.wL, h, phi, a) - beta * Math.sqrt(Math.max(this.formAt(h, phi, a), 0)), 0)
  }

  private meanAt(w: number, h: number, phi: Float64Array, a: number): number {
    const d = this.config.dim
    const f = this.arena.f64
    const wo = (w >> 3) + h * this.dp
    let s = 0
    for (let i = 0; i < d; i++) s += f[wo + i] * phi[a * d + i]
    return s
  }

  private formAt(h: number, phi: Float64Array, a: number): number {
    const d = this.config.dim
    const dp = this.dp
    const f = this.arena.f64
    const Bo = this.B[h] >> 3
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
    const m = K.zeros(d, d)
    const f = this.arena.f64
    const Bo = this.B[h] >> 3
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
    const { actions: A, horizon: H } = this.config
    let total = 0
    for (let h = 0; h + 1 < H; h++) {
      for (const ch of this.chunks[h]) {
        const n = ch.count * A * this.dp
        if (this.simd !== undefined) {
          total += this.simd.sweep(ch.next, n)
        } else {
          const f = this.arena.f64
          const o = ch.next >> 3
          for (let i = 0; i < n; i++) total += f[o + i]
        }
      }
    }
    return total
  }

  /** Transitions stored at step h. */
  transitions(h: number): number {
    return this.count[h]
  }

  /**
   * The stored data of step h, chunk by chunk, as copies-free views (valid until the next
   * `addTransition*`, which may grow the memory): φ (count × d), r (count), and at h < H − 1 the
   * next-state rows (count × A × d). Used to dump the data set (`distmt bench lsvi --dump`).
   */
  *storedChunks(h: number): Generator<{ readonly phi: Float64Array; readonly reward: Float64Array; readonly next: Float64Array | undefined }> {
    const { dim: d, actions: A, horizon: H } = this.config
    const dp = this.dp
    for (const ch of this.chunks[h]) {
      const f = this.arena.f64
      const phi = new Float64Array(ch.count * d)
      for (let t = 0; t < ch.count; t++) phi.set(f.subarray((ch.phi >> 3) + t * dp, (ch.phi >> 3) + t * dp + d), t * d)
      let next: Float64Array | undefined
      if (h + 1 < H) {
        if (dp === d) {
          next = f.subarray(ch.next >> 3, (ch.next >> 3) + ch.count * A * d)
        } else {
          next = new Float64Array(ch.count * A * d)
          for (let row = 0; row < ch.count * A; row++) {
            const o = (ch.next >> 3) + row * dp
            next.set(f.subarray(o, o + d), row * d)
          }
        }
      }
      yield { phi, reward: f.subarray(ch.reward >> 3, (ch.reward >> 3) + ch.count), next }
    }
  }

  /** Bytes the learner holds: everything it allocated in its memory (stored data, slack, matrices). */
  bytes(): number {
    return this.arena.top
  }
}

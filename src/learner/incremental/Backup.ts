/**
 * The backward passes of `LsviIncremental` (src/learner/LsviIncremental.ts): the incremental backup
 * after new transitions, and the backup from scratch (`fullBackup`: start-up, resume, more pending
 * changes than it pays to apply one by one). Both run the same per-step pass over the stored rows
 * (the `step` kernel of src/linalg/wasm/lsvi.wat, or its TypeScript statement in kernelsJs.ts).
 */
import * as K from "../../linalg/kernels.ts"
import type { SimdKernels } from "../../linalg/wasm/simd.ts"
import type { LsviConfig } from "../Lsvi.ts"
import { formsJs, gemvTJs, gramJs, stepJs } from "./kernelsJs.ts"
import type { Chunk, Store } from "./Store.ts"

/** The learner's state, shared by the update (LsviIncremental.ts) and the backups (this file). */
export interface Core {
  readonly config: LsviConfig
  readonly store: Store
  readonly simd: SimdKernels | undefined
  readonly twin: boolean
  readonly refreshEvery: number
  readonly dp: number
  readonly maxPending: number
  // Per step h (byte offsets into the store's arena, or counters):
  /** Rows of step h whose q is up to date with B_{h+1} as of the last backup (the rest are new). */
  readonly qValid: Array<number>
  /** Pending rank-1 changes of Λ_h since the last backup: u_j (maxPending × dp) and c_j. */
  readonly pendingU: Array<number>
  readonly pendingC: Array<number>
  readonly pendingCount: Array<number>
  readonly sinceRefresh: Array<number>
  /** How many of step h's stored rows Λ_h holds; the rest are added when Λ_h is read (`foldLambda`). */
  readonly lambdaRows: Array<number>
  readonly Lambda: Array<number> // d × dp
  readonly B: Array<number> // d × dp
  readonly phiReward: Array<number> // dp
  readonly wU: number // H × dp
  readonly wL: number // H × dp
  readonly rhs: number // dp
  readonly rhsLow: number // dp
  readonly tmp: number // max(256, 2·dp): scratch of the kernels (lsviSweep.wat: the two rings of $rowsQuad; gathered rows)
  readonly zero: number // one float64 0: the c of a "change" that changes nothing
  readonly U: number // d × d8: Rᵀ for the forms kernel, R = L⁻¹, Λ = LLᵀ (d8 = d rounded up to 8)
  /** w̄_h and w̲_h at h·d, as of the last backup. */
  readonly wUpper: Float64Array
  readonly wLower: Float64Array
}

/** Λ_h += φφᵀ over the stored rows of step h that Λ_h does not hold yet (the Gram kernel over them). */
const foldLambda = (c: Core, h: number): void => {
  const d = c.config.dim
  const dp = c.dp
  const L = c.Lambda[h]
  let start = 0
  for (const ch of c.store.chunks[h]) {
    const from = Math.max(c.lambdaRows[h] - start, 0)
    if (from < ch.count) {
      const at = ch.phi + from * dp * 8
      if (c.simd !== undefined) c.simd.gram(at, ch.count - from, d, dp, L)
      else gramJs(c.store.arena.f64, at, ch.count - from, d, dp, L)
    }
    start += ch.count
  }
  c.lambdaRows[h] = c.store.count[h]
  mirror(c, h)
}

/** The Gram kernels fill the upper part of Λ_h (and some entries beside the diagonal): mirror it. */
const mirror = (c: Core, h: number): void => {
  const d = c.config.dim
  const f = c.store.arena.f64
  const Lo = c.Lambda[h] >> 3
  for (let i = 0; i < d; i++) for (let k = 0; k < i; k++) f[Lo + i * c.dp + k] = f[Lo + k * c.dp + i]
}

/**
 * B_h ← Λ_h⁻¹ computed directly from Λ_h (Cholesky: Λ = LLᵀ, R = L⁻¹, B = RᵀR), and U ← Rᵀ for the
 * forms kernel (‖R φ‖² = φᵀΛ_h⁻¹φ with half the products of φᵀBφ).
 */
const inverse = (c: Core, h: number): void => {
  const d = c.config.dim
  const dp = c.dp
  const d8 = (d + 7) & ~7
  foldLambda(c, h)
  const f = c.store.arena.f64
  const Lam = K.zeros(d, d)
  const Lo = c.Lambda[h] >> 3
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) Lam.data[i * d + k] = f[Lo + i * dp + k]
  const R = K.lowerInverse(K.cholesky(Lam)).data
  const Bo = c.B[h] >> 3
  for (let i = 0; i < d; i++) {
    for (let k = 0; k <= i; k++) {
      // (RᵀR)_{ik} = Σ_{j ≥ max(i,k)} R_{ji} R_{jk}
      let s = 0
      for (let j = i; j < d; j++) s += R[j * d + i] * R[j * d + k]
      f[Bo + i * dp + k] = s
      f[Bo + k * dp + i] = s
    }
  }
  const Uo = c.U >> 3
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < d8; i++) f[Uo + j * d8 + i] = i < d ? R[i * d + j] : 0
  }
  c.pendingCount[h] = 0
  c.sinceRefresh[h] = 0
}

/** q = ‖R φ‖² for every next-state row (other and taken) of one chunk of step h − 1, with U = Rᵀ of step h. */
const formsOf = (c: Core, ch: Chunk): void => {
  const { actions: A, dim: d } = c.config
  for (const [rows, count, q] of [[ch.next, ch.count * (A - 1), ch.q], [ch.taken, ch.count, ch.qt]]) {
    if (count === 0) continue
    if (c.simd !== undefined) c.simd.forms(rows, count, d, c.dp, c.U, q, c.tmp)
    else formsJs(c.store.arena.f64, rows, count, d, c.dp, c.U, q)
  }
}

/**
 * B_h recomputed from Λ_h, and the forms of every stored next state of step h − 1 from scratch:
 * the drift safeguard of the incremental backup (docs/performance.md, "Drift").
 */
export const refresh = (c: Core, h: number): void => {
  inverse(c, h)
  if (h > 0 && c.store.count[h - 1] > 0) {
    for (const ch of c.store.chunks[h - 1]) formsOf(c, ch)
    c.qValid[h - 1] = c.store.count[h - 1]
  }
}

/**
 * The step kernel on chunk i of step h (h < H − 1): rhs += Σ V̄ φ_h (and rhsLow with the twin). The
 * φ_h rows are read as step h − 1's taken rows where they are the same (Store.ts, `shared`): the
 * pass over step h − 1 that comes next then finds them in the cache.
 */
const stepChunk = (c: Core, h: number, i: number, fresh: number, u: number, cc: number, m: number): void => {
  const { horizon: H, dim: d, actions: A, beta } = c.config
  const dp = c.dp
  const ch = c.store.chunks[h][i]
  const shared = c.store.shared[h]
  const phi = shared ? c.store.chunks[h - 1][i].taken : ch.phi
  const w = c.wU + (h + 1) * dp * 8
  const wl = c.wL + (h + 1) * dp * 8
  const twin = c.twin ? 1 : 0
  const cap = H - h - 1
  if (c.simd !== undefined) {
    c.simd.step(ch.next, ch.q, ch.taken, ch.qt, ch.takenAction, phi, shared ? 1 : 0, ch.count, fresh, A, d, dp, w, wl,
      c.B[h + 1], u, cc, m, beta, cap, twin, c.rhs, c.rhsLow, c.store.val, c.tmp)
  } else {
    stepJs(c.store.arena, ch.next, ch.q, ch.taken, ch.qt, ch.takenAction, phi, shared ? 1 : 0, ch.count, fresh, A, d, dp, w,
      wl, c.B[h + 1], u, cc, m, beta, cap, twin, c.rhs, c.rhsLow, c.store.val, c.tmp)
  }
}

/** rhs ← Σφr of step h (both rhs and rhsLow). */
const startRhs = (c: Core, h: number): void => {
  const f = c.store.arena.f64
  const R = c.rhs >> 3
  const RL = c.rhsLow >> 3
  const pr = c.phiReward[h] >> 3
  for (let i = 0; i < c.dp; i++) {
    f[R + i] = f[pr + i]
    f[RL + i] = f[pr + i]
  }
}

/** w̄_h = B_h rhs, w̲_h = B_h rhsLow. */
const solve = (c: Core, h: number): void => {
  const d = c.config.dim
  const dp = c.dp
  const f = c.store.arena.f64
  const R = c.rhs >> 3
  const RL = c.rhsLow >> 3
  const Bo = c.B[h] >> 3
  const wu = (c.wU >> 3) + h * dp
  const wl = (c.wL >> 3) + h * dp
  for (let i = 0; i < d; i++) {
    let s = 0
    let sl = 0
    const bi = Bo + i * dp
    for (let k = 0; k < d; k++) s += f[bi + k] * f[R + k]
    if (c.twin) for (let k = 0; k < d; k++) sl += f[bi + k] * f[RL + k]
    f[wu + i] = s
    f[wl + i] = sl
    c.wUpper[h * d + i] = s
    c.wLower[h * d + i] = sl
  }
}

/**
 * The backward pass of §2 for h = H..1, for Q̄ (and Q̲ unless `twin: false`), incremental: after
 * adding an episode's transitions (or any number of them).
 */
export const backup = (c: Core): void => {
  const H = c.config.horizon
  const dp = c.dp
  for (let h = 0; h < H; h++) if (c.sinceRefresh[h] >= c.refreshEvery) refresh(c, h)
  for (let h = H - 1; h >= 0; h--) {
    startRhs(c, h)
    if (h + 1 < H) {
      const fresh0 = c.qValid[h]
      // No pending change (after a refresh, or a second backup without new data): run the kernel's
      // one-change path with u = w̄ and c = 0, since q − 0·s² = q exactly; it is the faster path.
      const none = c.pendingCount[h + 1] === 0
      const m = none ? 1 : c.pendingCount[h + 1]
      const u = none ? c.wU + (h + 1) * dp * 8 : c.pendingU[h + 1]
      const cc = none ? c.zero : c.pendingC[h + 1]
      let start = 0
      c.store.chunks[h].forEach((ch, i) => {
        stepChunk(c, h, i, Math.min(Math.max(fresh0 - start, 0), ch.count), u, cc, m)
        start += ch.count
      })
      c.qValid[h] = c.store.count[h]
      c.pendingCount[h + 1] = 0
    }
    solve(c, h)
  }
}

/**
 * The whole backup from the stored transitions alone (start-up, resume): Λ_h from the stored φ
 * (`gram`), Σφr, B_h by a direct inverse, and the backward pass, in which every chunk's forms are
 * computed from scratch right before the step kernel reads the same rows (still in the cache).
 */
export const fullBackup = (c: Core): void => {
  const { horizon: H, dim: d, lambda } = c.config
  const dp = c.dp
  for (let h = 0; h < H; h++) {
    let f = c.store.arena.f64
    const L = c.Lambda[h]
    const Lo = L >> 3
    f.fill(0, Lo, Lo + d * dp)
    for (let i = 0; i < d; i++) f[Lo + i * dp + i] = lambda
    const pr = c.phiReward[h]
    f.fill(0, pr >> 3, (pr >> 3) + dp)
    for (const ch of c.store.chunks[h]) {
      if (c.simd !== undefined) {
        c.simd.gram(ch.phi, ch.count, d, dp, L)
        c.simd.gemvT(pr, ch.reward, ch.phi, ch.count, dp)
      } else {
        gramJs(f, ch.phi, ch.count, d, dp, L)
        gemvTJs(f, pr, ch.reward, ch.phi, ch.count, dp)
      }
      f = c.store.arena.f64
    }
    c.lambdaRows[h] = c.store.count[h]
    mirror(c, h)
  }
  for (let h = H - 1; h >= 0; h--) {
    startRhs(c, h)
    if (h + 1 < H) {
      // U = Rᵀ of step h + 1, from the previous iteration's `inverse`.
      c.store.chunks[h].forEach((ch, i) => {
        formsOf(c, ch)
        stepChunk(c, h, i, ch.count, c.wU + (h + 1) * dp * 8, c.zero, 1)
      })
      c.qValid[h] = c.store.count[h]
      c.pendingCount[h + 1] = 0
    }
    inverse(c, h)
    solve(c, h)
  }
}

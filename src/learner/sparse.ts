/**
 * The kernels of src/linalg/kernels.ts for a feature row φ with zero entries (one-hot features, the
 * default of every finite built-in environment, have one non-zero entry in d): they skip the terms
 * that multiply a zero of φ, and give the same numbers bit for bit.
 *
 * Why skipping changes no bit. Every sum here starts at +0, and in IEEE arithmetic (round to
 * nearest) a sum that starts at +0 is never −0: x + y is −0 only when both are −0, and an exact
 * cancellation gives +0. A skipped term is 0·t = ±0 for a finite t, and adding ±0 to a value that is
 * not −0 leaves it unchanged. The kept terms are added in the same order as the full loop adds them.
 * Likewise Sherman–Morrison subtracts (Bφ)_i (Bφ)_j / (1 + φᵀBφ) from B_ij: where (Bφ)_i or (Bφ)_j
 * is 0 that is ±0, and B_ij − (±0) = B_ij because no entry of B is ever −0 (it starts +0 or 1/λ,
 * and x − y is −0 only for x = −0). Every value involved is finite (φ is checked finite, Λ⁻¹ of a
 * positive definite Λ), which the argument needs (0·∞ would be NaN).
 */

import { dot, gemvAt, quadFormAt } from "../linalg/kernels.ts"

/**
 * The non-zero entries of each action's row of φ(s,·) (A rows of d): row a's count at a·(d+1),
 * its indices, ascending, after it.
 */
export const nonZeros = (phi: Float64Array, actions: number, d: number): Int32Array => {
  const nz = new Int32Array(actions * (d + 1))
  for (let a = 0; a < actions; a++) {
    let n = 0
    for (let i = 0; i < d; i++) if (phi[a * d + i] !== 0) nz[a * (d + 1) + 1 + n++] = i
    nz[a * (d + 1)] = n
  }
  return nz
}

/** ⟨w[wOff..], φ_a⟩ over the non-zeros of φ_a (`dot`). */
export const dotNz = (w: Float64Array, wOff: number, phi: Float64Array, a: number, d: number, nz: Int32Array): number => {
  const at = a * (d + 1)
  const n = nz[at]
  const off = a * d
  let s = 0
  for (let p = 1; p <= n; p++) {
    const j = nz[at + p]
    s += w[wOff + j] * phi[off + j]
  }
  return s
}

/** φ_aᵀ B φ_a for the d × d matrix at `b[bOff..]`, over the non-zeros of φ_a (`quadForm`). */
export const quadFormNz = (b: Float64Array, bOff: number, phi: Float64Array, a: number, d: number, nz: Int32Array): number => {
  const at = a * (d + 1)
  const n = nz[at]
  const off = a * d
  let s = 0
  for (let p = 1; p <= n; p++) {
    const i = nz[at + p]
    const row = bOff + i * d
    let r = 0
    for (let q = 1; q <= n; q++) {
      const j = nz[at + q]
      r += b[row + j] * phi[off + j]
    }
    s += phi[off + i] * r
  }
  return s
}

/** ⟨w[wOff..], φ_a⟩ for a row of φ whose one non-zero is `v` at `i`: the single term `dotNz` adds. */
export const hotDot = (w: Float64Array, wOff: number, i: number, v: number): number => 0 + w[wOff + i] * v

/** φ_aᵀBφ_a for a row of φ whose one non-zero is `v` at `i`: the single term `quadFormNz` adds. */
export const hotForm = (b: Float64Array, bOff: number, d: number, i: number, v: number): number => 0 + v * (0 + b[bOff + i * d + i] * v)

/**
 * ⟨w[wOff..], φ_a⟩ for row a of φ(s,·) with its non-zeros `nz` (`dot`): a row with one non-zero
 * (one-hot features, where an episode spends most of its time) as the single term dotNz would
 * add, a sparse row by dotNz, a dense row by the full kernel. The same number each way.
 */
export const rowDot = (w: Float64Array, wOff: number, phi: Float64Array, a: number, d: number, nz: Int32Array): number => {
  const at = a * (d + 1)
  const n = nz[at]
  if (n === 1 && d > 1) {
    const i = nz[at + 1]
    return hotDot(w, wOff, i, phi[a * d + i])
  }
  return n === d ? dot(w, wOff, phi, a * d, d) : dotNz(w, wOff, phi, a, d, nz)
}

/** φ_aᵀBφ_a for the d × d matrix at `b[bOff..]` (`quadForm`), like `rowDot`: one non-zero, sparse or dense. */
export const rowForm = (b: Float64Array, bOff: number, phi: Float64Array, a: number, d: number, nz: Int32Array): number => {
  const at = a * (d + 1)
  const n = nz[at]
  if (n === 1 && d > 1) {
    const i = nz[at + 1]
    return hotForm(b, bOff, d, i, phi[a * d + i])
  }
  return n === d ? quadFormAt(b, bOff, d, phi, a * d) : quadFormNz(b, bOff, phi, a, d, nz)
}

/**
 * Sherman–Morrison on the d × d matrix at `b[bOff..]` with φ_a (`shermanMorrison`): Bφ over the
 * non-zeros of φ_a, then the rank-1 change over the non-zeros of Bφ (listed in `nzWork`, their
 * count returned): rows and columns `nzWork` are the entries it wrote.
 */
export const shermanMorrisonNz = (
  b: Float64Array,
  bOff: number,
  phi: Float64Array,
  a: number,
  d: number,
  nz: Int32Array,
  work: Float64Array,
  nzWork: Int32Array
): number => {
  const at = a * (d + 1)
  const n = nz[at]
  const off = a * d
  let m = 0
  let dot = 0
  if (n === 1) {
    // One non-zero (one-hot features): the general loops (below) with their single inner term, inlined.
    const j = nz[at + 1]
    const v = phi[off + j]
    for (let i = 0; i < d; i++) {
      const s = 0 + b[bOff + i * d + j] * v
      work[i] = s
      if (s !== 0) nzWork[m++] = i
    }
    dot = 0 + v * work[j]
  } else {
    for (let i = 0; i < d; i++) {
      const row = bOff + i * d
      let s = 0
      for (let p = 1; p <= n; p++) {
        const j = nz[at + p]
        s += b[row + j] * phi[off + j]
      }
      work[i] = s
      if (s !== 0) nzWork[m++] = i
    }
    for (let p = 1; p <= n; p++) {
      const j = nz[at + p]
      dot += phi[off + j] * work[j]
    }
  }
  const denom = 1 + dot
  for (let p = 0; p < m; p++) {
    const i = nzWork[p]
    const ui = work[i] / denom
    const row = bOff + i * d
    for (let q = 0; q < m; q++) {
      const j = nzWork[q]
      b[row + j] -= ui * work[j]
    }
  }
  return m
}

/**
 * `shermanMorrisonNz` for a row of φ whose one non-zero is `v` at `j`, on a matrix whose entries
 * off its diagonal are +0 (`Pattern.isDiagonal`): Bφ has one non-zero, u = 0 + B_jj·v (the other
 * entries are 0 + (+0)·v = +0, which that function leaves out), so the rank-1 change is B_jj alone,
 * by the same operations, and the matrix stays diagonal.
 */
export const shermanMorrisonHot = (b: Float64Array, bOff: number, d: number, j: number, v: number): void => {
  const jj = bOff + j * d + j
  const u = 0 + b[jj] * v
  if (u !== 0) b[jj] -= (u / (1 + (0 + v * u))) * u
}

/**
 * Where each step's Λ⁻¹ may be non-zero, so that w = Λ⁻¹·rhs skips its zeros (with one-hot
 * features Λ⁻¹ stays diagonal: d products per row become one). An entry outside the pattern has
 * never been written since it was +0, so its term is ±0 and skipping it changes no bit (above).
 * Row i of step h lists its columns, ascending (the order the full loop adds them in), its count at
 * (h·d + i)·(d + 1).
 */
export class Pattern {
  private readonly mask: Uint8Array
  private readonly rows: Int32Array
  /** Per step: every entry is in the pattern (then `gemv2` is the full loop, without the lists). */
  private readonly full: Uint8Array
  /** Per step: no entry off the diagonal is in the pattern (then `gemv2` takes d products). */
  private readonly diagonal: Uint8Array

  /** The pattern of the non-zeros of `b` (H matrices d × d). */
  constructor(private readonly d: number, b: Float64Array) {
    this.mask = new Uint8Array(b.length)
    this.rows = new Int32Array((b.length / d) * (d + 1))
    this.full = new Uint8Array(b.length / (d * d))
    this.diagonal = new Uint8Array(b.length / (d * d)).fill(1)
    for (let k = 0; k < b.length; k++) {
      this.mask[k] = b[k] !== 0 ? 1 : 0
      if (b[k] !== 0 && Math.floor(k / d) % d !== k % d) this.diagonal[Math.floor(k / (d * d))] = 0
    }
    for (let r = 0; r < b.length / d; r++) this.list(r)
  }

  /** Whether every entry of step h's matrix off its diagonal is outside the pattern (so +0). */
  isDiagonal(h: number): boolean {
    return this.diagonal[h] === 1
  }

  /** Rows and columns `nzWork[0..m)` of step h's matrix were written (a sparse Sherman–Morrison). */
  add(h: number, nzWork: Int32Array, m: number): void {
    const d = this.d
    for (let p = 0; p < m; p++) {
      const r = h * d + nzWork[p]
      let grew = false
      for (let q = 0; q < m; q++) {
        if (this.mask[r * d + nzWork[q]] === 0) {
          this.mask[r * d + nzWork[q]] = 1
          grew = true
          if (q !== p) this.diagonal[h] = 0
        }
      }
      if (grew) this.list(r)
    }
  }

  /** Every entry of step h's matrix was written (a dense Sherman–Morrison). */
  fill(h: number): void {
    const d = this.d
    if (this.full[h] === 1) return
    this.full[h] = 1
    if (d > 1) this.diagonal[h] = 0
    this.mask.fill(1, h * d * d, (h + 1) * d * d)
    for (let i = 0; i < d; i++) this.list(h * d + i)
  }

  /**
   * out[outOff..] ← (step h's matrix in `b`)·x and outY[outOff..] ← the same matrix times y, over
   * the pattern (`gemv` twice: a backup's w̄ and w̲). Each row's pattern and entries are read once
   * for both, and each result is the same number as `gemv`'s.
   */
  gemv2(b: Float64Array, h: number, x: Float64Array, y: Float64Array, out: Float64Array, outY: Float64Array, outOff: number): void {
    const d = this.d
    if (this.full[h] === 1) {
      gemvAt(b, h * d * d, d, x, 0, out, outOff)
      gemvAt(b, h * d * d, d, y, 0, outY, outOff)
      return
    }
    if (this.diagonal[h] === 1) {
      // Row i's one possible term, as the loop below adds it: 0 + b_ii·x_i (and +0 + (+0)·x_i = +0
      // for a row with no entry in the pattern, which the loop leaves at +0).
      for (let i = 0; i < d; i++) {
        const bii = b[(h * d + i) * d + i]
        out[outOff + i] = 0 + bii * x[i]
        outY[outOff + i] = 0 + bii * y[i]
      }
      return
    }
    const rows = this.rows
    for (let i = 0; i < d; i++) {
      const at = (h * d + i) * (d + 1)
      const n = rows[at]
      const row = (h * d + i) * d
      let s = 0
      let t = 0
      for (let p = 1; p <= n; p++) {
        const j = rows[at + p]
        s += b[row + j] * x[j]
        t += b[row + j] * y[j]
      }
      out[outOff + i] = s
      outY[outOff + i] = t
    }
  }

  /** Rebuilds the column list of matrix row r (row i of step h is r = h·d + i). */
  private list(r: number): void {
    const d = this.d
    let n = 0
    for (let j = 0; j < d; j++) if (this.mask[r * d + j] === 1) this.rows[r * (d + 1) + 1 + n++] = j
    this.rows[r * (d + 1)] = n
  }
}

/**
 * The few dense kernels LSVI-UCB needs (docs/algorithm.md §2), on `ndarray` views over `Float64Array`.
 *
 * Matrices are `ndarray` views so that callers can slice rows and blocks without copies; the loops
 * themselves read the backing typed array directly, because per-element `get`/`set` calls would
 * dominate the cost of these O(d²) kernels. Written by hand (not a BLAS binding) since d is small
 * (tens) and native BLAS cannot be installed from the npm registry on every machine.
 */
import ndarray from "ndarray"
import type { NdArray } from "ndarray"

export type Matrix = NdArray<Float64Array>
export type Vector = Float64Array

/** A d × d matrix of zeros. */
export const zeros = (rows: number, cols: number): Matrix =>
  ndarray(new Float64Array(rows * cols), [rows, cols])

/** `scale · I`, d × d. */
export const scaledIdentity = (d: number, scale: number): Matrix => {
  const m = zeros(d, d)
  for (let i = 0; i < d; i++) m.data[i * d + i] = scale
  return m
}

/** ⟨x[xOff..xOff+d), y[yOff..yOff+d)⟩. */
export const dot = (x: ArrayLike<number>, xOff: number, y: ArrayLike<number>, yOff: number, d: number): number => {
  let s = 0
  for (let i = 0; i < d; i++) s += x[xOff + i] * y[yOff + i]
  return s
}

/** out ← A x, for a row-major d × d matrix A. */
export const gemv = (A: Matrix, x: ArrayLike<number>, xOff: number, out: Vector): Vector => {
  gemvAt(A.data, 0, A.shape[0], x, xOff, out, 0)
  return out
}

/**
 * `gemv` on the d × d matrix at `a[aOff..]`, into `out[outOff..]`. The flat forms (`…At`) let a
 * learner keep all its matrices in one array and index it directly in its hot loops; the Matrix
 * forms are these on a matrix's own array, so both give the same numbers.
 */
export const gemvAt = (
  a: Float64Array,
  aOff: number,
  d: number,
  x: ArrayLike<number>,
  xOff: number,
  out: Vector,
  outOff: number
): void => {
  for (let i = 0; i < d; i++) {
    let s = 0
    const row = aOff + i * d
    for (let j = 0; j < d; j++) s += a[row + j] * x[xOff + j]
    out[outOff + i] = s
  }
}

/** xᵀ A x = ‖x‖²_A for a row-major d × d matrix A (the squared bonus norm of docs/algorithm.md §2). */
export const quadForm = (A: Matrix, x: ArrayLike<number>, xOff: number): number =>
  quadFormAt(A.data, 0, A.shape[0], x, xOff)

/** `quadForm` of the d × d matrix at `a[aOff..]`. */
export const quadFormAt = (a: Float64Array, aOff: number, d: number, x: ArrayLike<number>, xOff: number): number => {
  let s = 0
  for (let i = 0; i < d; i++) {
    let r = 0
    const row = aOff + i * d
    for (let j = 0; j < d; j++) r += a[row + j] * x[xOff + j]
    s += x[xOff + i] * r
  }
  return s
}

/**
 * Sherman–Morrison: given B = Λ⁻¹, overwrite it with (Λ + φφᵀ)⁻¹ = B − (Bφ)(Bφ)ᵀ / (1 + φᵀBφ).
 * `work` is a length-d scratch vector, so the update allocates nothing.
 */
export const shermanMorrison = (B: Matrix, phi: ArrayLike<number>, phiOff: number, work: Vector): void =>
  shermanMorrisonAt(B.data, 0, B.shape[0], phi, phiOff, work)

/** `shermanMorrison` on the d × d matrix at `b[bOff..]`. */
export const shermanMorrisonAt = (
  b: Float64Array,
  bOff: number,
  d: number,
  phi: ArrayLike<number>,
  phiOff: number,
  work: Vector
): void => {
  gemvAt(b, bOff, d, phi, phiOff, work, 0)
  const denom = 1 + dot(phi, phiOff, work, 0, d)
  for (let i = 0; i < d; i++) {
    const ui = work[i] / denom
    const row = bOff + i * d
    for (let j = 0; j < d; j++) b[row + j] -= ui * work[j]
  }
}

/** The Cholesky factor L (lower triangular, A = L Lᵀ) of a symmetric positive definite A. */
export const cholesky = (A: Matrix): Matrix => {
  const d = A.shape[0]
  const out = zeros(d, d)
  const L = out.data
  const a = A.data
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k]
      if (i === j) {
        if (!(s > 0)) throw new Error(`cholesky: matrix is not positive definite (pivot ${i} = ${s})`)
        L[i * d + i] = Math.sqrt(s)
      } else {
        L[i * d + j] = s / L[j * d + j]
      }
    }
  }
  return out
}

/**
 * Solves A x = b for a symmetric positive definite A by Cholesky factorisation (A = L Lᵀ, then two
 * triangular solves). Used by the direct formula of docs/algorithm.md §2 (the reference the fast path is
 * checked against).
 */
export const solveSpd = (A: Matrix, rhs: ArrayLike<number>): Vector => {
  const d = A.shape[0]
  const L = cholesky(A).data
  const y = new Float64Array(d)
  for (let i = 0; i < d; i++) {
    let s = rhs[i]
    for (let k = 0; k < i; k++) s -= L[i * d + k] * y[k]
    y[i] = s / L[i * d + i]
  }
  const x = new Float64Array(d)
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i]
    for (let k = i + 1; k < d; k++) s -= L[k * d + i] * x[k]
    x[i] = s / L[i * d + i]
  }
  return x
}

/** R = L⁻¹ for a lower-triangular L with a positive diagonal (R is lower triangular too). */
export const lowerInverse = (Lm: Matrix): Matrix => {
  const d = Lm.shape[0]
  const L = Lm.data
  const out = zeros(d, d)
  const R = out.data
  for (let j = 0; j < d; j++) {
    R[j * d + j] = 1 / L[j * d + j]
    for (let i = j + 1; i < d; i++) {
      let s = 0
      for (let k = j; k < i; k++) s -= L[i * d + k] * R[k * d + j]
      R[i * d + j] = s / L[i * d + i]
    }
  }
  return out
}

/** The inverse of a symmetric positive definite matrix, column by column (tests and checks only). */
export const inverseSpd = (A: Matrix): Matrix => {
  const d = A.shape[0]
  const out = zeros(d, d)
  const e = new Float64Array(d)
  for (let j = 0; j < d; j++) {
    e.fill(0)
    e[j] = 1
    const col = solveSpd(A, e)
    for (let i = 0; i < d; i++) out.data[i * d + j] = col[i]
  }
  return out
}

/** Largest |x_i − y_i| / max(|y|_∞, tiny): the relative error the "same numbers" rule bounds. */
export const maxRelativeError = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
  let scale = 0
  for (let i = 0; i < y.length; i++) scale = Math.max(scale, Math.abs(y[i]))
  let err = 0
  for (let i = 0; i < y.length; i++) err = Math.max(err, Math.abs(x[i] - y[i]))
  return err / Math.max(scale, 1e-300)
}

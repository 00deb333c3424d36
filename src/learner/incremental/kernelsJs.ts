/**
 * The TypeScript statements of the SIMD kernels of src/linalg/wasm/lsvi.wat and lsviFull.wat: the
 * same loops, same arguments (pointers are byte offsets into the learner's memory), one element at
 * a time. They are the readable statement of each kernel and the fallback where WebAssembly SIMD is
 * missing (`kernel: "js"`); the tests check both kernels against the direct formula. Next-state
 * rows are read out of their panels (Store.ts) one row at a time.
 */
import { panelIndex, rowOfAction } from "./Store.ts"

/** Next-state row r of the panels at byte offset `next`, copied to x (dp entries). */
const rowOf = (f: Float64Array, next: number, dp: number, r: number, x: Float64Array): Float64Array => {
  for (let i = 0; i < dp; i++) x[i] = f[(next >> 3) + panelIndex(dp, r, i)]
  return x
}

/**
 * The TypeScript statement of the `step` kernel of lsvi.wat (same arguments, offsets in bytes; the
 * arena for its float64 and uint16 views). The actions of each transition are taken in their order,
 * each row found where Store.ts keeps it (`rowOfAction`).
 */
export const stepJs = (
  arena: { readonly f64: Float64Array; readonly u16: Uint16Array },
  next: number,
  q: number,
  taken: number,
  qt: number,
  takenAction: number,
  phi: number,
  phiPanels: number,
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
  _val: number, // scratch of the WebAssembly kernel's phases; this one-pass statement needs none
  _tmp: number // likewise
): void => {
  const f = arena.f64
  const x = new Float64Array(dp)
  const bestX = new Float64Array(dp)
  const phiX = new Float64Array(dp)
  const W = w >> 3
  const WL = wl >> 3
  const Bo = B >> 3
  const R = rhs >> 3
  const RL = rhsl >> 3
  for (let t = 0; t < n; t++) {
    let best = -Infinity
    let bestQ = 0
    for (let a = 0; a < A; a++) {
      const where = rowOfAction(A, arena.u16[(takenAction >> 1) + t], t, a)
      rowOf(f, where.taken ? taken : next, dp, where.row, x)
      const qi = ((where.taken ? qt : q) >> 3) + where.row
      let qv: number
      if (t >= fresh0) {
        // q = φᵀBφ from scratch
        qv = 0
        for (let i = 0; i < d; i++) {
          let s = 0
          const bi = Bo + i * dp
          for (let k = 0; k < dp; k++) s += f[bi + k] * x[k]
          qv += x[i] * s
        }
      } else {
        // q ← q − c_j (φᵀu_j)² for each pending change of Λ_{h+1}
        qv = f[qi]
        for (let j = 0; j < m; j++) {
          const uj = (u >> 3) + j * dp
          let s = 0
          for (let k = 0; k < dp; k++) s += x[k] * f[uj + k]
          qv -= f[(c >> 3) + j] * (s * s)
        }
      }
      f[qi] = qv
      let mean = 0
      for (let k = 0; k < dp; k++) mean += x[k] * f[W + k]
      const val = Math.min(mean + beta * Math.sqrt(Math.max(qv, 0)), cap)
      if (val > best) {
        best = val
        bestX.set(x)
        bestQ = qv
      }
    }
    // φ_h^τ: a plain row, or step h − 1's taken row in its panels
    if (phiPanels !== 0) rowOf(f, phi, dp, t, phiX)
    else phiX.set(f.subarray((phi >> 3) + t * dp, (phi >> 3) + (t + 1) * dp))
    for (let k = 0; k < dp; k++) f[R + k] += best * phiX[k]
    if (twin !== 0) {
      let mean = 0
      for (let k = 0; k < dp; k++) mean += bestX[k] * f[WL + k]
      const low = Math.max(mean - beta * Math.sqrt(Math.max(bestQ, 0)), 0)
      for (let k = 0; k < dp; k++) f[RL + k] += low * phiX[k]
    }
  }
}

/** The TypeScript statement of the `gram` kernel: L += Σ φφᵀ, upper part (from column i & ~1). */
export const gramJs = (f: Float64Array, phi: number, n: number, d: number, dp: number, L: number): void => {
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
export const formsJs = (f: Float64Array, next: number, n: number, d: number, dp: number, U: number, q: number): void => {
  const d8 = (d + 7) & ~7
  const x = new Float64Array(dp)
  const Uo = U >> 3
  for (let r = 0; r < n; r++) {
    rowOf(f, next, dp, r, x)
    let s = 0
    for (let i = 0; i < d; i++) {
      let y = 0
      for (let j = 0; j <= i; j++) y += x[j] * f[Uo + j * d8 + i]
      s += y * y
    }
    f[(q >> 3) + r] = s
  }
}

/** The TypeScript statement of the `gemvT` kernel: y[0..dp) += Σ_t v_t x_t over n rows of stride dp. */
export const gemvTJs = (f: Float64Array, y: number, v: number, x: number, n: number, dp: number): void => {
  const Y = y >> 3
  let xo = x >> 3
  for (let t = 0; t < n; t++) {
    const vt = f[(v >> 3) + t]
    for (let k = 0; k < dp; k++) f[Y + k] += vt * f[xo + k]
    xo += dp
  }
}

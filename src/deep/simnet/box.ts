/**
 * An instance's embedding as a box: the mean of per-transition vectors with a confidence interval per
 * coordinate, and the server's rule "boxes overlap ⇒ same task" (docs/deep.md, "SimNet").
 *
 * Why batch means: consecutive transitions of one episode are strongly correlated (a paddle that moved
 * keeps its place, an alien block steps in rhythm), so the spread of single transitions understates
 * the mean's error. The transitions are cut, in time order, into B contiguous blocks; the blocks'
 * means are close to independent once a block spans several episodes, and their spread gives the
 * standard error (the "batch means" method of simulation output analysis).
 *
 * Why Bonferroni: boxes overlap iff every coordinate's intervals overlap, so two instances of one task
 * overlap whenever each box contains the common mean in all k coordinates. Giving each coordinate
 * level δ/k makes that hold with probability ≥ 1 − δ per box.
 */

/** A box in k dimensions: lo[i] ≤ x[i] ≤ hi[i]. */
export interface Box {
  readonly mean: Float64Array
  readonly lo: Float64Array
  readonly hi: Float64Array
}

/** Upper quantile of the standard normal, P(Z > z) = p (Acklam's rational approximation, relative error < 1.2e-9). */
export const normalQuantile = (p: number): number => {
  // Inverse CDF at 1 − p.
  const q = 1 - p
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239]
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
  const lowP = 0.02425
  if (q < lowP) {
    const r = Math.sqrt(-2 * Math.log(q))
    return (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
  }
  if (q > 1 - lowP) {
    const r = Math.sqrt(-2 * Math.log(1 - q))
    return -(((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
  }
  const r = q - 0.5
  const s = r * r
  return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1)
}

/**
 * Upper quantile of Student's t with `df` degrees of freedom, P(T > t) = p, by the Cornish–Fisher
 * expansion around the normal quantile (Abramowitz & Stegun 26.7.5; good to ~1e-3 for df ≥ 5 at the
 * small p used here, and conservative enough for a confidence interval).
 */
export const tQuantile = (p: number, df: number): number => {
  const z = normalQuantile(p)
  const z2 = z * z
  const g1 = (z2 + 1) * z / 4
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4
}

/**
 * The box of the mean of n vectors of dimension k (`values[t*k + i]`, t in time order): the mean ±
 * t_{B−1}(δ/(2k)) · sd(block means)/√B over B contiguous blocks. Needs n ≥ B ≥ 2.
 */
export const batchMeansBox = (values: Float64Array, n: number, k: number, blocks: number, delta: number): Box => {
  if (!(blocks >= 2 && n >= blocks)) throw new RangeError(`batchMeansBox: need n ≥ blocks ≥ 2, got n = ${n}, blocks = ${blocks}`)
  const mean = new Float64Array(k)
  const sq = new Float64Array(k)
  const block = new Float64Array(k)
  for (let b = 0; b < blocks; b++) {
    const from = Math.floor((b * n) / blocks)
    const to = Math.floor(((b + 1) * n) / blocks)
    block.fill(0)
    for (let t = from; t < to; t++) for (let i = 0; i < k; i++) block[i] += values[t * k + i]
    for (let i = 0; i < k; i++) {
      const m = block[i] / (to - from)
      mean[i] += m
      sq[i] += m * m
    }
  }
  const z = tQuantile(delta / (2 * k), blocks - 1)
  const lo = new Float64Array(k)
  const hi = new Float64Array(k)
  for (let i = 0; i < k; i++) {
    const m = mean[i] / blocks
    const variance = Math.max(0, (sq[i] - blocks * m * m) / (blocks - 1))
    const half = z * Math.sqrt(variance / blocks)
    mean[i] = m
    lo[i] = m - half
    hi[i] = m + half
  }
  return { mean, lo, hi }
}

/** Boxes overlap iff every coordinate's intervals overlap (closed intervals). */
export const overlaps = (a: Box, b: Box): boolean => {
  for (let i = 0; i < a.lo.length; i++) if (a.hi[i] < b.lo[i] || b.hi[i] < a.lo[i]) return false
  return true
}

/** The intersection of two overlapping boxes (the server narrows an entry's box with each match). */
export const intersect = (a: Box, b: Box): Box => {
  const k = a.lo.length
  const lo = new Float64Array(k)
  const hi = new Float64Array(k)
  const mean = new Float64Array(k)
  for (let i = 0; i < k; i++) {
    lo[i] = Math.max(a.lo[i], b.lo[i])
    hi[i] = Math.min(a.hi[i], b.hi[i])
    mean[i] = (lo[i] + hi[i]) / 2
  }
  return { mean, lo, hi }
}

/** The widest coordinate's width (what a width target bounds). */
export const maxWidth = (a: Box): number => {
  let w = 0
  for (let i = 0; i < a.lo.length; i++) w = Math.max(w, a.hi[i] - a.lo[i])
  return w
}

/**
 * How far apart two boxes are, in units of their half-widths: the largest over coordinates of
 * |mean_a − mean_b| / (half_a + half_b). Below 1 iff the boxes overlap. Used only to choose among
 * several overlapping entries (the nearest one), never to decide match against new.
 */
export const separation = (a: Box, b: Box): number => {
  let s = 0
  for (let i = 0; i < a.lo.length; i++) {
    const half = (a.hi[i] - a.lo[i]) / 2 + (b.hi[i] - b.lo[i]) / 2
    const gap = Math.abs(a.mean[i] - b.mean[i])
    s = Math.max(s, half > 0 ? gap / half : gap > 0 ? Infinity : 0)
  }
  return s
}

/**
 * The few statistics the report needs, written out so that each number can be checked by hand:
 * means with 95% Student-t intervals over seeds, and least-squares slopes on log–log axes.
 */

export const mean = (xs: ReadonlyArray<number>): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length)

/** Sample standard deviation (n − 1); 0 for a single value. */
export const sd = (xs: ReadonlyArray<number>): number => {
  if (xs.length < 2) return 0
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1))
}

/** t_{0.975, df} for df = 1..30. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093,
  2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042
]

/** The 97.5% quantile of Student's t with `df` degrees of freedom (two-sided 95% intervals). */
export const tQuantile975 = (df: number): number =>
  df < 1 ? NaN : df <= 30 ? T975[Math.floor(df) - 1] : 1.96 + 2.4 / df // within 0.002 of the exact value beyond 30

export interface Interval {
  readonly mean: number
  /** 95% interval for the mean: mean ± t·sd/√n; equal to the mean when n = 1. */
  readonly lo: number
  readonly hi: number
  readonly n: number
}

export const interval95 = (xs: ReadonlyArray<number>): Interval => {
  const m = mean(xs)
  if (xs.length < 2) return { mean: m, lo: m, hi: m, n: xs.length }
  const half = tQuantile975(xs.length - 1) * sd(xs) / Math.sqrt(xs.length)
  return { mean: m, lo: m - half, hi: m + half, n: xs.length }
}

export interface Fit {
  readonly slope: number
  readonly intercept: number
}

/** Ordinary least squares y = intercept + slope·x; NaN slope with fewer than two distinct x. */
export const leastSquares = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): Fit => {
  const mx = mean(xs)
  const my = mean(ys)
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my)
    sxx += (xs[i] - mx) ** 2
  }
  const slope = sxx === 0 ? NaN : sxy / sxx
  return { slope, intercept: my - slope * mx }
}

/** The slope of log y against log x (natural logs; the slope does not depend on the base). Points with x ≤ 0 or y ≤ 0 are left out. */
export const logLogFit = (points: ReadonlyArray<{ readonly x: number; readonly y: number }>): Fit => {
  const ok = points.filter((p) => p.x > 0 && p.y > 0)
  return leastSquares(ok.map((p) => Math.log(p.x)), ok.map((p) => Math.log(p.y)))
}

export interface SlopeEstimate {
  /** Mean of the per-seed slopes, with its 95% t interval over seeds. */
  readonly slope: Interval
  /** The slope of the fit to the means over seeds (what the plot draws). */
  readonly pooled: Fit
  readonly perSeed: ReadonlyArray<{ readonly seed: number; readonly slope: number }>
}

/**
 * The log–log slope of y against x with a confidence interval over seeds: one least-squares fit
 * per seed (seeds are the independent replicates; the points of one seed share nothing else), then
 * the mean and 95% t interval of those slopes. `pooled` fits the per-x means.
 */
export const slopeOverSeeds = (
  obs: ReadonlyArray<{ readonly seed: number; readonly x: number; readonly y: number }>
): SlopeEstimate => {
  const seeds = [...new Set(obs.map((o) => o.seed))].sort((a, b) => a - b)
  const perSeed = seeds
    .map((seed) => ({ seed, slope: logLogFit(obs.filter((o) => o.seed === seed)).slope }))
    .filter((s) => Number.isFinite(s.slope))
  const xs = [...new Set(obs.map((o) => o.x))].sort((a, b) => a - b)
  const pooled = logLogFit(xs.map((x) => ({ x, y: mean(obs.filter((o) => o.x === x).map((o) => o.y)) })))
  return { slope: interval95(perSeed.map((s) => s.slope)), pooled, perSeed }
}

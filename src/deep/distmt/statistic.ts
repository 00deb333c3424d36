/**
 * The deep stage's identification statistic (docs/algorithm.md, "The deep stage"): what replaces
 * the linear stage's certificate on V*(s0) when the agent explores an instance to identify it.
 *
 * The agent plays the instance with the uniformly random policy (the DQN's replay warm-up, so the
 * frames are not wasted) and keeps, per episode, the mean over its frames of k = C coordinates:
 * the fraction of the 10×10 cells set in each of the C observation channels. Their expectations
 * under the random policy are a property of the task alone. (Rewards are left out: a random
 * policy's reward per frame varies so much between episodes that its interval would take ten
 * times the frames to narrow, and the layouts that make tasks differ show in the channels.) The
 * interval of each coordinate is its sample mean ± z·s/√n over the n episodes, with
 * z = Φ⁻¹(1 − δ/(2k)) (Bonferroni: all k intervals hold at once with probability ≥ 1 − δ, in the
 * normal approximation, which is why at least MIN_EPISODES episodes are asked for). The width is
 * the widest coordinate's, so "width ≤ c_Sep/2" means every coordinate is that narrow, and the
 * server's rule stays the linear stage's: boxes that overlap are the same task.
 */
import type { Interval } from "../../coordinator/Coordinator.ts"
import { makeGame } from "../../env/minatar/index.ts"
import type { MinAtarTask } from "../../env/minatar/spec.ts"
import type { Certificate } from "../../learner/Lsvi.ts"
import * as Rng from "../../rng/Rng.ts"

/** The normal approximation wants a sample of some size before its interval means anything. */
export const MIN_EPISODES = 30

/** Φ⁻¹(p) by Acklam's rational approximation (relative error < 1.2e-9), for 0 < p < 1. */
export const normalQuantile = (p: number): number => {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const low = 0.02425
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  if (p > 1 - low) return -normalQuantile(1 - p)
  const q = p - 0.5
  const r = q * q
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
}

/** A mean return with its confidence interval (normal approximation, level 1 − δ). */
export interface Estimate {
  readonly mean: number
  readonly lower: number
  readonly upper: number
  readonly episodes: number
}

export const estimate = (xs: ReadonlyArray<number>, delta: number): Estimate => {
  const n = xs.length
  const mean = xs.reduce((a, b) => a + b, 0) / n
  const sd = n < 2 ? Number.POSITIVE_INFINITY : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1))
  const half = normalQuantile(1 - delta / 2) * sd / Math.sqrt(n)
  return { mean, lower: mean - half, upper: mean + half, episodes: n }
}

/** Running mean and variance of each coordinate over episodes (Welford). */
export class EpisodeStatistic {
  private n = 0
  private readonly mean: Float64Array
  private readonly m2: Float64Array
  /** The current episode's sums, per coordinate, and its frames. */
  private readonly sum: Float64Array
  private frames = 0

  /** `channels` observation channels (the spec's widest game's: narrower games leave theirs 0). */
  constructor(readonly channels: number, readonly delta: number) {
    this.mean = new Float64Array(channels)
    this.m2 = new Float64Array(channels)
    this.sum = new Float64Array(channels)
  }

  get episodes(): number {
    return this.n
  }

  /**
   * One frame: the observation it led to (C×100 values, 0 or 1). Cells are counted as whole
   * numbers and divided once per episode, so a channel that is constant (Breakout's ball: one cell
   * in every frame) has exactly the same mean in every instance, not means a rounding apart whose
   * zero-width intervals would not overlap.
   */
  frame(obs: Float32Array): void {
    for (let c = 0; c < this.channels; c++) {
      let set = 0
      for (let i = c * 100; i < c * 100 + 100; i++) set += obs[i]
      this.sum[c] += set
    }
    this.frames++
  }

  /** Ends the current episode: its per-frame means join the sample. */
  endEpisode(): void {
    if (this.frames === 0) return
    this.n++
    for (let i = 0; i < this.sum.length; i++) {
      const x = this.sum[i] / (100 * this.frames)
      const d = x - this.mean[i]
      this.mean[i] += d / this.n
      this.m2[i] += d * (x - this.mean[i])
      this.sum[i] = 0
    }
    this.frames = 0
  }

  /** The box: each coordinate's interval, as the server's `Interval` (coordinate 0 in lower/upper). */
  interval(): Interval {
    const k = this.mean.length
    const z = normalQuantile(1 - this.delta / (2 * k))
    const half = (i: number) =>
      this.n < Math.max(2, MIN_EPISODES) ? Infinity : z * Math.sqrt(this.m2[i] / (this.n - 1) / this.n)
    const lower = Array.from(this.mean, (m, i) => m - half(i))
    const upper = Array.from(this.mean, (m, i) => m + half(i))
    return { lower: lower[0], upper: upper[0], more: { lower: lower.slice(1), upper: upper.slice(1) } }
  }

  /** The box as a certificate: its widest coordinate is its width. */
  certificate(): Certificate {
    const { lower, upper, more } = this.interval()
    let width = upper - lower
    more!.lower.forEach((l, i) => (width = Math.max(width, more!.upper[i] - l)))
    return { lower, upper, width, more: more! }
  }

  /** The coordinates' sample means (for the run's ground truth and tests). */
  means(): ReadonlyArray<number> {
    return Array.from(this.mean)
  }
}

/** Stream label of the separation estimate: apart from every stream the agents draw from. */
const SEPARATION = 0x73657061

/**
 * The identification statistic's expectation per task, estimated from `episodes` random-policy
 * episodes each, and the family's separation under it: the smallest, over pairs of tasks, of the
 * largest coordinate difference (distinct tasks must differ by c_Sep in some coordinate).
 */
export const statisticSeparation = (
  tasks: ReadonlyArray<MinAtarTask>,
  channels: number,
  episodes: number
): { readonly means: ReadonlyArray<ReadonlyArray<number>>; readonly value: number; readonly pair: readonly [number, number] | undefined } => {
  const means = tasks.map((task, id) => {
    const game = makeGame(task.game, task.params as never)
    const rng = Rng.make(SEPARATION, id)
    const stat = new EpisodeStatistic(channels, 0.05)
    const obs = new Float32Array(channels * 100)
    for (let e = 0; e < episodes; e++) {
      game.reset(rng)
      for (let f = 0; f < 100_000; f++) {
        const { reward, done } = game.step(rng.int(6), rng)
        game.observe(obs)
        stat.frame(obs)
        if (done) break
      }
      stat.endEpisode()
    }
    return stat.means()
  })
  let value = Number.POSITIVE_INFINITY
  let pair: readonly [number, number] | undefined = undefined
  for (let i = 0; i < means.length; i++) {
    for (let j = i + 1; j < means.length; j++) {
      const d = Math.max(...means[i].map((m, k) => Math.abs(m - means[j][k])))
      if (d < value) {
        value = d
        pair = [i, j]
      }
    }
  }
  return { means, value, pair }
}

/**
 * The simple statistic SimNet is measured against: the Monte-Carlo interval of a uniformly random
 * policy's mean episode return, narrowed to width ≤ c_Sep/2 before the server is asked (the deep
 * stage's analogue of docs/algorithm.md §3's certificate interval). It is a one-dimensional box, so
 * the server's rule (identify.ts `matchBox`) is the same code.
 *
 * Its separability assumption is that tasks' random-policy mean returns differ by ≥ c_Sep, which
 * context variants of one game often violate (a faster paddle barely changes what a random paddle
 * scores): that is the case SimNet is for.
 */
import { type Box, tQuantile } from "./box.ts"
import type { Explorer } from "./features.ts"

/** mean ± t_{n−1}(δ/2)·sd/√n of the episode returns (infinite width with fewer than 2 episodes). */
export const returnBox = (returns: ReadonlyArray<number>, delta = 0.05): Box => {
  const n = returns.length
  let s = 0
  for (const r of returns) s += r
  const mean = n > 0 ? s / n : 0
  let v = 0
  for (const r of returns) v += (r - mean) ** 2
  const half = n >= 2 ? tQuantile(delta / 2, n - 1) * Math.sqrt(v / (n - 1) / n) : Infinity
  return { mean: Float64Array.of(mean), lo: Float64Array.of(mean - half), hi: Float64Array.of(mean + half) }
}

export interface NarrowResult {
  readonly box: Box
  /** False when the frame cap came first: the instance is not identified (docs/algorithm.md §3, capped identification). */
  readonly narrow: boolean
}

/**
 * Explores on (returns only) until the return interval's width is ≤ `width` or the explorer has
 * stepped `maxFrames` frames, checking every `chunk` frames.
 */
export const narrowReturnBox = (explorer: Explorer, width: number, maxFrames: number, delta = 0.05, chunk = 1000): NarrowResult => {
  for (;;) {
    const box = returnBox(explorer.returns, delta)
    if (box.hi[0] - box.lo[0] <= width) return { box, narrow: true }
    if (explorer.steps >= maxFrames) return { box, narrow: false }
    explorer.explore(Math.min(chunk, maxFrames - explorer.steps), false)
  }
}

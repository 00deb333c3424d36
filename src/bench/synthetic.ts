/**
 * The synthetic data set of `distmt bench lsvi` and of the fast-path tests: trajectories of a
 * random policy in a continuous-state linear MDP, where next states never repeat.
 *
 * Episode k is drawn from its own seeded stream (seed, k), so any episode can be regenerated on its
 * own and the data set is never held twice. Each state s has a feature block φ(s,·) of A unit-norm
 * rows in R^d; the step-h transition of an episode uses φ_h = φ(s_h, a_h) with a_h uniform, a reward
 * uniform in [0, 1], and the next state's block φ(s_{h+1},·), whose row a_{h+1} is φ_{h+1}. Rows are
 * z/‖z‖ with z = e₁ + g/√d, g standard normal: a common direction plus noise, so that w̄ has a clear
 * mean component and the caps of Q̄ bind at some steps (a purely isotropic cloud would leave w̄ ≈ 0).
 */
import * as Rng from "../rng/Rng.ts"

export interface SyntheticShape {
  readonly episodes: number // K
  readonly dim: number // d
  readonly actions: number // A
  readonly horizon: number // H
  readonly seed: number
}

/** One episode: φ_h at h·d, r_h at h, φ(s_{h+1},·) at h·A·d (A rows of d; the block at h = H − 1 is unused). */
export interface Episode {
  readonly phi: Float64Array
  readonly reward: Float64Array
  readonly next: Float64Array
}

const gaussian = (rng: Rng.Rng): number => {
  const u1 = 1 - rng.next() // (0, 1]
  const u2 = rng.next()
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

/** Fills out[off..off+d) with a unit-norm row e₁ + g/√d, normalised. */
const unitRow = (rng: Rng.Rng, d: number, out: Float64Array, off: number): void => {
  const s = 1 / Math.sqrt(d)
  let norm = 0
  for (let i = 0; i < d; i++) {
    const z = (i === 0 ? 1 : 0) + s * gaussian(rng)
    out[off + i] = z
    norm += z * z
  }
  const inv = 1 / Math.sqrt(norm)
  for (let i = 0; i < d; i++) out[off + i] *= inv
}

/** Episode k of the data set, into `into` (reused, so that generating allocates nothing). */
export const episode = (shape: SyntheticShape, k: number, into?: Episode): Episode => {
  const { actions: A, dim: d, horizon: H } = shape
  const e: Episode = into ?? {
    phi: new Float64Array(H * d),
    reward: new Float64Array(H),
    next: new Float64Array(H * A * d)
  }
  const rng = Rng.make(shape.seed, 0x5eed, k)
  const block = new Float64Array(A * d)
  for (let a = 0; a < A; a++) unitRow(rng, d, block, a * d) // φ(s_0, ·)
  for (let h = 0; h < H; h++) {
    const a = rng.int(A)
    e.phi.set(block.subarray(a * d, (a + 1) * d), h * d)
    e.reward[h] = rng.next()
    if (h + 1 < H) {
      for (let b = 0; b < A; b++) unitRow(rng, d, block, b * d) // φ(s_{h+1}, ·)
      e.next.set(block, h * A * d)
    } else {
      e.next.fill(0, h * A * d, (h + 1) * A * d)
    }
  }
  return e
}

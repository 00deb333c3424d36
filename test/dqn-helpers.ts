/** Shared fixtures of the DQN tests: random sparse batches and comparisons of parameter sets. */
import * as Rng from "../src/rng/Rng.ts"
import type { NetShape, Params } from "../src/deep/network.ts"
import type { Batch } from "../src/deep/reference.ts"

/** A batch of B transitions with 0/1 observations (density `p`) and rewards that make TD errors on both sides of the Huber kink. */
export const randomBatch = (s: NetShape, B: number, seed: number, p = 0.1): Batch => {
  const rng = Rng.make(seed)
  const n = s.channels * 100
  return {
    size: B,
    obs: Float32Array.from({ length: B * n }, () => (rng.next() < p ? 1 : 0)),
    nextObs: Float32Array.from({ length: B * n }, () => (rng.next() < p ? 1 : 0)),
    actions: Int32Array.from({ length: B }, () => rng.int(s.actions)),
    rewards: Float32Array.from({ length: B }, () => (rng.next() < 0.5 ? 0 : 3 * rng.next() - 1)),
    discount: Float32Array.from({ length: B }, () => (rng.next() < 0.2 ? 0 : 0.99))
  }
}

/** max |a − b| over every parameter, and max |a| (to state a relative tolerance). */
export const maxDiff = (a: Params, b: Params): { readonly abs: number; readonly scale: number } => {
  let abs = 0, scale = 0
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < a[i].length; j++) {
      abs = Math.max(abs, Math.abs(a[i][j] - b[i][j]))
      scale = Math.max(scale, Math.abs(a[i][j]))
    }
  }
  return { abs, scale }
}

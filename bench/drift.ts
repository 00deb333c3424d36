/**
 * Drift of the incremental backup over many episodes (docs/performance.md, "Drift"):
 * one-episode updates with the periodic refresh turned off (or set by --refresh N), compared at
 * checkpoints with a backup from scratch of a second learner holding the same data.
 *
 *   npx tsx bench/drift.ts [--episodes 20000] [--dim 16] [--actions 4] [--horizon 5] [--refresh N]
 */
import { episode, type SyntheticShape } from "../src/bench/synthetic.ts"
import { maxRelativeError } from "../src/linalg/kernels.ts"
import { LsviIncremental } from "../src/learner/LsviIncremental.ts"

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const K = arg("episodes", 20000)
const d = arg("dim", 16)
const A = arg("actions", 4)
const H = arg("horizon", 5)
const refreshEvery = arg("refresh", Number.POSITIVE_INFINITY)
const shape: SyntheticShape = { episodes: K, dim: d, actions: A, horizon: H, seed: 7 }
const config = { horizon: H, dim: d, actions: A, beta: 1, lambda: 1 }
const none = () => new Float64Array(0)
const incremental = new LsviIncremental(config, none, { refreshEvery })
const scratch = new LsviIncremental(config, none)
const e = episode(shape, 0)
const checkpoints = new Set([10, 100, 1000, 2000, 5000, 10000, 20000, 50000, 100000].filter((k) => k <= K))
console.log(`drift: d=${d} A=${A} H=${H}, refresh every ${refreshEvery} updates; max relative difference of w̄ against a backup from scratch`)
for (let k = 1; k <= K; k++) {
  episode(shape, k - 1, e)
  for (const learner of [incremental, scratch]) {
    for (let h = 0; h < H; h++) learner.addTransitionFeatures(h, e.phi, h * d, e.reward[h], e.next, h * A * d)
  }
  incremental.backup()
  if (checkpoints.has(k)) {
    scratch.fullBackup()
    const err = maxRelativeError(incremental.wUpper, scratch.wUpper)
    const errB = maxRelativeError(incremental.lambdaInverse(0).data, scratch.lambdaInverse(0).data)
    console.log(`  after ${String(k).padStart(6)} episodes: w̄ ${err.toExponential(2)}   Λ_1⁻¹ ${errB.toExponential(2)}`)
  }
}

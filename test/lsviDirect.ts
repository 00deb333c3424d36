/**
 * The direct formula of docs/algorithm.md §2 on raw episodes, for the tests of the incremental
 * learner (test/fastpath.test.ts) and of the bench's dumped files (test/lsvi-files.test.ts).
 */
import type { Episode } from "../src/bench/synthetic.ts"
import { inverseSpd, maxRelativeError, scaledIdentity, solveSpd } from "../src/linalg/kernels.ts"
import type { LsviConfig } from "../src/learner/Lsvi.ts"

// ---------------------------------------------------------------------------------------------
// The direct formula of §2 on raw episodes: Λ_h built explicitly, Λ_{h+1}⁻¹ by a direct inverse,
// w_h by a Cholesky solve. Written here from the definitions, sharing nothing with the learner.

export interface Direct {
  readonly wUpper: Float64Array
  readonly wLower: Float64Array
  /** Greedy choices π_{h+1}(s') that rounding could flip (see test/learner.test.ts); w̲ is compared only without them. */
  readonly fragile: number
}

export const direct = (config: LsviConfig, data: ReadonlyArray<Episode>): Direct => {
  const { actions: A, beta, dim: d, horizon: H, lambda } = config
  const wUpper = new Float64Array(H * d)
  const wLower = new Float64Array(H * d)
  let fragile = 0
  let nextInv = scaledIdentity(d, 1 / lambda)
  for (let h = H - 1; h >= 0; h--) {
    const Lambda = scaledIdentity(d, lambda)
    const rhsU = new Float64Array(d)
    const rhsL = new Float64Array(d)
    for (const e of data) {
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) Lambda.data[i * d + j] += e.phi[h * d + i] * e.phi[h * d + j]
      let vU = 0
      let vL = 0
      if (h + 1 < H) {
        const raw: Array<number> = []
        const size: Array<number> = []
        const lows: Array<number> = []
        for (let a = 0; a < A; a++) {
          const o = (h * A + a) * d
          let mean = 0
          let meanLow = 0
          let form = 0
          let scale = 0
          for (let i = 0; i < d; i++) {
            mean += wUpper[(h + 1) * d + i] * e.next[o + i]
            meanLow += wLower[(h + 1) * d + i] * e.next[o + i]
            scale += Math.abs(wUpper[(h + 1) * d + i] * e.next[o + i])
            for (let j = 0; j < d; j++) form += e.next[o + i] * nextInv.data[i * d + j] * e.next[o + j]
          }
          const bonus = beta * Math.sqrt(Math.max(form, 0))
          raw.push(mean + bonus)
          size.push(scale + bonus)
          lows.push(Math.max(meanLow - bonus, 0))
        }
        const cap = H - h - 1
        const q = raw.map((x) => Math.min(x, cap))
        let best = 0
        for (let a = 1; a < A; a++) if (q[a] > q[best]) best = a
        const solidlyCapped = raw[best] - cap > 1e-9 * Math.max(size[best], cap)
        if (!solidlyCapped) {
          for (let a = 0; a < A; a++) {
            if (a === best) continue
            // Bit-identical rows tie exactly in any implementation: no rounding can split them.
            let identical = true
            for (let i = 0; i < d; i++) identical &&= e.next[(h * A + a) * d + i] === e.next[(h * A + best) * d + i]
            if (!identical && Math.abs(q[a] - q[best]) <= 1e-9 * Math.max(size[a], size[best])) fragile++
          }
        }
        vU = q[best]
        vL = lows[best]
      }
      for (let i = 0; i < d; i++) {
        rhsU[i] += e.phi[h * d + i] * (e.reward[h] + vU)
        rhsL[i] += e.phi[h * d + i] * (e.reward[h] + vL)
      }
    }
    wUpper.set(solveSpd(Lambda, rhsU), h * d)
    wLower.set(solveSpd(Lambda, rhsL), h * d)
    nextInv = inverseSpd(Lambda)
  }
  return { wUpper, wLower, fragile }
}

export const agree = (actual: Float64Array, expected: Float64Array): boolean => {
  const scale = expected.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
  if (scale === 0) return actual.every((x) => Math.abs(x) <= 1e-300)
  return maxRelativeError(actual, expected) <= 1e-8
}

/**
 * LSVI-UCB with β = 0 on one-hot features is value iteration on the empirical model
 * (docs/algorithm.md §6 item 4), exactly and within λH²/n_min of value iteration on (r̂, P̂).
 *
 * Steps h are 0-based here as in the code: the cap of Q̄ at step h is H − h, and V̄_H ≡ 0.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { type FiniteMdp, oneHotFeatures, rewardIndex } from "../src/env/FiniteMdp.ts"
import { optimalValues } from "../src/env/solve.ts"
import { Lsvi } from "../src/learner/Lsvi.ts"
import * as Rng from "../src/rng/Rng.ts"
import { featuresOf, randomTabular } from "./learnerCases.ts"
import type { Transition } from "./arbitraries.ts"

// ---------------------------------------------------------------------------------------------
// β = 0 on one-hot features: value iteration on the empirical model (§6 item 4)

interface Counts {
  /** n_h(s,a) */
  readonly n: Float64Array
  /** Σ_τ r_h^τ over the visits of (h,s,a) */
  readonly rewardSum: Float64Array
  /** N_h(s,a,s') */
  readonly next: Float64Array
}

const countsOf = (m: FiniteMdp, data: ReadonlyArray<Transition>): Counts => {
  const { actions: A, horizon: H, states: S } = m
  const n = new Float64Array(H * S * A)
  const rewardSum = new Float64Array(H * S * A)
  const next = new Float64Array(H * S * A * S)
  for (const t of data) {
    const i = (t.h * S + t.s) * A + t.a
    n[i]++
    rewardSum[i] += t.r
    next[i * S + t.next]++
  }
  return { n, rewardSum, next }
}

/**
 * Backward induction Q_h(s,a) = (Σr + Σ_{s'} N(s,a,s') V_{h+1}(s')) / (n + shrink), V = max_a Q.
 * shrink = λ: the model LSVI regresses on; shrink = 0: the plain empirical model (r̂, P̂).
 */
const empiricalValueIteration = (m: FiniteMdp, c: Counts, shrink: number): Float64Array => {
  const { actions: A, horizon: H, states: S } = m
  const Q = new Float64Array(H * S * A)
  const V = new Float64Array((H + 1) * S)
  for (let h = H - 1; h >= 0; h--) {
    for (let s = 0; s < S; s++) {
      let best = -Infinity
      for (let a = 0; a < A; a++) {
        const i = (h * S + s) * A + a
        let total = c.rewardSum[i]
        for (let t = 0; t < S; t++) total += c.next[i * S + t] * V[(h + 1) * S + t]
        const q = c.n[i] + shrink > 0 ? total / (c.n[i] + shrink) : 0
        Q[i] = q
        best = Math.max(best, q)
      }
      V[h * S + s] = best
    }
  }
  return Q
}

/** Visits each (h,s,a) `visits(h,s,a)` times with next states drawn from the true P, in shuffled order. */
const sampleData = (m: FiniteMdp, rng: Rng.Rng, visits: (i: number) => number): Array<Transition> => {
  const { actions: A, horizon: H, states: S } = m
  const data: Array<Transition> = []
  for (let h = 0; h < H; h++) {
    for (let s = 0; s < S; s++) {
      for (let a = 0; a < A; a++) {
        const i = (h * S + s) * A + a
        for (let v = visits(i); v > 0; v--) {
          const next = Rng.categorical(rng, m.transition, i * S, S)
          data.push({ h, s, a, r: m.reward[i], next })
        }
      }
    }
  }
  return Rng.permutation(rng, data.length).map((j) => data[j])
}

const feed = (learner: Lsvi, data: ReadonlyArray<Transition>): void => {
  for (const t of data) learner.addTransition(t.h, t.s, t.a, t.r, t.next)
  learner.backup()
}

describe("LSVI-UCB with β = 0 on one-hot features is value iteration on the empirical model (§6.4)", () => {
  const tabularCase = fc.record({
    S: fc.integer({ min: 2, max: 4 }),
    A: fc.integer({ min: 2, max: 3 }),
    H: fc.integer({ min: 1, max: 4 }),
    seed: fc.nat(),
    lambda: fc.constantFrom(1, 0.3, 2)
  })

  it("exactly: Q̄_h(s,a) = (Σr + Σ_{s'} N(s,a,s') V̄_{h+1}(s')) / (n_h(s,a) + λ), for any data", () => {
    // Why this is exactly true. With φ = e_{(s,a)}, Λ_h = λI + Σ φφᵀ = diag(λ + n_h(s,a)) and
    // Σ_τ φ_τ (r_τ + V̄_{h+1}(s'_τ)) has entry (s,a) equal to Σr + Σ_{s'} N_h(s,a,s') V̄_{h+1}(s'),
    // so w_h(s,a) is that sum over n + λ, with no approximation. With β = 0 the bonus vanishes, and the
    // cap H − h is never active: by induction V̄_{h+1} ≤ H − h − 1, so w_h(s,a) ≤ n(1 + H − h − 1)/(n + λ)
    // < H − h. Hence Q̄ is backward induction on the "shrunk" model r̃ = Σr/(n+λ), P̃ = N/(n+λ),
    // for arbitrary data (uncovered pairs get Q̄ = 0), up to floating-point rounding.
    fc.assert(
      fc.property(tabularCase, ({ A, H, S, lambda, seed }) => {
        const m = randomTabular(S, A, H, seed)
        const rng = Rng.make(seed, 5)
        const data = sampleData(m, rng, () => rng.int(5)) // 0..4 visits: some pairs uncovered
        const learner = new Lsvi({ horizon: H, dim: S * A, actions: A, beta: 0, lambda }, featuresOf(oneHotFeatures(S, A)))
        feed(learner, data)
        const Q = empiricalValueIteration(m, countsOf(m, data), lambda)
        for (let h = 0; h < H; h++) {
          for (let s = 0; s < S; s++) {
            for (let a = 0; a < A; a++) {
              const q = learner.upperQ(h, s, a)
              expect(Math.abs(q - Q[rewardIndex(m, h, s, a)])).toBeLessThanOrEqual(1e-12 * H)
              expect(q).toBeLessThan(H - h) // the cap is inactive, as argued above
            }
          }
        }
      }),
      { seed: 31, numRuns: 100 }
    )
  })

  it("with every (s,a,h) covered n ≥ n_min times and λ = 1e-6: Q̄ = VI on (r̂, P̂) within λH²/n_min", () => {
    // From the identity above, Q̄ − Q̂ = −λ/(n+λ)·(r̂ + P̂V̄) + P̂(V̄ − V̂) at each step, so
    // |Q̄_h − Q̂_h| ≤ Σ_{steps ≥ h} λ H/n_min ≤ λH²/n_min (plus rounding from Sherman–Morrison with
    // a tiny λ, whose Λ⁻¹ starts at 1e6·I: a few 1e-10).
    fc.assert(
      fc.property(tabularCase, fc.integer({ min: 3, max: 8 }), ({ A, H, S, seed }, nMin) => {
        const lambda = 1e-6
        const m = randomTabular(S, A, H, seed)
        const rng = Rng.make(seed, 6)
        const data = sampleData(m, rng, () => nMin + rng.int(4))
        const learner = new Lsvi({ horizon: H, dim: S * A, actions: A, beta: 0, lambda }, featuresOf(oneHotFeatures(S, A)))
        feed(learner, data)
        const Qhat = empiricalValueIteration(m, countsOf(m, data), 0)
        const bound = (lambda * H * H) / nMin + 1e-8
        for (let h = 0; h < H; h++) {
          for (let s = 0; s < S; s++) {
            let best = 0
            let second = -Infinity
            for (let a = 0; a < A; a++) {
              const i = rewardIndex(m, h, s, a)
              expect(Math.abs(learner.upperQ(h, s, a) - Qhat[i])).toBeLessThanOrEqual(bound)
              if (a > 0 && Qhat[i] > Qhat[rewardIndex(m, h, s, best)]) best = a
            }
            for (let a = 0; a < A; a++) if (a !== best) second = Math.max(second, Qhat[rewardIndex(m, h, s, a)])
            // The learner acts greedily on the empirical model wherever the choice is clear.
            if (Qhat[rewardIndex(m, h, s, best)] - second > 2 * bound) expect(learner.act(h, s)).toBe(best)
          }
        }
      }),
      { seed: 32, numRuns: 100 }
    )
  })

  it("on a deterministic MDP, where P̂ = P, covered data makes Q̄ exact value iteration (optimalValues)", () => {
    fc.assert(
      fc.property(tabularCase, fc.integer({ min: 1, max: 4 }), ({ A, H, S, seed }, nMin) => {
        const lambda = 1e-6
        const m = randomTabular(S, A, H, seed, true)
        const data = sampleData(m, Rng.make(seed, 7), () => nMin)
        const learner = new Lsvi({ horizon: H, dim: S * A, actions: A, beta: 0, lambda }, featuresOf(oneHotFeatures(S, A)))
        feed(learner, data)
        const { Q } = optimalValues(m)
        for (let h = 0; h < H; h++) {
          for (let s = 0; s < S; s++) {
            for (let a = 0; a < A; a++) {
              expect(Math.abs(learner.upperQ(h, s, a) - Q[rewardIndex(m, h, s, a)])).toBeLessThanOrEqual(
                (lambda * H * H) / nMin + 1e-8
              )
            }
          }
        }
      }),
      { seed: 33, numRuns: 100 }
    )
  })
})


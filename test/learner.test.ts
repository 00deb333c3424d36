/**
 * LSVI-UCB and its pessimistic twin (src/learner/Lsvi.ts) against docs/algorithm.md §2: a direct,
 * unoptimised implementation of §2 written here from the raw list of transitions; the learner's w̄
 * and w̲ must agree with it to 1e-8 relative error. (β = 0 as value iteration: learner-vi.test.ts;
 * optimism, pessimism and the certificate: learner-invariants.test.ts.)
 *
 * Steps h are 0-based here as in the code: the cap of Q̄ at step h is H − h, and V̄_H ≡ 0.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { oneHotFeatures } from "../src/env/FiniteMdp.ts"
import { type Instance, makeInstance } from "../src/env/Instance.ts"
import { inverseSpd, type Matrix, maxRelativeError, scaledIdentity, solveSpd } from "../src/linalg/kernels.ts"
import { Lsvi, type LsviConfig } from "../src/learner/Lsvi.ts"
import * as Rng from "../src/rng/Rng.ts"
import { configFor, chainEnv, tabularEnv, linearEnv, featuresOf } from "./learnerCases.ts"
import type { Transition } from "./arbitraries.ts"

// ---------------------------------------------------------------------------------------------
// The direct formula of docs/algorithm.md §2, from the raw list of transitions

interface Direct {
  readonly wUpper: Float64Array
  readonly wLower: Float64Array
  /** inverseSpd(Λ_h), the direct inverse. */
  readonly LambdaInv: ReadonlyArray<Matrix>
  readonly upperQ: (h: number, s: number, a: number) => number
  readonly lowerQ: (h: number, s: number, a: number) => number
  /**
   * Number of greedy choices π_{h+1}(s') that floating-point noise could flip: another action within
   * 1e-9 (relative to the size of the terms) of the maximiser, unless the two are exactly tied below
   * the cap (identical computations) or the maximiser is capped with room to spare. V̄ = max is continuous, so such near-ties cannot move w̄; but π picks
   * which Q̲ enters w̲, so w̲ is only compared when there are none.
   */
  readonly fragile: number
}

const vdot = (x: ArrayLike<number>, xOff: number, y: ArrayLike<number>, yOff: number, d: number): number => {
  let s = 0
  for (let i = 0; i < d; i++) s += x[xOff + i] * y[yOff + i]
  return s
}

/** ‖x‖_B = √(xᵀBx), by explicit loops. */
const norm = (B: Matrix, x: ArrayLike<number>, off: number): number => {
  const d = B.shape[0]
  let s = 0
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) s += x[off + i] * B.data[i * d + j] * x[off + j]
  return Math.sqrt(Math.max(s, 0))
}

const direct = (config: LsviConfig, phiOf: (s: number) => Float64Array, data: ReadonlyArray<Transition>): Direct => {
  const { actions: A, beta, dim: d, horizon: H, lambda } = config
  const wUpper = new Float64Array(H * d)
  const wLower = new Float64Array(H * d)
  const LambdaInv: Array<Matrix> = new Array(H)
  let fragile = 0

  const parts = (h: number, s: number, a: number) => {
    const phi = phiOf(s)
    return {
      mean: vdot(wUpper, h * d, phi, a * d, d),
      meanLow: vdot(wLower, h * d, phi, a * d, d),
      bonus: beta * norm(LambdaInv[h], phi, a * d)
    }
  }
  const upperQ = (h: number, s: number, a: number): number => {
    const p = parts(h, s, a)
    return Math.min(p.mean + p.bonus, H - h)
  }
  const lowerQ = (h: number, s: number, a: number): number => {
    const p = parts(h, s, a)
    return Math.max(p.meanLow - p.bonus, 0)
  }
  /** π_h(s) = argmax_a Q̄_h(s,a), ties to the lowest index, and V̄_h(s). */
  const greedy = (h: number, s: number): { readonly a: number; readonly v: number } => {
    const cap = H - h
    const phi = phiOf(s)
    const raw: Array<number> = [] // wᵀφ + β‖φ‖ before the cap
    const size: Array<number> = [] // Σ|w_i φ_i| + β‖φ‖: the scale of the rounding in raw
    for (let a = 0; a < A; a++) {
      const p = parts(h, s, a)
      raw.push(p.mean + p.bonus)
      let m = p.bonus
      for (let i = 0; i < d; i++) m += Math.abs(wUpper[h * d + i] * phi[a * d + i])
      size.push(m)
    }
    const q = raw.map((u) => Math.min(u, cap))
    let best = 0
    for (let a = 1; a < A; a++) if (q[a] > q[best]) best = a
    // If the lowest-index maximiser is capped with room to spare, no rounding can let another beat it.
    const solidlyCapped = raw[best] - cap > 1e-9 * Math.max(size[best], cap)
    if (!solidlyCapped) {
      for (let a = 0; a < A; a++) {
        if (a === best) continue
        const exactUncappedTie = q[a] === q[best] && raw[a] < cap && raw[best] < cap // same numbers both ways
        if (!exactUncappedTie && Math.abs(q[a] - q[best]) <= 1e-9 * Math.max(size[a], size[best])) fragile++
      }
    }
    return { a: best, v: q[best] }
  }

  for (let h = H - 1; h >= 0; h--) {
    // Λ_h = λI + Σ_τ φ φᵀ, built explicitly.
    const Lambda = scaledIdentity(d, lambda)
    const rhsUpper = new Float64Array(d)
    const rhsLower = new Float64Array(d)
    for (const t of data) {
      if (t.h !== h) continue
      const phi = phiOf(t.s)
      const o = t.a * d
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) Lambda.data[i * d + j] += phi[o + i] * phi[o + j]
      let vUpper = 0 // V̄_H ≡ 0
      let vLower = 0
      if (h + 1 < H) {
        const g = greedy(h + 1, t.next)
        vUpper = g.v
        vLower = lowerQ(h + 1, t.next, g.a) // V̲_{h+1}(s') = Q̲_{h+1}(s', π_{h+1}(s'))
      }
      for (let i = 0; i < d; i++) {
        rhsUpper[i] += phi[o + i] * (t.r + vUpper)
        rhsLower[i] += phi[o + i] * (t.r + vLower)
      }
    }
    LambdaInv[h] = inverseSpd(Lambda)
    wUpper.set(solveSpd(Lambda, rhsUpper), h * d)
    wLower.set(solveSpd(Lambda, rhsLower), h * d)
  }
  return { wUpper, wLower, LambdaInv, upperQ, lowerQ, fragile }
}

/** The learner's weights agree with the direct ones: relative error ≤ 1e-8 (exact zeros stay zero). */
const agree = (actual: Float64Array, expected: Float64Array): boolean => {
  const scale = expected.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
  if (scale === 0) return actual.every((x) => Math.abs(x) <= 1e-300)
  return maxRelativeError(actual, expected) <= 1e-8
}

/** An instance that also records every transition it produces. */
const recording = (instance: Instance, log: Array<Transition>): Instance => ({
  ...instance,
  step: (h, s, a) => {
    const out = instance.step(h, s, a)
    log.push({ h, s, a, r: out.reward, next: out.next })
    return out
  }
})

// ---------------------------------------------------------------------------------------------

describe("LSVI-UCB: same numbers as the direct formula (§2)", () => {
  it("w̄, w̲, Λ⁻¹ and Q̄, Q̲ match the direct implementation to 1e-8 after every episode", () => {
    let compared = 0
    let lowerCompared = 0
    const cases = fc.record({
      env: fc.oneof(chainEnv(5, 5), linearEnv(6, 5, 4), tabularEnv(3, 3, 3), tabularEnv(8, 3, 3, true)),
      beta: fc.constantFrom(0, 0.2, 1, 4),
      lambda: fc.constantFrom(1, 0.5, 2.5),
      episodes: fc.integer({ min: 1, max: 10 }),
      explore: fc.constantFrom(0, 0.3, 1),
      seed: fc.nat()
    })
    fc.assert(
      fc.property(cases, ({ beta, env, episodes, explore, lambda, seed }) => {
        const config = configFor(env, beta, lambda)
        const { actions: A, horizon: H } = config
        const S = env.mdp.states
        const rng = Rng.make(seed)
        const instance = makeInstance(env.mdp, env.features, rng.split(1))
        const phiOf = featuresOf(env.features)
        const learner = new Lsvi(config, instance.features)
        const data: Array<Transition> = []
        learner.backup()
        for (let k = 0; k < episodes; k++) {
          // Mostly the learner's own greedy actions, with some uniformly random ones for coverage.
          let s = instance.reset()
          for (let h = 0; h < H; h++) {
            const a = rng.next() < explore ? rng.int(A) : learner.act(h, s)
            const { next, reward } = instance.step(h, s, a)
            data.push({ h, s, a, r: reward, next })
            learner.addTransition(h, s, a, reward, next)
            s = next
          }
          learner.backup()
          const ref = direct(config, phiOf, data)
          compared++
          expect(agree(learner.wUpper, ref.wUpper), `w̄ after episode ${k}, ${env.name}`).toBe(true)
          for (let h = 0; h < H; h++) {
            expect(maxRelativeError(learner.lambdaInverse(h).data, ref.LambdaInv[h].data)).toBeLessThanOrEqual(1e-10)
            for (let st = 0; st < S; st++) {
              for (let a = 0; a < A; a++) {
                expect(Math.abs(learner.upperQ(h, st, a) - ref.upperQ(h, st, a))).toBeLessThanOrEqual(1e-8 * H)
              }
            }
          }
          if (ref.fragile === 0) {
            lowerCompared++
            expect(agree(learner.wLower, ref.wLower), `w̲ after episode ${k}, ${env.name}`).toBe(true)
            for (let h = 0; h < H; h++) {
              for (let st = 0; st < S; st++) {
                for (let a = 0; a < A; a++) {
                  expect(Math.abs(learner.lowerQ(h, st, a) - ref.lowerQ(h, st, a))).toBeLessThanOrEqual(1e-8 * H)
                }
              }
            }
          }
        }
      }),
      { seed: 424242, numRuns: 60 }
    )
    // The near-tie escape hatch must stay an exception, or w̲ would be checked on nothing.
    expect(compared).toBeGreaterThan(100)
    expect(lowerCompared).toBeGreaterThanOrEqual(0.95 * compared)
  })

  it("the direct reference itself is right on a hand-computed case", () => {
    // One-hot, 1 state, 2 actions, H = 2, λ = 1, β = 1. Data: step 0 (s0,a0,r=1,s0); step 1 (s0,a1,r=0.5,·).
    // Step 1: Λ = diag(1,2), w̄ = (0, 0.25); Q̄_1(a0) = min(0 + 1, 1) = 1, Q̄_1(a1) = min(0.25 + 1/√2, 1) = 0.957…
    //         so π_1(s0) = a0, V̄_1 = 1; w̲_1 = (0, 0.25), Q̲_1(a0) = max(0 − 1, 0) = 0.
    // Step 0: Λ = diag(2,1), w̄ = ((1 + 1)/2, 0) = (1, 0), w̲ = ((1 + 0)/2, 0) = (0.5, 0).
    const config: LsviConfig = { horizon: 2, dim: 2, actions: 2, beta: 1, lambda: 1 }
    const phiOf = featuresOf(oneHotFeatures(1, 2))
    const data: Array<Transition> = [{ h: 0, s: 0, a: 0, r: 1, next: 0 }, { h: 1, s: 0, a: 1, r: 0.5, next: 0 }]
    const ref = direct(config, phiOf, data)
    const expected = { wUpper: [1, 0, 0, 0.25], wLower: [0.5, 0, 0, 0.25] }
    for (let i = 0; i < 4; i++) {
      expect(ref.wUpper[i]).toBeCloseTo(expected.wUpper[i], 14)
      expect(ref.wLower[i]).toBeCloseTo(expected.wLower[i], 14)
    }
    const learner = new Lsvi(config, phiOf)
    for (const t of data) learner.addTransition(t.h, t.s, t.a, t.r, t.next)
    learner.backup()
    for (let i = 0; i < 4; i++) {
      expect(learner.wUpper[i]).toBeCloseTo(expected.wUpper[i], 14)
      expect(learner.wLower[i]).toBeCloseTo(expected.wLower[i], 14)
    }
  })

  it("a tie of Q̄ at the cap goes to the lowest action, which decides the Q̲ that enters w̲", () => {
    // One-hot, 1 state, 2 actions, H = 2, λ = 1, β = 0.5. Step 1: a0 seen 8 times, a1 4 times, r = 1:
    //   Q̄_1(a0) = min(8/9 + 0.5/3, 1) = 1,  Q̄_1(a1) = min(4/5 + 0.5/√5, 1) = 1  (an exact tie at the cap)
    //   Q̲_1(a0) = 8/9 − 1/6 = 13/18,        Q̲_1(a1) = 4/5 − 0.5/√5
    // π_1(s0) = a0, so with one step-0 transition (a0, r = 0 → s0): w̲_0(a0) = (0 + 13/18)/2 = 13/36.
    const config: LsviConfig = { horizon: 2, dim: 2, actions: 2, beta: 0.5, lambda: 1 }
    const phiOf = featuresOf(oneHotFeatures(1, 2))
    const data: Array<Transition> = [
      ...Array.from({ length: 8 }, () => ({ h: 1, s: 0, a: 0, r: 1, next: 0 })),
      ...Array.from({ length: 4 }, () => ({ h: 1, s: 0, a: 1, r: 1, next: 0 })),
      { h: 0, s: 0, a: 0, r: 0, next: 0 }
    ]
    const learner = new Lsvi(config, phiOf)
    for (const t of data) learner.addTransition(t.h, t.s, t.a, t.r, t.next)
    learner.backup()
    expect(learner.upperQ(1, 0, 0)).toBe(1)
    expect(learner.upperQ(1, 0, 1)).toBe(1)
    expect(learner.act(1, 0)).toBe(0)
    expect(learner.wLower[0]).toBeCloseTo(13 / 36, 14)
    const ref = direct(config, phiOf, data)
    expect(ref.fragile).toBe(0)
    expect(ref.wLower[0]).toBeCloseTo(13 / 36, 14)
    expect(agree(learner.wLower, ref.wLower)).toBe(true)
  })
})


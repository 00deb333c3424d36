/**
 * The certificate at the start state (docs/algorithm.md §2), as `Lsvi.certificate` computes it with
 * its own loop (each bonus once) and a cache of the start state's greedy action: it must give the
 * numbers of the plain definition (`certificateOf`: V̄_1(s0) = max_a Q̄_1(s0,a) capped at H, ties to
 * the lowest action, and V̲_1(s0) = Q̲_1(s0, π_1(s0))), and acting at s0 afterwards must take that
 * same action. Found by the mutation audit: the cap H and the tie rule of that loop were untested,
 * and so was `pessimisticQ` (exported, used by no product code: its sign could be flipped).
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { type FeatureTable, oneHotFeatures } from "../src/env/FiniteMdp.ts"
import { makeInstance } from "../src/env/Instance.ts"
import { bonus, certificateOf, Lsvi, type LsviConfig, optimisticQ, pessimisticQ } from "../src/learner/Lsvi.ts"
import { zeros } from "../src/linalg/kernels.ts"
import * as Rng from "../src/rng/Rng.ts"
import { simplexLinearMdp, tabularMdp } from "./arbitraries.ts"

const featuresOf = (f: FeatureTable) => (state: number): Float64Array =>
  f.values.slice(state * f.actions * f.dim, (state + 1) * f.actions * f.dim)

describe("the certificate at s0 (§2) is the plain definition's, and acting at s0 follows it", () => {
  it("a fresh learner with a large β: Q̄ ties at the cap H for every action, so V̄ = H and π(s0) = 0", () => {
    // One-hot, one state, three actions, H = 2, λ = 1, β = 10: Q̄_1(s0,a) = min(0 + 10·1, 2) = 2 for all a;
    // Q̲_1(s0,a) = max(0 − 10, 0) = 0.
    const config: LsviConfig = { horizon: 2, dim: 3, actions: 3, beta: 10, lambda: 1 }
    const learner = new Lsvi(config, featuresOf(oneHotFeatures(1, 3)))
    learner.backup()
    expect(learner.certificate(0)).toEqual({ lower: 0, upper: 2, width: 2 })
    // The cached start action is the lowest of the tied ones.
    expect(learner.act(0, 0)).toBe(0)
  })

  it("after every episode, on tabular and linear MDPs: certificate(s0) = certificateOf, the same action at s0", () => {
    const envs = fc.oneof(
      tabularMdp({ maxStates: 4, maxActions: 3, minHorizon: 2, maxHorizon: 4 }),
      simplexLinearMdp({ maxStates: 4, maxActions: 3, minHorizon: 2, maxHorizon: 4 })
    )
    fc.assert(
      fc.property(envs, fc.constantFrom(0.3, 1, 10), fc.integer({ min: 1, max: 25 }), fc.nat(), ({ features, mdp }, beta, episodes, seed) => {
        const config: LsviConfig = { horizon: mdp.horizon, dim: features.dim, actions: mdp.actions, beta, lambda: 1 }
        const phi = featuresOf(features)
        // `learner` acts and reads its certificate; `plain` gets the same data, and is only read.
        const learner = new Lsvi(config, phi)
        const plain = new Lsvi(config, phi)
        const instance = makeInstance(mdp, features, Rng.make(seed, 1))
        const s0 = instance.reset()
        learner.backup()
        plain.backup()
        for (let k = 0; k <= episodes; k++) {
          const mine = learner.certificate(s0)
          const expected = certificateOf(plain, s0)
          expect(mine).toEqual(expected)
          expect(mine.upper).toBeLessThanOrEqual(mdp.horizon)
          expect(learner.act(0, s0)).toBe(plain.act(0, s0))
          let s = instance.reset()
          for (let h = 0; h < mdp.horizon; h++) {
            const a = learner.act(h, s)
            const { next, reward } = instance.step(h, s, a)
            learner.addTransition(h, s, a, reward, next)
            plain.addTransition(h, s, a, reward, next)
            s = next
          }
          learner.backup()
          plain.backup()
        }
      }),
      { numRuns: 60, seed: 20261130 }
    )
  })
})

describe("the Q formulas of §2 as exported (optimisticQ, pessimisticQ), by hand", () => {
  it("Q̄ = min{wᵀφ + β‖φ‖_{Λ⁻¹}, cap} and Q̲ = max{wᵀφ − β‖φ‖_{Λ⁻¹}, 0}", () => {
    // Λ⁻¹ = diag(4, 1), w = (0.5, 2), φ = e_1: wᵀφ = 0.5, ‖φ‖_{Λ⁻¹} = 2.
    const LambdaInv = zeros(2, 2)
    LambdaInv.data.set([4, 0, 0, 1])
    const w = Float64Array.of(0.5, 2)
    const phi = Float64Array.of(1, 0)
    expect(bonus(LambdaInv, 0.1, phi, 0)).toBeCloseTo(0.2, 15)
    expect(optimisticQ(w, LambdaInv, 0, 0.1, 1, phi, 0, 2)).toBeCloseTo(0.7, 15)
    expect(pessimisticQ(w, LambdaInv, 0, 0.1, phi, 0, 2)).toBeCloseTo(0.3, 15)
    // β = 1: the cap and the floor bind.
    expect(optimisticQ(w, LambdaInv, 0, 1, 1, phi, 0, 2)).toBe(1)
    expect(pessimisticQ(w, LambdaInv, 0, 1, phi, 0, 2)).toBe(0)
  })
})

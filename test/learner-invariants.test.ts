/**
 * Optimism, pessimism and the certificate of LSVI-UCB (docs/algorithm.md §6 items 1, 2) on small
 * finite linear MDPs, with the β = 0 controls that show those checks can fail.
 *
 * Steps h are 0-based here as in the code: the cap of Q̄ at step h is H − h, and V̄_H ≡ 0.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { runEpisode } from "../src/agent/episodes.ts"
import { rewardIndex } from "../src/env/FiniteMdp.ts"
import { type Instance, makeInstance } from "../src/env/Instance.ts"
import { optimalValues, policyValues } from "../src/env/solve.ts"
import { Lsvi, policyTable } from "../src/learner/Lsvi.ts"
import * as Rng from "../src/rng/Rng.ts"
import { type Env, configFor, chainEnv, tabularEnv, linearEnv, featuresOf } from "./learnerCases.ts"

// ---------------------------------------------------------------------------------------------
// Optimism, pessimism, certificate (§6 items 1, 2)

/** docs/algorithm.md §2, theory mode with c_β = 1: β = d·H·√ι, ι = log(2dT/δ), T = K·H. */
const theoryBeta = (d: number, H: number, K: number, delta: number): number =>
  d * H * Math.sqrt(Math.log((2 * d * K * H) / delta))

/**
 * A β sufficient for one-hot features, small enough that Q̄ drops below its cap and Q̲ rises above 0
 * within a short run (so the checks below are not vacuous). With φ = e_{(s,a)} and deterministic
 * rewards, Q̄ − Q* ≥ β/√(n+λ) − λ(H−h)/(n+λ) − n/(n+λ)·‖P̂ − P‖₁·H (induction on h, V̄_{h+1} ≥ V*_{h+1}),
 * and the L1 deviation bound ‖P̂ − P‖₁ ≤ √(2(S ln 2 + ln(1/δ'))/n) (Weissman et al. 2003), union-bounded
 * over (h, s, a, n ≤ K) with δ' = δ/(HSAK), makes that ≥ 0 when β ≥ H(λ + √(2(S ln 2 + ln(HSAK/δ))))
 * and λ = 1. The same L1 bound holds for every V at once, so it also covers the data-dependent V^π
 * of the pessimistic twin: Q̲ − Q^π ≤ n/(n+λ)(P̂ − P)V^π − β/√(n+λ) ≤ 0.
 */
const tabularBeta = (S: number, A: number, H: number, K: number, delta: number): number =>
  H * (1 + Math.sqrt(2 * (S * Math.LN2 + Math.log((H * S * A * K) / delta))))

type BetaRule = "theory" | "tabular" | "zero"

interface RunCase {
  readonly env: Env
  readonly episodes: number
  readonly seed: number
}

const betaOf = (rule: BetaRule, c: RunCase): number => {
  const { actions: A, horizon: H, states: S } = c.env.mdp
  switch (rule) {
    case "theory":
      return theoryBeta(c.env.features.dim, H, c.episodes, 0.1)
    case "tabular":
      return tabularBeta(S, A, H, c.episodes, 0.1)
    case "zero":
      return 0
  }
}

/**
 * Runs `episodes` greedy episodes of LSVI-UCB (src/agent/episodes.ts) and calls `check` after every
 * backup, including the one before any data; returns false as soon as a check fails.
 */
const runChecking = (c: RunCase, beta: number, check: (learner: Lsvi, instance: Instance) => boolean): boolean => {
  const instance = makeInstance(c.env.mdp, c.env.features, Rng.make(c.seed, 3))
  const learner = new Lsvi(configFor(c.env, beta), instance.features)
  learner.backup()
  if (!check(learner, instance)) return false
  for (let k = 0; k < c.episodes; k++) {
    runEpisode(learner, instance)
    learner.backup()
    if (!check(learner, instance)) return false
  }
  return true
}

const runCases = (episodes: number): fc.Arbitrary<RunCase> =>
  fc.record({
    env: fc.oneof(chainEnv(4, 4), tabularEnv(3, 2, 3)),
    episodes: fc.constant(episodes),
    seed: fc.nat()
  })

const linearRunCases = (episodes: number): fc.Arbitrary<RunCase> =>
  fc.record({ env: linearEnv(5, 3, 3), episodes: fc.constant(episodes), seed: fc.nat() })

/**
 * Long runs on the smallest MDPs, so that the bonus shrinks: Q̄ falls below its cap, Q̲ rises above 0
 * and the certificate narrows, and the checks bind instead of holding trivially.
 */
const longRunCases = (episodes: number): fc.Arbitrary<RunCase> =>
  fc.record({
    env: fc.oneof(chainEnv(3, 3), tabularEnv(2, 2, 2)),
    episodes: fc.constant(episodes),
    seed: fc.nat()
  })

/** d = 2 random linear MDPs with H = 2, where the theory β of a long run leaves Q̄ below its cap. */
const longLinearRunCases = (episodes: number): fc.Arbitrary<RunCase> =>
  fc.record({ env: linearEnv(4, 2, 2), episodes: fc.constant(episodes), seed: fc.nat() })

/** Counters that make sure the properties were exercised where they bind. */
interface Tally {
  belowCap: number
  aboveZero: number
  narrow: number
}

const newTally = (): Tally => ({ belowCap: 0, aboveZero: 0, narrow: 0 })

const optimistic = (c: RunCase, beta: number, tally?: Tally): boolean => {
  const m = c.env.mdp
  const { Q } = optimalValues(m)
  return runChecking(c, beta, (learner) => {
    for (let h = 0; h < m.horizon; h++) {
      for (let s = 0; s < m.states; s++) {
        for (let a = 0; a < m.actions; a++) {
          const q = learner.upperQ(h, s, a)
          if (tally !== undefined && q < m.horizon - h) tally.belowCap++
          if (q < Q[rewardIndex(m, h, s, a)] - 1e-9) return false
        }
      }
    }
    return true
  })
}

const greedyPolicy = (learner: Lsvi, env: Env): Int32Array =>
  policyTable(learner.policy(), env.mdp.states, featuresOf(env.features))

const pessimistic = (c: RunCase, beta: number, tally?: Tally): boolean => {
  const m = c.env.mdp
  return runChecking(c, beta, (learner) => {
    const pi = greedyPolicy(learner, c.env)
    const { Q } = policyValues(m, pi)
    for (let h = 0; h < m.horizon; h++) {
      for (let s = 0; s < m.states; s++) {
        const a = pi[h * m.states + s]
        const q = learner.lowerQ(h, s, a)
        if (tally !== undefined && q > 0) tally.aboveZero++
        if (q > Q[rewardIndex(m, h, s, a)] + 1e-9) return false
      }
    }
    return true
  })
}

const certified = (c: RunCase, beta: number, tally?: Tally): boolean => {
  const m = c.env.mdp
  const star = optimalValues(m)
  return runChecking(c, beta, (learner) => {
    const pi = greedyPolicy(learner, c.env)
    // The snapshot policy is the learner's own greedy policy.
    for (let h = 0; h < m.horizon; h++) {
      for (let s = 0; s < m.states; s++) if (learner.act(h, s) !== pi[h * m.states + s]) return false
    }
    const vPi = policyValues(m, pi).V[m.start]
    const vStar = star.V[m.start]
    const cert = learner.certificate(m.start)
    if (tally !== undefined && cert.width < m.horizon) tally.narrow++
    const tol = 1e-9
    return cert.lower <= vPi + tol && vPi <= vStar + tol && vStar <= cert.upper + tol &&
      Math.abs(cert.width - (cert.upper - cert.lower)) <= 1e-12
  })
}

/** fc.assert must find a counterexample: the property is able to fail. */
const expectFalsified = (arb: fc.Arbitrary<RunCase>, prop: (c: RunCase) => boolean, seed: number): void => {
  const details = fc.check(fc.property(arb, prop), { seed, numRuns: 40 })
  expect(details.failed, "expected a counterexample").toBe(true)
}

describe("optimism (§6.1): Q̄_h(s,a) ≥ Q*_h(s,a) for all s, a, h at every episode", () => {
  it("holds with theory β (c_β = 1) on linear chains and random tabular MDPs (one-hot)", () => {
    fc.assert(fc.property(runCases(25), (c) => optimistic(c, betaOf("theory", c))), { seed: 101, numRuns: 15 })
  })

  it("holds with theory β on random linear MDPs, also in long runs where Q̄ is below its cap", () => {
    fc.assert(fc.property(linearRunCases(25), (c) => optimistic(c, betaOf("theory", c))), { seed: 102, numRuns: 15 })
    const tally = newTally()
    fc.assert(fc.property(longLinearRunCases(600), (c) => optimistic(c, betaOf("theory", c), tally)), {
      seed: 106,
      numRuns: 6
    })
    expect(tally.belowCap).toBeGreaterThan(100)
  })

  it("holds with the smaller tabular β in long runs, where Q̄ is often below its cap (not vacuous)", () => {
    const tally = newTally()
    fc.assert(fc.property(longRunCases(600), (c) => optimistic(c, betaOf("tabular", c), tally)), {
      seed: 103,
      numRuns: 8
    })
    expect(tally.belowCap).toBeGreaterThan(100)
  })

  it("FAILS with β = 0 on some generated MDP (the check can fail)", () => {
    expectFalsified(runCases(25), (c) => optimistic(c, betaOf("zero", c)), 104)
    expectFalsified(linearRunCases(25), (c) => optimistic(c, betaOf("zero", c)), 105)
  })
})

describe("pessimism (§6.2): Q̲_h(s, π_h(s)) ≤ Q^π_h(s, π_h(s)) for the greedy π of Q̄", () => {
  it("holds with theory β", () => {
    fc.assert(fc.property(runCases(25), (c) => pessimistic(c, betaOf("theory", c))), { seed: 201, numRuns: 15 })
    fc.assert(fc.property(linearRunCases(25), (c) => pessimistic(c, betaOf("theory", c))), { seed: 202, numRuns: 15 })
  })

  it("holds with the smaller tabular β in long runs, where Q̲ is often above 0 (not vacuous)", () => {
    const tally = newTally()
    fc.assert(fc.property(longRunCases(600), (c) => pessimistic(c, betaOf("tabular", c), tally)), {
      seed: 203,
      numRuns: 8
    })
    expect(tally.aboveZero).toBeGreaterThan(100)
  })

  it("FAILS with β = 0 on some generated MDP (the check can fail)", () => {
    expectFalsified(runCases(40), (c) => pessimistic(c, betaOf("zero", c)), 204)
  })
})

describe("certificate: V̲_1(s0) ≤ V^π(s0) ≤ V*(s0) ≤ V̄_1(s0) at every episode", () => {
  it("holds with theory β", () => {
    fc.assert(fc.property(runCases(25), (c) => certified(c, betaOf("theory", c))), { seed: 301, numRuns: 15 })
    fc.assert(fc.property(linearRunCases(25), (c) => certified(c, betaOf("theory", c))), { seed: 302, numRuns: 15 })
  })

  it("holds with the tabular β in long runs, where the width falls below the trivial H", () => {
    const tally = newTally()
    fc.assert(fc.property(longRunCases(600), (c) => certified(c, betaOf("tabular", c), tally)), {
      seed: 303,
      numRuns: 8
    })
    expect(tally.narrow).toBeGreaterThan(100)
  })

  it("FAILS with β = 0 on some generated MDP (the check can fail)", () => {
    expectFalsified(runCases(25), (c) => certified(c, betaOf("zero", c)), 304)
  })
})


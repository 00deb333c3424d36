/**
 * LSVI-UCB and its pessimistic twin (src/learner/Lsvi.ts) against docs/algorithm.md §2 and §6.
 *
 * - "same numbers": a direct, unoptimised implementation of §2 written here from the raw list of
 *   transitions; the learner's w̄ and w̲ must agree with it to 1e-8 relative error.
 * - β = 0 on one-hot features is value iteration on the empirical model (§6 item 4).
 * - optimism, pessimism and the certificate (§6 items 1, 2) on small finite linear MDPs, with the
 *   β = 0 controls that show those checks can fail.
 *
 * Steps h are 0-based here as in the code: the cap of Q̄ at step h is H − h, and V̄_H ≡ 0.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { runEpisode } from "../src/agent/episodes.ts"
import { type FeatureTable, type FiniteMdp, oneHotFeatures, rewardIndex } from "../src/env/FiniteMdp.ts"
import { type Instance, makeInstance } from "../src/env/Instance.ts"
import { buildLinearChain } from "../src/env/linearChain.ts"
import { buildRandomLinear, randomLinearFeatures } from "../src/env/randomLinear.ts"
import { optimalValues, policyValues } from "../src/env/solve.ts"
import { inverseSpd, type Matrix, maxRelativeError, scaledIdentity, solveSpd } from "../src/linalg/kernels.ts"
import { Lsvi, type LsviConfig, policyTable } from "../src/learner/Lsvi.ts"
import * as Rng from "../src/rng/Rng.ts"

// ---------------------------------------------------------------------------------------------
// Environments

interface Env {
  readonly name: string
  readonly mdp: FiniteMdp
  readonly features: FeatureTable
}

const featuresOf = (f: FeatureTable) => (state: number): Float64Array =>
  f.values.slice(state * f.actions * f.dim, (state + 1) * f.actions * f.dim)

/** A random tabular MDP from a seed (deterministic rewards in [0,1], some sparse rows). */
const randomTabular = (states: number, actions: number, horizon: number, seed: number, deterministic = false): FiniteMdp => {
  const rng = Rng.make(seed, 77)
  const reward = Float64Array.from({ length: horizon * states * actions }, () => rng.next())
  const transition = new Float64Array(horizon * states * actions * states)
  for (let row = 0; row < horizon * states * actions; row++) {
    if (deterministic) {
      transition[row * states + rng.int(states)] = 1
      continue
    }
    let total = 0
    for (let t = 0; t < states; t++) {
      const w = rng.next() < 0.3 ? 0 : -Math.log(1 - rng.next())
      transition[row * states + t] = w
      total += w
    }
    if (total === 0) transition[row * states + rng.int(states)] = 1
    else for (let t = 0; t < states; t++) transition[row * states + t] /= total
  }
  return { horizon, states, actions, start: 0, reward, transition }
}

const chainEnv = (maxLength: number, maxHorizon: number): fc.Arbitrary<Env> =>
  fc.integer({ min: 3, max: maxLength }).chain((length) =>
    fc.record({
      horizon: fc.integer({ min: 2, max: maxHorizon }),
      distractor: fc.double({ min: 0, max: 0.3, noNaN: true }),
      goal: fc.integer({ min: 1, max: length - 1 }),
      reward: fc.double({ min: 0.3, max: 1, noNaN: true }),
      slip: fc.double({ min: 0, max: 0.4, noNaN: true })
    }).map((c) => {
      const mdp = buildLinearChain({ length, horizon: c.horizon, distractor: c.distractor }, c)
      return { name: `chain ${JSON.stringify({ length, ...c })}`, mdp, features: oneHotFeatures(length, 2) }
    })
  )

const tabularEnv = (maxStates: number, maxActions: number, maxHorizon: number): fc.Arbitrary<Env> =>
  fc.record({
    S: fc.integer({ min: 2, max: maxStates }),
    A: fc.integer({ min: 2, max: maxActions }),
    H: fc.integer({ min: 2, max: maxHorizon }),
    seed: fc.nat()
  }).map(({ A, H, S, seed }) => ({
    name: `tabular ${JSON.stringify({ S, A, H, seed })}`,
    mdp: randomTabular(S, A, H, seed),
    features: oneHotFeatures(S, A)
  }))

const linearEnv = (maxStates: number, maxDim: number, maxHorizon: number): fc.Arbitrary<Env> =>
  fc.record({
    states: fc.integer({ min: 3, max: maxStates }),
    actions: fc.integer({ min: 2, max: 3 }),
    dim: fc.integer({ min: 2, max: maxDim }),
    horizon: fc.integer({ min: 2, max: maxHorizon }),
    seed: fc.nat(),
    context: fc.nat()
  }).map((p) => ({
    name: `random linear ${JSON.stringify(p)}`,
    mdp: buildRandomLinear(p, { seed: p.context }),
    features: randomLinearFeatures(p)
  }))

const configFor = (env: Env, beta: number, lambda = 1): LsviConfig => ({
  horizon: env.mdp.horizon,
  dim: env.features.dim,
  actions: env.mdp.actions,
  beta,
  lambda
})

// ---------------------------------------------------------------------------------------------
// The direct formula of docs/algorithm.md §2, from the raw list of transitions

interface Transition {
  readonly h: number
  readonly s: number
  readonly a: number
  readonly r: number
  readonly next: number
}

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
      env: fc.oneof(chainEnv(5, 5), linearEnv(6, 5, 4), tabularEnv(3, 3, 3)),
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

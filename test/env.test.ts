/**
 * Environments and exact ground truth (docs/algorithm.md §1 and §5): the tables of the linear chain and
 * of the random linear MDP are valid linear MDPs, and the solvers of src/env/solve.ts agree with
 * independent computations (brute force over deterministic policies, forward propagation of the
 * state distribution, sorting for the separation).
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import {
  type FeatureTable,
  type FiniteMdp,
  oneHotFeatures,
  rewardIndex,
  transitionOffset
} from "../src/env/FiniteMdp.ts"
import { buildLinearChain, LEFT, RIGHT } from "../src/env/linearChain.ts"
import { buildRandomLinear, randomLinearFeatures, type RandomLinearParams } from "../src/env/randomLinear.ts"
import { optimalValues, policyValues, separation } from "../src/env/solve.ts"
import { solveSpd, zeros } from "../src/linalg/kernels.ts"
import * as Rng from "../src/rng/Rng.ts"

// ---------------------------------------------------------------------------------------------
// Generators

const unit = fc.double({ min: 0, max: 1, noNaN: true })

const chainCase = fc.integer({ min: 2, max: 7 }).chain((length) =>
  fc.record({
    params: fc.record({ length: fc.constant(length), horizon: fc.integer({ min: 1, max: 6 }), distractor: unit }),
    context: fc.record({ goal: fc.integer({ min: 0, max: length - 1 }), reward: unit, slip: unit })
  })
)

const linearParams: fc.Arbitrary<RandomLinearParams> = fc.record({
  states: fc.integer({ min: 2, max: 8 }),
  actions: fc.integer({ min: 1, max: 4 }),
  dim: fc.integer({ min: 1, max: 6 }),
  horizon: fc.integer({ min: 1, max: 5 }),
  seed: fc.nat()
})

/** A random tabular MDP drawn from a seed: rewards in [0,1], some transition rows sparse. */
const randomTabular = (states: number, actions: number, horizon: number, seed: number): FiniteMdp => {
  const rng = Rng.make(seed, 99)
  const reward = Float64Array.from({ length: horizon * states * actions }, () => rng.next())
  const transition = new Float64Array(horizon * states * actions * states)
  for (let row = 0; row < horizon * states * actions; row++) {
    let total = 0
    for (let t = 0; t < states; t++) {
      const w = rng.next() < 0.3 ? 0 : -Math.log(1 - rng.next())
      transition[row * states + t] = w
      total += w
    }
    if (total === 0) {
      transition[row * states + rng.int(states)] = 1
    } else {
      for (let t = 0; t < states; t++) transition[row * states + t] /= total
    }
  }
  return { horizon, states, actions, start: rng.int(states), reward, transition }
}

/** Tiny MDPs for brute force: A^(H·S) ≤ 2^9 deterministic Markov policies. */
const tinyMdp: fc.Arbitrary<FiniteMdp> = fc.oneof(
  fc.record({
    S: fc.integer({ min: 1, max: 3 }),
    A: fc.integer({ min: 1, max: 2 }),
    H: fc.integer({ min: 1, max: 3 }),
    seed: fc.nat()
  }).map(({ A, H, S, seed }) => randomTabular(S, A, H, seed)),
  fc.record({
    length: fc.integer({ min: 2, max: 3 }),
    horizon: fc.integer({ min: 1, max: 3 }),
    distractor: unit,
    goal: fc.integer({ min: 0, max: 1 }),
    reward: unit,
    slip: unit
  }).map((c) => buildLinearChain(c, c)),
  fc.record({
    states: fc.integer({ min: 2, max: 3 }),
    actions: fc.integer({ min: 1, max: 2 }),
    dim: fc.integer({ min: 1, max: 3 }),
    horizon: fc.integer({ min: 1, max: 3 }),
    seed: fc.nat(),
    context: fc.nat()
  }).map((p) => buildRandomLinear(p, { seed: p.context }))
)

/** Somewhat larger MDPs for the checks that do not enumerate policies. */
const smallMdp: fc.Arbitrary<FiniteMdp> = fc.oneof(
  fc.record({
    S: fc.integer({ min: 1, max: 6 }),
    A: fc.integer({ min: 1, max: 4 }),
    H: fc.integer({ min: 1, max: 6 }),
    seed: fc.nat()
  }).map(({ A, H, S, seed }) => randomTabular(S, A, H, seed)),
  chainCase.map(({ context, params }) => buildLinearChain(params, context)),
  fc.tuple(linearParams, fc.nat()).map(([p, c]) => buildRandomLinear(p, { seed: c }))
)

// ---------------------------------------------------------------------------------------------
// Independent helpers

const expectValidTables = (m: FiniteMdp): void => {
  const { actions: A, horizon: H, states: S } = m
  expect(m.reward.length).toBe(H * S * A)
  expect(m.transition.length).toBe(H * S * A * S)
  expect(m.start).toBeGreaterThanOrEqual(0)
  expect(m.start).toBeLessThan(S)
  for (let h = 0; h < H; h++) {
    for (let s = 0; s < S; s++) {
      for (let a = 0; a < A; a++) {
        const r = m.reward[rewardIndex(m, h, s, a)]
        expect(r).toBeGreaterThanOrEqual(0)
        expect(r).toBeLessThanOrEqual(1)
        const o = transitionOffset(m, h, s, a)
        let total = 0
        for (let t = 0; t < S; t++) {
          expect(m.transition[o + t]).toBeGreaterThanOrEqual(0)
          total += m.transition[o + t]
        }
        expect(Math.abs(total - 1)).toBeLessThanOrEqual(1e-12)
      }
    }
  }
}

const expectValidFeatures = (f: FeatureTable, states: number, actions: number): void => {
  expect(f.states).toBe(states)
  expect(f.actions).toBe(actions)
  expect(f.values.length).toBe(states * actions * f.dim)
  for (let sa = 0; sa < states * actions; sa++) {
    let n2 = 0
    for (let i = 0; i < f.dim; i++) {
      expect(Number.isFinite(f.values[sa * f.dim + i])).toBe(true)
      n2 += f.values[sa * f.dim + i] ** 2
    }
    expect(Math.sqrt(n2)).toBeLessThanOrEqual(1 + 1e-12)
  }
}

/**
 * E[Σ_{h ≥ h0} r_h] under a deterministic policy from state s at step h0, by pushing the state
 * distribution forward (no backward induction: independent of solve.ts).
 */
const forwardReturn = (m: FiniteMdp, policy: ArrayLike<number>, h0: number, s0: number): number => {
  const { horizon: H, states: S } = m
  let dist = new Float64Array(S)
  dist[s0] = 1
  let total = 0
  for (let h = h0; h < H; h++) {
    const next = new Float64Array(S)
    for (let s = 0; s < S; s++) {
      if (dist[s] === 0) continue
      const a = policy[h * S + s]
      total += dist[s] * m.reward[rewardIndex(m, h, s, a)]
      const o = transitionOffset(m, h, s, a)
      for (let t = 0; t < S; t++) next[t] += dist[s] * m.transition[o + t]
    }
    dist = next
  }
  return total
}

/** All A^(H·S) deterministic Markov policies as tables `actions[h·S + s]`. */
const allPolicies = (m: FiniteMdp): Array<Int32Array> => {
  const n = m.horizon * m.states
  const out: Array<Int32Array> = []
  const current = new Int32Array(n)
  const go = (i: number): void => {
    if (i === n) {
      out.push(Int32Array.from(current))
      return
    }
    for (let a = 0; a < m.actions; a++) {
      current[i] = a
      go(i + 1)
    }
  }
  go(0)
  return out
}

const greedyTable = (m: FiniteMdp, Q: Float64Array): Int32Array => {
  const out = new Int32Array(m.horizon * m.states)
  for (let h = 0; h < m.horizon; h++) {
    for (let s = 0; s < m.states; s++) {
      let best = 0
      for (let a = 1; a < m.actions; a++) {
        if (Q[rewardIndex(m, h, s, a)] > Q[rewardIndex(m, h, s, best)]) best = a
      }
      out[h * m.states + s] = best
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------

describe("linear chain", () => {
  it("has valid tables and one-hot features", () => {
    fc.assert(
      fc.property(chainCase, ({ context, params }) => {
        const m = buildLinearChain(params, context)
        expect(m.states).toBe(params.length)
        expect(m.actions).toBe(2)
        expect(m.horizon).toBe(params.horizon)
        expect(m.start).toBe(0)
        expectValidTables(m)
        const f = oneHotFeatures(m.states, m.actions)
        expect(f.dim).toBe(m.states * m.actions)
        expectValidFeatures(f, m.states, m.actions)
        // One-hot: φ(s,a) = e_{s·A+a}, so distinct pairs are orthogonal unit vectors.
        for (let sa = 0; sa < m.states * m.actions; sa++) {
          for (let i = 0; i < f.dim; i++) expect(f.values[sa * f.dim + i]).toBe(i === sa ? 1 : 0)
        }
      }),
      { seed: 1, numRuns: 100 }
    )
  })

  it("moves as documented: left for sure, right with probability 1 − slip, goal pays every action", () => {
    fc.assert(
      fc.property(chainCase, ({ context, params }) => {
        const m = buildLinearChain(params, context)
        const S = m.states
        for (let h = 0; h < m.horizon; h++) {
          for (let s = 0; s < S; s++) {
            const left = Math.max(s - 1, 0)
            const right = Math.min(s + 1, S - 1)
            expect(m.transition[transitionOffset(m, h, s, LEFT) + left]).toBe(1)
            const oR = transitionOffset(m, h, s, RIGHT)
            if (left === right) expect(m.transition[oR + right]).toBeCloseTo(1, 14)
            else {
              expect(m.transition[oR + right]).toBeCloseTo(1 - context.slip, 14)
              expect(m.transition[oR + left]).toBeCloseTo(context.slip, 14)
            }
            const rL = s === context.goal ? context.reward : s === 0 ? params.distractor : 0
            const rR = s === context.goal ? context.reward : 0
            expect(m.reward[rewardIndex(m, h, s, LEFT)]).toBe(rL)
            expect(m.reward[rewardIndex(m, h, s, RIGHT)]).toBe(rR)
          }
        }
      }),
      { seed: 2, numRuns: 100 }
    )
  })
})

describe("random linear MDP", () => {
  it("has valid tables and features on the simplex (so ‖φ‖₂ ≤ ‖φ‖₁ = 1)", () => {
    fc.assert(
      fc.property(linearParams, fc.nat(), (p, c) => {
        const m = buildRandomLinear(p, { seed: c })
        expectValidTables(m)
        const f = randomLinearFeatures(p)
        expect(f.dim).toBe(p.dim)
        expectValidFeatures(f, p.states, p.actions)
        for (let sa = 0; sa < p.states * p.actions; sa++) {
          let sum = 0
          for (let i = 0; i < p.dim; i++) {
            expect(f.values[sa * p.dim + i]).toBeGreaterThanOrEqual(0)
            sum += f.values[sa * p.dim + i]
          }
          expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-12)
        }
        // Stationary in h, as documented (a special case of the stage-dependent model).
        const SA = p.states * p.actions
        for (let h = 1; h < p.horizon; h++) {
          expect(m.reward.subarray(h * SA, (h + 1) * SA)).toEqual(m.reward.subarray(0, SA))
          expect(m.transition.subarray(h * SA * p.states, (h + 1) * SA * p.states)).toEqual(
            m.transition.subarray(0, SA * p.states)
          )
        }
        // Reproducible from the seeds; the features do not depend on the context.
        expect(buildRandomLinear(p, { seed: c })).toEqual(m)
        expect(randomLinearFeatures(p)).toEqual(f)
      }),
      { seed: 3, numRuns: 100 }
    )
  })

  it("really is linear: least squares on φ recovers θ and μ with zero residual", () => {
    // With S·A ≥ d + 2 rows, a non-linear r or P would leave a residual, so this check can fail.
    const overdetermined = linearParams.filter((p) => p.states * p.actions >= p.dim + 2)
    fc.assert(
      fc.property(overdetermined, fc.nat(), (p, c) => {
        const m = buildRandomLinear(p, { seed: c })
        const phi = randomLinearFeatures(p).values
        const { actions: A, dim: d, horizon: H, states: S } = p
        const rows = S * A
        // Normal equations (ΦᵀΦ) x = Φᵀ y; Φ has Dirichlet rows, full column rank almost surely.
        const G = zeros(d, d)
        for (let k = 0; k < rows; k++) {
          for (let i = 0; i < d; i++) {
            for (let j = 0; j < d; j++) G.data[i * d + j] += phi[k * d + i] * phi[k * d + j]
          }
        }
        const fit = (y: (row: number) => number): { residual: number; coef: Float64Array } => {
          const rhs = new Float64Array(d)
          for (let k = 0; k < rows; k++) for (let i = 0; i < d; i++) rhs[i] += phi[k * d + i] * y(k)
          const coef = solveSpd(G, rhs)
          let residual = 0
          for (let k = 0; k < rows; k++) {
            let fitted = 0
            for (let i = 0; i < d; i++) fitted += phi[k * d + i] * coef[i]
            residual = Math.max(residual, Math.abs(fitted - y(k)))
          }
          return { residual, coef }
        }
        for (let h = 0; h < H; h++) {
          // rows k = s·A + a, the feature order; reward index (h·S + s)·A + a = h·S·A + k.
          const theta = fit((k) => m.reward[h * rows + k])
          expect(theta.residual).toBeLessThanOrEqual(1e-8)
          for (let t = 0; t < S; t++) {
            const mu = fit((k) => m.transition[(h * rows + k) * S + t])
            expect(mu.residual).toBeLessThanOrEqual(1e-8)
          }
        }
      }),
      { seed: 4, numRuns: 80 }
    )
  })

  it("the least-squares check detects a non-linear reward (the check above can fail)", () => {
    const p: RandomLinearParams = { states: 5, actions: 2, dim: 3, horizon: 1, seed: 12 }
    const m = buildRandomLinear(p, { seed: 1 })
    const phi = randomLinearFeatures(p).values
    const d = p.dim
    const G = zeros(d, d)
    const rhs = new Float64Array(d)
    const y = Float64Array.from(m.reward)
    y[3] += 1e-3 // break linearity in one entry
    for (let k = 0; k < 10; k++) {
      for (let i = 0; i < d; i++) {
        rhs[i] += phi[k * d + i] * y[k]
        for (let j = 0; j < d; j++) G.data[i * d + j] += phi[k * d + i] * phi[k * d + j]
      }
    }
    const coef = solveSpd(G, rhs)
    let residual = 0
    for (let k = 0; k < 10; k++) {
      let fitted = 0
      for (let i = 0; i < d; i++) fitted += phi[k * d + i] * coef[i]
      residual = Math.max(residual, Math.abs(fitted - y[k]))
    }
    expect(residual).toBeGreaterThan(1e-5)
  })
})

describe("exact solvers", () => {
  it("optimalValues agrees with brute force over all deterministic policies, at every (h, s)", () => {
    fc.assert(
      fc.property(tinyMdp, (m) => {
        const { V } = optimalValues(m)
        const policies = allPolicies(m)
        for (let h = 0; h < m.horizon; h++) {
          for (let s = 0; s < m.states; s++) {
            let best = -Infinity
            for (const pi of policies) best = Math.max(best, forwardReturn(m, pi, h, s))
            expect(Math.abs(V[h * m.states + s] - best)).toBeLessThanOrEqual(1e-12)
          }
        }
        for (let s = 0; s < m.states; s++) expect(V[m.horizon * m.states + s]).toBe(0)
      }),
      { seed: 5, numRuns: 60 }
    )
  })

  it("Q* satisfies the Bellman optimality equation and V* = max_a Q*", () => {
    fc.assert(
      fc.property(smallMdp, (m) => {
        const { Q, V } = optimalValues(m)
        const S = m.states
        for (let h = 0; h < m.horizon; h++) {
          for (let s = 0; s < S; s++) {
            let best = -Infinity
            for (let a = 0; a < m.actions; a++) {
              const o = transitionOffset(m, h, s, a)
              let q = m.reward[rewardIndex(m, h, s, a)]
              for (let t = 0; t < S; t++) q += m.transition[o + t] * V[(h + 1) * S + t]
              expect(Math.abs(Q[rewardIndex(m, h, s, a)] - q)).toBeLessThanOrEqual(1e-12)
              best = Math.max(best, Q[rewardIndex(m, h, s, a)])
            }
            expect(V[h * S + s]).toBe(best)
          }
        }
      }),
      { seed: 6, numRuns: 100 }
    )
  })

  it("policyValues of the greedy policy of Q* equals V*", () => {
    fc.assert(
      fc.property(smallMdp, (m) => {
        const star = optimalValues(m)
        const pi = greedyTable(m, star.Q)
        const values = policyValues(m, pi)
        for (let i = 0; i < star.V.length; i++) expect(Math.abs(values.V[i] - star.V[i])).toBeLessThanOrEqual(1e-12)
        for (let i = 0; i < star.Q.length; i++) expect(Math.abs(values.Q[i] - star.Q[i])).toBeLessThanOrEqual(1e-12)
      }),
      { seed: 7, numRuns: 100 }
    )
  })

  it("policyValues of any policy matches forward propagation, and never exceeds V*", () => {
    const withPolicy = smallMdp.chain((m) =>
      fc.record({
        m: fc.constant(m),
        pi: fc.array(fc.integer({ min: 0, max: m.actions - 1 }), {
          minLength: m.horizon * m.states,
          maxLength: m.horizon * m.states
        })
      })
    )
    fc.assert(
      fc.property(withPolicy, ({ m, pi }) => {
        const values = policyValues(m, pi)
        const star = optimalValues(m)
        for (let h = 0; h < m.horizon; h++) {
          for (let s = 0; s < m.states; s++) {
            const v = values.V[h * m.states + s]
            expect(Math.abs(v - forwardReturn(m, pi, h, s))).toBeLessThanOrEqual(1e-12)
            expect(v).toBeLessThanOrEqual(star.V[h * m.states + s] + 1e-12)
          }
        }
      }),
      { seed: 8, numRuns: 100 }
    )
  })

  it("separation() returns the minimum pairwise gap and a pair that attains it", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { maxLength: 12 }), (xs) => {
        const { pair, value } = separation(xs)
        if (xs.length < 2) {
          expect(value).toBe(Infinity)
          expect(pair).toBeUndefined()
          return
        }
        // Independent: after sorting, the closest pair is adjacent.
        const sorted = [...xs].sort((a, b) => a - b)
        let min = Infinity
        for (let i = 1; i < sorted.length; i++) min = Math.min(min, Math.abs(sorted[i] - sorted[i - 1]))
        expect(value).toBe(min)
        expect(pair).toBeDefined()
        const [i, j] = pair!
        expect(i).toBeLessThan(j)
        expect(j).toBeLessThan(xs.length)
        expect(Math.abs(xs[i] - xs[j])).toBe(value)
      }),
      { seed: 9, numRuns: 300 }
    )
    expect(separation([0.2, 0.9, 0.5]).value).toBeCloseTo(0.3, 15)
    expect(separation([0.2, 0.9, 0.5]).pair).toEqual([0, 2])
  })
})

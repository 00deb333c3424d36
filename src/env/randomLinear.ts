/**
 * The random linear MDP family: features on the probability simplex, and per context a seeded
 * reward vector θ ∈ [0,1]^d and d next-state distributions ν_1..ν_d, so that
 *
 *   r(s,a) = ⟨φ(s,a), θ⟩ ∈ [0,1]      P(s'|s,a) = ⟨φ(s,a), μ(s')⟩ = Σ_i φ_i(s,a) ν_i(s')
 *
 * hold exactly (docs/algorithm.md §1): P is a mixture of distributions, hence a distribution, and
 * ‖φ‖₂ ≤ ‖φ‖₁ = 1. The family is stationary in h (a special case of the stage-dependent model).
 * The features depend only on the environment's seed; each context `{ seed }` draws its own θ, ν.
 */
import * as Rng from "../rng/Rng.ts"
import type { FeatureTable, FiniteMdp } from "./FiniteMdp.ts"

export interface RandomLinearParams {
  readonly states: number
  readonly actions: number
  readonly dim: number
  readonly horizon: number
  readonly seed: number
}

export interface RandomLinearContext {
  readonly seed: number
}

// Stream labels, so that the features and each context's parameters never share draws.
const FEATURES = 0
const CONTEXT = 1

/** A Dirichlet(1, …, 1) draw: normalised exponentials. */
const simplexPoint = (rng: Rng.Rng, n: number, out: Float64Array, offset: number): void => {
  let total = 0
  for (let i = 0; i < n; i++) {
    const e = -Math.log(1 - rng.next())
    out[offset + i] = e
    total += e
  }
  for (let i = 0; i < n; i++) out[offset + i] /= total
}

export const randomLinearFeatures = (p: RandomLinearParams): FeatureTable => {
  const rng = Rng.make(p.seed, FEATURES)
  const values = new Float64Array(p.states * p.actions * p.dim)
  for (let sa = 0; sa < p.states * p.actions; sa++) simplexPoint(rng, p.dim, values, sa * p.dim)
  return { dim: p.dim, states: p.states, actions: p.actions, values }
}

export const buildRandomLinear = (p: RandomLinearParams, c: RandomLinearContext): FiniteMdp => {
  const { states: S, actions: A, dim: d, horizon: H } = p
  const phi = randomLinearFeatures(p).values
  const rng = Rng.make(p.seed, CONTEXT, c.seed)
  const theta = Float64Array.from({ length: d }, () => rng.next())
  const nu = new Float64Array(d * S)
  for (let i = 0; i < d; i++) simplexPoint(rng, S, nu, i * S)
  const reward = new Float64Array(H * S * A)
  const transition = new Float64Array(H * S * A * S)
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const f = (s * A + a) * d
      let r = 0
      for (let i = 0; i < d; i++) r += phi[f + i] * theta[i]
      const row = new Float64Array(S)
      for (let i = 0; i < d; i++) for (let t = 0; t < S; t++) row[t] += phi[f + i] * nu[i * S + t]
      for (let h = 0; h < H; h++) {
        reward[(h * S + s) * A + a] = r
        transition.set(row, ((h * S + s) * A + a) * S)
      }
    }
  }
  return { horizon: H, states: S, actions: A, start: 0, reward, transition }
}

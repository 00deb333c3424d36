/**
 * What the tests of LSVI-UCB share (test/learner.test.ts, learner-vi.test.ts,
 * learner-invariants.test.ts): small finite MDPs with their feature tables as fast-check
 * arbitraries, and the learner's config for one.
 */
import * as fc from "fast-check"
import { type FeatureTable, type FiniteMdp, oneHotFeatures } from "../src/env/FiniteMdp.ts"
import { buildLinearChain } from "../src/env/linearChain.ts"
import { buildRandomLinear, randomLinearFeatures } from "../src/env/randomLinear.ts"
import type { LsviConfig } from "../src/learner/Lsvi.ts"
import * as Rng from "../src/rng/Rng.ts"

// ---------------------------------------------------------------------------------------------
// Environments

export interface Env {
  readonly name: string
  readonly mdp: FiniteMdp
  readonly features: FeatureTable
}

export const featuresOf = (f: FeatureTable) => (state: number): Float64Array =>
  f.values.slice(state * f.actions * f.dim, (state + 1) * f.actions * f.dim)

/** A random tabular MDP from a seed (deterministic rewards in [0,1], some sparse rows). */
export const randomTabular = (states: number, actions: number, horizon: number, seed: number, deterministic = false): FiniteMdp => {
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

export const chainEnv = (maxLength: number, maxHorizon: number): fc.Arbitrary<Env> =>
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

/**
 * A random tabular MDP with one-hot features. `scaled`: φ(s,a) = c_{s,a}·e_{s·A+a}, c in [0.2, 1].
 * The learner keeps a one-hot row's one entry and its value (src/learner/groups.ts); with values
 * other than 1, and (from five states) more next states than a step's first arrays hold, both are read.
 */
export const tabularEnv = (maxStates: number, maxActions: number, maxHorizon: number, scaled = false): fc.Arbitrary<Env> =>
  fc.record({
    S: fc.integer({ min: scaled ? 5 : 2, max: maxStates }),
    A: fc.integer({ min: 2, max: maxActions }),
    H: fc.integer({ min: 2, max: maxHorizon }),
    seed: fc.nat()
  }).map(({ A, H, S, seed }) => {
    const features = oneHotFeatures(S, A)
    const rng = Rng.make(seed, 78)
    const values = scaled ? features.values.map((v) => (v === 0 ? 0 : 0.2 + 0.8 * rng.next())) : features.values
    const name = `${scaled ? "scaled " : ""}tabular ${JSON.stringify({ S, A, H, seed })}`
    return { name, mdp: randomTabular(S, A, H, seed), features: { ...features, values } }
  })

export const linearEnv = (maxStates: number, maxDim: number, maxHorizon: number): fc.Arbitrary<Env> =>
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

export const configFor = (env: Env, beta: number, lambda = 1): LsviConfig => ({
  horizon: env.mdp.horizon,
  dim: env.features.dim,
  actions: env.mdp.actions,
  beta,
  lambda
})


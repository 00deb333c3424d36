/**
 * Shared fast-check generators for the property suite (docs/algorithm.md §6).
 *
 * Every generator is built from fast-check primitives (integers, doubles, arrays, subarrays), so a
 * failing case shrinks towards fewer states, tasks and instances and rounder numbers; none draws
 * from `Math.random`, so a fixed `fc.assert` seed fixes every case. Sizes are small by default so
 * that a property with a few dozen runs stays well under a second.
 *
 * - finite MDPs: `tabularMdp` (one-hot features), `simplexLinearMdp` (low rank, simplex features,
 *   built here from generated θ and ν), `randomLinearMdp` (src/env/randomLinear.ts with generated
 *   params and seeds);
 * - feature maps: `featureMap` (one-hot, simplex or any vector in the unit ball);
 * - datasets: `transitions` (transitions consistent with an MDP's rewards and support);
 * - task families with a known separation: `offsetFamily` (exact, by construction), `chainFamily`
 *   (linear-chain contexts, measured), `separatedFamily` (either); V*(s0) always comes from
 *   src/env/solve.ts, and `separation ≥ cSep` is guaranteed;
 * - intervals: `intervalContaining` and `overlappingGroups`, for the coordinator;
 * - specs: `validSpecInput` and `runnableChainSpec`, inputs that `decode` and `compile` accept.
 */
import * as fc from "fast-check"
import type { Interval } from "../src/coordinator/Coordinator.ts"
import { type FeatureTable, type FiniteMdp, oneHotFeatures, rewardIndex, tabulateFeatures, transitionOffset } from "../src/env/FiniteMdp.ts"
import { buildLinearChain, type LinearChainContext } from "../src/env/linearChain.ts"
import { buildRandomLinear, randomLinearFeatures, type RandomLinearParams } from "../src/env/randomLinear.ts"
import { optimalValues, separation } from "../src/env/solve.ts"
import {
  Assignment,
  type Baseline,
  Contexts,
  Env,
  type Environment,
  Experiment,
  type ExperimentInput,
  Features,
  Lsvi,
  Stopping
} from "../src/spec/Spec.ts"

// ─── Small helpers ─────────────────────────────────────────────────────────────────────────────

/** A double in [0, 1] (no NaN). */
export const unit: fc.Arbitrary<number> = fc.double({ min: 0, max: 1, noNaN: true })

/** Non-negative weights scaled to sum to 1; all-zero weights put the mass on index `fallback`. */
export const normalize = (weights: ReadonlyArray<number>, fallback: number): Array<number> => {
  const total = weights.reduce((a, b) => a + b, 0)
  return total > 0 ? weights.map((w) => w / total) : weights.map((_, i) => (i === fallback ? 1 : 0))
}

/** An MDP with the feature table its learner reads. */
export interface MdpCase {
  readonly mdp: FiniteMdp
  readonly features: FeatureTable
}

/** Bounds of a generated MDP (all inclusive). */
export interface MdpSize {
  readonly maxStates?: number
  readonly maxActions?: number
  readonly maxHorizon?: number
  readonly minHorizon?: number
}

const sizes = (o: MdpSize, minActions: number) =>
  fc.record({
    S: fc.integer({ min: 2, max: o.maxStates ?? 3 }),
    A: fc.integer({ min: minActions, max: o.maxActions ?? 2 }),
    H: fc.integer({ min: o.minHorizon ?? 1, max: o.maxHorizon ?? 3 })
  })

const fixedArray = <T>(arb: fc.Arbitrary<T>, length: number): fc.Arbitrary<Array<T>> =>
  fc.array(arb, { minLength: length, maxLength: length })

// ─── Finite MDPs ───────────────────────────────────────────────────────────────────────────────

/** The tables of a stage-dependent tabular MDP: rewards r_h(s,a) and transition rows P_h(·|s,a). */
export const tabularTables = (S: number, A: number, H: number) =>
  fc.record({
    rewards: fixedArray(unit, H * S * A),
    // Unnormalised rows; shrinking to zeros gives deterministic moves to state 0.
    rows: fixedArray(fixedArray(unit, S), H * S * A),
    start: fc.integer({ min: 0, max: S - 1 })
  }).map(({ rewards, rows, start }): FiniteMdp => {
    const transition = new Float64Array(H * S * A * S)
    rows.forEach((row, i) => transition.set(normalize(row, 0), i * S))
    return { horizon: H, states: S, actions: A, start, reward: Float64Array.from(rewards), transition }
  })

/**
 * A finite tabular MDP (stage-dependent rewards in [0,1] and transitions, any start state) with
 * one-hot features φ(s,a) = e_{s·A+a}: a linear MDP with d = |S||A| (docs/algorithm.md §1).
 */
export const tabularMdp = (o: MdpSize = {}): fc.Arbitrary<MdpCase> =>
  sizes(o, 1).chain(({ A, H, S }) =>
    tabularTables(S, A, H).map((mdp) => ({ mdp, features: oneHotFeatures(S, A) }))
  )

/** A low-rank linear MDP with its generated parameters: r_h = ⟨φ, θ_h⟩, P_h(·|s,a) = Σ_i φ_i(s,a) ν_{h,i}. */
export interface LinearCase extends MdpCase {
  /** θ_h at h·d. */
  readonly theta: Float64Array
  /** ν_{h,i}(s') at (h·d + i)·S + s'. */
  readonly nu: Float64Array
}

/**
 * A low-rank linear MDP with simplex features, built here: φ(s,a) on the probability simplex of
 * R^d with d < |S||A|, θ_h ∈ [0,1]^d and d next-state distributions ν_{h,i} per step. Then
 * r_h(s,a) = ⟨φ, θ_h⟩ ∈ [0,1], P_h(·|s,a) = Σ_i φ_i ν_{h,i} is a distribution, ‖φ‖₂ ≤ ‖φ‖₁ = 1.
 */
export const simplexLinearMdp = (o: MdpSize & { readonly maxDim?: number } = {}): fc.Arbitrary<LinearCase> =>
  sizes(o, 2).chain(({ A, H, S }) =>
    fc.integer({ min: 1, max: Math.min(o.maxDim ?? 3, S * A - 1) }).chain((d) =>
      fc.record({
        phi: fixedArray(fixedArray(unit, d), S * A),
        theta: fixedArray(unit, H * d),
        nu: fixedArray(fixedArray(unit, S), H * d),
        start: fc.integer({ min: 0, max: S - 1 })
      }).map(({ nu: nuRows, phi: phiRows, start, theta: thetaRows }): LinearCase => {
        const features = tabulateFeatures(S, A, d, (s, a) => normalize(phiRows[s * A + a], (s * A + a) % d))
        const theta = Float64Array.from(thetaRows)
        const nu = new Float64Array(H * d * S)
        nuRows.forEach((row, i) => nu.set(normalize(row, i % S), i * S))
        const reward = new Float64Array(H * S * A)
        const transition = new Float64Array(H * S * A * S)
        for (let h = 0; h < H; h++) {
          for (let s = 0; s < S; s++) {
            for (let a = 0; a < A; a++) {
              const f = (s * A + a) * d
              let r = 0
              for (let i = 0; i < d; i++) r += features.values[f + i] * theta[h * d + i]
              reward[(h * S + s) * A + a] = Math.min(1, r)
              const o2 = ((h * S + s) * A + a) * S
              for (let i = 0; i < d; i++) {
                for (let t = 0; t < S; t++) transition[o2 + t] += features.values[f + i] * nu[(h * d + i) * S + t]
              }
            }
          }
        }
        return { mdp: { horizon: H, states: S, actions: A, start, reward, transition }, features, theta, nu }
      })
    )
  )

/** Parameters of src/env/randomLinear.ts (d < |S||A|), with a context seed. */
export const randomLinearParams = (
  o: MdpSize & { readonly maxDim?: number } = {}
): fc.Arbitrary<{ readonly params: RandomLinearParams; readonly context: number }> =>
  sizes(o, 2).chain(({ A, H, S }) =>
    fc.record({
      params: fc.record({
        states: fc.constant(S),
        actions: fc.constant(A),
        dim: fc.integer({ min: 1, max: Math.min(o.maxDim ?? 3, S * A - 1) }),
        horizon: fc.constant(H),
        seed: fc.nat({ max: 1_000_000 })
      }),
      context: fc.nat({ max: 1_000_000 })
    })
  )

/** A random linear MDP of the product's own family (src/env/randomLinear.ts), from generated seeds. */
export const randomLinearMdp = (o: MdpSize & { readonly maxDim?: number } = {}): fc.Arbitrary<MdpCase> =>
  randomLinearParams(o).map(({ context, params }) => ({
    mdp: buildRandomLinear(params, { seed: context }),
    features: randomLinearFeatures(params)
  }))

/** Any of the three kinds of finite linear MDP above. */
export const finiteLinearMdp = (o: MdpSize & { readonly maxDim?: number } = {}): fc.Arbitrary<MdpCase> =>
  fc.oneof(tabularMdp(o), simplexLinearMdp(o), randomLinearMdp(o))

// ─── Feature maps ──────────────────────────────────────────────────────────────────────────────

/** A feature map on S × A, tabulated, with the function a spec would give (`Features.custom`). */
export interface FeatureMapCase {
  readonly kind: "oneHot" | "simplex" | "ball"
  readonly dim: number
  readonly table: FeatureTable
  readonly map: (state: number, action: number) => ReadonlyArray<number>
}

const asMap = (kind: FeatureMapCase["kind"], table: FeatureTable): FeatureMapCase => ({
  kind,
  dim: table.dim,
  table,
  map: (s, a) => Array.from(table.values.subarray((s * table.actions + a) * table.dim, (s * table.actions + a + 1) * table.dim))
})

/**
 * A feature map φ : S × A → R^d with ‖φ(s,a)‖₂ ≤ 1 (docs/algorithm.md §1): one-hot, a point of the
 * simplex, or any vector of [−1,1]^d scaled into the unit ball.
 */
export const featureMap = (states: number, actions: number, maxDim = 4): fc.Arbitrary<FeatureMapCase> =>
  fc.oneof(
    fc.constant(asMap("oneHot", oneHotFeatures(states, actions))),
    fc.integer({ min: 1, max: maxDim }).chain((d) =>
      fixedArray(fixedArray(unit, d), states * actions).map((rows) =>
        asMap("simplex", tabulateFeatures(states, actions, d, (s, a) => normalize(rows[s * actions + a], 0)))
      )
    ),
    fc.integer({ min: 1, max: maxDim }).chain((d) =>
      fixedArray(fixedArray(fc.double({ min: -1, max: 1, noNaN: true }), d), states * actions).map((rows) =>
        asMap(
          "ball",
          tabulateFeatures(states, actions, d, (s, a) => {
            const v = rows[s * actions + a]
            // Scaled a hair inside the ball, so that rounding never makes the norm exceed 1.
            const norm = Math.sqrt(v.reduce((t, x) => t + x * x, 0))
            return norm > 1 - 1e-12 ? v.map((x) => (x / norm) * (1 - 1e-12)) : v
          })
        )
      )
    )
  )

// ─── Datasets of transitions ───────────────────────────────────────────────────────────────────

/** One observed transition (s_h, a_h, r_h, s_{h+1}) at step h (0-based). */
export interface Transition {
  readonly h: number
  readonly s: number
  readonly a: number
  readonly r: number
  readonly next: number
}

/**
 * A dataset of transitions the MDP can produce: rewards r_h(s,a) exactly and next states in the
 * support of P_h(·|s,a), in any order, possibly with repeats and uncovered pairs.
 */
export const transitions = (m: FiniteMdp, maxLength = 30): fc.Arbitrary<Array<Transition>> =>
  fc.array(
    fc.record({
      h: fc.integer({ min: 0, max: m.horizon - 1 }),
      s: fc.integer({ min: 0, max: m.states - 1 }),
      a: fc.integer({ min: 0, max: m.actions - 1 }),
      pick: fc.nat()
    }).map(({ a, h, pick, s }): Transition => {
      const o = transitionOffset(m, h, s, a)
      const support: Array<number> = []
      for (let t = 0; t < m.states; t++) if (m.transition[o + t] > 0) support.push(t)
      return { h, s, a, r: m.reward[rewardIndex(m, h, s, a)], next: support[pick % support.length] }
    }),
    { maxLength }
  )

// ─── Task families with a known separation ─────────────────────────────────────────────────────

/**
 * M tasks (contexts) over one state and action space, as both the built MDPs and the spec fields
 * that build them. `startValues` and `separation` are computed by src/env/solve.ts, and
 * `cSep ≤ separation` always: the family is a valid input for a spec with that `cSep`.
 */
export interface Family {
  /** A spec name for it (letters, digits, '-'). */
  readonly name: string
  /** What it is, for counterexamples. */
  readonly description: string
  readonly environment: Environment
  readonly contexts: Contexts
  readonly tasks: ReadonlyArray<FiniteMdp>
  readonly features: FeatureTable
  /** V*_{c_m,1}(s0), by backward induction (src/env/solve.ts). */
  readonly startValues: ReadonlyArray<number>
  /** The family's actual separation min_{m≠m'} |V*_m − V*_m'|. */
  readonly separation: number
  /** The separation the family is declared with: at most `separation`. */
  readonly cSep: number
}

export interface FamilyOptions {
  readonly maxTasks?: number
  /** Smallest declared cSep. */
  readonly minSeparation?: number
  /** Largest declared cSep. */
  readonly maxSeparation?: number
}

const measured = (tasks: ReadonlyArray<FiniteMdp>) => {
  const startValues = tasks.map((m) => optimalValues(m).V[m.start])
  return { startValues, separation: separation(startValues).value }
}

/** How much of the reward in an offset family is the base MDP's (the rest is the context's offset). */
const BASE_SHARE = 0.5

/**
 * The offset family: one tabular base MDP (rewards r, transitions P) and M contexts `{ offset: u_m }`
 * with rewards u_m + r/2 and the same P. The optimal policy does not depend on u_m, so
 * V*_m(s0) = u_m·H + V*_base(s0)/2 exactly, and the offsets are put on a grid of step
 * g = cSep·(1+slack)/H: the separation is H·g·(least grid distance) ≥ cSep·(1+slack), controlled by
 * construction (and measured again with solve.ts).
 */
export const offsetFamily = (o: FamilyOptions & MdpSize = {}): fc.Arbitrary<Family> =>
  fc.record({
    size: sizes({ ...o, minHorizon: Math.max(2, o.minHorizon ?? 2) }, 1),
    cSep: fc.double({ min: o.minSeparation ?? 0.1, max: o.maxSeparation ?? 0.5, noNaN: true }),
    slack: fc.double({ min: 1e-6, max: 0.5, noNaN: true })
  }).chain(({ cSep, size: { A, H, S }, slack }) => {
    const g = (cSep * (1 + slack)) / H
    const levels = Math.floor((1 - BASE_SHARE) / g) + 1
    return fc.record({
      base: tabularTables(S, A, H),
      grid: fc.uniqueArray(fc.integer({ min: 0, max: levels - 1 }), {
        minLength: 2,
        maxLength: Math.max(2, Math.min(o.maxTasks ?? 4, levels))
      })
    }).map(({ base, grid }) => {
      const offsets = grid.map((k) => Math.min(k * g, 1 - BASE_SHARE))
      const taskOf = (u: number): FiniteMdp => ({
        ...base,
        reward: base.reward.map((r) => Math.min(1, u + BASE_SHARE * r))
      })
      const tasks = offsets.map(taskOf)
      const nested = (m: FiniteMdp) => ({
        reward: Array.from({ length: H }, (_, h) =>
          Array.from({ length: S }, (_, s) => Array.from({ length: A }, (_, a) => m.reward[rewardIndex(m, h, s, a)]))),
        transition: Array.from({ length: H }, (_, h) =>
          Array.from({ length: S }, (_, s) =>
            Array.from({ length: A }, (_, a) => {
              const t = transitionOffset(m, h, s, a)
              return Array.from(m.transition.subarray(t, t + S))
            })))
      })
      const environment = Env.tabular({
        states: S,
        actions: A,
        horizon: H,
        start: base.start,
        build: (context) => nested(taskOf(context.offset ?? NaN))
      })
      return {
        name: "offset-family",
        description: `offset family ${JSON.stringify({ S, A, H, cSep, offsets })}`,
        environment,
        contexts: Contexts.list(offsets.map((offset) => ({ offset }))),
        tasks,
        features: oneHotFeatures(S, A),
        ...measured(tasks),
        cSep
      }
    })
  }).filter((f) => f.separation >= f.cSep)

/** One linear-chain context on a coarse grid (rewards in tenths, slips in {0, 0.1, 0.2}). */
export const chainContext = (length: number): fc.Arbitrary<LinearChainContext> =>
  fc.record({
    goal: fc.integer({ min: 1, max: length - 1 }),
    reward: fc.integer({ min: 1, max: 10 }).map((k) => k / 10),
    slip: fc.integer({ min: 0, max: 2 }).map((k) => k / 10)
  })

/**
 * Linear-chain families (src/env/linearChain.ts, one-hot features, distractor 0.05): M distinct
 * contexts, kept only when their V*(s0) (measured with solve.ts) are at least `minSeparation`
 * apart; the declared cSep is a fraction in [1/2, 1) of the measured separation, at least
 * `minSeparation` and at most `maxSeparation`.
 */
export const chainFamily = (
  o: FamilyOptions & { readonly length?: number; readonly minHorizon?: number; readonly maxHorizon?: number } = {}
): fc.Arbitrary<Family> => {
  const length = o.length ?? 3
  const minSep = o.minSeparation ?? 0.1
  return fc.record({
    horizon: fc.integer({ min: o.minHorizon ?? 3, max: o.maxHorizon ?? 4 }),
    contexts: fc.uniqueArray(chainContext(length), {
      minLength: 2,
      maxLength: o.maxTasks ?? 3,
      selector: (c) => `${c.goal}/${c.reward}/${c.slip}`
    }),
    fraction: fc.double({ min: 0.5, max: 0.99, noNaN: true })
  }).map(({ contexts, fraction, horizon }) => {
    const params = { length, horizon, distractor: 0.05 }
    const tasks = contexts.map((c) => buildLinearChain(params, c))
    const m = measured(tasks)
    const cSep = Math.min(Math.max(minSep, fraction * m.separation), o.maxSeparation ?? Infinity, m.separation)
    return {
      name: "chain-family",
      description: `chain family ${JSON.stringify({ length, horizon, contexts })}`,
      environment: Env.linearChain({ length, horizon }),
      contexts: Contexts.list(contexts.map((c) => ({ ...c }))),
      tasks,
      features: oneHotFeatures(length, 2),
      ...m,
      cSep
    }
  }).filter((f) => f.separation >= minSep && f.cSep <= f.separation)
}

/** Either kind of family: exact by construction (offset) or measured (chain). */
export const separatedFamily = (o: FamilyOptions = {}): fc.Arbitrary<Family> =>
  fc.oneof(offsetFamily(o), chainFamily(o))

// ─── Intervals ─────────────────────────────────────────────────────────────────────────────────

/**
 * An interval [V̲, V̄] that contains `value`, of a width drawn in [width.min, width.max], with
 * `value` anywhere inside it (at a drawn fraction of the way from V̲ to V̄).
 */
export const intervalContaining = (
  value: number,
  width: { readonly min: number; readonly max: number }
): fc.Arbitrary<Interval> =>
  fc.record({
    w: fc.double({ min: width.min, max: width.max, noNaN: true }),
    at: unit
  }).map(({ at, w }) => ({ lower: value - at * w, upper: value - at * w + w }))
    .filter((i) => i.lower <= value && value <= i.upper)

/** An interval tagged with the hidden group (task) it belongs to. */
export interface GroupedInterval {
  readonly group: number
  readonly interval: Interval
}

/**
 * Concurrent identify calls in groups: group g's intervals all contain 10·g and lie within ±1 of it,
 * so the intervals of one group all overlap one another and those of distinct groups never do.
 */
export const overlappingGroups = (o: { readonly maxGroups?: number; readonly maxCalls?: number } = {}): fc.Arbitrary<
  ReadonlyArray<GroupedInterval>
> =>
  fc.integer({ min: 1, max: o.maxGroups ?? 3 }).chain((groups) =>
    fc.array(
      fc.record({
        group: fc.integer({ min: 0, max: groups - 1 }),
        below: fc.double({ min: 0, max: 0.9, noNaN: true }),
        above: fc.double({ min: 0, max: 0.9, noNaN: true })
      }).map(({ above, below, group }) => ({ group, interval: { lower: 10 * group - below, upper: 10 * group + above } })),
      { minLength: 2, maxLength: o.maxCalls ?? 6 }
    )
  )

// ─── Specs ─────────────────────────────────────────────────────────────────────────────────────

const assignment: fc.Arbitrary<Assignment> = fc.oneof(
  fc.constant(Assignment.partition()),
  fc.constant(Assignment.stream()),
  fc.integer({ min: 1, max: 3 }).map((k) => Assignment.random(k))
)

/** A random-linear family as spec fields (contexts `Contexts.seeds(M)`), with cSep ≤ its separation. */
export const randomLinearFamily = (o: FamilyOptions & MdpSize = {}): fc.Arbitrary<Family> =>
  fc.record({
    p: randomLinearParams(o),
    M: fc.integer({ min: 1, max: o.maxTasks ?? 3 }),
    fraction: fc.double({ min: 0.01, max: 1, noNaN: true })
  }).map(({ M, fraction, p: { params } }) => {
    const tasks = Array.from({ length: M }, (_, seed) => buildRandomLinear(params, { seed }))
    const m = measured(tasks)
    return {
      name: "random-linear-family",
      description: `random linear family ${JSON.stringify({ ...params, M })}`,
      environment: Env.randomLinear(params),
      contexts: Contexts.seeds(M),
      tasks,
      features: randomLinearFeatures(params),
      ...m,
      cSep: Number.isFinite(m.separation) ? fraction * m.separation : fraction
    }
  }).filter((f) => f.cSep > 0)

/**
 * A spec input that `decode` and `compile` accept: any of the families above, a feature map where
 * the environment allows one (a custom map on a chain's or tabular family's S × A), any assignment,
 * ε ∈ (0, H], δ ∈ (0, 1), a numeric or theory β, either stopping rule, optional baselines and seeds.
 * Fields left to their defaults are left out (never set to `undefined`).
 */
export const validSpecInput: fc.Arbitrary<ExperimentInput> = fc.oneof(
  separatedFamily(),
  randomLinearFamily()
).chain((family) => {
  const env = family.environment
  const S = family.tasks[0].states
  const A = family.tasks[0].actions
  const H = family.tasks[0].horizon
  const features = env._tag === "RandomLinear"
    ? fc.constant<Features | undefined>(undefined)
    : fc.oneof(
      fc.constant<Features | undefined>(undefined),
      fc.constant<Features | undefined>(Features.oneHot()),
      featureMap(S, A).map((f): Features | undefined => Features.custom(f.dim, f.map))
    )
  return fc.record({
    features,
    agents: fc.integer({ min: 1, max: 4 }),
    assignment: fc.option(assignment, { nil: undefined }),
    epsilon: fc.double({ min: 0.01, max: H, noNaN: true }),
    delta: fc.double({ min: 0.001, max: 0.5, noNaN: true }),
    beta: fc.oneof(fc.constant<"theory">("theory"), fc.double({ min: 0, max: 5, noNaN: true })),
    stopping: fc.oneof(
      fc.integer({ min: 1, max: 1000 }).map((maxEpisodes) => Stopping.adaptive({ maxEpisodes })),
      fc.record({ k1: fc.integer({ min: 1, max: 50 }), k2: fc.integer({ min: 1, max: 50 }) }).map((k) => Stopping.schedule(k))
    ),
    baselines: fc.subarray<Baseline>(["independent", "oracle"]),
    seed: fc.nat({ max: 1000 })
  }).map((r) =>
    Experiment.make({
      name: family.name,
      environment: env,
      contexts: family.contexts,
      ...(r.features === undefined ? {} : { features: r.features }),
      agents: r.agents,
      ...(r.assignment === undefined ? {} : { assignment: r.assignment }),
      epsilon: r.epsilon,
      cSep: family.cSep,
      delta: r.delta,
      learner: Lsvi.ucb({ beta: r.beta }),
      stopping: r.stopping,
      baselines: r.baselines,
      seed: r.seed
    })
  )
})

/** A runnable spec with the family it was made from. */
export interface RunnableSpec {
  readonly family: Family
  readonly input: ExperimentInput
}

/**
 * A small spec that runs in well under a second: a linear chain of length 3 and horizon 3–4 with
 * 2–3 contexts whose V*(s0) are at least `minSeparation` apart (default 0.6), 2–4 agents, any
 * assignment, β = 1.5, and either the adaptive rule with an episode cap (default 6000) or a fixed
 * schedule (K1 = 4000, K2 = 200). The declared cSep is 0.9 × the measured separation (at most 1),
 * so that two intervals of width ≤ cSep/2 around distinct V* can never touch.
 */
export const runnableChainSpec = (
  o: { readonly minSeparation?: number; readonly maxEpisodes?: number } = {}
): fc.Arbitrary<RunnableSpec> =>
  chainFamily({ length: 3, minHorizon: 3, maxHorizon: 4, maxTasks: 3, minSeparation: o.minSeparation ?? 0.6 })
    .map((f): Family => ({ ...f, cSep: Math.min(1, 0.9 * f.separation) }))
    .chain((family) =>
      fc.record({
        agents: fc.integer({ min: 2, max: 4 }),
        assignment,
        stopping: fc.oneof(
          { weight: 3, arbitrary: fc.constant(Stopping.adaptive({ maxEpisodes: o.maxEpisodes ?? 6000 })) },
          { weight: 1, arbitrary: fc.constant(Stopping.schedule({ k1: 4000, k2: 200 })) }
        ),
        seed: fc.nat({ max: 1000 })
      }).map(({ agents, assignment, seed, stopping }) => ({
        family,
        input: Experiment.make({
          name: family.name,
          environment: family.environment,
          contexts: family.contexts,
          features: Features.oneHot(),
          agents,
          assignment,
          epsilon: 0.5,
          cSep: family.cSep,
          delta: 0.05,
          learner: Lsvi.ucb({ beta: 1.5, lambda: 1 }),
          stopping,
          seed
        })
      }))
    )

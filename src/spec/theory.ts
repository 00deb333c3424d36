/**
 * The constants of the analysis (docs/algorithm.md §2, §3, §8): ι, the theory β and the theory
 * budgets of the schedule rule. They all depend on K, the largest number of episodes in one
 * learner's data, because ι = log(2dT/δ) with T = K·H comes from a union bound over the samples a
 * learner's regression may hold. So K is derived from the stopping rule, never from a guess:
 *
 * - schedule: an owner explores K1 episodes, then learns K2 more on the same data: K = K1 + K2
 *   (a baseline's solo learner runs K1 + K2 too);
 * - adaptive: identification may run `maxEpisodes`, and the learning that follows on the same
 *   learner (as owner, or alone after a capped identification) `maxEpisodes` more: K = 2·maxEpisodes;
 * - with `sharing: "experience"` a learner also regresses on the transitions the other agents on its
 *   task pushed, so its data may hold up to N times its own episodes: K is multiplied by N.
 *
 * The theory budgets K1 = ⌈κ1·d³H⁴ι/c_Sep²⌉, K2 = ⌈κ2·d³H⁴ι/ε²⌉ depend on ι, which depends on
 * K = K1 + K2: `theoryBudgets` solves this by fixed-point iteration from K = 1. Each step
 * recomputes ι from the last K and the budgets from ι; ι grows with K, so the sequence of K never
 * decreases, and it stops at the first K that gives back the same integers (the smallest
 * consistent budgets). ι grows like log K, so that happens within a few steps.
 */
import { type Experiment, lsviOf } from "./Spec.ts"
import type { SpecIssue } from "./SpecError.ts"

/** ι = log(2·d·T/δ) with T = K·H (docs/algorithm.md §2). */
export const iotaOf = (dim: number, horizon: number, episodes: number, delta: number): number =>
  Math.log((2 * dim * episodes * horizon) / delta)

/** The theory β = c_β·d·H·√ι (docs/algorithm.md §2). */
export const theoryBeta = (cBeta: number, dim: number, horizon: number, iota: number): number => cBeta * dim * horizon * Math.sqrt(iota)

/** Sharing modes as the spec may name them ("experience" pools every contributor's data). */
export type SharingMode = "policy" | "experience"

/**
 * How many times one agent's episodes a learner's data may hold: the N agents' pooled transitions
 * under experience sharing, its own otherwise.
 */
export const dataFactor = (sharing: SharingMode, agents: number): number => (sharing === "experience" ? agents : 1)

export interface TheoryInput {
  readonly kappa1: number
  readonly kappa2: number
  readonly dim: number
  readonly horizon: number
  readonly delta: number
  readonly cSep: number
  readonly epsilon: number
  /** `dataFactor(...)`: K in ι is (K1 + K2) times this. */
  readonly factor: number
  /** Refuse budgets with K1 + K2 above this (a typo in κ must not plan 10¹² episodes). */
  readonly maxEpisodes: number
}

export interface TheoryBudgets {
  readonly k1: number
  readonly k2: number
  /** The ι of the fixed point: log(2·d·K·H/δ) with K = (k1 + k2)·factor. */
  readonly iota: number
  /** K1 + K2 fits under `maxEpisodes`. */
  readonly fits: boolean
}

/** The most fixed-point steps: from K = 1 the integers settle in under ten for any sane input. */
const MAX_STEPS = 200

/**
 * K1 = ⌈κ1·d³H⁴ι/c_Sep²⌉ and K2 = ⌈κ2·d³H⁴ι/ε²⌉ with ι = log(2·d·K·H/δ), K = (K1 + K2)·factor,
 * by fixed-point iteration (see the top of this file). `fits` is false, and the budgets are those of
 * the step that went past `maxEpisodes`, when the fixed point lies above it.
 */
export const theoryBudgets = (p: TheoryInput): TheoryBudgets => {
  const scale = p.dim ** 3 * p.horizon ** 4
  const budgets = (iota: number) => ({
    k1: Math.ceil((p.kappa1 * scale * iota) / p.cSep ** 2),
    k2: Math.ceil((p.kappa2 * scale * iota) / p.epsilon ** 2)
  })
  let iota = iotaOf(p.dim, p.horizon, p.factor, p.delta) // K = 1 episode per agent
  let { k1, k2 } = budgets(iota)
  for (let step = 0; step < MAX_STEPS; step++) {
    if (!(k1 + k2 <= p.maxEpisodes)) return { k1, k2, iota, fits: false } // also catches Infinity and NaN
    iota = iotaOf(p.dim, p.horizon, (k1 + k2) * p.factor, p.delta)
    const next = budgets(iota)
    if (next.k1 === k1 && next.k2 === k2) return { k1, k2, iota, fits: true }
    k1 = next.k1
    k2 = next.k2
  }
  return { k1, k2, iota, fits: false }
}

/** The stopping rules as resolved for a run: a theory rule becomes the schedule it computes. */
export type ResolvedStopping =
  | { readonly _tag: "Adaptive"; readonly maxEpisodes: number }
  | {
    readonly _tag: "Schedule"
    readonly k1: number
    readonly k2: number
    /** Present when K1, K2 were computed by `Stopping.theory`: its constants and the ι they used. */
    readonly theory?: { readonly kappa1: number; readonly kappa2: number; readonly maxEpisodes: number; readonly iota: number }
  }

/** The largest number of episodes one agent's learner may run under a resolved rule (see above). */
export const learnerEpisodes = (stopping: ResolvedStopping): number =>
  stopping._tag === "Adaptive" ? 2 * stopping.maxEpisodes : stopping.k1 + stopping.k2

/**
 * A decoded spec as a run uses it: `Stopping.theory` resolved into the schedule it computes,
 * `{ _tag: "Schedule", k1, k2, theory: { kappa1, kappa2, maxEpisodes, iota } }`.
 */
export type ResolvedExperiment = Omit<Experiment, "stopping"> & { readonly stopping: ResolvedStopping }

/**
 * β of docs/algorithm.md §2: theory mode c_β · d · H · √ι, ι = log(2 d T / δ), T = K H, with K the
 * largest number of episodes in one learner's data under the resolved stopping rule (theory.ts).
 */
export const resolveBeta = (spec: ResolvedExperiment, dim: number, horizon: number): number => {
  const learner = lsviOf(spec)
  if (learner.beta !== "theory") return learner.beta
  const K = learnerEpisodes(spec.stopping) * dataFactor(spec.sharing, spec.agents)
  return theoryBeta(learner.cBeta, dim, horizon, iotaOf(dim, horizon, K, spec.delta))
}

/**
 * The stopping rule a run uses: `Stopping.theory` becomes the schedule of its budgets K1, K2
 * (docs/algorithm.md §3, §8), or an issue at `stopping` when they exceed its `maxEpisodes`.
 */
export const resolveStopping = (
  spec: Experiment,
  dim: number,
  horizon: number
): { readonly rule: ResolvedStopping; readonly issue?: SpecIssue } => {
  const rule = spec.stopping
  if (rule._tag !== "Theory") return { rule }
  const { kappa1, kappa2, maxEpisodes } = rule
  const b = theoryBudgets({
    kappa1,
    kappa2,
    dim,
    horizon,
    delta: spec.delta,
    cSep: spec.cSep,
    epsilon: spec.epsilon,
    factor: dataFactor(spec.sharing, spec.agents),
    maxEpisodes
  })
  const resolved: ResolvedStopping = { _tag: "Schedule", k1: b.k1, k2: b.k2, theory: { kappa1, kappa2, maxEpisodes, iota: b.iota } }
  if (b.fits) return { rule: resolved }
  const issue: SpecIssue = {
    path: "stopping",
    message: `expected theory budgets with K1 + K2 ≤ maxEpisodes = ${maxEpisodes}; with d = ${dim}, H = ${horizon}, ` +
      `ι ≥ ${b.iota.toFixed(3)} they are K1 ≥ ${b.k1}, K2 ≥ ${b.k2}: lower kappa1 or kappa2, or raise stopping.maxEpisodes`,
    actual: `kappa1 ${kappa1}, kappa2 ${kappa2}`
  }
  return { rule: resolved, issue }
}


/**
 * Elastic weight consolidation (Kirkpatrick et al. 2017) for one network learning a stream of
 * tasks: at a task switch, the diagonal of the Fisher information F is estimated from the old task's
 * replay, and training on the next task adds the penalty λ/2 · Σ F_i (θ_i − θ*_i)² that pulls each
 * weight back towards its consolidated value θ*_i in proportion to how much the old task needs it.
 *
 * F is the empirical Fisher of the TD loss: the mean over replay transitions of each per-transition
 * gradient squared (DQN has no likelihood of its own; the Huber TD loss plays the negative
 * log-likelihood's part, as in EWC's Atari experiments). The targets of that loss use the current
 * online network, so the estimate needs no target network from the engine.
 *
 * Several switches accumulate (F ← F_old + F_new, θ* ← θ now): one quadratic penalty that grows
 * with the tasks, as "online EWC" (Schwarz et al. 2018) does with its decay set to 1.
 */
import type { Rng } from "../rng/Rng.ts"
import { type NetShape, type Params, inputSize, zerosLike } from "./network.ts"
import { makeTdWorkspace, tdLossAndGrad } from "./reference.ts"
import { makeBatch, type Replay } from "./replay.ts"

/** The diagonal Fisher estimate at `params` from `samples` transitions drawn from `replay`. */
export const estimateFisher = (s: NetShape, params: Params, replay: Replay, samples: number, gamma: number, rng: Rng): Params => {
  const fisher = zerosLike(s)
  const g = zerosLike(s)
  const one = makeBatch(1, inputSize(s))
  const ws = makeTdWorkspace(s, 1)
  const n = Math.min(samples, replay.size)
  for (let k = 0; k < n; k++) {
    replay.gather([rng.int(replay.size)], gamma, one)
    tdLossAndGrad(s, params, params, one, g, ws)
    for (let i = 0; i < 6; i++) {
      const f = fisher[i], gi = g[i]
      for (let j = 0; j < f.length; j++) f[j] += (gi[j] * gi[j]) / n
    }
  }
  return fisher
}

/** λ/2 · Σ F_i (θ_i − θ*_i)², with `weight` = λF. */
export const ewcPenalty = (weight: Params, params: Params, anchor: Params): number => {
  let sum = 0
  for (let i = 0; i < 6; i++) {
    const w = weight[i], p = params[i], a = anchor[i]
    for (let j = 0; j < w.length; j++) sum += w[j] * (p[j] - a[j]) ** 2
  }
  return sum / 2
}

/** The accumulated Fisher diagonal and the anchor, and the penalty weights λF they give. */
export interface Consolidation {
  readonly fisher: Params
  readonly anchor: Params
  readonly weight: Params
  /** Task switches consolidated so far. */
  readonly count: number
}

/** Adds a new Fisher estimate to the previous consolidation (if any) and moves the anchor to `params`. */
export const consolidateWith = (previous: Consolidation | undefined, fisher: Params, params: Params, lambda: number): Consolidation => {
  const total = fisher.map((f, i) => {
    const t = f.slice()
    if (previous !== undefined) for (let j = 0; j < t.length; j++) t[j] += previous.fisher[i][j]
    return t
  }) as unknown as Params
  const weight = total.map((f) => f.map((x) => lambda * x)) as unknown as Params
  return { fisher: total, anchor: params.map((p) => p.slice()) as unknown as Params, weight, count: (previous?.count ?? 0) + 1 }
}

/**
 * Running episodes of LSVI-UCB on an instance until a certificate or a budget says stop: the
 * "explore to identify" and "learn" phases of ALGORITHM.md §3 share this loop.
 */
import { Effect } from "effect"
import type { Instance } from "../env/Instance.ts"
import type { Certificate, Lsvi } from "../learner/Lsvi.ts"

/** One episode acting greedily on the current Q̄ (§2), its transitions added to the data. */
export const runEpisode = (learner: Lsvi, instance: Instance): void => {
  let s = instance.reset()
  for (let h = 0; h < instance.horizon; h++) {
    const a = learner.act(h, s)
    const { reward, next } = instance.step(h, s, a)
    learner.addTransition(h, s, a, reward, next)
    s = next
  }
}

/** Stop when `width ≤ untilWidth` (adaptive rule) or after `maxEpisodes` (schedule rule, or cap). */
export interface Budget {
  readonly untilWidth: number
  readonly maxEpisodes: number
}

export interface PhaseResult {
  readonly episodes: number
  readonly certificate: Certificate
  /** True when the width target was met (always false under a pure schedule). */
  readonly reached: boolean
}

/**
 * Runs episodes until the budget says stop, yielding to the other agents' fibers after each one
 * so that all agents progress together. `onEpisode` feeds the progress display.
 */
export const runPhase = (
  learner: Lsvi,
  instance: Instance,
  budget: Budget,
  onEpisode: () => void
): Effect.Effect<PhaseResult> =>
  Effect.gen(function*() {
    const start = instance.reset()
    learner.backup()
    let certificate = learner.certificate(start)
    let episodes = 0
    while (certificate.width > budget.untilWidth && episodes < budget.maxEpisodes) {
      runEpisode(learner, instance)
      episodes++
      onEpisode()
      learner.backup()
      certificate = learner.certificate(start)
      yield* Effect.yieldNow
    }
    return { episodes, certificate, reached: certificate.width <= budget.untilWidth }
  })

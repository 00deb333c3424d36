/**
 * A phase's stopping rule at its boundaries (docs/algorithm.md §3 step 1, src/agent/episodes.ts):
 * the adaptive rule stops when the width is *at most* the target (a width equal to it is reached),
 * the schedule runs exactly `maxEpisodes` episodes, and a chunk runs at most its size. Found by the
 * mutation audit: `≤ → <` in the rule and in `reached`, `≥ → >` in the cap and `< → ≤` in the chunk
 * loop all left the suite passing.
 */
import { describe, expect, it } from "@effect/vitest"
import { continuePhase, runPhase } from "../src/agent/episodes.ts"
import { makeInstance } from "../src/env/Instance.ts"
import { Lsvi, type LsviConfig } from "../src/learner/Lsvi.ts"
import * as Rng from "../src/rng/Rng.ts"
import { chain } from "./chain.ts"

const c = chain("phase")
/** β so large that a learner with little data has Q̄ at its cap H and Q̲ at 0: a width of exactly H. */
const config: LsviConfig = { horizon: c.horizon, dim: c.features.dim, actions: c.actions, beta: 100, lambda: 1 }
const fresh = (seed: number) => {
  const instance = makeInstance(c.tasks[0], c.features, Rng.make(seed))
  return { instance, learner: new Lsvi(config, instance.features) }
}

describe("a phase's budget at its boundaries (§3 step 1)", () => {
  it("a width equal to the target is reached: the phase stops before any episode", () => {
    const { instance, learner } = fresh(1)
    const H = c.horizon
    const r = runPhase(learner, instance, { untilWidth: H, maxEpisodes: 50 })
    expect(r).toEqual({ episodes: 0, certificate: { lower: 0, upper: H, width: H }, reached: true })
    // Just below the width, the phase runs to its cap and does not reach it.
    const below = fresh(1)
    const capped = runPhase(below.learner, below.instance, { untilWidth: H - 1e-9, maxEpisodes: 5 })
    expect(capped.certificate.width).toBe(H)
    expect(capped).toMatchObject({ episodes: 5, reached: false })
  })

  it("a schedule of k episodes runs exactly k, and a chunk of n runs at most n of them", () => {
    for (const k of [1, 7, 20]) {
      const { instance, learner } = fresh(2)
      expect(runPhase(learner, instance, { untilWidth: -Infinity, maxEpisodes: k })).toMatchObject({ episodes: k, reached: false })
    }
    const budget = { untilWidth: -Infinity, maxEpisodes: 20 }
    const { instance, learner } = fresh(3)
    let state = continuePhase(learner, instance, budget, undefined, 3)
    expect(state.episodes).toBe(3)
    state = continuePhase(learner, instance, budget, state, 3)
    expect(state.episodes).toBe(6)
    state = continuePhase(learner, instance, budget, state, 100)
    expect(state.episodes).toBe(20)
    // In chunks or in one go: the same certificate.
    const whole = fresh(3)
    expect(runPhase(whole.learner, whole.instance, budget).certificate).toEqual(state.certificate)
  })
})

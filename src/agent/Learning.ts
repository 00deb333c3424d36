/**
 * An agent's task instance together with its own LSVI-UCB learner (docs/algorithm.md §2): what an agent
 * program does with an instance is run phases of episodes on it and read off its greedy policy.
 * Where the numeric work runs is not the agent's business: `local` runs it on the agent's fiber,
 * src/run/threads/ on a worker thread; both run `continuePhase` on the same state, so they give the
 * same numbers.
 *
 * A `Learning` hides the instance's identity exactly as `Instance` does: it is opened by the run
 * (which knows the task) and handed to the agent as an opaque handle.
 */
import { Effect } from "effect"
import type { Instance } from "../env/Instance.ts"
import { Lsvi, type LsviConfig, type Policy } from "../learner/Lsvi.ts"
import { type Budget, continuePhase, phaseOver, type PhaseResult, phaseResult, type PhaseState } from "./episodes.ts"

export interface Learning {
  /** Runs episodes on this instance until the budget says stop (§3 steps 1 and 3). */
  readonly phase: (budget: Budget) => Effect.Effect<PhaseResult>
  /** The greedy policy of the current Q̄ (§2). */
  readonly policy: Effect.Effect<Policy>
}

/** Opens an agent's next instance with a fresh learner; called when the agent comes to it. */
export type Open = () => Learning

/**
 * Episodes between two yields of an agent's fiber. Chunks change nothing in the numbers (see
 * `continuePhase`): they let the other fibers, and the progress display, run in between.
 */
export const LOCAL_CHUNK = 64

/**
 * A phase run as a sequence of chunks, wherever they run: `next(state)` runs the chunk that continues
 * `state` (undefined at the start of the phase) with `continuePhase`. `onEpisodes` is told each
 * chunk's episodes.
 */
export const inChunks = (
  budget: Budget,
  onEpisodes: (episodes: number) => void,
  next: (state: PhaseState | undefined) => Effect.Effect<PhaseState>
): Effect.Effect<PhaseResult> =>
  Effect.gen(function*() {
    let state: PhaseState | undefined = undefined
    for (;;) {
      const before: number = state?.episodes ?? 0
      state = yield* next(state)
      if (state.episodes > before) onEpisodes(state.episodes - before)
      if (phaseOver(state, budget)) return phaseResult(state, budget)
    }
  })

/** The instance's numeric work on the agent's own fiber. `onEpisodes` is told each batch of episodes run. */
export const local = (config: LsviConfig, instance: Instance, onEpisodes: (episodes: number) => void): Learning => {
  const learner = new Lsvi(config, instance.features)
  return {
    phase: (budget) =>
      inChunks(budget, onEpisodes, (state) => {
        const chunk = Effect.sync(() => continuePhase(learner, instance, budget, state, LOCAL_CHUNK))
        // The other fibers run between two chunks.
        return state === undefined ? chunk : Effect.andThen(Effect.yieldNow, chunk)
      }),
    policy: Effect.sync(() => learner.policy())
  }
}

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
import type { Exchange } from "../coordinator/Coordinator.ts"
import type { Instance } from "../env/Instance.ts"
import { Lsvi, type LsviConfig, type Policy } from "../learner/Lsvi.ts"
import { TransitionLog } from "../learner/Transitions.ts"
import { InstanceCurve, type PhasePoint } from "./curve.ts"
import {
  type Budget,
  continuePhase,
  continueShared,
  type CurveSink,
  phaseOver,
  type PhaseResult,
  phaseResult,
  type PhaseState,
  type SharedStep
} from "./episodes.ts"

/** Pushes a batch of transitions to the task's pool and pulls the others' since `cursor` (§3 step 3). */
export type Exchanger<P = Policy> = (pushed: Float64Array, cursor: number) => Effect.Effect<Exchange<P>>

/** How a pooled phase ended: this learner's certificate said stop, or another contributor published. */
export type SharedResult<P = Policy> =
  | { readonly _tag: "Learned"; readonly phase: PhaseResult }
  | {
    readonly _tag: "Solved"
    readonly episodes: number
    readonly policy: P
    readonly certificate: PhaseResult["certificate"]
    readonly reached: boolean
  }

/**
 * `P` is the policy the learner hands out: the linear stage's `Policy` (Λ⁻¹ and w̄) by default, a
 * network's weights in the deep stage (src/deep/distmt/).
 */
export interface Learning<P = Policy> {
  /** Runs episodes on this instance until the budget says stop (§3 steps 1 and 3). */
  readonly phase: (budget: Budget) => Effect.Effect<PhaseResult>
  /**
   * Runs episodes on this instance as a contributor to its task's pool (§3 step 3,
   * `sharing: "experience"`): first pushes every transition recorded so far, then before each
   * backup pulls the others' transitions and after each episode pushes its own, until the budget
   * says stop or another contributor publishes. Needs an instance opened with `record`.
   */
  readonly shared: (budget: Budget, exchange: Exchanger<P>) => Effect.Effect<SharedResult<P>>
  /** The greedy policy of the current Q̄ (§2). */
  readonly policy: Effect.Effect<P>
}

/** Opens an agent's next instance with a fresh learner; called when the agent comes to it. */
export type Open<P = Policy> = () => Learning<P>

/**
 * What the run watches of an instance's learning, apart from the agent: each batch of episodes
 * (for progress and virtual time) with the phase so far, and the instance's learning curve
 * (src/agent/curve.ts), whose points are taken over `states` states.
 */
export interface Watch {
  readonly episodes: (episodes: number, state: PhaseState, budget: Budget) => void
  readonly curve: InstanceCurve
  readonly states: number
}

/** A watch that only counts episodes, its curve without gaps (tests, benchmarks). */
export const watching = (states: number, episodes: (count: number) => void = () => {}): Watch => ({
  states,
  curve: new InstanceCurve(() => Number.NaN),
  episodes: (count) => episodes(count)
})

/**
 * Episodes between two yields of an agent's fiber. Chunks change nothing in the numbers (see
 * `continuePhase`): they let the other fibers, and the progress display, run in between.
 */
export const LOCAL_CHUNK = 64

/** A chunk's or a step's outcome with the curve points it sampled. */
export interface Sampled<A> {
  readonly value: A
  readonly points: ReadonlyArray<PhasePoint>
}

/**
 * A phase run as a sequence of chunks, wherever they run: `next(state)` runs the chunk that continues
 * `state` (undefined at the start of the phase) with `continuePhase`. `watch` is told each chunk's
 * episodes and given its curve points. `from` continues a phase that stood there (a resumed
 * checkpoint, whose episodes and points were told before): chunk boundaries change no number.
 */
export const inChunks = (
  budget: Budget,
  watch: Watch,
  next: (state: PhaseState | undefined) => Effect.Effect<Sampled<PhaseState>>,
  from?: PhaseState
): Effect.Effect<PhaseResult> =>
  Effect.gen(function*() {
    let state: PhaseState | undefined = from
    if (state !== undefined && phaseOver(state, budget)) {
      watch.curve.endPhase(state.episodes)
      return phaseResult(state, budget)
    }
    for (;;) {
      const before: number = state?.episodes ?? 0
      const chunk: Sampled<PhaseState> = yield* next(state)
      state = chunk.value
      watch.curve.add(chunk.points)
      if (state.episodes > before) watch.episodes(state.episodes - before, state, budget)
      if (phaseOver(state, budget)) {
        watch.curve.endPhase(state.episodes)
        return phaseResult(state, budget)
      }
    }
  })

/**
 * Where a pooled phase stood after an exchange (a resumed checkpoint): the phase so far, and the
 * exchange's reply, which the next step absorbs.
 */
export interface PooledAt {
  readonly state: PhaseState
  readonly pulled: Float64Array
  readonly cursor: number
}

/**
 * A pooled phase as a sequence of steps, wherever they run: join the pool with the transitions
 * `log` recorded so far (the instance's identification, which then leaves the log), then alternate
 * `step(state, pulled)` (absorb, back up, maybe run one episode: `continueShared`) and an exchange
 * that pushes the episode's transitions and pulls the others'. `watch` is told each episode and
 * given the curve points. `from` continues a phase that stood there, without joining again.
 */
export const inSharedSteps = (
  budget: Budget,
  watch: Watch,
  exchange: Exchanger,
  log: TransitionLog | undefined,
  step: (state: PhaseState | undefined, pulled: Float64Array) => Effect.Effect<Sampled<SharedStep>>,
  from?: PooledAt
): Effect.Effect<SharedResult> =>
  Effect.gen(function*() {
    if (log === undefined) return yield* Effect.die(new Error("a pooled phase needs an instance opened with record"))
    const joining = log.toArray()
    log.clear()
    let reply: Exchange = from === undefined ? yield* exchange(joining, 0) : { _tag: "Pooled", pulled: from.pulled, cursor: from.cursor }
    let state: PhaseState | undefined = from?.state
    for (;;) {
      if (reply._tag === "Solved") {
        const { certificate, policy, reached } = reply
        const episodes = state?.episodes ?? 0
        watch.curve.endPhase(episodes)
        return { _tag: "Solved", episodes, policy, certificate, reached }
      }
      const next: Sampled<SharedStep> = yield* step(state, reply.pulled)
      state = next.value.state
      watch.curve.add(next.points)
      if (next.value.pushed === undefined) {
        watch.curve.endPhase(state.episodes)
        return { _tag: "Learned", phase: phaseResult(state, budget) }
      }
      watch.episodes(1, state, budget)
      reply = yield* exchange(next.value.pushed, reply.cursor)
    }
  })

/**
 * One step of a pooled phase on `learner` and `instance`, here (`continueShared`), with the curve
 * points it sampled: what `local` and a learner pool's pooled phase (src/run/threads/pool.ts) run.
 */
export const sharedStepHere = (learner: Lsvi, instance: Instance, budget: Budget, watch: Watch) =>
(state: PhaseState | undefined, pulled: Float64Array): Effect.Effect<Sampled<SharedStep>> =>
  Effect.sync(() => {
    const curve: CurveSink = { states: watch.states, points: [] }
    return { value: continueShared(learner, instance, budget, state, pulled, curve), points: curve.points }
  })

/**
 * The instance's numeric work on the agent's own fiber. `watch` is told each batch of episodes run.
 * With `record`, every transition is also kept until the instance joins a pool (§3 step 3).
 */
export const local = (
  config: LsviConfig,
  instance: Instance,
  watch: Watch,
  record = false
): Learning => {
  const learner = new Lsvi(config, instance.features)
  const log = record ? new TransitionLog() : undefined
  return {
    phase: (budget) =>
      inChunks(budget, watch, (state) => {
        const chunk = Effect.sync(() => {
          const curve: CurveSink = { states: watch.states, points: [] }
          return { value: continuePhase(learner, instance, budget, state, LOCAL_CHUNK, log, curve), points: curve.points }
        })
        // The other fibers run between two chunks.
        return state === undefined ? chunk : Effect.andThen(Effect.yieldNow, chunk)
      }),
    shared: (budget, exchange) => inSharedSteps(budget, watch, exchange, log, sharedStepHere(learner, instance, budget, watch)),
    policy: Effect.sync(() => learner.policy())
  }
}

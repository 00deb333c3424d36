/**
 * Running episodes of LSVI-UCB on an instance until a certificate or a budget says stop: the
 * "explore to identify" and "learn" phases of docs/algorithm.md §3 share this loop.
 *
 * The loop is plain synchronous code over a learner and an instance, cut into chunks
 * (`continuePhase`), so that the same function runs a phase on the agent's own fiber or on a worker
 * thread (src/agent/Learning.ts, src/run/threads/): where it runs never changes a number.
 */
import type { Instance } from "../env/Instance.ts"
import type { Certificate, Lsvi } from "../learner/Lsvi.ts"
import { absorb, TransitionLog } from "../learner/Transitions.ts"
import { onGrid, type Phase, type PhasePoint, samplePoint } from "./curve.ts"

/**
 * One episode acting greedily on the current Q̄ (§2), its transitions added to the data and, when
 * a `log` is given, recorded there too (for experience sharing, §3 step 3).
 */
export const runEpisode = (learner: Lsvi, instance: Instance, log?: TransitionLog): void => {
  let s = instance.reset()
  for (let h = 0; h < instance.horizon; h++) {
    const a = learner.act(h, s)
    const { reward, next } = instance.step(h, s, a)
    learner.addTransition(h, s, a, reward, next)
    log?.push(h, s, a, reward, next)
    s = next
  }
}

/** Stop when `width ≤ untilWidth` (adaptive rule) or after `maxEpisodes` (schedule rule, or cap). */
export interface Budget {
  readonly untilWidth: number
  readonly maxEpisodes: number
  /** What the phase is for, as its learning curve says (default "learn"). */
  readonly phase?: Phase
}

/**
 * Where a phase's learning-curve points go (src/agent/curve.ts): the greedy policy is tabulated
 * over `states` states at each sampled episode.
 */
export interface CurveSink {
  readonly states: number
  readonly points: Array<PhasePoint>
}

/**
 * Samples the phase's curve after `episodes` episodes when that is on the grid or the phase is
 * over. (Plain arguments, not a `PhaseState`: this runs after every episode, which should allocate nothing.)
 */
const sample = (learner: Lsvi, budget: Budget, episodes: number, certificate: Certificate, curve: CurveSink | undefined): void => {
  if (curve === undefined || !(onGrid(episodes) || over(episodes, certificate, budget))) return
  curve.points.push(samplePoint(learner, curve.states, budget.phase ?? "learn", episodes, certificate))
}

/** A phase so far: the episodes it ran and the certificate after the last backup. */
export interface PhaseState {
  readonly episodes: number
  readonly certificate: Certificate
}

export interface PhaseResult extends PhaseState {
  /** True when the width target was met (always false under a pure schedule). */
  readonly reached: boolean
}

/** Whether a phase in `state` is over under `budget`. */
export const phaseOver = (state: PhaseState, budget: Budget): boolean => over(state.episodes, state.certificate, budget)

const over = (episodes: number, certificate: Certificate, budget: Budget): boolean =>
  certificate.width <= budget.untilWidth || episodes >= budget.maxEpisodes

export const phaseResult = (state: PhaseState, budget: Budget): PhaseResult => ({
  ...state,
  reached: state.certificate.width <= budget.untilWidth
})

/**
 * Runs at most `chunk` more episodes of a phase, each followed by a backup and the certificate at
 * s0, and stops early when the budget says so. `state` undefined starts the phase: one backup of
 * the data gathered so far, then its certificate. Running a phase in chunks of any sizes gives the
 * same episodes, numbers and curve points as running it in one go.
 */
export const continuePhase = (
  learner: Lsvi,
  instance: Instance,
  budget: Budget,
  state: PhaseState | undefined,
  chunk: number,
  log?: TransitionLog,
  curve?: CurveSink
): PhaseState => {
  const start = instance.reset()
  if (state === undefined) {
    learner.backup()
    state = { episodes: 0, certificate: learner.certificate(start) }
    sample(learner, budget, 0, state.certificate, curve)
  }
  let { certificate, episodes } = state
  for (let run = 0; run < chunk && !over(episodes, certificate, budget); run++) {
    runEpisode(learner, instance, log)
    episodes++
    learner.backup()
    certificate = learner.certificate(start)
    sample(learner, budget, episodes, certificate, curve)
  }
  return { episodes, certificate }
}

/** A whole phase in one call (tests, and anything that needs no chunks). */
export const runPhase = (learner: Lsvi, instance: Instance, budget: Budget): PhaseResult =>
  phaseResult(continuePhase(learner, instance, budget, undefined, Infinity), budget)

/** One step of a pooled phase: the phase so far, and the episode's transitions if one was run. */
export interface SharedStep {
  readonly state: PhaseState
  /** The transitions of the episode this step ran, to push; undefined when the phase is over. */
  readonly pushed: Float64Array | undefined
}

/**
 * One step of a phase on a task whose experience is pooled (§3 step 3, `sharing: "experience"`):
 * absorb the transitions `pulled` from the pool, back up, read the certificate; if the phase is not
 * over, run one episode and return its transitions for the caller to push. The pull before each
 * backup is what makes every contributor learn from the pooled data. Like `continuePhase`, this is
 * plain synchronous code, so it runs the same on the agent's fiber or on a learner thread.
 */
export const continueShared = (
  learner: Lsvi,
  instance: Instance,
  budget: Budget,
  state: PhaseState | undefined,
  pulled: Float64Array,
  curve?: CurveSink
): SharedStep => {
  const start = instance.reset()
  absorb(learner, pulled)
  learner.backup()
  const now: PhaseState = { episodes: state?.episodes ?? 0, certificate: learner.certificate(start) }
  sample(learner, budget, now.episodes, now.certificate, curve)
  if (phaseOver(now, budget)) return { state: now, pushed: undefined }
  const log = new TransitionLog()
  runEpisode(learner, instance, log)
  return { state: { episodes: now.episodes + 1, certificate: now.certificate }, pushed: log.toArray() }
}

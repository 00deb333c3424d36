/**
 * A spec's checks across fields that no one field's Schema can make (schema.ts runs them once the
 * spec decodes): each of these specs decoded, and then ran something other than what it says.
 */
import { MINATAR_DEFAULTS } from "../deep/config.ts"
import type { ExperimentInput } from "./schema.ts"
import { show, type SpecIssue } from "./SpecError.ts"

/**
 * A deep learner that would never train: an agent trains only once its replay holds replayStart
 * frames, so a replayStart at or beyond its frame budget never comes; and it trains on batches of
 * batchSize drawn from its replay, which never holds more than replayCapacity transitions, so a
 * capacity below the batch never fills one (the run went on, acting at random, and reported that);
 * and it trains once every trainEvery frames after replayStart, so a longer period comes once at most.
 */
export const replayIssues = (s: typeof ExperimentInput.Type): ReadonlyArray<SpecIssue> => {
  if (s.learner?._tag !== "Dqn") return []
  const issues: Array<SpecIssue> = []
  const start = s.learner.dqn?.replayStart
  const at = start ?? MINATAR_DEFAULTS.replayStart
  if (at >= s.learner.framesPerAgent) {
    issues.push({
      path: start === undefined ? "learner.framesPerAgent" : "learner.dqn.replayStart",
      message: `expected learner.dqn.replayStart (${start === undefined ? `default ${at}` : at}) below learner.framesPerAgent: ` +
        "an agent trains only once its replay holds replayStart frames, so no agent would ever train",
      actual: show(start === undefined ? s.learner.framesPerAgent : start)
    })
  }
  // An update comes at a multiple of trainEvery once replayStart frames have passed: a period
  // longer than the frames left after them comes once at most (the run acted untrained, in silence).
  const every = s.learner.dqn?.trainEvery ?? MINATAR_DEFAULTS.trainEvery
  const after = s.learner.framesPerAgent - at
  if (after > 0 && every > after) {
    issues.push({
      path: "learner.dqn.trainEvery",
      message: `expected learner.dqn.trainEvery at most the ${after} frames of learner.framesPerAgent after learner.dqn.replayStart: ` +
        "an agent trains once every trainEvery frames after its replayStart, so an agent would train once at most, perhaps never",
      actual: show(every)
    })
  }
  // Only a capacity the spec sets can be below a batch: the default (100,000) is above every batchSize allowed (≤ 4096).
  const capacity = s.learner.dqn?.replayCapacity
  const batch = s.learner.dqn?.batchSize ?? MINATAR_DEFAULTS.batchSize
  if (capacity !== undefined && capacity < batch) {
    issues.push({
      path: "learner.dqn.replayCapacity",
      message: `expected learner.dqn.replayCapacity at least learner.dqn.batchSize (${batch}): an agent trains on batches drawn ` +
        "from its replay, which never holds more than replayCapacity transitions, so no agent would ever train",
      actual: show(capacity)
    })
  }
  return issues
}

/**
 * Run r uses seed `seed + r`; past 2⁵³ − 1 two of those sums round to the same number, and the run
 * ran one seed twice as two (seed 2⁵³ − 1 with 3 seeds gave seeds 2⁵³ − 1, 2⁵³ and 2⁵³ again).
 */
export const seedIssues = (s: typeof ExperimentInput.Type): ReadonlyArray<SpecIssue> => {
  const seed = s.seed ?? 0
  const last = Number.MAX_SAFE_INTEGER - ((s.seeds ?? 1) - 1)
  return seed <= last ? [] : [{
    path: "seed",
    message: `expected at most ${last.toLocaleString("en-US")} with seeds = ${s.seeds ?? 1}: run r uses seed + r, and above ` +
      `${Number.MAX_SAFE_INTEGER.toLocaleString("en-US")} (2⁵³ − 1) two runs would get the same seed`,
    actual: show(seed)
  }]
}

/**
 * A baseline listed twice ran twice, as two seeds of one: `["oracle", "oracle"]` with 1 seed gave
 * oracle's summary `seeds: 2` and every results.csv row twice.
 */
export const baselineIssues = (s: typeof ExperimentInput.Type): ReadonlyArray<SpecIssue> =>
  (s.baselines ?? []).flatMap((b, i, all) =>
    all.indexOf(b) === i ? [] : [{ path: `baselines[${i}]`, message: `expected distinct baselines: the same as baselines[${all.indexOf(b)}]`, actual: show(b) }]
  )

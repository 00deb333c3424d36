/**
 * A spec's checks across fields that no one field's Schema can make (schema.ts runs them once the
 * spec decodes): each of these specs decoded, and then ran something other than what it says.
 */
import { MINATAR_DEFAULTS } from "../deep/config.ts"
import { framesShown, framesToTrain, learnerFrames, mostInstances, untrainedFrames } from "../deep/distmt/warmup.ts"
import { minatarTasks } from "../env/minatar/spec.ts"
import type { MinAtarEnv } from "./Spec.ts"
import type { ExperimentInput } from "./schema.ts"
import { show, type SpecIssue } from "./SpecError.ts"

/**
 * A deep learner that would never train: an agent trains only once its replay holds replayStart
 * frames of its own, and an agent's frames are split over the instances it meets, each a fresh
 * learner (src/deep/distmt/warmup.ts), so a replayStart at or beyond an instance's frames never
 * comes (DistMT's, and the oracle's, which meets the same instances; the independent baseline's is
 * a warning, src/deep/distmt/compile.ts); and it trains on batches of batchSize drawn from its
 * replay, which never holds more than replayCapacity transitions, so a capacity below the batch
 * never fills one (the run went on, acting at random, and reported that); and it trains once every
 * trainEvery frames after replayStart, so a period longer than the frames left after them comes once
 * at most.
 */
export const replayIssues = (s: typeof ExperimentInput.Type): ReadonlyArray<SpecIssue> => {
  if (s.learner?._tag !== "Dqn") return []
  const issues: Array<SpecIssue> = []
  const start = s.learner.dqn?.replayStart
  const at = start ?? MINATAR_DEFAULTS.replayStart
  // Decode has checked the contexts (Dqn.learner comes with Env.minatar only), so they are the M tasks.
  const tasks = minatarTasks(s.environment as MinAtarEnv, s.contexts).tasks.length
  const assignment = s.assignment ?? { _tag: "Partition" as const }
  const w = { framesPerAgent: s.learner.framesPerAgent, replayStart: at, lifelong: s.learner.lifelong ?? false, instances: mostInstances(assignment, s.agents, tasks) }
  const frames = untrainedFrames(w)
  if (frames !== undefined) {
    const shown = start === undefined ? `default ${at}` : at
    issues.push({
      path: start === undefined ? "learner.framesPerAgent" : "learner.dqn.replayStart",
      message: w.instances === 1
        ? `expected learner.dqn.replayStart (${shown}) below learner.framesPerAgent: ` +
          "an agent trains only once its replay holds replayStart frames, so no agent would ever train"
        : `expected learner.dqn.replayStart (${shown}) below ${framesShown(w, frames)} under assignment ${assignment._tag} ` +
          `(${s.agents} agents, ${tasks} tasks): a learner trains only once it has played replayStart frames, so some agents would ` +
          `never train (learner.framesPerAgent at least ${framesToTrain(w).toLocaleString("en-US")} would do)`,
      actual: show(start === undefined ? s.learner.framesPerAgent : start)
    })
  }
  // An update comes at a multiple of trainEvery once replayStart frames have passed: a period
  // longer than the frames left after them comes once at most (the run acted untrained, in silence).
  // A learner's frames are its instance's (warmup.ts), as for replayStart above.
  const every = s.learner.dqn?.trainEvery ?? MINATAR_DEFAULTS.trainEvery
  const after = learnerFrames(w) - at
  if (after > 0 && every > after) {
    issues.push({
      path: "learner.dqn.trainEvery",
      message: `expected learner.dqn.trainEvery at most the ${after} frames ` +
        (w.instances === 1 ? "of learner.framesPerAgent after learner.dqn.replayStart: " : `after learner.dqn.replayStart of ${framesShown(w, learnerFrames(w))}: `) +
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

/**
 * Whether a deep run's learners ever get past `replayStart`, the frames of random play before a
 * DQN's first update (src/deep/agent.ts). An agent's `framesPerAgent` is split evenly over the
 * instances it meets (run.ts), and each instance starts a fresh network whose frames count from 0;
 * so with 10 instances and 20,000 frames a learner plays 2,000 frames, and a `replayStart` of 2,000
 * is never passed, however far below `framesPerAgent` it is. With `lifelong` the agent's one network
 * counts its frames over all its instances (the replay is emptied at a switch, the count is not).
 */
import type { Assignment } from "../../spec/Spec.ts"

/** The frames of one instance of an agent that meets `instances` of them (run.ts). */
export const framesPerInstance = (framesPerAgent: number, instances: number): number => Math.floor(framesPerAgent / instances)

/** The most instances one agent meets under an assignment of M tasks to N agents (src/run/assignment.ts's `assign`). */
export const mostInstances = (assignment: Assignment, agents: number, tasks: number): number =>
  assignment._tag === "Partition" ? Math.ceil(Math.max(agents, tasks) / agents) : assignment._tag === "Stream" ? tasks : assignment.k

export interface Warmup {
  readonly framesPerAgent: number
  readonly replayStart: number
  readonly lifelong: boolean
  /** Instances the agent meets. */
  readonly instances: number
}

/**
 * The frames one learner plays, if they do not pass `replayStart` (so it never trains: at most one
 * update, at its last frame); undefined when it trains.
 */
export const untrainedFrames = (w: Warmup): number | undefined => {
  const frames = learnerFrames(w)
  return frames <= w.replayStart ? frames : undefined
}

/** The frames one learner plays: its instance's, or with `lifelong` those of all its instances. */
export const learnerFrames = (w: Warmup): number => {
  const per = framesPerInstance(w.framesPerAgent, w.instances)
  return w.lifelong ? per * w.instances : per
}

/** The least `framesPerAgent` with which the learner trains, the other fields as they are. */
export const framesToTrain = (w: Warmup): number =>
  w.lifelong ? (Math.floor(w.replayStart / w.instances) + 1) * w.instances : (w.replayStart + 1) * w.instances

/**
 * Where a learner's frames come from, for a message: "the 2,000 frames of each instance
 * (learner.framesPerAgent 20,000 split over the 10 instances an agent meets)".
 */
export const framesShown = (w: Warmup, frames: number): string => {
  const n = (x: number) => x.toLocaleString("en-US")
  if (w.instances === 1) return `learner.framesPerAgent (${n(w.framesPerAgent)})`
  return w.lifelong
    ? `the ${n(frames)} frames of an agent's one network (learner.lifelong; learner.framesPerAgent ${n(w.framesPerAgent)} split over its ${w.instances} instances)`
    : `the ${n(frames)} frames of each instance (learner.framesPerAgent ${n(w.framesPerAgent)} split over the ${w.instances} instances an agent meets)`
}

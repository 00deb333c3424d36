/**
 * From a decoded deep-stage spec (`Env.minatar` with `Dqn.learner`; decode has checked both) to
 * what a run needs: the tasks, the networks' shape, the DQN settings and the success targets. No
 * engine is loaded here: the spec check's process uses it too.
 */
import * as os from "node:os"
import { makeGame } from "../../env/minatar/index.ts"
import { bytes } from "../../report/bytes.ts"
import { CLI_REMEDIES, count, MAX_EPISODES, MEMORY_LIMIT_ENV, memoryLimit, type Remedies } from "../../spec/cost.ts"
import { type MinAtarTask, minatarTasks } from "../../env/minatar/spec.ts"
import type { DqnSettings, Experiment, MinAtarEnv } from "../../spec/Spec.ts"
import { dqnConfig, type DqnConfig } from "../config.ts"
import type { NetShape } from "../network.ts"
import { framesShown, framesToTrain, untrainedFrames } from "./warmup.ts"

/** A deep spec ready to run: its tasks, the networks' shape and the DQN settings. */
export interface DeepCompiled {
  readonly spec: Experiment
  readonly settings: DqnSettings
  readonly tasks: ReadonlyArray<MinAtarTask>
  /** Observation channels of every network: the widest game's. */
  readonly channels: number
  readonly config: DqnConfig
  readonly shape: NetShape
  /** The success threshold per task. */
  readonly targets: ReadonlyArray<number>
}

/** From a decoded spec whose environment is `Env.minatar` (decode has checked the rest). */
export const compileDeep = (spec: Experiment): DeepCompiled => {
  if (spec.learner._tag !== "Dqn" || spec.environment._tag !== "MinAtar") throw new Error("compileDeep: not a deep-stage spec")
  const settings = spec.learner
  const { tasks } = minatarTasks(spec.environment as MinAtarEnv, spec.contexts)
  const channels = Math.max(...tasks.map((t) => makeGame(t.game).channels))
  const config = dqnConfig(settings.dqn)
  const target = settings.returnTarget
  return {
    spec,
    settings,
    tasks,
    channels,
    config,
    shape: { channels, convChannels: config.convChannels, hidden: config.hidden, actions: 6 },
    targets: tasks.map((_, m) => (typeof target === "number" ? target : target[m]))
  }
}

/**
 * The replay buffers of one unit's agents at once (what `distmt validate` prints): each agent's
 * current instance holds up to `replayCapacity` transitions, filled by the pool under experience
 * sharing (so up to every agent's frames), each two observations as bytes and its action, reward
 * and end flag (src/deep/replay.ts).
 */
export const replayBytes = (c: DeepCompiled): number =>
  c.spec.agents * Math.min(c.config.replayCapacity, c.settings.framesPerAgent * c.spec.agents) * (2 * c.channels * 100 + 6)

/**
 * Why a deep run is refused before it starts, or undefined: the replay buffers of the units that
 * run at once (one per worker thread, `threads`) exceed the machine's memory (or
 * DISTMT_MEMORY_LIMIT), as the linear stage refuses its learners' (src/spec/cost.ts). Without it,
 * `--set agents=100000` started, and grew past 6 GiB within two minutes on its way to hundreds.
 * The estimate is a lower bound of the peak (the N = 20 spec: 1.4 GiB estimated for two units,
 * 2.4 GiB measured), so a run refused here could not have fitted. `where` prefixes a sweep point.
 */
export const deepCostProblem = (spec: Experiment, threads: number | "auto", where = "", remedies: Remedies = CLI_REMEDIES): string | undefined => {
  const limit = memoryLimit()
  if (typeof limit === "string") return limit
  const c = compileDeep(spec)
  const units = spec.seeds * (1 + spec.baselines.length)
  const atOnce = Math.max(1, Math.min(threads === "auto" ? os.availableParallelism() : threads, units))
  // Frames in all, bounded as the linear stage bounds episodes: `--seeds 1e9` crashed the process
  // (V8's heap, exit 134) laying out its 3e9 units, and would never have finished anyway.
  const frames = units * spec.agents * c.settings.framesPerAgent
  if (!(frames <= MAX_EPISODES)) {
    const factors: Array<[number, string]> = [
      [spec.seeds, `seeds: ${count(spec.seeds)}`],
      [spec.agents, `agents: ${count(spec.agents)}`],
      [c.settings.framesPerAgent, `learner.framesPerAgent: ${count(c.settings.framesPerAgent)}`]
    ]
    const driver = factors.reduce((a, b) => (b[0] > a[0] ? b : a))[1]
    return `${where}${driver} → ${count(frames)} frames in all, more than ${count(MAX_EPISODES)}: it would not finish; pass ${remedies.force} to run it anyway`
  }
  const perUnit = replayBytes(c)
  if (perUnit * atOnce <= limit.bytes) return undefined
  return `${where}agents: ${spec.agents}, learner.dqn.replayCapacity: ${c.config.replayCapacity} → replay buffers of about ${bytes(perUnit)} per unit` +
    (atOnce > 1 ? `, ${atOnce} units at a time (one per thread): about ${bytes(perUnit * atOnce)}` : "") +
    `, more than ${limit.label}; lower them${atOnce > 1 ? ` or ${remedies.threads}` : ""}, or pass ${remedies.force} to run it anyway`
}

/**
 * Why a runner refuses a deep unit of `spec`, or undefined: the unit's replay buffers exceed the
 * runner's own memory (or its DISTMT_MEMORY_LIMIT). deepCostProblem checks the submitting machine,
 * which may have more; a runner with less took the unit and grew until the system killed it, and
 * the unit was sent again, to the runner holding its shard, for ever. One unit at a time: the units
 * a runner queues for its threads are not added up.
 */
export const runnerMemoryProblem = (spec: Experiment, runner: string, unit: string): string | undefined => {
  const limit = memoryLimit()
  if (typeof limit === "string") return `runner ${runner} cannot check deep unit ${unit}'s memory: ${limit}`
  const needed = replayBytes(compileDeep(spec))
  if (needed <= limit.bytes) return undefined
  const given = process.env[MEMORY_LIMIT_ENV]?.trim()
  const available = `${bytes(limit.bytes)}${given ? ` (its ${MEMORY_LIMIT_ENV})` : ""}`
  return `runner ${runner} refuses deep unit ${unit}: its replay buffers need about ${bytes(needed)}, and the runner has ${available}; ` +
    "run it on runners with more memory, or lower agents or learner.dqn.replayCapacity"
}

/**
 * What `distmt validate` and a deep run warn of before they start: the independent baseline, whose
 * agents meet every task with the same frames, never passing `replayStart` (warmup.ts). Decode
 * refuses a DistMT that would not train (src/spec/crossFields.ts); this is a warning, because the
 * comparison at equal frames per agent may mean it (specs/minatar.spec.ts: 2,000 frames a task,
 * replayStart 2,000, docs/deep.md), but it is easily met by accident.
 */
export const trainingWarnings = (spec: Experiment): ReadonlyArray<string> => {
  if (spec.learner._tag !== "Dqn" || !spec.baselines.includes("independent")) return []
  const c = compileDeep(spec)
  const w = { framesPerAgent: c.settings.framesPerAgent, replayStart: c.config.replayStart, lifelong: c.settings.lifelong, instances: c.tasks.length }
  const frames = untrainedFrames(w)
  if (frames === undefined) return []
  const n = (x: number) => x.toLocaleString("en-US")
  return [
    `the independent baseline never trains: its agents meet all ${c.tasks.length} tasks, and ${framesShown(w, frames)} ` +
    `do not pass learner.dqn.replayStart (${n(w.replayStart)}), the frames a learner plays before its first update; ` +
    `if it should train, give learner.framesPerAgent at least ${n(framesToTrain(w))} or a smaller learner.dqn.replayStart` +
    (w.lifelong || w.instances === 1 ? "" : ", or learner.lifelong: true (one network over an agent's instances)")
  ]
}

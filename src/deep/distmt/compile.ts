/**
 * From a decoded deep-stage spec (`Env.minatar` with `Dqn.learner`; decode has checked both) to
 * what a run needs: the tasks, the networks' shape, the DQN settings and the success targets. No
 * engine is loaded here: the spec check's process uses it too.
 */
import { makeGame } from "../../env/minatar/index.ts"
import { type MinAtarTask, minatarTasks } from "../../env/minatar/spec.ts"
import type { DqnSettings, Experiment, MinAtarEnv } from "../../spec/Spec.ts"
import { dqnConfig, type DqnConfig } from "../config.ts"
import type { NetShape } from "../network.ts"

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

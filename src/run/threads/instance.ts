/**
 * An instance's state brought back to life: its random stream, the task instance that draws from
 * it, and its learner (new, or restored from its snapshot). A learner thread does this for every
 * chunk (worker.ts) and the pool for a pooled phase, which it runs itself (pool.ts): one piece of
 * code, so that the pool continues exactly where a learner thread would have.
 */
import { makeInstance } from "../../env/Instance.ts"
import { Lsvi, type LsviSnapshot } from "../../learner/Lsvi.ts"
import * as Rng from "../../rng/Rng.ts"
import type { ModelMessage } from "./protocol.ts"

export const restoreInstance = (model: ModelMessage, task: number, rng: Uint32Array, learner: LsviSnapshot | undefined) => {
  const stream = Rng.fromState(rng)
  const instance = makeInstance(model.tasks[task], model.features, stream)
  return {
    stream,
    instance,
    learner: learner === undefined ? new Lsvi(model.config, instance.features) : Lsvi.restore(model.config, instance.features, learner)
  }
}

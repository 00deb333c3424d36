/**
 * A learner thread: runs chunks of phases (src/agent/episodes.ts `continuePhase`) on instance
 * states it is sent, and sends the states back. It keeps nothing between chunks but the models'
 * tables, so any chunk can run on any worker and an agent's instance moves freely between them.
 */
import { parentPort } from "node:worker_threads"
import { continuePhase, type CurveSink } from "../../agent/episodes.ts"
import { snapshotBuffers } from "../../learner/Lsvi.ts"
import { TransitionLog } from "../../learner/Transitions.ts"
import { restoreInstance } from "./instance.ts"
import type { ModelMessage, Reply, Request } from "./protocol.ts"

const port = parentPort!
const models = new Map<number, ModelMessage>()

port.on("message", (request: Request) => {
  if (request._tag === "Model") {
    models.set(request.model, request)
    return
  }
  if (request._tag === "Forget") {
    models.delete(request.model)
    return
  }
  try {
    const started = performance.now()
    const model = models.get(request.model)
    if (model === undefined) throw new Error(`no model ${request.model} on this worker`)
    const { stream: rng, instance, learner } = restoreInstance(model, request.task, request.rng, request.learner)
    const curve: CurveSink = { states: request.states, points: [] }
    const log = request.record ? new TransitionLog() : undefined
    const phase = continuePhase(learner, instance, request.budget, request.phase, request.chunk, log, curve)
    const snapshot = learner.snapshot()
    const transitions = log?.toArray()
    const reply: Reply = {
      _tag: "Chunk",
      id: request.id,
      rng: rng.state(),
      learner: snapshot,
      phase,
      transitions,
      points: curve.points,
      millis: performance.now() - started
    }
    port.postMessage(reply, [...snapshotBuffers(snapshot), ...(transitions === undefined ? [] : [transitions.buffer as ArrayBuffer])])
  } catch (e) {
    port.postMessage({ _tag: "Failed", id: request.id, message: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies Reply)
  }
})

/**
 * A worker thread of a deep run: runs one (algorithm, seed) unit at a time, as the parent asks
 * (units.ts, through src/cli/workerPool.ts). onnxruntime runs a training step on the thread that calls it, so the units of a run
 * go to one worker per core to use the machine. A deep spec is plain data (games and numbers), so
 * the decoded spec itself is sent; each unit is a function of its seed, so its result does not
 * depend on which worker ran it.
 */
import { Effect } from "effect"
import { parentPort } from "node:worker_threads"
import type { PoolReply } from "../../cli/workerPool.ts"
import type { Algorithm, ProgressSink } from "../../run/runExperiment.ts"
import type { Experiment } from "../../spec/Spec.ts"
import { compileDeep } from "./compile.ts"
import { type DeepRun, runDeepAlgorithm } from "./run.ts"

export interface UnitRequest {
  readonly id: number
  readonly spec: Experiment
  readonly algorithm: Algorithm
  readonly seed: number
}

/** What the worker posts (src/cli/workerPool.ts); its progress counts frames. */
export type UnitReply = PoolReply<DeepRun>

const port = parentPort!

port.on("message", (req: UnitRequest) => {
  let pending = 0
  let last = performance.now()
  const progress: ProgressSink = {
    start: () => {},
    instanceDone: () => {},
    episodes: (n) => {
      pending += n
      const now = performance.now()
      if (now - last > 250) {
        port.postMessage({ _tag: "Progress", id: req.id, episodes: pending } satisfies UnitReply)
        pending = 0
        last = now
      }
    }
  }
  Effect.runPromise(runDeepAlgorithm(compileDeep(req.spec), req.algorithm, req.seed, progress)).then(
    (run) => {
      if (pending > 0) port.postMessage({ _tag: "Progress", id: req.id, episodes: pending } satisfies UnitReply)
      port.postMessage({ _tag: "Done", id: req.id, run } satisfies UnitReply)
    },
    (e: unknown) => port.postMessage({ _tag: "Failed", id: req.id, message: e instanceof Error ? e.message : String(e) } satisfies UnitReply)
  )
})

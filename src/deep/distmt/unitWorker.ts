/**
 * A worker thread of a deep run: runs one (algorithm, seed) unit at a time, as the parent asks
 * (units.ts, through src/cli/workerPool.ts). onnxruntime runs a training step on the thread that calls it, so the units of a run
 * go to one worker per core to use the machine. A deep spec is plain data (games and numbers), so
 * the decoded spec itself is sent; each unit is a function of its seed, so its result does not
 * depend on which worker ran it. Asked to stop (Ctrl-C, an abort), it refuses onnxruntime any new
 * call and interrupts the unit (src/cli/poolWorker.ts, src/deep/onnx/calls.ts).
 */
import { Effect } from "effect"
import { servePool } from "../../cli/poolWorker.ts"
import type { Algorithm, ProgressSink } from "../../run/runExperiment.ts"
import type { Experiment } from "../../spec/Spec.ts"
import { stopOnnxCalls } from "../onnx/calls.ts"
import { compileDeep } from "./compile.ts"
import { type DeepRun, runDeepAlgorithm } from "./run.ts"

export interface UnitRequest {
  readonly spec: Experiment
  readonly algorithm: Algorithm
  readonly seed: number
}

// Its progress counts frames.
servePool<UnitRequest, DeepRun>((req, post) => {
  let pending = 0
  let last = performance.now()
  const progress: ProgressSink = {
    start: () => {},
    instanceDone: () => {},
    episodes: (n) => {
      pending += n
      const now = performance.now()
      if (now - last > 250) {
        post(pending)
        pending = 0
        last = now
      }
    }
  }
  return runDeepAlgorithm(compileDeep(req.spec), req.algorithm, req.seed, progress).pipe(
    Effect.tap(() => Effect.sync(() => pending > 0 && post(pending))),
    // A unit's failure is a defect of its code (onnxruntime's, a game's): its message is the reason.
    Effect.catchDefect((e) => Effect.fail({ message: e instanceof Error ? e.message : String(e) }))
  )
  // Stopped: the unit's onnxruntime calls end before the pool may terminate this thread.
}, stopOnnxCalls)

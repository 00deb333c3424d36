/**
 * The worker's side of src/cli/workerPool.ts, shared by its two kinds of worker (sweepWorker.ts and
 * src/deep/distmt/unitWorker.ts): runs each unit it is sent as a fiber of its own, posts its
 * progress and its result, and, asked to stop, interrupts the unit it runs and says `Stopped` once
 * nothing of it runs any more; the pool terminates the worker only then (workerPool.ts says why).
 * Asked to stop with nothing running, it says `Stopped` at once.
 */
import { Cause, Effect, Exit, Fiber } from "effect"
import { parentPort } from "node:worker_threads"
import type { PoolMessage, PoolReply } from "./workerPool.ts"

export const servePool = <Request, Result>(
  /** One unit; `progress` posts a count of work (the pool hands it to the caller's `onProgress`). */
  run: (request: Request, progress: (count: number) => void) => Effect.Effect<Result, { readonly message: string }>,
  /**
   * What else must end before the worker may be terminated, beside the unit's fiber: work the
   * fiber started outside Effect, which its interruption does not wait for (the deep units'
   * onnxruntime calls, src/deep/onnx/calls.ts).
   */
  stopping: () => Promise<void> = () => Promise.resolve()
): void => {
  const port = parentPort!
  const post = (reply: PoolReply<Result>) => port.postMessage(reply)
  let running: Fiber.Fiber<Result, { readonly message: string }> | undefined
  port.on("message", (message: PoolMessage<Request>) => {
    if (message._tag === "Stop") {
      const fiber = running
      void Promise.all([stopping(), fiber === undefined ? undefined : Effect.runPromise(Fiber.interrupt(fiber))])
        .finally(() => post({ _tag: "Stopped" }))
      return
    }
    const { id, request } = message
    const fiber = Effect.runFork(run(request, (count) => post({ _tag: "Progress", id, episodes: count })))
    running = fiber
    fiber.addObserver((exit) => {
      if (running === fiber) running = undefined
      if (Exit.isSuccess(exit)) post({ _tag: "Done", id, run: exit.value })
      // Interrupted only when asked to stop: the answer is `Stopped`, above.
      else if (!Cause.hasInterruptsOnly(exit.cause)) post({ _tag: "Failed", id, message: failure(exit.cause) })
    })
  })
}

/** A unit's failure in words: its error's message, or a defect's stack. */
const failure = (cause: Cause.Cause<{ readonly message: string }>): string => {
  const error = Cause.findError(cause)
  if (error._tag === "Success") return error.success.message
  const e = Cause.squash(cause)
  return `worker defect: ${e instanceof Error ? e.stack ?? e.message : String(e)}`
}

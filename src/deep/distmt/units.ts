/**
 * The units of a deep run on worker threads (unitWorker.ts), at most `size` at once: onnxruntime
 * trains on the calling thread, so this is how a run uses more than one core. Workers are
 * terminated when the run ends, fails or is interrupted.
 */
import { Data, Effect } from "effect"
import { Worker } from "node:worker_threads"
import { entry } from "../../run/threads/pool.ts"
import type { Algorithm, ProgressSink } from "../../run/runExperiment.ts"
import type { Experiment } from "../../spec/Spec.ts"
import type { DeepRun } from "./run.ts"
import type { UnitReply, UnitRequest } from "./unitWorker.ts"

export class WorkerError extends Data.TaggedError("WorkerError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

const workerModule = new URL("./unitWorker.ts", import.meta.url).href

/** Runs one unit on `worker`, its frames going to `progress` as they are played. */
const onWorker = (worker: Worker, request: UnitRequest, progress: ProgressSink) =>
  Effect.callback<DeepRun, WorkerError>((resume) => {
    const cleanup = () => {
      worker.off("message", onMessage)
      worker.off("error", onError)
      worker.off("exit", onExit)
    }
    const onMessage = (reply: UnitReply) => {
      if (reply.id !== request.id) return
      if (reply._tag === "Frames") return progress.episodes(reply.frames)
      cleanup()
      resume(reply._tag === "Done" ? Effect.succeed(reply.run) : Effect.fail(new WorkerError({ reason: `${request.algorithm} · seed ${request.seed}: ${reply.message}` })))
    }
    const onError = (e: Error) => {
      cleanup()
      resume(Effect.fail(new WorkerError({ reason: `a deep-run worker failed: ${e.message}` })))
    }
    const onExit = (code: number) => {
      cleanup()
      resume(Effect.fail(new WorkerError({ reason: `a deep-run worker stopped (exit code ${code})` })))
    }
    worker.on("message", onMessage)
    worker.on("error", onError)
    worker.on("exit", onExit)
    worker.postMessage(request)
    return Effect.sync(cleanup)
  })

export const runOnWorkers = <E, R>(
  spec: Experiment,
  units: ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }>,
  size: number,
  progress: ProgressSink,
  finished: (run: DeepRun) => Effect.Effect<void, E, R>
): Effect.Effect<void, E | WorkerError, R> =>
  Effect.scoped(Effect.gen(function*() {
    const workers = yield* Effect.acquireRelease(
      Effect.sync(() => Array.from({ length: size }, () => new Worker(entry, { workerData: { module: workerModule, preload: ["effect"] } }))),
      (ws) => Effect.promise(() => Promise.all(ws.map((w) => w.terminate())))
    )
    const free = [...workers]
    // Longest first, so that no long unit runs alone at the end: `independent` trains least (its
    // agents split their frames among every task, each warming up its replay), so it goes last.
    const queue = units.map((u, id) => ({ ...u, id, spec })).sort((a, b) => Number(a.algorithm === "independent") - Number(b.algorithm === "independent"))
    yield* Effect.forEach(
      queue,
      (request) =>
        Effect.acquireUseRelease(
          Effect.sync(() => free.pop()!),
          (worker) =>
            Effect.flatMap(
              Effect.andThen(Effect.sync(() => progress.start(`${request.algorithm} · seed ${request.seed}`, 0)), onWorker(worker, request, progress)),
              finished
            ),
          (worker) => Effect.sync(() => free.push(worker))
        ),
      { concurrency: size, discard: true }
    )
  }))

/**
 * A fixed pool of sweep worker threads (src/cli/sweepWorker.ts), as an Effect resource: the
 * workers are terminated when the scope closes, whether the sweep finished, failed or was
 * interrupted (Ctrl-C). Each worker runs one unit at a time; `run` borrows a free worker, so at
 * most `size` units run at once.
 */
import { Data, Effect, type Scope } from "effect"
import { Worker } from "node:worker_threads"
import type { AlgorithmRun } from "../run/runExperiment.ts"
import { entry } from "../run/threads/pool.ts"
import type { WorkReply, WorkRequest } from "./sweepWorker.ts"

export class WorkerError extends Data.TaggedError("WorkerError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

export interface WorkerPool {
  /** Runs one unit on a free worker; `onProgress` is told the episodes run so far. */
  readonly run: (request: Omit<WorkRequest, "id">, onProgress: (episodes: number) => void) => Effect.Effect<AlgorithmRun, WorkerError>
}

const workerModule = new URL("./sweepWorker.ts", import.meta.url).href

export const makeWorkerPool = (size: number): Effect.Effect<WorkerPool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const workers = yield* Effect.acquireRelease(
      Effect.sync(() => Array.from({ length: size }, () => new Worker(entry, { stdout: false, stderr: false, workerData: { module: workerModule, preload: ["effect"] } }))),
      (ws) => Effect.promise(() => Promise.all(ws.map((w) => w.terminate())))
    )
    const free = [...workers]
    let nextId = 0
    const onWorker = (worker: Worker, request: Omit<WorkRequest, "id">, onProgress: (episodes: number) => void) =>
      Effect.callback<AlgorithmRun, WorkerError>((resume) => {
        const id = nextId++
        const cleanup = () => {
          worker.off("message", onMessage)
          worker.off("error", onError)
          worker.off("exit", onExit)
        }
        const onMessage = (reply: WorkReply) => {
          if (reply.id !== id) return
          if (reply._tag === "Progress") return onProgress(reply.episodes)
          cleanup()
          resume(reply._tag === "Done" ? Effect.succeed(reply.run) : Effect.fail(new WorkerError({ reason: reply.message })))
        }
        const onError = (e: Error) => {
          cleanup()
          resume(Effect.fail(new WorkerError({ reason: `a sweep worker failed: ${e.message}` })))
        }
        const onExit = (code: number) => {
          cleanup()
          resume(Effect.fail(new WorkerError({ reason: `a sweep worker stopped (exit code ${code})` })))
        }
        worker.on("message", onMessage)
        worker.on("error", onError)
        worker.on("exit", onExit)
        worker.postMessage({ ...request, id } satisfies WorkRequest)
        return Effect.sync(cleanup)
      })
    return {
      run: (request, onProgress) =>
        Effect.acquireUseRelease(
          Effect.sync(() => free.pop()!),
          (worker) => onWorker(worker, request, onProgress),
          (worker) => Effect.sync(() => free.push(worker))
        )
    }
  })

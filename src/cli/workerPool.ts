/**
 * A fixed pool of worker threads that each run one unit of work at a time: `distmt sweep`'s
 * (src/cli/sweepWorker.ts) and a deep run's (src/deep/distmt/unitWorker.ts). An Effect resource:
 * the workers are terminated when the scope closes, whether the work finished, failed or was
 * interrupted (Ctrl-C). `run` borrows a free worker, so at most `size` units run at once.
 */
import { Data, Effect, type Scope } from "effect"
import { Worker } from "node:worker_threads"
import { entry } from "../run/threads/pool.ts"

export class WorkerError extends Data.TaggedError("WorkerError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

/** What a pool's worker posts for the request `id`: progress (a count of work done), its result, or why it failed. */
export type PoolReply<Result> =
  | { readonly _tag: "Progress"; readonly id: number; readonly episodes: number }
  | { readonly _tag: "Done"; readonly id: number; readonly run: Result }
  | { readonly _tag: "Failed"; readonly id: number; readonly message: string }

export interface WorkerPool<Request, Result> {
  /** Runs one unit on a free worker; `onProgress` is told each count of work it reports. */
  readonly run: (request: Request, onProgress: (count: number) => void) => Effect.Effect<Result, WorkerError>
}

/** `size` workers running the module `module` (a file URL), which answers `{ ...request, id }` with `PoolReply`s. */
export const makeWorkerPool = <Request extends object, Result>(
  module: string,
  size: number,
  /** How errors name a worker: "a sweep worker". */
  what: string
): Effect.Effect<WorkerPool<Request, Result>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const workers = yield* Effect.acquireRelease(
      Effect.sync(() => Array.from({ length: size }, () => new Worker(entry, { stdout: false, stderr: false, workerData: { module, preload: ["effect"] } }))),
      (ws) => Effect.promise(() => Promise.all(ws.map((w) => w.terminate())))
    )
    const free = [...workers]
    let nextId = 0
    const onWorker = (worker: Worker, request: Request, onProgress: (count: number) => void) =>
      Effect.callback<Result, WorkerError>((resume) => {
        const id = nextId++
        const cleanup = () => {
          worker.off("message", onMessage)
          worker.off("error", onError)
          worker.off("exit", onExit)
        }
        const onMessage = (reply: PoolReply<Result>) => {
          if (reply.id !== id) return
          if (reply._tag === "Progress") return onProgress(reply.episodes)
          cleanup()
          resume(reply._tag === "Done" ? Effect.succeed(reply.run) : Effect.fail(new WorkerError({ reason: reply.message })))
        }
        const onError = (e: Error) => {
          cleanup()
          resume(Effect.fail(new WorkerError({ reason: `${what} failed: ${e.message}` })))
        }
        const onExit = (code: number) => {
          cleanup()
          resume(Effect.fail(new WorkerError({ reason: `${what} stopped (exit code ${code})` })))
        }
        worker.on("message", onMessage)
        worker.on("error", onError)
        worker.on("exit", onExit)
        worker.postMessage({ ...request, id })
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

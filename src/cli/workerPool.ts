/**
 * A fixed pool of worker threads that each run one unit of work at a time: `distmt sweep`'s
 * (src/cli/sweepWorker.ts) and a deep run's (src/deep/distmt/unitWorker.ts); poolWorker.ts is the
 * workers' side. An Effect resource: the workers are terminated when the scope closes, whether the
 * work finished, failed or was interrupted (Ctrl-C). `run` borrows a free worker, so at most `size`
 * units run at once.
 *
 * A worker still running a unit when the scope closes is asked to stop first, and terminated once it
 * says it has: terminating a deep run's worker inside one of onnxruntime's native calls aborts the
 * whole process (src/deep/onnx/calls.ts), so the worker itself leaves its unit at a safe point.
 */
import { Data, Effect, type Scope, Semaphore } from "effect"
import { Worker } from "node:worker_threads"
import { entry } from "../run/threads/pool.ts"

/**
 * How long a busy worker is given to stop before it is terminated anyway. A deep unit stops within
 * one training step (milliseconds); a worker that has not answered by then is stuck (a spec's code in
 * a loop, a native call that does not return), and waiting longer would hold Ctrl-C up for nothing.
 */
const STOP_MILLIS = 5_000

export class WorkerError extends Data.TaggedError("WorkerError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

/** What the pool posts to a worker: a unit to run, numbered `id`; or a request to stop the unit it runs, if any. */
export type PoolMessage<Request> =
  | { readonly _tag: "Run"; readonly id: number; readonly request: Request }
  | { readonly _tag: "Stop" }

/**
 * What a pool's worker posts for the request `id`: progress (a count of work done), its result, or
 * why it failed; and, asked to stop, `Stopped` once nothing of a unit runs on it any more.
 */
export type PoolReply<Result> =
  | { readonly _tag: "Progress"; readonly id: number; readonly episodes: number }
  | { readonly _tag: "Done"; readonly id: number; readonly run: Result }
  | { readonly _tag: "Failed"; readonly id: number; readonly message: string }
  | { readonly _tag: "Stopped" }

/** Asks a busy worker to stop, and resolves when it says it has, or ends, or after STOP_MILLIS. */
const stopped = (worker: Worker): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      worker.off("message", onMessage)
      worker.off("exit", done)
      worker.off("error", done)
      resolve()
    }
    const onMessage = (reply: PoolReply<unknown>) => reply._tag === "Stopped" && done()
    const timer = setTimeout(done, STOP_MILLIS)
    worker.on("message", onMessage)
    worker.on("exit", done)
    worker.on("error", done)
    worker.postMessage({ _tag: "Stop" } satisfies PoolMessage<never>)
  })

export interface WorkerPool<Request, Result> {
  /** Runs one unit on a free worker (waiting for one, if none is); `onProgress` is told each count of work it reports. */
  readonly run: (request: Request, onProgress: (count: number) => void) => Effect.Effect<Result, WorkerError>
}

/** `size` workers running the module `module` (a file URL), which answers `PoolMessage`s with `PoolReply`s (poolWorker.ts). */
export const makeWorkerPool = <Request, Result>(
  module: string,
  size: number,
  /** How errors name a worker: "a sweep worker". */
  what: string
): Effect.Effect<WorkerPool<Request, Result>, never, Scope.Scope> =>
  Effect.gen(function*() {
    // The workers sent a unit that has not answered Done or Failed: an interrupted `run` leaves its
    // worker busy, still running the unit, until the worker answers.
    const busy = new Set<Worker>()
    const workers = yield* Effect.acquireRelease(
      Effect.sync(() => Array.from({ length: size }, () => new Worker(entry, { stdout: false, stderr: false, workerData: { module, preload: ["effect"] } }))),
      (ws) => Effect.promise(() => Promise.all(ws.map(async (w) => {
        // threadId -1: the thread has ended already, with nothing to stop.
        if (busy.has(w) && w.threadId !== -1) await stopped(w)
        await w.terminate()
      })))
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
          if (reply._tag === "Stopped" || reply.id !== id) return
          if (reply._tag === "Progress") return onProgress(reply.episodes)
          busy.delete(worker)
          cleanup()
          resume(reply._tag === "Done" ? Effect.succeed(reply.run) : Effect.fail(new WorkerError({ reason: reply.message })))
        }
        const onError = (e: Error) => {
          busy.delete(worker)
          cleanup()
          resume(Effect.fail(new WorkerError({ reason: `${what} failed: ${e.message}` })))
        }
        const onExit = (code: number) => {
          busy.delete(worker)
          cleanup()
          resume(Effect.fail(new WorkerError({ reason: `${what} stopped (exit code ${code})` })))
        }
        worker.on("message", onMessage)
        worker.on("error", onError)
        worker.on("exit", onExit)
        busy.add(worker)
        worker.postMessage({ _tag: "Run", id, request } satisfies PoolMessage<Request>)
        // Interrupted: stop listening; the worker stays busy until the scope's end stops it.
        return Effect.sync(cleanup)
      })
    // More runs than workers wait for one to be free (a cluster runner is sent every unit at once).
    const slots = yield* Semaphore.make(size)
    return {
      run: (request, onProgress) =>
        slots.withPermits(1)(Effect.acquireUseRelease(
          Effect.sync(() => free.pop()!),
          (worker) => onWorker(worker, request, onProgress),
          (worker) => Effect.sync(() => free.push(worker))
        ))
    }
  })

/**
 * A fixed pool of worker threads that each run one unit of work at a time: `distmt sweep`'s
 * (src/cli/sweepWorker.ts) and a deep run's (src/deep/distmt/unitWorker.ts); poolWorker.ts is the
 * workers' side. An Effect resource: the workers are terminated when the scope closes, whether the
 * work finished, failed or was interrupted (Ctrl-C). `run` borrows a free worker, so at most `size`
 * units run at once, and more wait for one. A unit interrupted while it runs stops on its worker,
 * which is ended and, when a unit needs it, replaced.
 *
 * A worker still running a unit when the scope closes is asked to stop first, and terminated once it
 * says it has: terminating a deep run's worker inside one of onnxruntime's native calls aborts the
 * whole process (src/deep/onnx/calls.ts), so the worker itself leaves its unit at a safe point.
 */
import { Data, Effect, Exit, type Scope, Semaphore } from "effect"
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
    // The workers sent a unit that has not answered Done or Failed.
    const busy = new Set<Worker>()
    // Every worker alive (`free`, below: those waiting for a unit). A worker whose unit was interrupted
    // is retired and a new one started when a unit needs it.
    const all = new Set<Worker>()
    const spawn = (): Worker => {
      const w = new Worker(entry, { stdout: false, stderr: false, workerData: { module, preload: ["effect"] } })
      all.add(w)
      return w
    }
    /** Asks a busy worker to stop, then ends it (the stop first: workerPool.ts's header says why). */
    const retire = async (w: Worker): Promise<void> => {
      all.delete(w)
      // threadId -1: the thread has ended already, with nothing to stop.
      if (busy.has(w) && w.threadId !== -1) await stopped(w)
      busy.delete(w)
      await w.terminate()
    }
    yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all([...all].map(retire))))
    const free = Array.from({ length: size }, spawn)
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
          Effect.sync(() => free.pop() ?? spawn()),
          (worker) => onWorker(worker, request, onProgress),
          // A unit interrupted here still runs on its worker (a cluster runner's unit replaced by a
          // newer attempt, say): that worker is stopped and ended, not given the next unit, which
          // would wait behind it for as long as the abandoned unit had left to run.
          (worker, exit) =>
            Exit.hasInterrupts(exit) && busy.has(worker)
              ? Effect.promise(() => retire(worker))
              // A worker that ended (it crashed) would never answer its next unit: replaced when needed.
              : Effect.sync(() => (worker.threadId === -1 ? all.delete(worker) : free.push(worker)))
        ))
    }
  })

/**
 * onnxruntime's calls on this thread, counted, and refused once the thread is stopping (a deep
 * run's worker asked to stop, src/deep/distmt/unitWorker.ts).
 *
 * Why: onnxruntime-node runs a session's `run` (and a session's creation) synchronously on the
 * calling thread, from a `setImmediate`. A worker thread terminated while it is inside one aborts
 * the whole process (`FATAL ERROR: Error::Error napi_define_properties`, exit 134): the call
 * returns into an environment that is gone. Interrupting the unit's fiber is not enough either: the
 * frames it was playing are a plain async loop (learning.ts `play`) that goes on calling `run`
 * after the fiber has moved on. So a stopping worker refuses every new call here and waits for the
 * ones already scheduled; after that, terminating it is safe. A stopped thread is terminated, never
 * reused, so the refusal is not lifted.
 */

let inFlight = 0
let stopping = false
const idle: Array<() => void> = []

/** Runs one onnxruntime call, counted; once the thread is stopping, fails it without calling. */
export const onnxCall = <A>(call: () => Promise<A>): Promise<A> => {
  if (stopping) return Promise.reject(new Error("this thread is stopping: no new onnxruntime calls"))
  inFlight++
  // A call that throws before it returns its promise is counted out too.
  return new Promise<A>((resolve) => resolve(call())).finally(() => {
    if (--inFlight === 0) idle.splice(0).forEach((f) => f())
  })
}

/** Refuses every later call; resolves once the calls already made have returned. */
export const stopOnnxCalls = (): Promise<void> => {
  stopping = true
  return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve))
}

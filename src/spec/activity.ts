/**
 * What a spec check is doing right now, for the watchdog of the spec-check worker
 * (src/cli/specCheck.ts): loading the module, reading its fields, or one call of a user function
 * such as `environment.build(context 2)`. A user function can loop forever; the worker's thread is
 * then stuck and cannot answer, so it publishes each step in memory shared with the main thread,
 * which reads it when the step has taken longer than the time limit and names it in the error.
 *
 * Outside the worker the cell is an ordinary array that nobody reads: marking a step costs three
 * integer writes, so compile can mark every call of a user function.
 */

/** The steps, by code (index 0 of the cell). */
export const Step = {
  idle: 0,
  load: 1,
  read: 2,
  decode: 3,
  build: 4,
  features: 5,
  solve: 6,
  compile: 7
} as const

/**
 * [step, first argument, second argument, sequence number, exit]; the sequence changes at every
 * step; exit is 1 + the code of a `process.exit` call (0: none), set by the worker's guard.
 */
const CELLS = 5
let cell: Int32Array = new Int32Array(CELLS)

/** Makes the steps visible to another thread (the worker passes the parent's shared buffer). */
export const shareActivity = (buffer: SharedArrayBuffer): void => {
  cell = new Int32Array(buffer)
}

/** A new shared cell for a worker. */
export const newActivityBuffer = (): SharedArrayBuffer => new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT)

/** Records a call of `process.exit(code)` (the thread ends right after: the parent reads it then). */
export const markExit = (code: number): void => {
  Atomics.store(cell, 4, 1 + code)
}

/** The code `process.exit` was called with in the worker, if it was. */
export const exitCalled = (buffer: SharedArrayBuffer): number | undefined => {
  const v = Atomics.load(new Int32Array(buffer), 4)
  return v === 0 ? undefined : v - 1
}

/** Marks the start of a step. */
export const mark = (step: number, a = 0, b = 0): void => {
  cell[0] = step
  cell[1] = a
  cell[2] = b
  Atomics.add(cell, 3, 1)
}

/** The current step of a shared cell: its sequence number and how it is named in a message. */
export const readActivity = (
  buffer: SharedArrayBuffer
): { readonly sequence: number; readonly label: string; readonly timed: boolean } => {
  const c = new Int32Array(buffer)
  const [step, a, b] = [Atomics.load(c, 0), Atomics.load(c, 1), Atomics.load(c, 2)]
  return { sequence: Atomics.load(c, 3), label: describeStep(step, a, b), timed: USER_STEPS.has(step) }
}

/** The steps that run the spec's own code, which the time limit applies to (not distmt's own work). */
const USER_STEPS: ReadonlySet<number> = new Set([Step.load, Step.read, Step.build, Step.features, Step.solve])

export const describeStep = (step: number, a: number, b: number): string => {
  switch (step) {
    case Step.load:
      return "loading the spec module (its top-level code)"
    case Step.read:
      return "reading the spec's fields (a getter)"
    case Step.decode:
      return "decoding the spec"
    case Step.build:
      return `environment.build(context ${a})`
    case Step.features:
      return `features.map(${a}, ${b})`
    case Step.solve:
      return "environment.build (while solving the contexts of Contexts.separated)"
    case Step.compile:
      return "checking the spec (compile)"
    default:
      return "checking the spec"
  }
}

/**
 * What a spec check is doing right now, for the watchdog of the spec check (src/cli/specCheck.ts):
 * loading the module, reading its fields, or one call of a user function such as
 * `environment.build(context 2)`. A user function can loop forever; the check process's main thread
 * is then stuck and cannot answer, so each step is published in memory shared with a reporter
 * thread of that process (src/cli/specCheckChild.ts), which passes it on to the tool.
 *
 * Outside the check the cell is an ordinary array that nobody reads: marking a step costs three
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

/** [step, first argument, second argument, sequence number]; the sequence changes at every step. */
const CELLS = 4
let cell: Int32Array = new Int32Array(CELLS)

/** Makes the steps visible to another thread (the check process passes its reporter's buffer). */
export const shareActivity = (buffer: SharedArrayBuffer): void => {
  cell = new Int32Array(buffer)
}

/** A new shared cell. */
export const newActivityBuffer = (): SharedArrayBuffer => new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT)

/** Marks the start of a step. */
export const mark = (step: number, a = 0, b = 0): void => {
  cell[0] = step
  cell[1] = a
  cell[2] = b
  Atomics.add(cell, 3, 1)
}

export interface Activity {
  readonly sequence: number
  /** How the step is named in a message. */
  readonly label: string
  /** Whether the time limit applies to the step (the spec's own code runs in it). */
  readonly timed: boolean
}

/** A step, from the numbers of a cell (or of the check process's report of one). */
export const activityOf = (sequence: number, step: number, a: number, b: number): Activity => ({
  sequence,
  label: describeStep(step, a, b),
  timed: USER_STEPS.has(step)
})

/** The current step of a shared cell. */
export const readActivity = (buffer: SharedArrayBuffer): Activity => {
  const c = new Int32Array(buffer)
  return activityOf(Atomics.load(c, 3), Atomics.load(c, 0), Atomics.load(c, 1), Atomics.load(c, 2))
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

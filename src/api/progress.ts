/**
 * The library API's progress callback: one plain snapshot of where a run (or a sweep) stands,
 * given to `onProgress` when a unit starts, when an instance or a unit finishes, and while
 * episodes run at most a few times a second (so that a notebook can print every call).
 */
import type { ProgressSink } from "../run/runExperiment.ts"

export interface Progress {
  /** What just happened: a unit started, its agents ran more episodes, an instance or the unit finished. */
  readonly event: "unit-started" | "episodes" | "instance-done" | "unit-done"
  /** The (algorithm, seed) unit running: `distmt · seed 0`; in a sweep, its point first: `agents = 5 · distmt · seed 0`. */
  readonly unit: string
  /** Units finished, those read back from a resumed folder included, and units in all. */
  readonly unitsDone: number
  readonly units: number
  /** Task instances of the running unit: finished, and in all. */
  readonly instancesDone: number
  readonly instances: number
  /** Episodes the running unit's agents have run so far. */
  readonly episodes: number
}

/** How often, at most, episodes alone trigger a call. */
const EPISODES_EVERY_MS = 250

/**
 * A ProgressSink that tells `onProgress`, plus what the runner's caller tells it: `unitDone` when a
 * unit finishes (the sink itself only hears of the next one starting), and `resumed(n)` when a
 * resumed run found `n` units already finished.
 */
export const progressCallback = (
  onProgress: ((p: Progress) => void) | undefined,
  units: number
): ProgressSink & { readonly unitDone: () => void; readonly resumed: (n: number) => void } => {
  let state: Progress = { event: "unit-started", unit: "", unitsDone: 0, units, instancesDone: 0, instances: 0, episodes: 0 }
  let last = 0
  const tell = (next: Progress) => {
    state = next
    last = performance.now()
    onProgress?.(state)
  }
  return {
    start: (label, instances) => tell({ ...state, event: "unit-started", unit: label, instancesDone: 0, instances, episodes: 0 }),
    episodes: (count) => {
      state = { ...state, event: "episodes", episodes: state.episodes + count }
      if (performance.now() - last >= EPISODES_EVERY_MS) tell(state)
    },
    instanceDone: () => tell({ ...state, event: "instance-done", instancesDone: state.instancesDone + 1 }),
    unitDone: () => tell({ ...state, event: "unit-done", unitsDone: state.unitsDone + 1 }),
    resumed: (n) => {
      state = { ...state, unitsDone: n }
    }
  }
}

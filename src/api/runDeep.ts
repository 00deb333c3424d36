/**
 * The library API's `runDeep` (docs/api.md): a deep-stage spec (`Env.minatar` with `Dqn.learner`)
 * run as `distmt run` runs it (src/deep/distmt/runDeep.ts, the same code), with the results as
 * values: summary.json's object and every (algorithm, seed) unit's rows and learning curve.
 */
import { outFolderProblem } from "../report/folderKind.ts"
import { checkOptions } from "./options.ts"
import { Data, Effect } from "effect"
import type { DeepRun } from "../deep/distmt/run.ts"
import type { DeepSummary } from "../deep/distmt/files.ts"
import type { SpecLoadError } from "../cli/loadSpec.ts"
import { OutDirError } from "../cli/outDir.ts"
import { type OverrideError, overridesOfOptions, overridesRecord, threadsOption } from "../spec/overrides.ts"
import type { Experiment } from "../spec/Spec.ts"
import type { SpecError } from "../spec/SpecError.ts"
import type { CostError, RunOptions } from "./run.ts"
import { API_REMEDIES } from "../spec/cost.ts"
import { loadSpecSource, sourceName, type SpecSource } from "./specSource.ts"

/** `runDeep` was given a linear-stage spec: `run` runs those. */
export class NotDeepSpec extends Data.TaggedError("NotDeepSpec")<{ readonly source: string }> {
  override get message() {
    return `${this.source}: not a deep-stage spec (its environment is not Env.minatar): run it with run()`
  }
}

/** Where a deep run stands, told to `onProgress`. */
export interface DeepProgress {
  /** A unit started, its agents played more frames, or it finished. */
  readonly event: "unit-started" | "frames" | "unit-done"
  /**
   * The (algorithm, seed) unit, `distmt · seed 0`: on "unit-started" the one that started, on
   * "unit-done" the one that finished, on "frames" the one that started last (frames count every
   * running unit's, and units run at once on worker threads).
   */
  readonly unit: string
  /** Units finished (those read back from a resumed folder included), and units in all. */
  readonly unitsDone: number
  readonly units: number
  /** Frames played so far by the units this call runs, and in all when they finish. */
  readonly frames: number
  readonly totalFrames: number
}

/** `run`'s folder and override options (docs/api.md), and the deep stage's own. */
export interface DeepRunOptions extends Pick<RunOptions, "out" | "set" | "seeds" | "fresh" | "force"> {
  /** Units at a time, each on a worker thread: a number, or "auto" for one per core (default: the spec's `threads`). */
  readonly threads?: number | "auto"
  /** Run the spec's `quick` variant (as `--quick`). */
  readonly quick?: boolean
  readonly onProgress?: (progress: DeepProgress) => void
}

export interface DeepRunResult {
  readonly source: string
  /** The results folder; undefined when nothing was written. */
  readonly dir: string | undefined
  /** The spec that ran: decoded, defaults filled in, overrides applied. */
  readonly spec: Experiment
  /** What summary.json holds (written or not). */
  readonly summary: DeepSummary
  /** Every (algorithm, seed) unit in run order: its rows (results.csv's) and its learning curve (curves.csv's). */
  readonly runs: ReadonlyArray<DeepRun>
  /** Units read back from the folder (a resumed run) rather than run. */
  readonly resumed: number
  /**
   * Learners that never train though the spec is valid, in words: the `independent` baseline's, when
   * its instances' frames do not pass replayStart (what `distmt run` prints before it runs, and
   * validate() returns as `deep.warnings`); empty when every learner trains.
   */
  readonly warnings: ReadonlyArray<string>
}

/** How often, at most, frames alone trigger a call. */
const FRAMES_EVERY_MS = 250

export const runDeepApi = (spec: SpecSource, options: DeepRunOptions = {}) =>
  Effect.gen(function*() {
    yield* checkOptions("runDeep", options)
    const source = sourceName(spec)
    const threads = yield* threadsOption(options.threads)
    const overrides = overridesOfOptions(options.set, options.seeds)
    const decoded = yield* loadSpecSource(spec, {
      overrides,
      ...(options.quick === true ? { quick: true } : {}),
      remedies: API_REMEDIES
    })
    if (decoded.environment._tag !== "MinAtar") return yield* new NotDeepSpec({ source })
    const { DeepOutError, executeDeep, folderProblem } = yield* Effect.promise(() => import("../deep/distmt/runDeep.ts"))
    // Refused before anything is written if the replay buffers cannot fit in memory (force: run anyway), as run() refuses.
    const { deepCostProblem, trainingWarnings } = yield* Effect.promise(() => import("../deep/distmt/compile.ts"))
    const tooCostly = options.force === true ? undefined : deepCostProblem(decoded, threads ?? decoded.threads, "", API_REMEDIES)
    if (tooCostly !== undefined) {
      const { CostError } = yield* Effect.promise(() => import("./run.ts"))
      return yield* new CostError({ message: `${source}: ${tooCostly}` })
    }
    const { summaryObject } = yield* Effect.promise(() => import("../deep/distmt/files.ts"))
    const out = options.out
    // A file, a path under a file, a folder we may not write in: an OutDirError, as run()'s (it
    // was Node's ENOTDIR, untagged, from reading the folder below). Every error names the folder
    // as run()'s do, `DIR: …` (these said `out DIR: …`).
    if (out !== undefined) {
      const unusable = outFolderProblem(out)
      if (unusable !== undefined) return yield* new OutDirError({ label: out, reason: unusable })
      const problem = folderProblem(out, decoded, options.fresh === true)
      if (problem !== undefined) return yield* new DeepOutError({ message: `${out}: ${problem}` })
    }
    let state: DeepProgress = { event: "unit-started", unit: "", unitsDone: 0, units: 0, frames: 0, totalFrames: 0 }
    let last = 0
    // The unit started last, which "frames" events name (a finished unit's name is for its "unit-done" only).
    let started = ""
    const tell = (next: DeepProgress) => {
      state = next
      last = performance.now()
      options.onProgress?.(state)
    }
    const { results, resumed, record } = yield* executeDeep(decoded, {
      overrides: overridesRecord(overrides),
      dir: out,
      label: out ?? "",
      threads: threads ?? decoded.threads,
      fresh: options.fresh === true,
      log: () => Effect.void,
      progress: ({ resumed, units, frames }) => {
        state = { ...state, unitsDone: resumed, units, totalFrames: frames }
        return {
          start: (unit) => {
            started = unit
            tell({ ...state, event: "unit-started", unit })
          },
          episodes: (frames) => {
            state = { ...state, event: "frames", unit: started, frames: state.frames + frames }
            if (performance.now() - last >= FRAMES_EVERY_MS) tell(state)
          },
          instanceDone: () => {}
        }
      },
      onUnitDone: (u) => tell({ ...state, event: "unit-done", unit: `${u.algorithm} · seed ${u.seed}`, unitsDone: state.unitsDone + 1 })
    })
    // The CLI prints these before it runs; the API prints nothing, so they are returned.
    const warnings = trainingWarnings(decoded)
    return { source, dir: out, spec: decoded, summary: summaryObject(results, true, record), runs: results.runs, resumed, warnings } satisfies DeepRunResult
  })

export type DeepRunError = SpecError | SpecLoadError | OverrideError | OutDirError | NotDeepSpec | CostError

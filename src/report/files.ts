/**
 * The result files of a run (docs/results.md): summary.json, results.csv, and for finite
 * environments model.json and policies.json, so that any outside tool can re-check the results.
 * Every file is written atomically (a temporary file, then a rename): an interrupted run never
 * leaves a half-written file behind.
 */
import { Effect, FileSystem, Path } from "effect"
import { PlatformError, SystemError } from "effect/PlatformError"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { featureRows, rewardTable, transitionTable } from "../env/FiniteMdp.ts"
import type { AlgorithmRun, Row } from "../run/runExperiment.ts"
import type { Compiled } from "../spec/compile.ts"
import type { Experiment } from "../spec/Spec.ts"
import { curvesCsv } from "./curves.ts"
import { summarize } from "./summary.ts"
import { temporaryOf } from "./temporary.ts"

/** Writes `content` to `file` through a temporary file in the same folder and a rename. */
/**
 * The summary.json of a results folder, parsed: what a run, a deep run, a deep sweep or train-dqn
 * wrote there (`stage` and `spec` tell which). Undefined when there is none, or it is not a JSON object.
 */
export const readSummary = (dir: string): Readonly<Record<string, unknown>> | undefined => {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(nodePath.join(dir, "summary.json"), "utf8"))
    return typeof value === "object" && value !== null ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** A failed write's message: the file as the user knows it, and the system's reason. */
class WriteFailure extends SystemError {
  override get message(): string {
    return `cannot write ${this.pathOrDescriptor}: ${this.description}`
  }
}

/**
 * A write that failed (a full disk, a folder removed mid-run) as a PlatformError whose message is
 * `cannot write runs/x/summary.json: no space left on device (ENOSPC)`. The platform's named the
 * temporary copy or only a descriptor, and no reason: `Unknown: FileSystem.writeAll (22)`.
 */
export const writeFailure = (e: unknown, file: string): PlatformError => {
  const cause = e instanceof PlatformError ? e.reason.cause : e
  const errno = cause as NodeJS.ErrnoException | undefined
  // Node's "ENOSPC: no space left on device, write '/x'" → "no space left on device (ENOSPC)".
  const words = errno instanceof Error ? errno.message.replace(/^[A-Z]+: /, "").replace(/, \w+(?: '.*')?$/, "") : String(cause)
  return new PlatformError(
    new WriteFailure({
      _tag: e instanceof PlatformError && e.reason instanceof SystemError ? e.reason._tag : "Unknown",
      module: "FileSystem",
      method: "write",
      pathOrDescriptor: file,
      description: errno?.code === undefined ? words : `${words} (${errno.code})`,
      cause
    })
  )
}

export const writeAtomic = (file: string, content: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const tmp = temporaryOf(file)
    yield* fs.writeFileString(tmp, content)
    yield* fs.rename(tmp, file)
  }).pipe(Effect.mapError((e) => writeFailure(e, file)))

/** Characters gathered before each write of `writeAtomicPieces`. */
const PIECES_BATCH = 1 << 20

/**
 * `writeAtomic` of the concatenation of `pieces`, written as they come (in batches of about a MiB),
 * so that a large file is never one string in memory (a run's unit file, runFolder.ts).
 */
export const writeAtomicPieces = (file: string, pieces: Iterable<string>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const tmp = temporaryOf(file)
    yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* fs.open(tmp, { flag: "w" })
      const encoder = new TextEncoder()
      let batch: Array<string> = []
      let size = 0
      for (const piece of pieces) {
        batch.push(piece)
        size += piece.length
        if (size < PIECES_BATCH) continue
        yield* handle.writeAll(encoder.encode(batch.join("")))
        batch = []
        size = 0
      }
      yield* handle.writeAll(encoder.encode(batch.join("")))
    }))
    yield* fs.rename(tmp, file)
  }).pipe(Effect.mapError((e) => writeFailure(e, file)))

/** The decoded spec as JSON: user functions are recorded by name, since they cannot be serialised. */
export const specJson = (spec: Experiment): unknown =>
  JSON.parse(JSON.stringify(spec, (_k, v) => (typeof v === "function" ? `<function ${v.name || "anonymous"}>` : v)))

const CSV_COLUMNS = [
  "algorithm",
  "seed",
  "agent",
  "slot",
  "task",
  "identification_episodes",
  "learning_episodes",
  "entry",
  "role",
  "source",
  "identification_correct",
  "v_star",
  "v_pi",
  "gap",
  "success",
  "cert_lower",
  "cert_upper",
  "cert_width",
  "certificate_held",
  "reached_target"
] as const

const csvRow = (r: Row): string =>
  [
    r.algorithm,
    r.seed,
    r.agent,
    r.slot ?? "",
    r.task,
    r.identificationEpisodes,
    r.learningEpisodes,
    r.entry ?? "",
    r.role ?? "",
    r.source,
    r.identificationCorrect ?? "",
    r.vStar,
    r.vPi,
    r.gap,
    r.success,
    r.certificate.lower,
    r.certificate.upper,
    r.certificate.width,
    r.certificateHeld,
    r.reachedTarget
  ].join(",")

export const resultsCsv = (runs: ReadonlyArray<AlgorithmRun>): string =>
  [CSV_COLUMNS.join(","), ...runs.flatMap((r) => r.rows.map(csvRow))].join("\n") + "\n"

/** `--set path=value` and `--seeds N` as summary.json records them: path → value (src/spec/overrides.ts). */
export type OverridesRecord = Readonly<Record<string, unknown>>

/**
 * `threads`: the learner threads the run actually used (the spec's "auto" resolved on this machine);
 * it replaces the spec's `threads` in the record, so that the file says what happened. `overrides`:
 * the fields set from outside the spec file, already applied to `spec` (`{}` when none).
 */
export const summaryJson = (c: Compiled, runs: ReadonlyArray<AlgorithmRun>, complete: boolean, threads?: number, overrides: OverridesRecord = {}) => ({
  spec: threads === undefined ? specJson(c.spec) : { ...(specJson(c.spec) as object), threads },
  complete,
  ...(threads === undefined ? {} : { threads }),
  overrides,
  tasks: c.contexts.map((context, id) => ({ id, context, vStar: c.startValues[id] })),
  separation: c.separation.value,
  beta: c.beta,
  algorithms: summarize(runs, c.spec.stopping._tag === "Adaptive")
})

/** What summary.json holds, and what the library API's `run` returns as its summary. */
export type RunSummary = ReturnType<typeof summaryJson>

export const modelJson = (c: Compiled) => ({
  horizon: c.horizon,
  states: c.states,
  actions: c.actions,
  start: c.tasks[0].start,
  features: featureRows(c.features),
  tasks: c.tasks.map((m, id) => ({ id, context: c.contexts[id], reward: rewardTable(m), transition: transitionTable(m) }))
})

export const policiesJson = (c: Compiled, runs: ReadonlyArray<AlgorithmRun>) => ({
  epsilon: c.spec.epsilon,
  policies: runs.flatMap((run) =>
    run.rows.map((r) => ({
      algorithm: r.algorithm,
      seed: r.seed,
      agent: r.agent,
      slot: r.slot ?? null,
      task: r.task,
      source: r.source,
      // A task whose policy was never published: the agent holds none (a failure, §3 step 4).
      actions: r.source === "missing"
        ? null
        : Array.from({ length: c.horizon }, (_, h) => Array.from(r.actions.subarray(h * c.states, (h + 1) * c.states)))
    }))
  )
})

/**
 * Creates the output folder and writes a summary.json that says `"complete": false`, then model.json
 * (known before anything runs). From here on the folder always holds a summary.json, and it says
 * `"complete": true` only after the last write of every other file (writeResults writes it last):
 * a run killed at any point, between two renames included, leaves a folder marked incomplete.
 */
export const prepareOutput = (dir: string, c: Compiled, threads?: number, overrides: OverridesRecord = {}) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(dir, { recursive: true })
    // Marked incomplete first: an earlier run's complete summary.json must not outlive a new model.json.
    yield* writeAtomic(path.join(dir, "summary.json"), JSON.stringify(summaryJson(c, [], false, threads, overrides), null, 2) + "\n")
    yield* writeAtomic(path.join(dir, "model.json"), JSON.stringify(modelJson(c)))
  })

/** (Re)writes summary.json, results.csv, curves.csv and policies.json with the runs finished so far. */
export const writeResults = (
  dir: string,
  c: Compiled,
  runs: ReadonlyArray<AlgorithmRun>,
  complete: boolean,
  threads?: number,
  overrides: OverridesRecord = {}
) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    yield* writeAtomic(path.join(dir, "results.csv"), resultsCsv(runs))
    yield* writeAtomic(path.join(dir, "curves.csv"), curvesCsv(runs))
    yield* writeAtomic(path.join(dir, "policies.json"), JSON.stringify(policiesJson(c, runs)))
    yield* writeAtomic(path.join(dir, "summary.json"), JSON.stringify(summaryJson(c, runs, complete, threads, overrides), null, 2) + "\n")
  })

/** The plots `distmt plot` draws into a linear run's `plots/` (src/cli/plot.ts); `run --fresh` removes them. */
export const RUN_PLOT_FILES: ReadonlyArray<string> = ["curves-width.svg", "curves-gap.svg"]

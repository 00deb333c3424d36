/**
 * `distmt run <spec>` for a deep-stage spec: runs every unit with a progress line, saves each
 * finished unit in units/ and writes results.csv and curves.csv after it (results are never lost to
 * a later failure), then the report, and summary.json last with `complete: true`. The folder is a
 * new one (runs/<name>/<timestamp>), an empty `--out`, or an `--out` holding a run of the same spec,
 * which is resumed from its finished units (docs/deep.md, "The files").
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Data, Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { isLockFile, lockDir, newRunDir } from "../../cli/outDir.ts"
import { CostError } from "../../api/run.ts"
import { shownDifferences, specDifferences } from "../../api/runFolder.ts"
import { changedUnitsLine } from "../../report/digest.ts"
import { readSummary, writeAtomic, writeFailure } from "../../report/files.ts"
import { damagedSummaryProblem, folderHolds, subFolderProblem } from "../../report/folderKind.ts"
import { isOwnTemporary, writeFileAtomic } from "../../report/temporary.ts"
import type { ProgressSink } from "../../run/runExperiment.ts"
import type { Experiment } from "../../spec/Spec.ts"
import { curvesCsv, type DeepRecord, deepTable, resultsCsv, summaryJson } from "./files.ts"
import { compileDeep, deepCostProblem, trainingWarnings } from "./compile.ts"
import { writeDeepReport } from "./report.ts"
import { type DeepResults, deepUnits, runDeepExperiment } from "./run.ts"
import { fileOf, finishedUnits, saveUnit } from "./unitFiles.ts"
import type { UnitRunner } from "./units.ts"

export class DeepOutError extends Data.TaggedError("DeepOutError")<{ readonly message: string }> {}

/**
 * A progress line in frames, the deep stage's unit of work: the units started last (one per worker),
 * the frames of all units against the run's total, the rate, and the time left at that rate.
 */
const frameProgress = (total: number, workers: number): ProgressSink & { readonly finish: () => void } => {
  const tty = process.stderr.isTTY === true
  const labels: Array<string> = []
  let frames = 0
  let last = 0
  const started = performance.now()
  const draw = (force: boolean) => {
    const now = performance.now()
    // A terminal's line is redrawn twice a second; a log gets a line every 30 s.
    if (!force && now - last < (tty ? 500 : 30_000)) return
    last = now
    const seconds = (now - started) / 1000
    const rate = frames / Math.max(1e-3, seconds)
    const left = frames > 0 ? Math.max(0, (total - frames) / rate) : Number.NaN
    const eta = Number.isFinite(left) ? `, about ${left < 90 ? `${Math.round(left)} s` : `${Math.round(left / 60)} min`} left` : ""
    // The labels name the algorithm and seed ("distmt · seed 0"): no prefix of the command's name
    // before them. Three at most: a cluster runs every unit at once, and nine made a line of 200 characters.
    const running = labels.slice(-workers)
    const named = running.length <= 3 ? running.join(" & ") : `${running.slice(0, 2).join(" & ")} & ${running.length - 2} more units`
    const line = `${named}: ${frames.toLocaleString("en-US")}/${total.toLocaleString("en-US")} frames ` +
      `(${Math.round(rate).toLocaleString("en-US")}/s${eta}), ${Math.round(seconds)} s`
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`)
  }
  return {
    start: (l) => {
      labels.push(l)
      draw(true)
    },
    episodes: (n) => {
      frames += n
      draw(false)
    },
    instanceDone: () => {},
    finish: () => {
      // No unit ran (a rerun of a finished run): no line, rather than an empty ": 0/0 frames".
      if (labels.length === 0) return
      draw(true)
      if (tty) process.stderr.write("\n")
    }
  }
}

/** The files a deep run writes at the top of its folder (and `--fresh` removes). */
const RUN_FILES = new Set(["summary.json", "results.csv", "curves.csv", "report.md"])

const write = (dir: string, r: DeepResults, complete: boolean, record: DeepRecord) =>
  Effect.gen(function*() {
    yield* writeAtomic(path.join(dir, "results.csv"), resultsCsv(r.runs))
    yield* writeAtomic(path.join(dir, "curves.csv"), curvesCsv(r.runs))
    yield* writeAtomic(path.join(dir, "summary.json"), summaryJson(r, complete, record))
  }).pipe(Effect.provide(NodeServices.layer))

/**
 * What an --out folder holds: nothing (a new run), a deep run of the same spec (resumed from its
 * finished units), or something else, which is refused with what it is; with `fresh`, a deep run of
 * another spec is started over, and anything else is still refused.
 */
export const folderProblem = (dir: string, spec: Experiment, fresh = false): string | undefined => {
  if (!fs.existsSync(dir)) return undefined
  const sub = subFolderProblem(dir, ["units", "plots"])
  if (sub !== undefined) return sub
  // What a run stopped before it wrote summary.json leaves (it writes one first thing since
  // 2026-11-30): its lock, its units, its own temporaries. Such a folder is resumed.
  const left = fs.readdirSync(dir).filter((f) => !isLockFile(f) && f !== "units" && !isOwnTemporary(f, (file) => RUN_FILES.has(file)))
  if (left.length === 0) return undefined
  const summary = readSummary(dir)
  if (summary?.stage !== "deep") {
    const holds = folderHolds(dir)
    return holds === undefined
      ? damagedSummaryProblem(dir) ?? "expected a new or empty folder, or one holding a run of this spec; it holds other files"
      : `it holds ${holds}; give another folder`
  }
  // --fresh starts a deep run over another deep run's files, and over nothing else (it deletes them).
  const differences = fresh ? [] : specDifferences(summary.spec, JSON.parse(JSON.stringify(spec)))
  if (differences.length > 0) {
    return `it holds a deep run of another spec: ${shownDifferences(differences)}; give another folder, or --fresh to start over there`
  }
  return undefined
}

/** Marks a deep run's summary.json incomplete, if it says complete; whether it did. */
const markIncomplete = (dir: string): boolean => {
  const summary = readSummary(dir)
  if (summary?.stage !== "deep" || summary.complete === false) return false
  writeFileAtomic(path.join(dir, "summary.json"), JSON.stringify({ ...summary, complete: false }, null, 2) + "\n")
  return true
}

/**
 * What --fresh does to a deep run's folder, one change at a time (each yield is a moment a kill may
 * land): summary.json is marked incomplete, the run's other files and folders go, summary.json last.
 * At every moment the folder is still a deep run's, marked incomplete, so the same command starts
 * over there (a run without --fresh is told of --fresh, or resumes the units left, its own). It
 * removed summary.json first: stopped then, the plots/ and units/ left made the folder "other files",
 * refused by every command, and a units/ of another spec's units, alone, was resumed as this spec's.
 */
export function* startOver(dir: string): Generator<string> {
  if (markIncomplete(dir)) yield "summary.json marked incomplete"
  for (const f of ["units", "plots", "results.csv", "curves.csv", "report.md", "summary.json"]) {
    fs.rmSync(path.join(dir, f), { recursive: true, force: true })
    yield f
  }
}

/** How a deep run is carried out: shared by `distmt run` (runDeep, below) and the library API's `runDeep`. */
export interface DeepExecution {
  /** The results folder (new, empty, or holding this spec's run, which is resumed); undefined: nothing is written. */
  readonly dir: string | undefined
  /** How errors name the folder (the CLI: `--out DIR`). */
  readonly label: string
  readonly threads: number | "auto"
  readonly fresh: boolean
  /** Told each line a run reports (resuming, the header); the CLI prints them. */
  readonly log: (line: string) => Effect.Effect<void>
  /**
   * The progress sink, made once the work is known (after a resumed folder's finished units are
   * read): units finished and in all, the workers, and the frames the remaining units will play.
   */
  readonly progress: (plan: { readonly resumed: number; readonly units: number; readonly workers: number; readonly frames: number }) => ProgressSink
  /** Told when a unit has finished (and been saved), with the unit: units run at once finish in any order. */
  readonly onUnitDone?: (unit: { readonly algorithm: string; readonly seed: number }) => void
  /** The overrides applied to the spec (path → value), recorded in summary.json. */
  readonly overrides?: Readonly<Record<string, unknown>>
  /**
   * The units run on a cluster's runners (src/cluster/runDeepUnits.ts), all sent at once, rather
   * than on this process's worker threads; given the run's folder, which with the spec names the
   * run there.
   */
  readonly onCluster?: (dir: string | undefined) => UnitRunner
}

/**
 * Runs a deep spec: with a folder, locked, resumed from its finished units, each finished unit
 * saved with the run's files as they stand, then the report, and summary.json's `complete: true`
 * last (the folder's marker of completion: a run killed or failed before it leaves the folder
 * marked incomplete, and the same command resumes it). Without a folder, nothing is written.
 */
export const executeDeep = (spec: Experiment, o: DeepExecution) =>
  Effect.scoped(Effect.gen(function*() {
    const c = compileDeep(spec)
    const all = deepUnits(spec)
    const dir = o.dir
    let done: ReadonlyArray<DeepResults["runs"][number]> = []
    let changed: ReadonlyArray<string> = []
    if (dir !== undefined) {
      yield* lockDir(dir, o.label)
      // A fresh start: this run's own files go, nothing else.
      if (o.fresh) Array.from(startOver(dir))
      const found = finishedUnits(dir, all)
      done = found.done
      changed = found.changed
    }
    const units = all.length - done.length
    // One unit per worker thread, one thread per core (the spec's `threads`, or `--threads`).
    const threads = o.threads === "auto" ? os.availableParallelism() : o.threads
    // On a cluster every unit is sent at once (its runners queue what they cannot run yet).
    const workers = Math.max(1, o.onCluster === undefined ? Math.min(threads, units) : units)
    // summary.json's `threads` is the run's: the units at a time of all its units, not of those left
    // now. A resumed or rerun folder recorded fewer (1 for a finished run given again), changing a
    // finished run's summary.json.
    const record: DeepRecord = { overrides: o.overrides ?? {}, threads: Math.max(1, Math.min(threads, all.length)) }
    if (dir !== undefined) {
      // summary.json first, with the spec (no unit yet): a run stopped before its first unit
      // leaves a folder that says whose it is, and is resumed rather than taken for another's.
      if (!fs.existsSync(path.join(dir, "summary.json"))) yield* write(dir, { compiled: c, runs: done, random: [], separation: { value: Number.NaN, pair: undefined } }, false, record)
      // A finished run some of whose units run again (a unit file removed or damaged) is marked
      // incomplete first: it said complete all the while, and a kill between two renames of the
      // files written after a unit left it so beside a results.csv of fewer units.
      else if (units > 0) {
        const summary = path.join(dir, "summary.json")
        yield* Effect.try({ try: () => markIncomplete(dir), catch: (e) => writeFailure(e, summary) })
      }
      if (done.length > 0) yield* o.log(`resuming: ${done.length} of ${all.length} (algorithm, seed) units already finished in ${dir}/`)
      const changedLine = changedUnitsLine(changed)
      if (changedLine !== undefined) yield* o.log(changedLine)
    }
    const framesPerAgent = spec.learner._tag === "Dqn" ? spec.learner.framesPerAgent : 0
    yield* o.log(
      `distmt: ${spec.name}: deep stage, N = ${spec.agents} agents, M = ${c.tasks.length} tasks ` +
        `(${[...new Set(c.tasks.map((t) => t.game))].join(", ")}), ${framesPerAgent.toLocaleString("en-US")} frames per agent, ` +
        `network ${c.shape.channels}×10×10 → conv ${c.shape.convChannels} → ${c.shape.hidden} → 6, cSep = ${spec.cSep}, ` +
        `${spec.seeds} seed${spec.seeds === 1 ? "" : "s"}, algorithms: distmt${spec.baselines.map((b) => `, ${b}`).join("")}, ` +
        (o.onCluster === undefined ? `${workers} unit(s) at a time` : "on the cluster's runners")
    )
    const progress = o.progress({ resumed: done.length, units: all.length, workers, frames: units * spec.agents * framesPerAgent })
    // After each unit: its own file (for a resume), then the run's files as they stand.
    const partial = (runs: DeepResults["runs"], run: DeepResults["runs"][number]) =>
      Effect.andThen(
        dir === undefined ? Effect.void : Effect.andThen(
          // A unit that cannot be saved (a full disk) fails the run in one line naming its file, not with a stack trace.
          Effect.forEach(runs, (r) => Effect.try({ try: () => saveUnit(dir, r), catch: (e) => writeFailure(e, fileOf(dir, r)) })),
          write(dir, { compiled: c, runs, random: [], separation: { value: Number.NaN, pair: undefined } }, false, record)
        ),
        Effect.sync(() => o.onUnitDone?.(run))
      )
    const results = yield* runDeepExperiment(c, progress, partial, workers, done, o.onCluster?.(dir))
    if (dir !== undefined) {
      // The complete results first (still marked incomplete), then the report drawn from them, then the marker.
      yield* write(dir, results, false, record)
      yield* Effect.tryPromise({ try: () => writeDeepReport(dir, results), catch: (e) => new DeepOutError({ message: `the results are saved in ${dir}/, but the report failed: ${String(e)}` }) })
      yield* writeAtomic(path.join(dir, "summary.json"), summaryJson(results, true, record)).pipe(Effect.provide(NodeServices.layer))
    }
    return { results, resumed: done.length, record }
  }))

/** A new timestamped folder's stamp: runs/<name>/<stamp>. */
const stamp = () => new Date().toISOString().replace(/[:]/g, "-").replace(/\.\d+Z$/, "Z")

/** `distmt run` of a deep spec: the folder (`--out`, or a new runs/<name>/<timestamp>), a progress line, the table. */
export const runDeep = (
  spec: Experiment,
  out: string | undefined,
  o: {
    readonly threads?: number | "auto"
    readonly fresh?: boolean
    /** What to do to resume, when interrupted (a sweep's point resumes with the sweep's command, not a run of its own). */
    readonly resume?: (dir: string) => string
    /** The overrides applied (path → value), recorded in summary.json. */
    readonly overrides?: Readonly<Record<string, unknown>>
    /** Run even if the replay buffers would exceed the machine's memory (`--force`; compile.ts's deepCostProblem). */
    readonly force?: boolean
    /** The units run on a cluster's runners (`DeepExecution.onCluster`). */
    readonly onCluster?: (dir: string | undefined) => UnitRunner
  } = {}
) =>
  Effect.gen(function*() {
    const threads = o.threads ?? spec.threads
    const fresh = o.fresh === true
    // Before any folder is made or read: a run that cannot fit in memory is refused, as the linear stage's is.
    const tooCostly = o.force === true ? undefined : deepCostProblem(spec, threads)
    if (tooCostly !== undefined) return yield* new CostError({ message: `${spec.name}: ${tooCostly}` })
    // A baseline that would never train is said before anything runs, not found in the table after.
    for (const w of trainingWarnings(spec)) yield* Console.error(`warning: ${spec.name}: ${w}`)
    const resume = o.resume ?? ((dir: string) => `run again with --out ${dir} to resume`)
    let dir: string
    if (out === undefined) dir = yield* newRunDir(path.join("runs", spec.name), stamp())
    else {
      const problem = folderProblem(out, spec, fresh)
      if (problem !== undefined) return yield* new DeepOutError({ message: `--out ${out}: ${problem}` })
      dir = out
    }
    let line: ReturnType<typeof frameProgress> | undefined
    const { results } = yield* executeDeep(spec, {
      dir,
      label: out === undefined ? dir : `--out ${dir}`,
      threads,
      fresh,
      ...(o.overrides === undefined ? {} : { overrides: o.overrides }),
      ...(o.onCluster === undefined ? {} : { onCluster: o.onCluster }),
      progress: ({ frames, workers }) => (line = frameProgress(frames, workers)),
      log: (text) => Console.log(text)
    }).pipe(
      Effect.onInterrupt(() => Effect.sync(() => {
        line?.finish()
        process.stderr.write(`\ninterrupted: the finished units are saved in ${dir}/; ${resume(dir)}\n`)
      })),
      Effect.tap(() => Effect.sync(() => line?.finish()))
    )
    yield* Console.log(`\n${deepTable(results)}`)
    yield* Console.log(`\nResults in ${dir}/ (summary.json, results.csv, curves.csv, report.md, plots/)`)
    return dir
  })

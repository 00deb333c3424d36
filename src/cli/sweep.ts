/**
 * `distmt sweep <spec> [--out DIR] [--quick] [--jobs N] [--dry-run] [--set path=value]... [--seeds N] [--cluster …]`: every point of the spec's
 * sweep axes × every seed × DistMT-LSVI and the baselines, on worker threads (both cores by
 * default) or on the cluster's runners (src/cluster/sweepCluster.ts), with progress and an
 * estimate of the time left; then the tables and the report.
 *
 * Resuming: each finished (point, seed, algorithm) run is written at once, atomically, to its own
 * file named by a hash of its inputs. Run again with the same DIR, the sweep reads those files and
 * runs only what is missing. Bad input (a bad spec, a DIR that holds something else) is refused
 * before anything is written.
 */
import { damagedSummaryProblem, folderHolds, outFolderProblem, subFolderProblem } from "../report/folderKind.ts"
import { Console, Data, Effect, FileSystem, Option, Path, type Scope, Semaphore } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as os from "node:os"
import { writeAtomic } from "../report/files.ts"
import { isOwnTemporary } from "../report/temporary.ts"
import type { SweepData } from "../report/analysis/index.ts"
import { writeReport } from "../report/report.ts"
import {
  type Manifest,
  MANIFEST_FORMAT,
  manifestOf,
  parseRunFile,
  type RunRecord,
  rowsCsv,
  runFileJson,
  sweepCsv,
  sweepSummaryJson
} from "../report/sweepFiles.ts"
import type { AlgorithmRun } from "../run/runExperiment.ts"
import { pointKey, planUnits, type SweepUnit } from "../run/sweepPlan.ts"
import { connectionFlags, withoutCluster } from "../cluster/flags.ts"
import { costProblem, estimateCost, jobsProblem } from "../spec/cost.ts"
import { describeAxis, describePoint, expandSweep, type SampleOptions } from "../spec/sweep.ts"
import { overridesRecord, sweepAxisOverride } from "../spec/overrides.ts"
import { loadSpec } from "./loadSpec.ts"
import { overrideFlags, overridesFromFlags } from "./overrideFlags.ts"
import { SAMPLE_OF_DEEP_SPEC, sampleFlags, sampleFromFlags } from "./sampleFlags.ts"
import { isLockFile, lockDir } from "./outDir.ts"
import { checkedSpec, forceFlag, specTimeoutFlag } from "./specCheck.ts"
import { reportUserErrors } from "./userErrors.ts"
import { type ProgressUnit, sweepProgress } from "./sweepProgress.ts"
import type { WorkRequest } from "./sweepWorker.ts"
import { makeWorkerPool, type WorkerError } from "./workerPool.ts"

const SWEEP_WORKER = new URL("./sweepWorker.ts", import.meta.url).href

/** How a sweep runs one of its units: on a worker thread here, or on the cluster (sweepCluster.ts). */
type RunUnit<E> = (u: SweepUnit, onEpisodes: (episodes: number) => void) => Effect.Effect<AlgorithmRun, E>

export class SweepDirError extends Data.TaggedError("SweepDirError")<{ readonly dir: string; readonly reason: string }> {
  override get message(): string {
    return `Cannot sweep into ${this.dir}: ${this.reason}`
  }
}

/** The most worker threads a sweep starts on this machine, as the API's `threads` allows. */
const MAX_JOBS = 64

/**
 * `--jobs` below 1, or above MAX_JOBS here: the flag's error, not the folder's. Above it, the
 * sweep ran 64 workers and said nothing of it; on the cluster the runners do the work, so any
 * number of runs may be submitted at once.
 */
class JobsError extends Data.TaggedError("JobsError")<{ readonly jobs: number; readonly cluster: boolean }> {
  override get message(): string {
    return `--jobs: expected a whole number of sweep workers from 1 ${this.cluster ? "on" : `to ${MAX_JOBS}`}, got ${this.jobs}`
  }
}

/** The default results folder: fixed, so that running the same command again resumes; a sample's names its seed. */
export const defaultSweepDir = (name: string, quick: boolean, sample?: SampleOptions) =>
  `runs/${name}/${sample === undefined ? "sweep" : `sample-seed${sample.seed}`}${quick ? "-quick" : ""}`

/**
 * Checks that `dir` is a new or empty folder, or the folder of an earlier sweep of the same spec
 * and variant; returns the earlier manifest if there is one. Writes nothing.
 */
const checkDir = (dir: string, name: string, quick: boolean, sample: SampleOptions | undefined) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    // A file, a path under a file, a folder we may not write in: one line, before anything is written.
    const problem = outFolderProblem(dir)
    if (problem !== undefined) return yield* new SweepDirError({ dir, reason: problem })
    if (!(yield* fs.exists(dir))) return undefined
    // A lock or temporaries left by a sweep killed before it wrote sweep.json do not make the folder another's.
    const entries = (yield* fs.readDirectory(dir)).filter((f) => !isLockFile(f) && !sweepTemporary(f, "top"))
    if (!entries.includes("sweep.json")) {
      if (entries.length === 0) return undefined
      // Named as what it holds, as the deep sweep and both stages' runs name the folders they refuse.
      const holds = folderHolds(dir)
      return yield* new SweepDirError({
        dir,
        reason: holds === undefined
          ? damagedSummaryProblem(dir) ?? "the folder is not empty and holds no sweep.json; give a new or empty folder, or the folder of an earlier sweep to resume it"
          : `it holds ${holds}, not a linear-stage sweep; give another folder`
      })
    }
    const text = yield* fs.readFileString(path.join(dir, "sweep.json"))
    let earlier: Manifest
    try {
      earlier = JSON.parse(text) as Manifest
    } catch {
      return yield* new SweepDirError({ dir, reason: "its sweep.json is not valid JSON; give another folder" })
    }
    if (earlier?.format !== MANIFEST_FORMAT) {
      return yield* new SweepDirError({ dir, reason: `its sweep.json is not a ${MANIFEST_FORMAT} manifest; give another folder` })
    }
    if (earlier.name !== name) {
      return yield* new SweepDirError({ dir, reason: `it holds a sweep of the spec "${earlier.name}", not "${name}"; give another folder` })
    }
    if (earlier.quick !== quick) {
      return yield* new SweepDirError({
        dir,
        reason: `it holds a ${earlier.quick ? "--quick" : "full"} sweep; run ${earlier.quick ? "with" : "without"} --quick to resume it, or give another folder`
      })
    }
    // A sample resumes (or grows: the first K points of a larger K are the same) only with the same seed.
    if (earlier.sample?.seed !== sample?.seed) {
      const was = earlier.sample === undefined ? "a grid sweep" : `a sample drawn with --sample-seed ${earlier.sample.seed}`
      const fix = earlier.sample === undefined ? "run without --sample" : `run with --sample-seed ${earlier.sample.seed}`
      return yield* new SweepDirError({ dir, reason: `it holds ${was}; ${fix} to resume it, or give another folder` })
    }
    const sub = subFolderProblem(dir, ["runs", "plots"])
    if (sub !== undefined) return yield* new SweepDirError({ dir, reason: sub })
    return earlier
  })

/** Reads the finished runs of the plan; a missing, partial or outdated file is simply not finished. */
const readFinished = (dir: string, units: ReadonlyArray<SweepUnit>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const records = new Map<string, RunRecord>()
    for (const u of units) {
      const file = path.join(dir, u.file)
      if (!(yield* fs.exists(file))) continue
      const rec = parseRunFile(yield* fs.readFileString(file), u.key)
      if (rec !== undefined) records.set(u.key, rec)
    }
    return records
  })

/** The files a sweep writes at its top, each atomically (so with a temporary of its own while it is written). */
const SWEEP_FILES = new Set(["sweep.json", "sweep.csv", "rows.csv", "summary.json", "report.md", "report.html"])

/**
 * Whether `name` is the temporary of a file the sweep writes there: at its top one of SWEEP_FILES,
 * in runs/ a run's .json, in plots/ a plot's .svg. A user's file that merely ends in `.7.tmp` is
 * neither ignored nor removed.
 */
const sweepTemporary = (name: string, where: "top" | "runs" | "plots"): boolean =>
  isOwnTemporary(name, (file) => (where === "top" ? SWEEP_FILES.has(file) : file.endsWith(where === "runs" ? ".json" : ".svg")))

/**
 * Temporary files left by an interrupted write (never a finished run: those are renamed into
 * place), in the folder, runs/ and plots/ (a sweep killed while writing its report leaves one there).
 */
export const removeStaleTemporaries = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    for (const where of ["top", "runs", "plots"] as const) {
      const sub = where === "top" ? dir : path.join(dir, where)
      if (!(yield* fs.exists(sub))) continue
      for (const f of yield* fs.readDirectory(sub)) {
        if (sweepTemporary(f, where)) yield* fs.remove(path.join(sub, f))
      }
    }
  })

/**
 * summary.json from the finished runs. It is the folder's marker of completion: `"complete": true`
 * only when every unit is finished and `final` (the report written too), so that a sweep killed at
 * any moment, between two renames included, leaves a folder marked incomplete.
 */
const writeSummary = (dir: string, manifest: Manifest, records: ReadonlyMap<string, RunRecord>, final: boolean) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const complete = final && manifest.units.every((u) => records.has(u.key))
    yield* writeAtomic(path.join(dir, "summary.json"), JSON.stringify(sweepSummaryJson(manifest, records, complete), null, 2) + "\n")
  })

/** Rewrites sweep.csv, rows.csv and summary.json from the finished runs; `final: false` keeps the folder marked incomplete. */
export const writeTables = (dir: string, manifest: Manifest, records: ReadonlyMap<string, RunRecord>, final = true) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    yield* writeAtomic(path.join(dir, "sweep.csv"), sweepCsv(manifest, records))
    yield* writeAtomic(path.join(dir, "rows.csv"), rowsCsv(manifest, records))
    yield* writeSummary(dir, manifest, records, final)
  })

/**
 * Rewrites the tables and the report of `dir`, a sweep folder or a folder of them (`sweeps`: the
 * sweep folders there, read), with the markers of completion last: each sweep's summary.json says
 * `"complete": false` while any of its files is rewritten, and `true` (if all its runs are
 * finished) only after all of them, so that no kill or failure leaves a folder that looks complete
 * with a report half old, half new. `sweep` and `report` both end with it.
 */
export const writeTablesAndReport = (dir: string, sweeps: ReadonlyArray<SweepData>) =>
  Effect.gen(function*() {
    for (const s of sweeps) yield* writeTables(s.dir, s.manifest, s.records, false)
    const report = yield* writeReport(dir, sweeps)
    for (const s of sweeps) yield* writeSummary(s.dir, s.manifest, s.records, true)
    return report
  })

/** Prints a user-facing error (no stack trace) and sets a failing exit code. */
const unitLabel = (u: SweepUnit) => `${u.algorithm} · ${describePoint(u.point.values)} · seed ${u.seed}`

/** A unit as the progress line counts it (sweepProgress.ts). */
const progressUnit = (u: SweepUnit): ProgressUnit => ({
  key: u.key,
  algorithm: u.algorithm,
  point: describePoint(u.point.values),
  instances: u.instances,
  label: unitLabel(u)
})

export const sweepCommand = Command.make(
  "sweep",
  {
    spec: Argument.String("spec").pipe(Argument.withDescription("path of a spec module with sweep axes, e.g. specs/scaling.spec.ts")),
    out: Flag.String("out").pipe(
      Flag.optional,
      Flag.withDescription("results folder (default runs/<name>/sweep, or runs/<name>/sweep-quick with --quick); an earlier sweep there is resumed")
    ),
    quick: Flag.Boolean("quick").pipe(Flag.withDefault(false), Flag.withDescription("run the spec's `quick` variant (CI-sized)")),
    jobs: Flag.Int("jobs").pipe(Flag.optional, Flag.withDescription("worker threads, 1 to 64 (default: the number of cores, at most 64); with --cluster, the runs submitted at once")),
    dryRun: Flag.Boolean("dry-run").pipe(Flag.withDefault(false), Flag.withDescription("check every point and print the plan; run and write nothing")),
    specTimeout: specTimeoutFlag,
    force: forceFlag,
    ...overrideFlags,
    ...sampleFlags,
    cluster: Flag.Boolean("cluster").pipe(
      Flag.withDefault(false),
      Flag.withDescription("run every unit's server and agents on the cluster's runners, as run --cluster does (docs/cluster.md); same results")
    ),
    ...connectionFlags
  },
  ({ spec, out, quick, jobs, dryRun, specTimeout, force, set, seeds, sample: sampleFlag, sampleSeed, cluster, ...connection }) =>
    reportUserErrors(Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const clusterOnly = cluster ? undefined : withoutCluster(connection)
      if (clusterOnly !== undefined) return yield* Effect.fail({ _tag: "UsageError" as const, message: clusterOnly })
      const overrides = yield* overridesFromFlags({ set, seeds })
      const sample = yield* sampleFromFlags({ sample: sampleFlag, sampleSeed })
      // Every point checked in a time-limited worker first; only then loaded here (specCheck.ts).
      yield* checkedSpec(spec, specTimeout, { quick, sweep: true, overrides, sample })
      const decoded = yield* loadSpec(spec, { quick, overrides })
      // An override of an axis would be replaced at every point: refused (src/spec/overrides.ts).
      const axisOverride = sweepAxisOverride(Object.keys(decoded.sweep), overrides)
      if (axisOverride !== undefined) return yield* axisOverride
      // A spec of games sweeps on the deep stage's runner: each point a whole deep run (src/deep/distmt/sweep.ts).
      if (decoded.environment._tag === "MinAtar") {
        const { runDeepSweep } = yield* Effect.promise(() => import("../deep/distmt/sweep.ts"))
        const { DeepOutError } = yield* Effect.promise(() => import("../deep/distmt/runDeep.ts"))
        // validate refuses --sample for it in the same words (SAMPLE_OF_DEEP_SPEC).
        if (sample !== undefined) return yield* new DeepOutError({ message: `${spec}: ${SAMPLE_OF_DEEP_SPEC}` })
        if (dryRun) return yield* new DeepOutError({ message: `${spec}: --dry-run is for linear-stage sweeps; \`distmt validate\` checks and counts a deep sweep's points` })
        // Its points run one after another, each on one worker per core: --jobs has nothing to set.
        if (Option.isSome(jobs)) {
          return yield* new DeepOutError({
            message: `${spec}: --jobs is for linear-stage sweeps; a deep-stage sweep runs its points one after another, each on one worker thread per core (the spec's threads)`
          })
        }
        const deepDir = Option.getOrElse(out, () => defaultSweepDir(decoded.name, quick, undefined))
        if (!cluster) return yield* runDeepSweep(decoded, spec, deepDir, decoded.threads, force)
        // Each point's units on the cluster's runners, the point a run of its own there (its spec and folder).
        const { clusterRunKey, userFacing, withCluster } = yield* Effect.promise(() => import("../cluster/runCluster.ts"))
        const { deepUnitsOnCluster } = yield* Effect.promise(() => import("../cluster/runDeepUnits.ts"))
        return yield* withCluster(connection, () =>
          Effect.flatMap(deepUnitsOnCluster, (units) =>
            runDeepSweep(decoded, spec, deepDir, decoded.threads, force, (point, pdir) => units(point, clusterRunKey(point, pdir))))
        ).pipe(userFacing("distmt sweep"))
      }
      const points = yield* expandSweep(decoded, spec, { sample })
      const dir = Option.getOrElse(out, () => defaultSweepDir(decoded.name, quick, sample))
      // Worker threads here: at most 64. On the cluster the runners do the work: as many as asked.
      if (Option.isSome(jobs) && (jobs.value < 1 || (!cluster && jobs.value > MAX_JOBS))) return yield* new JobsError({ jobs: jobs.value, cluster })
      const workers = Option.getOrElse(jobs, () => Math.max(1, Math.min(os.availableParallelism(), cluster ? Number.MAX_SAFE_INTEGER : MAX_JOBS)))
      // Each point's estimate, before the plan lists its seeds (src/spec/cost.ts).
      const costs = points.map((p) => ({
        point: p,
        cost: estimateCost(p.compiled),
        where: points.length > 1 ? `point ${describePoint(p.values)}: ` : ""
      }))
      for (const { cost, where } of force ? [] : costs) {
        const problem = costProblem(cost, where)
        if (problem !== undefined) return yield* Effect.fail({ _tag: "CostError" as const, message: `${spec}: ${problem}` })
      }
      const units = planUnits(decoded, points)
      // Then the units that run at once, --jobs of them, each with its learners (src/spec/cost.ts).
      const atOnce = Math.min(workers, units.length)
      const jobsFlag = Option.isSome(jobs) ? `--jobs ${jobs.value}` : `--jobs ${workers} (the default, one per core)`
      const perPoint = costs.map(({ cost, point, where }) => ({ cost, where, units: units.filter((u) => u.point.index === point.index).length }))
      // On the cluster the units' learners live on the runners, not here.
      const tooMany = force || cluster ? undefined : jobsProblem(perPoint, atOnce, jobsFlag)
      if (tooMany !== undefined) return yield* Effect.fail({ _tag: "CostError" as const, message: `${spec}: ${tooMany}` })
      yield* checkDir(dir, decoded.name, quick, sample)
      const manifest = { ...manifestOf(spec, decoded, quick, units, sample), overrides: overridesRecord(overrides) }
      const finished = yield* readFinished(dir, units)

      const axes = Object.entries(decoded.sweep)
      yield* Console.log(
        `distmt sweep: ${decoded.name}${quick ? " (quick)" : ""}: ${points.length} point${points.length === 1 ? "" : "s"}` +
          (axes.length === 0
            ? " (no sweep axes)"
            : sample === undefined
            ? ` (${axes.map(([k, v]) => describeAxis(k, v)).join(" × ")})`
            : ` drawn at random by --sample ${sample.count} --sample-seed ${sample.seed} from ${axes.map(([k, v]) => describeAxis(k, v)).join(", ")}`) +
          ` × ${manifest.seeds.length} seed${manifest.seeds.length === 1 ? "" : "s"} × ${manifest.algorithms.join(", ")} = ${units.length} runs; ` +
          `${finished.size} already finished in ${dir}/`
      )
      if (dryRun) {
        for (const p of manifest.points) {
          yield* Console.log(
            `  point ${p.index}: ${describePoint(p.values)}: N = ${p.agents}, M = ${p.tasks}, ε = ${p.epsilon}, ` +
              `cSep = ${p.cSep} (actual ${p.separation.toPrecision(4)}), β = ${p.beta.toPrecision(4)}`
          )
        }
        return
      }

      // Longest first (by the instance count), so that the two cores finish together.
      const todo = units.filter((u) => !finished.has(u.key)).sort((a, b) => b.instances - a.instances)
      // In process: a pool of worker threads, made only when there is something to run.
      const poolRunner = Effect.map(
        makeWorkerPool<WorkRequest, AlgorithmRun>(SWEEP_WORKER, Math.min(workers, todo.length), "a sweep worker"),
        (pool): RunUnit<WorkerError> => (u, onEpisodes) =>
          pool.run(
            { source: spec, quick, overrides, values: u.point.values, pointKey: pointKey(u.point.compiled), algorithm: u.algorithm, seed: u.seed },
            onEpisodes
          )
      )
      const writeAndRun = <E>(runner: Effect.Effect<RunUnit<E>, never, Scope.Scope>) =>
        Effect.gen(function*() {
          yield* fs.makeDirectory(path.join(dir, "runs"), { recursive: true })
          // One sweep per folder: a second one is refused with the first's PID before it touches anything.
          yield* lockDir(dir, `Cannot sweep into ${dir}`)
          yield* removeStaleTemporaries(dir)
          yield* writeAtomic(path.join(dir, "sweep.json"), JSON.stringify(manifest, null, 1) + "\n")
          // Marked incomplete while it is written: an earlier complete summary.json must not outlive a new plan.
          yield* writeSummary(dir, manifest, finished, false)

          const progress = sweepProgress(units.length, workers)
          for (const u of units) {
            const rec = finished.get(u.key)
            const pu = progressUnit(u)
            if (rec !== undefined) progress.alreadyDone(pu, rec.run.wallSeconds)
            else progress.planned(pu)
          }
          const records = new Map(finished)
          // One writer at a time for the shared tables (each run file has its own name).
          const tableLock = yield* Semaphore.make(1)
          // Each unit's file is written as soon as it ends, then the shared table.
          const runTodo = (runUnit: RunUnit<E>) =>
            Effect.forEach(
              todo,
              (u) =>
                Effect.gen(function*() {
                  const pu = progressUnit(u)
                  progress.started(pu)
                  const run = yield* runUnit(u, (episodes) => progress.episodes(pu, episodes))
                  yield* writeAtomic(path.join(dir, u.file), runFileJson(u, run))
                  const rec = parseRunFile(runFileJson(u, run), u.key)!
                  records.set(u.key, rec)
                  progress.finished(pu, run.wallSeconds)
                  yield* tableLock.withPermits(1)(writeAtomic(path.join(dir, "sweep.csv"), sweepCsv(manifest, records)))
                }),
              { concurrency: Math.min(workers, todo.length), discard: true }
            )
          if (todo.length > 0) {
            yield* Effect.scoped(Effect.flatMap(runner, runTodo)).pipe(
              Effect.onInterrupt(() =>
                Effect.sync(() => {
                  progress.finish()
                  process.stderr.write(
                    `\ninterrupted: ${records.size} of ${units.length} runs are finished and saved in ${dir}/; ` +
                      `run the same command again to resume\n`
                  )
                })
              )
            )
          }
          progress.finish()
          const report = yield* writeTablesAndReport(dir, [{ dir, manifest, records }])
          yield* Console.log(`\n${report.headline}`)
          yield* Console.log(`\nResults in ${dir}/: sweep.csv, rows.csv, summary.json, runs/; report.md, report.html and plots/*.svg`)
        })
      if (!cluster || todo.length === 0) return yield* writeAndRun(poolRunner)
      // On the cluster: its flags, the database and the runners are checked before anything is
      // written; the cluster's code loads only then (runCluster.ts).
      const { userFacing, withCluster } = yield* Effect.promise(() => import("../cluster/runCluster.ts"))
      const { clusterSweepUnit } = yield* Effect.promise(() => import("../cluster/sweepCluster.ts"))
      return yield* withCluster(connection, (units) => writeAndRun(Effect.succeed(clusterSweepUnit(units, dir)))).pipe(userFacing("distmt sweep"))
    }).pipe(Effect.scoped))
).pipe(Command.withDescription("Run a spec's sweep (axes × seeds × algorithms) on all cores, or on the cluster's runners with --cluster, resumably; then write the report."))

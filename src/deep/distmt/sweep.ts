/**
 * `distmt sweep` for a deep-stage spec: every point of the spec's sweep (lists of values; the paper's
 * scaling check is `sweep: { agents: [5, 10, 20, 50] }`) as a whole deep run in its own folder
 * DIR/points/<point>/, then sweep.csv and report.md over the points, and summary.json last (the
 * folder's marker of completion). A point whose folder holds a complete run is not run again, and
 * an unfinished one resumes from its finished units.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { shownDifferences, specDifferences } from "../../api/runFolder.ts"
import { isLockFile, lockDir } from "../../cli/outDir.ts"
import { CostError } from "../../api/run.ts"
import { readSummary, writeAtomic } from "../../report/files.ts"
import type { Experiment, SweepValue } from "../../spec/Spec.ts"
import { folderLabel as label, listPoints } from "../../spec/sweep.ts"
import { deepCostProblem } from "./compile.ts"
import type { DeepAlgorithmSummary } from "./files.ts"
import { damagedSummaryProblem, folderHolds, outFolderProblem, subFolderProblem } from "../../report/folderKind.ts"
import { DeepOutError, runDeep } from "./runDeep.ts"
import type { UnitRunner } from "./units.ts"

/** A point's folder name: `agents=5`, `agents=5,cSep=0.05`. */
export const pointName = (values: Readonly<Record<string, SweepValue>>): string =>
  Object.entries(values).map(([k, v]) => `${k}=${label(v)}`).join(",") || "spec"


/** A spec as summary.json records it (JSON: builders' functions and undefined fields dropped). */
const asRecorded = (spec: Experiment): string => JSON.stringify(JSON.parse(JSON.stringify(spec)))

/**
 * A point's summary, if its folder holds a complete run of this very point (spec and overrides): a
 * run of another one, left by a sweep given other overrides, is not taken for it (runDeep then
 * refuses its folder, saying so).
 */
const finished = (dir: string, spec: Experiment): ReadonlyArray<DeepAlgorithmSummary> | undefined => {
  const s = readSummary(dir)
  return s?.stage === "deep" && s.complete === true && JSON.stringify(s.spec) === asRecorded(spec)
    ? s.algorithms as ReadonlyArray<DeepAlgorithmSummary>
    : undefined
}

/**
 * What a deep sweep's folder holds: nothing (a new sweep), or a deep sweep of the same spec and
 * overrides (resumed); anything else is refused before anything is written there.
 */
export const sweepFolderProblem = (dir: string, spec: Experiment): string | undefined => {
  // A lock (this sweep's, or a killed one's) is no file of anyone else's.
  if (!fs.existsSync(dir) || fs.readdirSync(dir).every(isLockFile)) return undefined
  const s = readSummary(dir)
  if (s?.stage !== "deep-sweep") {
    const holds = folderHolds(dir)
    return holds === undefined
      ? damagedSummaryProblem(dir) ?? "expected a new or empty folder, or one holding a deep sweep of this spec; it holds other files"
      : `it holds ${holds}, not a deep-stage sweep; give another folder`
  }
  const sub = subFolderProblem(dir, ["points"])
  if (sub !== undefined) return sub
  // Sweeps written before 2026-11-30 recorded the spec's name only: their points are still checked one by one.
  if (typeof s.spec === "string") return s.spec === spec.name ? undefined : `it holds a deep sweep of another spec (${s.spec}); give another folder`
  const differences = specDifferences(s.spec, JSON.parse(asRecorded(spec)))
  return differences.length === 0 ? undefined : `it holds a deep sweep of another spec: ${shownDifferences(differences)}; give another folder`
}

const fmt = (x: number | null | undefined, digits = 2): string => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "")

type Axes = ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]>
type Point = { readonly values: Record<string, SweepValue>; readonly spec: Experiment }
type Row = { readonly values: Record<string, SweepValue>; readonly algorithms: ReadonlyArray<DeepAlgorithmSummary> }

/** The sweep's axes (lists only) and every point decoded: a bad value is reported before anything runs or is written. */
const sweepPoints = (spec: Experiment, source: string) =>
  Effect.gen(function*() {
    const axes = Object.entries(spec.sweep)
    if (axes.length === 0) return yield* new DeepOutError({ message: `${source}: no sweep axes: give the spec a sweep, e.g. sweep: { agents: [5, 10, 20, 50] }` })
    const lists: Array<readonly [string, ReadonlyArray<SweepValue>]> = []
    for (const [k, axis] of axes) {
      if (!Array.isArray(axis)) return yield* new DeepOutError({ message: `${source}: sweep.${k}: a deep-stage sweep takes lists of values, not Sweep.range` })
      lists.push([k, axis])
    }
    const points: ReadonlyArray<Point> = yield* listPoints(spec, source, lists)
    return { lists: lists as Axes, points }
  })

/** sweep.csv and report.md over the points finished (`rows`); returns the table as printed. */
const writeSweepTable = (dir: string, spec: Experiment, lists: Axes, rows: ReadonlyArray<Row>) =>
  Effect.gen(function*() {
    const keys = lists.map(([k]) => k)
    const head = [...keys, "algorithm", "success", "mean_return", "identification_accuracy", "frames_per_agent", "registered", "bytes", "wall_seconds"]
    const lines = rows.flatMap((r) =>
      r.algorithms.map((a) =>
        [...keys.map((k) => label(r.values[k])), a.algorithm, fmt(a.success, 4), fmt(a.meanReturn, 4), fmt(a.identificationAccuracy, 4), Math.round(a.framesPerAgent), fmt(a.registered, 1), Math.round(a.bytes), fmt(a.wallSeconds, 1)].join(",")
      )
    )
    yield* writeAtomic(path.join(dir, "sweep.csv"), [head.join(","), ...lines].join("\n") + "\n")
    const table = [
      `| ${[...keys, "algorithm", "success", "mean return", "ident. acc.", "frames/agent", "registered", "MB", "wall s"].join(" | ")} |`,
      `| ${[...keys, "", "", "", "", "", "", "", ""].map(() => "---").join(" | ")} |`,
      ...rows.flatMap((r) =>
        r.algorithms.map((a) =>
          `| ${[...keys.map((k) => label(r.values[k])), a.algorithm, fmt(a.success), fmt(a.meanReturn), fmt(a.identificationAccuracy) || "—", Math.round(a.framesPerAgent).toLocaleString("en-US"), fmt(a.registered, 1), fmt(a.bytes / 1e6, 1), fmt(a.wallSeconds, 1)].join(" | ")} |`
        )
      )
    ].join("\n")
    const report = [
      `# ${spec.name}: sweep`,
      "",
      spec.description ?? "",
      "",
      "Each point is a whole deep run (docs/deep.md, \"DistMT with deep learners\"); its folder under points/ has its own report.md, curves and plots.",
      "",
      table,
      ""
    ].join("\n")
    yield* writeAtomic(path.join(dir, "report.md"), report)
    return table
  })

/** The points of `points` whose folders under `dir` hold a complete run of that very point, with their summaries. */
const finishedRows = (dir: string, points: ReadonlyArray<Point>): Array<Row> =>
  points.flatMap((p) => {
    const done = finished(path.join(dir, "points", pointName(p.values)), p.spec)
    return done === undefined ? [] : [{ values: p.values, algorithms: done }]
  })

export const runDeepSweep = (
  spec: Experiment,
  source: string,
  dir: string,
  threads: number | "auto" = spec.threads,
  force = false,
  /** Each point's units on a cluster's runners, given the point's spec and folder (src/cluster/runDeepUnits.ts). */
  onCluster?: (spec: Experiment, dir: string) => UnitRunner
) =>
  Effect.gen(function*() {
    const { lists, points } = yield* sweepPoints(spec, source)
    // Every point's replay buffers against the machine's memory before anything is written (--force: not).
    for (const p of force ? [] : points) {
      const problem = deepCostProblem(p.spec, threads, `point ${pointName(p.values)}: `)
      if (problem !== undefined) return yield* new CostError({ message: `${source}: ${problem}` })
    }
    // A file, a path under a file, a folder we may not write in: one line, before anything is
    // written (the folder's listing below threw ENOTDIR with a stack trace).
    const unusable = outFolderProblem(dir)
    if (unusable !== undefined) return yield* new DeepOutError({ message: `Cannot sweep into ${dir}: ${unusable}` })
    // One writer per folder, as for a linear sweep: a second sweep given it ran the points the first
    // had not reached (refused only at one the first held), and each wrote the other's marker over.
    yield* lockDir(dir, `Cannot sweep into ${dir}`)
    const problem = sweepFolderProblem(dir, spec)
    if (problem !== undefined) return yield* new DeepOutError({ message: `Cannot sweep into ${dir}: ${problem}` })
    // summary.json is the sweep folder's marker of completion: incomplete from the start, complete
    // only after sweep.csv and the report, so a sweep stopped at any moment is told by it. It
    // records the spec as decoded (overrides applied), which a sweep given again must match.
    const marker = (complete: boolean) =>
      writeAtomic(
        path.join(dir, "summary.json"),
        JSON.stringify({ stage: "deep-sweep", spec: JSON.parse(asRecorded(spec)), complete, points: points.map((p) => pointName(p.values)) }, null, 2) + "\n"
      )
    fs.mkdirSync(dir, { recursive: true })
    yield* marker(false)
    yield* Console.log(`distmt sweep: ${spec.name} (deep stage): ${points.length} points, ${lists.map(([k, v]) => `${k} ∈ {${v.map(label).join(", ")}}`).join(", ")}; results in ${dir}/`)
    for (const p of points) {
      const pdir = path.join(dir, "points", pointName(p.values))
      if (finished(pdir, p.spec) === undefined) {
        // An unfinished point resumes from its finished units (runDeep.ts).
        fs.mkdirSync(path.dirname(pdir), { recursive: true })
        yield* Console.log(`\n── point ${pointName(p.values)}`)
        yield* runDeep(p.spec, pdir, {
          threads,
          force: true,
          resume: () => `run the same \`distmt sweep\` command again to resume the sweep`,
          ...(onCluster === undefined ? {} : { onCluster: () => onCluster(p.spec, pdir) })
        })
      } else {
        yield* Console.log(`\n── point ${pointName(p.values)}: finished earlier in ${pdir}/`)
      }
    }
    const table = yield* writeSweepTable(dir, spec, lists, finishedRows(dir, points))
    yield* marker(true)
    yield* Console.log(`\n${table}\n\nSweep results in ${dir}/ (sweep.csv, report.md, points/)`)
  }).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

/**
 * `distmt report` on a deep sweep's folder: sweep.csv and report.md rewritten from the points'
 * own summaries, as the sweep writes them (the points finished so far; the marker is left as it is).
 */
export const rewriteDeepSweep = (dir: string) =>
  Effect.gen(function*() {
    const marker = readSummary(dir)
    if (marker === undefined || typeof marker.spec !== "object" || marker.spec === null) {
      return yield* new DeepOutError({ message: `Cannot report on ${dir}: its deep sweep was written before 2026-11-30 (it records no spec); run its \`distmt sweep\` command again to rewrite it` })
    }
    const spec = marker.spec as Experiment
    const { lists, points } = yield* sweepPoints(spec, dir)
    const rows = finishedRows(dir, points)
    yield* writeSweepTable(dir, spec, lists, rows)
    return { name: spec.name, finished: rows.length, points: points.length }
  }).pipe(Effect.provide(NodeServices.layer))

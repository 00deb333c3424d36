/**
 * `distmt plot <run dir>`: draws a run's learning curves (curves.csv) as plots/curves-width.svg and
 * plots/curves-gap.svg in the run folder: the certificate's width and the exact gap against episodes
 * per agent, one line per algorithm, with ε and c_Sep/2 marked (src/report/curves.ts). Reads only
 * the run's files, so it works on a finished run, an interrupted one, or one copied from elsewhere.
 */
import { damagedSummaryProblem, folderHolds, subFolderProblem } from "../report/folderKind.ts"
import { Console, Data, Effect } from "effect"
import { Argument, Command } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { curvePlots, parseCurvesCsv } from "../report/curves.ts"
import { readSummary, RUN_PLOT_FILES, writeAtomic } from "../report/files.ts"
import { DESCRIPTIONS } from "./commands.ts"

export class PlotError extends Data.TaggedError("PlotError")<{ readonly dir: string; readonly reason: string }> {
  override get message(): string {
    return `Cannot plot ${this.dir}: ${this.reason}`
  }
}

/** What a run folder says about itself: its name, ε and c_Sep, from summary.json. */
const runSettings = (dir: string): { readonly name: string; readonly epsilon: number; readonly cSep: number } | string => {
  const file = path.join(dir, "summary.json")
  if (!fs.existsSync(file)) return "no summary.json here (is it the folder of a `distmt run`?)"
  // Named as damaged, as run and the deep stage name it.
  const damaged = damagedSummaryProblem(dir)
  if (damaged !== undefined) return damaged
  try {
    const spec = JSON.parse(fs.readFileSync(file, "utf8"))?.spec
    if (typeof spec?.epsilon !== "number" || typeof spec?.cSep !== "number") return "its summary.json has no spec with epsilon and cSep"
    return { name: String(spec.name ?? path.basename(dir)), epsilon: spec.epsilon, cSep: spec.cSep }
  } catch {
    return "its summary.json cannot be read"
  }
}

/** Whether `dir` holds a deep-stage run (its summary.json says `"stage": "deep"`). */
const isDeepRun = (dir: string): boolean => stageOf(dir) === "deep"

/** What summary.json says the folder holds: "deep" (a deep run), "deep-sweep", or undefined (a linear run, or none). */
const stageOf = (dir: string): unknown => readSummary(dir)?.stage

/** A sweep's folder holds no curves of its own: where they are instead. */
const sweepFolder = (dir: string): string | undefined => {
  if (stageOf(dir) === "deep-sweep") {
    // points/ a file: refused in one line (folderKind.ts), not with readdir's stack trace.
    const sub = subFolderProblem(dir, ["points"])
    if (sub !== undefined) return sub
    const points = fs.existsSync(path.join(dir, "points")) ? fs.readdirSync(path.join(dir, "points")).sort() : []
    return `a deep-stage sweep: each point's run has its own curves, e.g. \`distmt plot ${path.join(dir, "points", points[0] ?? "<point>")}\``
  }
  if (fs.existsSync(path.join(dir, "sweep.json"))) return `a sweep: \`distmt report ${dir}\` draws its plots`
  return undefined
}

/** A deep run's learning curves: return against frames per agent (src/deep/distmt/plot.ts). */
const plotDeepRun = (dir: string) =>
  Effect.gen(function*() {
    const { parseDeepCurves, returnPlot } = yield* Effect.promise(() => import("../deep/distmt/plot.ts"))
    const csv = path.join(dir, "curves.csv")
    if (!fs.existsSync(csv)) return yield* new PlotError({ dir, reason: "no curves.csv here" })
    const points = parseDeepCurves(fs.readFileSync(csv, "utf8"))
    if (typeof points === "string") return yield* new PlotError({ dir, reason: `curves.csv: ${points}` })
    if (points.length === 0) return yield* new PlotError({ dir, reason: "curves.csv has no points yet (no algorithm run has finished)" })
    const name = String((readSummary(dir)?.spec as { readonly name?: unknown } | undefined)?.name ?? path.basename(dir))
    const svg = yield* Effect.promise(() => returnPlot(name, points))
    const file = path.join(dir, "plots", "returns.svg")
    fs.mkdirSync(path.dirname(file), { recursive: true })
    yield* writeAtomic(file, svg)
    return [file]
  })

/** Writes the curve plots of the run in `dir`; returns the files written. */
export const plotRun = (dir: string) =>
  Effect.gen(function*() {
    if (!fs.existsSync(dir)) return yield* new PlotError({ dir, reason: "no such folder" })
    if (!fs.statSync(dir).isDirectory()) return yield* new PlotError({ dir, reason: "is a file; give the folder of a run" })
    const sweep = sweepFolder(dir)
    if (sweep !== undefined) return yield* new PlotError({ dir, reason: sweep })
    // Its summary.json has no spec: it was called one "with no spec with epsilon and cSep".
    if (folderHolds(dir) === "a train-dqn run") return yield* new PlotError({ dir, reason: "a train-dqn run: it draws its curve itself (curve.svg, from curve.csv)" })
    // plots/ a file: refused in one line, as run refuses units/ (folderKind.ts), not with mkdir's stack trace.
    const sub = subFolderProblem(dir, ["plots"])
    if (sub !== undefined) return yield* new PlotError({ dir, reason: sub })
    if (isDeepRun(dir)) return yield* plotDeepRun(dir)
    const settings = runSettings(dir)
    if (typeof settings === "string") return yield* new PlotError({ dir, reason: settings })
    const csv = path.join(dir, "curves.csv")
    if (!fs.existsSync(csv)) return yield* new PlotError({ dir, reason: "no curves.csv here (runs made before learning curves existed have none: run the spec again)" })
    const points = parseCurvesCsv(fs.readFileSync(csv, "utf8"))
    if (typeof points === "string") return yield* new PlotError({ dir, reason: `curves.csv: ${points}` })
    if (points.length === 0) return yield* new PlotError({ dir, reason: "curves.csv has no points yet (no algorithm run has finished)" })
    const plots = yield* Effect.promise(() => curvePlots((what) => `${settings.name}: ${what} against episodes per agent`, points, settings.epsilon, settings.cSep))
    const out = path.join(dir, "plots")
    fs.mkdirSync(out, { recursive: true })
    const files = RUN_PLOT_FILES.map((f) => path.join(out, f))
    yield* writeAtomic(files[0], plots.width)
    yield* writeAtomic(files[1], plots.gap)
    return files
  })

export const plotCommand = Command.make(
  "plot",
  { dir: Argument.String("dir").pipe(Argument.withDescription("a run's results folder (runs/<name>/<timestamp> or its --out)")) },
  ({ dir }) =>
    plotRun(dir).pipe(
      Effect.flatMap((files) => Console.log(`Learning curves in ${files.join(" and ")}`)),
      Effect.catchTag("PlotError", (e) =>
        Effect.andThen(Console.error(e.message), Effect.sync(() => {
          process.exitCode = 1
        })))
    )
).pipe(Command.withDescription(DESCRIPTIONS.plot))

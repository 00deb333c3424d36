/**
 * `distmt report <DIR>`: rebuilds the tables (sweep.csv, rows.csv, summary.json), the plots and
 * report.md / report.html of a sweep folder from its run files; or, for a folder of sweep folders
 * (e.g. `runs/`), those of each sweep and one combined report. `distmt sweep` ends with the same
 * code (writeTablesAndReport): each sweep's marker of completion, summary.json, is written last.
 */
import { Console, Effect } from "effect"
import { Argument, Command } from "effect/cli"
import type { PlatformError } from "effect/PlatformError"
import { findSweeps, loadSweep, ReportError } from "../report/report.ts"
import { readSummary } from "../report/files.ts"
import { subFolderProblem } from "../report/folderKind.ts"
import { fileOfTemporary } from "../report/temporary.ts"
import { lockDir } from "./outDir.ts"
import { removeStaleTemporaries, writeTablesAndReport } from "./sweep.ts"
import { DESCRIPTIONS } from "./commands.ts"
import { reportUserErrors } from "./userErrors.ts"
import * as fs from "node:fs"
import * as path from "node:path"

/** A file that could not be written, named as the user knows it: not its temporary copy (writeAtomic). */
const writeFailure = (dir: string, e: PlatformError) => {
  const r = e.reason
  const file = "pathOrDescriptor" in r && typeof r.pathOrDescriptor === "string" ? fileOfTemporary(r.pathOrDescriptor) : undefined
  const code = (r.cause as NodeJS.ErrnoException | undefined)?.code ?? r._tag
  return new ReportError({ dir, reason: file === undefined ? `cannot write its files (${code})` : `cannot write ${file} (${code})` })
}

/** Whether `dir` is a deep sweep's folder: its summary.json is the deep sweep's marker (src/deep/distmt/sweep.ts). */
const isDeepSweep = (dir: string): boolean => readSummary(dir)?.stage === "deep-sweep"

/** The deep-stage sweep folders at or under `dir` (three levels deep at most, not inside one). */
const deepSweepsUnder = (dir: string, depth = 3): Array<string> => {
  if (isDeepSweep(dir)) return [dir]
  if (depth === 0) return []
  return fs.readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== "runs" && e.name !== "plots")
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => deepSweepsUnder(path.join(dir, e.name), depth - 1))
}

export const reportCommand = Command.make(
  "report",
  { dir: Argument.String("dir").pipe(Argument.withDescription("a sweep's results folder (or a folder of them, e.g. runs/)")) },
  ({ dir }) =>
    reportUserErrors(
      Effect.gen(function*() {
        const dirs = yield* findSweeps(dir)
        // Deep-stage sweeps (no sweep.json: a marker summary.json and a run per point) get their own
        // table and report.md rewritten from their points, as `distmt sweep` writes them.
        const deep = deepSweepsUnder(dir)
        // A sweep's runs/ or plots/, a deep sweep's points/, that is a file: refused in one line
        // (folderKind.ts), before any folder is locked or written, as sweep refuses it.
        for (const [d, subs] of [...dirs.map((d) => [d, ["runs", "plots"]] as const), ...deep.map((d) => [d, ["points"]] as const)]) {
          const sub = subFolderProblem(d, subs)
          if (sub !== undefined) return yield* new ReportError({ dir: d, reason: sub })
        }
        // Loaded only for them: the deep stage's modules are not a linear report's to load.
        const { rewriteDeepSweep } = deep.length === 0 ? { rewriteDeepSweep: undefined } : yield* Effect.promise(() => import("../deep/distmt/sweep.ts"))
        for (const d of deep) {
          yield* lockDir(d, `Cannot report on ${d}`)
          const r = yield* rewriteDeepSweep!(d)
          const done = r.finished === r.points ? "" : ` (${r.finished} of ${r.points} points finished)`
          yield* Console.log(`${r.name}: deep-stage sweep${done}; table and report in ${path.join(d, "sweep.csv")} and ${path.join(d, "report.md")}`)
        }
        if (dirs.length === 0 && deep.length > 0) return
        // A sweep still writing in a folder is not written over: refused with its PID, as a second sweep is.
        for (const d of dirs) {
          yield* lockDir(d, `Cannot report on ${d}`)
          yield* removeStaleTemporaries(d)
        }
        const sweeps = yield* Effect.forEach(dirs, loadSweep)
        const report = yield* writeTablesAndReport(dir, sweeps)
        yield* Console.log(report.headline)
        yield* Console.log(`\nReport in ${report.files.join(" and ")} (plots in plots/)`)
      }).pipe(Effect.scoped, Effect.catchTag("PlatformError", (e) => Effect.fail(writeFailure(dir, e))))
    )
).pipe(Command.withDescription(DESCRIPTIONS.report))

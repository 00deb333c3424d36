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
import { fileOfTemporary } from "../report/temporary.ts"
import { lockDir } from "./outDir.ts"
import { removeStaleTemporaries, writeTablesAndReport } from "./sweep.ts"
import { reportUserErrors } from "./userErrors.ts"

/** A file that could not be written, named as the user knows it: not its temporary copy (writeAtomic). */
const writeFailure = (dir: string, e: PlatformError) => {
  const r = e.reason
  const file = "pathOrDescriptor" in r && typeof r.pathOrDescriptor === "string" ? fileOfTemporary(r.pathOrDescriptor) : undefined
  const code = (r.cause as NodeJS.ErrnoException | undefined)?.code ?? r._tag
  return new ReportError({ dir, reason: file === undefined ? `cannot write its files (${code})` : `cannot write ${file} (${code})` })
}

export const reportCommand = Command.make(
  "report",
  { dir: Argument.String("dir").pipe(Argument.withDescription("a sweep's results folder (or a folder of them, e.g. runs/)")) },
  ({ dir }) =>
    reportUserErrors(
      Effect.gen(function*() {
        const dirs = yield* findSweeps(dir)
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
).pipe(Command.withDescription("Write the plots and report.md / report.html of a sweep folder (or of every sweep under a folder)."))

/**
 * `distmt report <DIR>`: rebuilds the tables (sweep.csv, rows.csv, summary.json), the plots and
 * report.md / report.html of a sweep folder from its run files; or, for a folder of sweep folders
 * (e.g. `runs/`), each sweep's report and one combined report. `distmt sweep` calls the same code
 * when it finishes.
 */
import { Console, Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { loadSweep, writeReport } from "../report/report.ts"
import { writeTables } from "./sweep.ts"
import { reportUserErrors } from "./userErrors.ts"
import * as fs from "node:fs"
import * as path from "node:path"

export const reportCommand = Command.make(
  "report",
  { dir: Argument.String("dir").pipe(Argument.withDescription("a sweep's results folder (or a folder of them, e.g. runs/)")) },
  ({ dir }) =>
    reportUserErrors(
      Effect.gen(function*() {
        if (fs.existsSync(path.join(dir, "sweep.json"))) {
          const data = yield* loadSweep(dir)
          yield* writeTables(dir, data.manifest, data.records)
        }
        const report = yield* writeReport(dir)
        yield* Console.log(report.headline)
        yield* Console.log(`\nReport in ${report.files.join(" and ")} (plots in plots/)`)
      })
    )
).pipe(Command.withDescription("Write the plots and report.md / report.html of a sweep folder (or of every sweep under a folder)."))

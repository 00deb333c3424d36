/**
 * `distmt run <deep spec> --fresh` stopped part-way through removing the earlier run's files
 * (src/deep/distmt/runDeep.ts startOver). At each moment a kill may land, the folder must still be
 * taken by the same command, and by no other command as a finished run: it removed summary.json
 * first, and the plots/ and units/ left behind made the folder "other files", refused by every
 * command, --fresh included. The folder is made by hand, as a finished deep run leaves it.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { readSummary } from "../src/report/files.ts"
import { folderProblem, startOver } from "../src/deep/distmt/runDeep.ts"

it("a deep run's --fresh stopped after any of its removals leaves a folder the same command starts over, marked incomplete", async () => {
  const spec = await Effect.runPromise(loadSpec("specs/minatar.spec.ts", { quick: true }))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-fresh-"))
  const files: Record<string, string> = {
    "summary.json": JSON.stringify({ stage: "deep", complete: true, spec: JSON.parse(JSON.stringify(spec)) }, null, 2) + "\n",
    "results.csv": "algorithm,seed\n",
    "curves.csv": "algorithm,seed\n",
    "report.md": "# minatar\n",
    "units/distmt-seed0.json": "{}",
    "units/oracle-seed0.json": "{}",
    "plots/returns.svg": "<svg/>",
    "plots/task-0.png": "png"
  }
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true })
    fs.writeFileSync(path.join(dir, f), text)
  }
  const other = { ...spec, seeds: spec.seeds + 1 }
  const steps = startOver(dir)
  const done: Array<string> = []
  for (let step = 0; ; step++) {
    const at = `stopped after ${done.join(", ") || "nothing"}: the folder holds [${fs.readdirSync(dir, { recursive: true }).join(", ")}]`
    // The same command, with --fresh, starts over; another spec without it is told of --fresh.
    expect(folderProblem(dir, spec, true), at).toBeUndefined()
    const refusal = folderProblem(dir, other, false)
    if (refusal !== undefined) expect(refusal, at).toMatch(/or --fresh to start over there$/)
    // Once anything is removed, nothing reads the folder as a finished run.
    if (step > 0) expect(readSummary(dir)?.complete, at).not.toBe(true)
    const next = steps.next()
    if (next.done === true) break
    done.push(next.value)
  }
  expect(fs.readdirSync(dir)).toEqual([])
})

/**
 * A finished deep run given again with a unit to run again (its file removed, or damaged: it runs
 * again, test/damaged-run-files.test.ts) is marked incomplete before that unit runs. Its summary.json
 * said `"complete": true` all the while, and the files written after the unit (results.csv,
 * curves.csv, then summary.json, each renamed in turn) left it so, a kill between two renames
 * away from a complete summary beside a results.csv of fewer units.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"
import { runDeep } from "../src/index.ts"
import { folderFiles } from "./folders.ts"

/** Two units (distmt, seeds 0 and 1) of a few hundred frames each. */
const options = { quick: true, set: { "learner.framesPerAgent": 300, "learner.dqn.replayStart": 100, baselines: [], seeds: 2 } }
const complete = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8")).complete

it("a finished deep run whose unit runs again says incomplete until it is done, then ends with the same files", async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-rerun-")), "run")
  await runDeep("specs/minatar.spec.ts", { ...options, out })
  const before = folderFiles(out, (f) => f.endsWith(".md") || f.endsWith(".svg") || f.endsWith(".png"))
  expect(complete(out)).toBe(true)

  fs.rmSync(path.join(out, "units", "distmt-seed1.json"))
  // What summary.json says while the unit runs again: read when it starts.
  let whileRunning: unknown
  const r = await runDeep("specs/minatar.spec.ts", { ...options, out, onProgress: () => (whileRunning ??= complete(out)) })
  expect(r.resumed).toBe(1)
  expect(whileRunning).toBe(false)
  expect(complete(out)).toBe(true)
  expect(folderFiles(out, (f) => f.endsWith(".md") || f.endsWith(".svg") || f.endsWith(".png"))).toEqual(before)
}, 60_000)

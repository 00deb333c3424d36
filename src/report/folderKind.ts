/**
 * What a folder of distmt's results is, from its marker files, and whether an output folder would
 * be made inside one (docs/results.md).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { outDirProblem } from "../cli/outDir.ts"
import { readSummary } from "./files.ts"

/**
 * What a folder of distmt's results holds, in words, from its marker files: a deep run or sweep
 * (summary.json's `stage`), a linear sweep (sweep.json), a linear run (a summary.json with a spec
 * and no stage), a train-dqn run (its summary.json's game and config); undefined for anything else.
 * A refusal names it: every folder whose summary.json was not a deep run's was called "a
 * linear-stage run", a deep sweep's and train-dqn's too.
 */
export const folderHolds = (dir: string): string | undefined => {
  const summary = readSummary(dir)
  if (summary?.stage === "deep") return "a deep-stage run"
  if (summary?.stage === "deep-sweep") return "a deep-stage sweep"
  if (fs.existsSync(path.join(dir, "sweep.json"))) return "a linear-stage sweep"
  if (summary === undefined) return undefined
  if (summary.stage === undefined && typeof summary.spec === "object" && summary.spec !== null) return "a linear-stage run"
  if (typeof summary.game === "string" && typeof summary.config === "object") return "a train-dqn run"
  return undefined
}

/**
 * Why an output folder `dir` given by the user cannot be inside another results folder; undefined
 * if no folder above it holds distmt's results. A run given `--out RUN/units/x` or `--out
 * SWEEP/plots/x` was written there, into files that are that run's or sweep's own: `--fresh` on the
 * run around it removes its units/ (a deep run's plots/ too) with everything in them, and the folder
 * is no longer one that `run` resumes or `report` reads as it wrote it. (A deep sweep's own point
 * folders are inside it by design: the sweep writes them, never through a user's --out.)
 */
export const enclosingResultsProblem = (dir: string): string | undefined => {
  let above = path.dirname(path.resolve(dir))
  for (;;) {
    const holds = folderHolds(above)
    if (holds !== undefined) return `it is inside ${above}, which holds ${holds}; give a folder outside it`
    const up = path.dirname(above)
    if (up === above) return undefined
    above = up
  }
}

/**
 * Why a results folder the user named cannot be used: outDir.ts's checks (a file, a path under a
 * file, a folder not writable), then `enclosingResultsProblem`. One function for every command that
 * takes such a folder, so that none checks the one and forgets the other.
 */
export const outFolderProblem = (dir: string): string | undefined => outDirProblem(dir) ?? enclosingResultsProblem(dir)

/**
 * Why a results folder's sub-folders (a run's units/, a sweep's runs/ and plots/, a deep sweep's
 * points/) cannot take its files: one of them is there but is not a folder. The commands listed
 * and created them as folders and failed with ENOTDIR's stack trace; this is checked with the rest
 * of the folder, before anything is written. Undefined if each is a folder or absent.
 */
export const subFolderProblem = (dir: string, subs: ReadonlyArray<string>): string | undefined => {
  for (const sub of subs) {
    const at = path.join(dir, sub)
    const info = fs.statSync(at, { throwIfNoEntry: false })
    if (info !== undefined && !info.isDirectory()) return `${at} is a file, where a folder ${sub}/ of its results was expected; move it away, or give another folder`
  }
  return undefined
}

/**
 * Why a folder's summary.json says nothing, when it is there but is not a JSON object (cut short,
 * edited by hand): the folder checks called the folder "other files", as if no summary were there.
 * Undefined when it is absent or reads.
 */
export const damagedSummaryProblem = (dir: string): string | undefined =>
  fs.statSync(path.join(dir, "summary.json"), { throwIfNoEntry: false })?.isFile() === true && readSummary(dir) === undefined
    ? "its summary.json is damaged (not a JSON object), so what the folder holds cannot be told; repair or remove it, or give another folder"
    : undefined

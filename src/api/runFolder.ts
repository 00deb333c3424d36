/**
 * Resumable runs (docs/results.md, "units/"): every finished (algorithm, seed) unit of a run is
 * written at once, atomically, to `DIR/units/<algorithm>-seed<seed>.json`, losslessly (codec.ts),
 * so that a run given the same folder again reads them back and runs only the units that are
 * missing; its result files are then those of an uninterrupted run.
 *
 * A folder is resumed only by the same spec, overrides applied: the spec recorded in its
 * summary.json is compared field by field with the one about to run (a difference is refused,
 * naming it), and each unit file carries a key of its inputs, the exact tables included, so that a
 * change inside one of the spec's functions is refused too. Threads are not compared: the results
 * do not depend on them.
 *
 * A run writes only into a folder that is new, empty or recognisably a run's (runFolderProblem): a
 * folder of someone else's files is refused before anything in it is written or removed.
 */
import { Data, Effect } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { isDeepStrictEqual } from "node:util"
import { isLockFile, OutDirError } from "../cli/outDir.ts"
import { RUN_PLOT_FILES, specJson, writeAtomicPieces } from "../report/files.ts"
import { changedSinceWritten, withDigest } from "../report/digest.ts"
import { damagedSummaryProblem, folderHolds, subFolderProblem } from "../report/folderKind.ts"
import { isUnitRun } from "../report/runShape.ts"
import { isOwnTemporary } from "../report/temporary.ts"
import { type Algorithm, type AlgorithmRun, runUnits } from "../run/runExperiment.ts"
import { pointKey } from "../run/sweepPlan.ts"
import type { Compiled } from "../spec/compile.ts"
import { isPlainObject } from "../spec/paths.ts"
import { formatPath, show } from "../spec/SpecError.ts"
import { decodeLossless, encodedPieces } from "./codec.ts"

/** The folder of the unit files, inside a run folder. */
export const UNITS_DIR = "units"
/** Changes when the meaning of a unit file changes, so that an older one is never misread. */
export const UNIT_FORMAT = "distmt-run-unit/1"

/** A run folder that cannot be resumed by this spec; nothing in it has been touched. */
export class ResumeError extends Data.TaggedError("ResumeError")<{ readonly dir: string; readonly difference: string; readonly hint: string }> {
  override get message(): string {
    return `spec differs from the run in ${this.dir}: ${this.difference}; ${this.hint}`
  }
}

type Unit = { readonly algorithm: Algorithm; readonly seed: number }

const unitFile = (dir: string, u: Unit) => path.join(dir, UNITS_DIR, `${u.algorithm}-seed${u.seed}.json`)
/** The name of a unit file (unitFile). */
const UNIT_NAME = /^[^/]+-seed\d+\.json$/
/** The files a run writes beside units/ (src/report/files.ts prepareOutput and writeResults). */
const RUN_FILES: ReadonlySet<string> = new Set(["summary.json", "model.json", "results.csv", "curves.csv", "policies.json"])

/** Everything a unit's result depends on but its threads: the spec's fields and exact tables, β, algorithm and seed. */
const unitKey = (c: Compiled, u: Unit): string =>
  createHash("sha256").update(`${pointKey({ ...c, spec: { ...c.spec, threads: 1 } })}/${u.algorithm}/${u.seed}`).digest("hex").slice(0, 20)

/**
 * Writes one finished unit; called as soon as it finishes, before the tables are rewritten. The text
 * is `JSON.stringify({ format, key, algorithm, seed, run: encodeLossless(run), sha256 })` and a
 * newline, written row by row and curve point by point (`encodedPieces` to depth 3: the file's
 * object, the run's fields, their lists), never as one string: at 10,000 agents that string is 96
 * MB, and its encoded tree several times that, on top of the run itself. `sha256` is hashed from
 * the same pieces as they go (withDigest).
 */
export const writeUnit = (dir: string, c: Compiled, run: AlgorithmRun) =>
  writeAtomicPieces(
    unitFile(dir, run),
    (function*() {
      yield* withDigest(encodedPieces({ format: UNIT_FORMAT, key: unitKey(c, run), algorithm: run.algorithm, seed: run.seed, run }, 3))
      yield "\n"
    })()
  )

/**
 * Makes the folder of the unit files; `fresh` first removes the units of an earlier run, and the
 * plots `distmt plot` drew of its results (they stayed beside the fresh results, of other numbers),
 * with plots/ if nothing else is in it: a file of the user's there stays.
 */
export const prepareUnits = (dir: string, fresh: boolean): void => {
  const units = path.join(dir, UNITS_DIR)
  if (fresh) {
    fs.rmSync(units, { recursive: true, force: true })
    removeRunPlots(dir)
  }
  fs.mkdirSync(units, { recursive: true })
}

/**
 * Removes the plots `distmt plot` drew of the run's results so far (RUN_PLOT_FILES), and plots/ if
 * nothing else is in it: a file of the user's there stays. Called before results of other numbers
 * are written (a fresh start, a unit run on resume), which the plots would no longer show.
 */
export const removeRunPlots = (dir: string): void => {
  const plots = path.join(dir, "plots")
  for (const f of RUN_PLOT_FILES) fs.rmSync(path.join(plots, f), { force: true })
  if (fs.existsSync(plots) && fs.readdirSync(plots).length === 0) fs.rmdirSync(plots)
}

const MAX_SHOWN = 3

/** The fields where two recorded specs differ: `epsilon 0.1 (folder) vs 0.05 (now)`. */
export const specDifferences = (folder: unknown, now: unknown): ReadonlyArray<string> => {
  const out: Array<string> = []
  const walk = (a: unknown, b: unknown, at: ReadonlyArray<string | number>) => {
    if (isDeepStrictEqual(a, b)) return
    // Into objects of the same builder and lists of the same length; anything else differs as a whole.
    if (isPlainObject(a) && isPlainObject(b) && a._tag === b._tag) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], [...at, k])
      return
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((x, i) => walk(x, b[i], [...at, i]))
      return
    }
    const shown = (v: unknown) => (v === undefined ? "absent" : show(v))
    out.push(`${formatPath(at)} ${shown(a)} (folder) vs ${shown(b)} (now)`)
  }
  // The threads a run used are recorded in its spec; they never change its results.
  const withoutThreads = (s: unknown) => (isPlainObject(s) ? { ...s, threads: undefined } : s)
  walk(withoutThreads(folder), withoutThreads(now), [])
  return out
}

/** The first few differences, and how many more: `epsilon 0.1 (folder) vs 0.05 (now) and 2 more`. */
export const shownDifferences = (differences: ReadonlyArray<string>): string =>
  differences.slice(0, MAX_SHOWN).join(", ") + (differences.length > MAX_SHOWN ? ` and ${differences.length - MAX_SHOWN} more` : "")

const readText = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch {
    return undefined
  }
}

const parsed = (text: string | undefined): unknown => {
  try {
    return text === undefined ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

const readJson = (file: string): unknown => parsed(readText(file))

/** What finishedUnits found: the units read back, and the unit files changed since they were written (`units/distmt-seed0.json`). */
export interface Finished {
  readonly done: ReadonlyArray<AlgorithmRun>
  readonly changed: ReadonlyArray<string>
}

/**
 * The units an earlier run of this spec finished in `dir`, in run order; none for a new folder.
 * Fails, reading only, when the folder holds a run of another spec (fields, overrides or tables).
 * A unit file that cannot be read (not written by this format, or whose run is not of a run's shape:
 * runShape.ts) is simply run again; so is one changed since it was written (its digest), named in
 * `changed` for the user to be told.
 */
export const finishedUnits = (dir: string, c: Compiled, hint: string): Effect.Effect<Finished, ResumeError> =>
  Effect.suspend(() => {
    const earlier = readJson(path.join(dir, "summary.json"))
    if (isPlainObject(earlier) && earlier.spec !== undefined) {
      const differences = specDifferences(earlier.spec, specJson(c.spec))
      if (differences.length > 0) return Effect.fail(new ResumeError({ dir, difference: shownDifferences(differences), hint }))
    }
    const done: Array<AlgorithmRun> = []
    const changed: Array<string> = []
    for (const u of runUnits(c)) {
      const text = readText(unitFile(dir, u))
      const file = parsed(text)
      if (!isPlainObject(file) || file.format !== UNIT_FORMAT) continue
      // Before the key: an edited key is an edit, run again, not a run of other tables, refused.
      if (changedSinceWritten(text!)) {
        changed.push(path.join(UNITS_DIR, path.basename(unitFile(dir, u))))
        continue
      }
      if (file.key !== unitKey(c, u)) {
        return Effect.fail(
          new ResumeError({
            dir,
            difference: `its ${u.algorithm} seed ${u.seed} was run on other tables (a function of the spec, environment.build or features.map, computes something else now)`,
            hint
          })
        )
      }
      const run = decodeLossless(file.run)
      if (!isUnitRun(run) || run.algorithm !== u.algorithm || run.seed !== u.seed) continue
      // A field left out reads as undefined, as the Row type has it.
      done.push(run as AlgorithmRun)
    }
    return Effect.succeed({ done, changed })
  })

/**
 * A temporary that a killed run of ours left (`summary.json.<pid>.<n>.tmp`, in units/
 * `distmt-seed0.json.<pid>.<n>.tmp`): the temporary of one of a run's own files, not merely a name
 * ending in `.tmp`, which a user's file may have too.
 */
const ownTemporary = (name: string, inUnits: boolean): boolean =>
  isOwnTemporary(name, (file) => (inUnits ? UNIT_NAME.test(file) : RUN_FILES.has(file)))

/** The entries of `dir` besides the lock and a killed run's temporaries; undefined if it is not a readable folder. */
const entriesOf = (dir: string, inUnits: boolean): ReadonlyArray<string> | undefined => {
  try {
    return fs.readdirSync(dir).filter((f) => !isLockFile(f) && !ownTemporary(f, inUnits))
  } catch {
    return undefined
  }
}

const NOT_A_RUN = "give a new or empty folder, or the folder of an earlier run of this spec to resume it"

/**
 * Why `dir` cannot hold a run of the spec `name`, reading only; undefined if it is new, empty, or a
 * run's folder of that spec (whether that run can be resumed is finishedUnits' question). A run
 * writes summary.json before anything but its lock, units/ and their temporaries (prepareOutput),
 * so a folder without one is a run's only if that is all it holds, as a run killed before then
 * leaves it: anything else is someone else's files (a results.csv of their own), and a run there
 * would write over them.
 */
export const runFolderProblem = (dir: string, name: string): string | undefined => {
  if (!fs.existsSync(dir)) return undefined
  const entries = entriesOf(dir, false)
  if (entries === undefined) return `cannot read it; ${NOT_A_RUN}`
  if (entries.length === 0) return undefined
  // plots/ too: --fresh removes the plots distmt plot drew there (prepareUnits), through ENOTDIR if it is a file.
  const units = subFolderProblem(dir, [UNITS_DIR, "plots"])
  if (units !== undefined) return units
  if (entries.includes("sweep.json")) return "it holds a sweep (sweep.json); give another folder"
  if (!entries.includes("summary.json")) {
    const unitFiles = entries.length === 1 && entries[0] === UNITS_DIR ? entriesOf(path.join(dir, UNITS_DIR), true) : undefined
    if (unitFiles !== undefined && unitFiles.every((f) => UNIT_NAME.test(f))) return undefined
    return `the folder is not empty and holds no distmt run (no summary.json); ${NOT_A_RUN}`
  }
  // A deep-stage run's or sweep's folder, whatever its spec's name: --fresh would remove its units/
  // and write this run over its results (the deep stage refuses a linear run's folder likewise).
  const holds = folderHolds(dir)
  if (holds !== undefined && holds !== "a linear-stage run") return `it holds ${holds}; give another folder`
  // Cut short or edited by hand: named as damaged, as the deep stage names it, not as someone else's summary.
  const damaged = damagedSummaryProblem(dir)
  if (damaged !== undefined) return damaged
  const earlier = readJson(path.join(dir, "summary.json"))
  const other = isPlainObject(earlier) && isPlainObject(earlier.spec) ? earlier.spec.name : undefined
  if (typeof other !== "string") return `its summary.json is not a distmt run's; ${NOT_A_RUN}`
  return other === name ? undefined : `it holds the results of the spec "${other}", not "${name}"; give another folder`
}

/** Fails with runFolderProblem's line, naming the folder as `label`; writes nothing. */
export const checkRunFolder = (dir: string, name: string, label: string): Effect.Effect<void, OutDirError> =>
  Effect.suspend(() => {
    const reason = runFolderProblem(dir, name)
    return reason === undefined ? Effect.void : Effect.fail(new OutDirError({ label, reason }))
  })

/**
 * Removes the temporaries a killed run left in `dir` and in its units/ (ownTemporary): call it
 * holding the lock, once checkRunFolder has found the folder a run's.
 */
export const removeStaleTemporaries = (dir: string): void => {
  for (const [sub, inUnits] of [[dir, false], [path.join(dir, UNITS_DIR), true]] as const) {
    if (!fs.existsSync(sub)) continue
    for (const f of fs.readdirSync(sub)) {
      if (ownTemporary(f, inUnits)) fs.rmSync(path.join(sub, f), { force: true })
    }
  }
}

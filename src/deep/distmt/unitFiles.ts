/**
 * A deep run's finished units, one file each in DIR/units/ (`distmt-seed0.json`), so that a run
 * stopped part-way resumes from them: `distmt run <spec> --out DIR` again runs only the units still
 * missing, and the result is the uninterrupted run's (each unit is a function of its seed).
 *
 * JSON has no NaN or ±Infinity (a policy never published has a NaN interval, a learner's interval
 * before two returns is infinite): they are written as the strings "NaN", "Infinity", "-Infinity"
 * and read back as numbers, so a unit comes back exactly as it was.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { temporaryOf } from "../../report/temporary.ts"
import type { Algorithm } from "../../run/runExperiment.ts"
import type { DeepRun } from "./run.ts"

const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"])

/** Plain data as JSON, its non-finite numbers as strings (a deep unit, or a deep spec sent to a runner). */
export const encodeJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))

/** `encodeJson`'s text back to the data. */
export const decodeJson = (text: string): unknown =>
  JSON.parse(text, (_k, v) => (typeof v === "string" && NON_FINITE.has(v) ? Number(v) : v))

export const encodeUnit = (run: DeepRun): string => encodeJson(run)

export const decodeUnit = (text: string): DeepRun => decodeJson(text) as DeepRun

const fileOf = (dir: string, u: { readonly algorithm: Algorithm; readonly seed: number }) =>
  path.join(dir, "units", `${u.algorithm}-seed${u.seed}.json`)

/** Writes a finished unit, unless it is there already (aside, then renamed: a unit file is whole or absent). */
export const saveUnit = (dir: string, run: DeepRun): void => {
  const file = fileOf(dir, run)
  if (fs.existsSync(file)) return
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = temporaryOf(file)
  fs.writeFileSync(tmp, encodeUnit(run))
  fs.renameSync(tmp, file)
}

/** The units of `units` already finished in `dir`. */
export const finishedUnits = (dir: string, units: ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }>): Array<DeepRun> =>
  units.flatMap((u) => {
    const file = fileOf(dir, u)
    return fs.existsSync(file) ? [decodeUnit(fs.readFileSync(file, "utf8"))] : []
  })

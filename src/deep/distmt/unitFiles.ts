/**
 * A deep run's finished units, one file each in DIR/units/ (`distmt-seed0.json`), so that a run
 * stopped part-way resumes from them: `distmt run <spec> --out DIR` again runs only the units still
 * missing, and the result is the uninterrupted run's (each unit is a function of its seed).
 *
 * JSON has no NaN or ±Infinity (a policy never published has a NaN interval, a learner's interval
 * before two returns is infinite): they are written as the strings "NaN", "Infinity", "-Infinity"
 * and read back as numbers, so a unit comes back exactly as it was.
 *
 * A unit file that is not whole (it does not parse, or its run lacks a field or holds one of another
 * kind: a hand edit, a damaged disk) is not a finished unit: it runs again, and its file is written
 * anew. It was read as it was, and the run failed on it with a bare SyntaxError or TypeError.
 */
import { Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Traffic } from "../../coordinator/protocol.ts"
import { Algorithm as AlgorithmSchema, Role, Source } from "../../report/runShape.ts"
import { changedSinceWritten, withDigestText } from "../../report/digest.ts"
import { writeFileAtomic } from "../../report/temporary.ts"
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

const Estimate = Schema.Struct({ mean: Schema.Number, lower: Schema.Number, upper: Schema.Number, episodes: Schema.Number })

/** A DeepRun as encodeUnit writes it (a field without a value is left out, as JSON.stringify does). */
const isDeepRun = Schema.is(Schema.Struct({
  algorithm: AlgorithmSchema,
  seed: Schema.Number,
  rows: Schema.Array(Schema.Struct({
    algorithm: AlgorithmSchema,
    seed: Schema.Number,
    agent: Schema.Number,
    slot: Schema.optionalKey(Schema.Number),
    task: Schema.Number,
    identificationEpisodes: Schema.Number,
    learningEpisodes: Schema.Number,
    entry: Schema.optionalKey(Schema.Number),
    role: Schema.optionalKey(Role),
    source: Source,
    identificationCorrect: Schema.optionalKey(Schema.Boolean),
    evaluated: Schema.optionalKey(Estimate),
    target: Schema.Number,
    success: Schema.Boolean,
    certificate: Schema.Struct({ lower: Schema.Number, upper: Schema.Number, width: Schema.Number }),
    evaluatedWhenLearned: Schema.optionalKey(Estimate)
  })),
  traffic: Traffic,
  registered: Schema.Number,
  wallSeconds: Schema.Number,
  frames: Schema.Array(Schema.Number),
  curve: Schema.Array(Schema.Struct({ agent: Schema.Number, frame: Schema.Number, ret: Schema.Number, phase: Schema.Literals(["identify", "learn"]) }))
}))

/**
 * The unit `u` as its file holds it; undefined when the file is absent or not whole, "changed" when
 * its text is not what was written (its digest, src/report/digest.ts).
 */
const readUnit = (file: string, u: { readonly algorithm: Algorithm; readonly seed: number }): DeepRun | "changed" | undefined => {
  if (!fs.existsSync(file)) return undefined
  let text: string
  let run: unknown
  try {
    text = fs.readFileSync(file, "utf8")
    run = decodeJson(text)
  } catch {
    return undefined
  }
  if (!(isDeepRun(run) && run.algorithm === u.algorithm && run.seed === u.seed)) return undefined
  if (changedSinceWritten(text)) return "changed"
  const { sha256: _digest, ...rest } = run as DeepRun & { readonly sha256?: string }
  return rest
}

/** The file of the unit `u` in the run folder `dir`. */
export const fileOf = (dir: string, u: { readonly algorithm: Algorithm; readonly seed: number }) =>
  path.join(dir, "units", `${u.algorithm}-seed${u.seed}.json`)

/**
 * Writes a finished unit with its digest, unless it is there already, whole and as written (aside,
 * then renamed: a unit file is whole or absent).
 */
export const saveUnit = (dir: string, run: DeepRun): void => {
  const file = fileOf(dir, run)
  const there = readUnit(file, run)
  if (there !== undefined && there !== "changed") return
  fs.mkdirSync(path.dirname(file), { recursive: true })
  writeFileAtomic(file, withDigestText(encodeUnit(run)))
}

/**
 * The units of `units` already finished in `dir`, whole (`done`), and the files of those whose text
 * was changed since it was written (`changed`, as `units/distmt-seed0.json`), which run again.
 */
export const finishedUnits = (
  dir: string,
  units: ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }>
): { readonly done: Array<DeepRun>; readonly changed: Array<string> } => {
  const done: Array<DeepRun> = []
  const changed: Array<string> = []
  for (const u of units) {
    const file = fileOf(dir, u)
    const run = readUnit(file, u)
    if (run === "changed") changed.push(path.relative(dir, file))
    else if (run !== undefined) done.push(run)
  }
  return { done, changed }
}

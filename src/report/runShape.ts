/**
 * The shape of one finished (algorithm, seed) run as its file holds it: a run's `units/` file
 * (src/api/runFolder.ts, decoded losslessly) and a sweep's `runs/` file (sweepFiles.ts, plain JSON).
 * (A deep run's units/ file has its own shape, in src/deep/distmt/unitFiles.ts.)
 * Such a file is JSON that anyone can edit or damage: one of the right format and key whose run
 * lacks a field, or holds a field of another kind (a row that is `null`, a certificate that is
 * missing, a gap that is text), is treated like a file that does not parse: its unit runs again and
 * a report counts it unfinished. Without this check it failed later, inside the tables, with a bare
 * TypeError, after the run had already rewritten its summary.json.
 */
import { Schema } from "effect"
import { Traffic } from "../coordinator/protocol.ts"

export const Algorithm = Schema.Literals(["distmt", "independent", "oracle"])
export const Role = Schema.Literals(["owner", "contributor", "downloaded", "solo", "unidentified"])
export const Source = Schema.Literals(["learned", "downloaded", "fetched", "missing"])


/**
 * The fields of a row (src/run/runExperiment.ts Row) but its action table. A field without a value
 * is `absent`, or left out (as JSON.stringify leaves out undefined), and a number that may be NaN
 * (a missing policy's value and certificate) is `maybeNaN`: undefined and a number in a unit file
 * (codec.ts keeps both), `null` for both in a sweep's run file (JSON has neither).
 */
const rowFields = <A extends Schema.Top, N extends Schema.Top>(absent: A, maybeNaN: N) => {
  const orAbsent = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.Union([schema, absent]))
  return {
  algorithm: Algorithm,
  seed: Schema.Number,
  agent: Schema.Number,
  slot: orAbsent(Schema.Number),
  task: Schema.Number,
  identificationEpisodes: Schema.Number,
  learningEpisodes: Schema.Number,
  entry: orAbsent(Schema.Number),
  role: orAbsent(Role),
  source: Source,
  identificationCorrect: orAbsent(Schema.Boolean),
  vStar: Schema.Number,
  vPi: maybeNaN,
  gap: maybeNaN,
  success: Schema.Boolean,
  certificate: Schema.Struct({ lower: maybeNaN, upper: maybeNaN, width: maybeNaN }),
  certificateHeld: Schema.Boolean,
  reachedTarget: Schema.Boolean
  }
}

const runFields = {
  algorithm: Algorithm,
  seed: Schema.Number,
  traffic: Traffic,
  registered: Schema.Number,
  wallSeconds: Schema.Number,
  virtualEpisodes: Schema.Number
}

const CurvePoint = Schema.Struct({
  agent: Schema.Number,
  slot: Schema.Number,
  task: Schema.Number,
  episode: Schema.Number,
  agentEpisode: Schema.Number,
  phase: Schema.Literals(["identify", "learn"]),
  lower: Schema.Number,
  upper: Schema.Number,
  width: Schema.Number,
  gap: Schema.Number
})

const Actions = Schema.declare((u: unknown): u is Int32Array => u instanceof Int32Array, { expected: "an Int32Array" })

/** A unit file's run once codec.ts has decoded it: undefined fields present as undefined, NaN kept. */
export const isUnitRun = Schema.is(
  Schema.Struct({
    ...runFields,
    rows: Schema.Array(Schema.Struct({ ...rowFields(Schema.Undefined, Schema.Number), actions: Actions })),
    curve: Schema.Array(CurvePoint)
  })
)

/** A sweep run file's run as JSON: absent fields and NaN as null; its curve is checked by curveFromColumns. */
export const isSweepRunJson = Schema.is(
  Schema.Struct({ ...runFields, rows: Schema.Array(Schema.Struct(rowFields(Schema.Null, Schema.NullOr(Schema.Number)))) })
)

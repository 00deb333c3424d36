/**
 * The shape of a sweep's sweep.json (sweepFiles.ts Manifest), checked when `distmt report` reads
 * it. The file is JSON anyone can edit or damage: one with the right format but a unit that is
 * null, a file name that is a number, a point without its values or no seeds failed the report
 * with a bare TypeError, some of them after it had already rewritten the folder's tables. The
 * problem is now named by its path in the file, and nothing is written.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { formatPath } from "../spec/SpecError.ts"
import { Algorithm } from "./runShape.ts"
import { MANIFEST_FORMAT } from "./sweepFiles.ts"

/** An axis value: a number, a string (`sharing`), or a builder's plain value (`assignment`, ...). */
const SweepValue = Schema.Union([Schema.Number, Schema.String, Schema.Struct({ _tag: Schema.String })])

const Manifest = Schema.Struct({
  format: Schema.Literal(MANIFEST_FORMAT),
  source: Schema.String,
  name: Schema.String,
  description: Schema.optionalKey(Schema.String),
  quick: Schema.Boolean,
  axes: Schema.Array(Schema.Tuple([Schema.String, Schema.Array(SweepValue)])),
  sample: Schema.optionalKey(Schema.Struct({ count: Schema.Number, seed: Schema.Number, axes: Schema.Array(Schema.Tuple([Schema.String, Schema.Unknown])) })),
  seeds: Schema.Array(Schema.Number),
  algorithms: Schema.Array(Algorithm),
  points: Schema.Array(Schema.Struct({
    index: Schema.Number,
    values: Schema.Record(Schema.String, SweepValue),
    agents: Schema.Number,
    tasks: Schema.Number,
    epsilon: Schema.Number,
    cSep: Schema.Number,
    // A family of one task has no separation: Infinity in memory, null in the file (JSON has no Infinity).
    separation: Schema.NullOr(Schema.Number),
    beta: Schema.Number,
    adaptive: Schema.Boolean,
    spec: Schema.Unknown
  })),
  // A unit's file is under the sweep's runs/, as the sweep names it: never a path out of the folder.
  units: Schema.Array(Schema.Struct({
    point: Schema.Number,
    algorithm: Algorithm,
    seed: Schema.Number,
    key: Schema.String,
    file: Schema.String.check(Schema.isPattern(/^runs\/[^/\\]+\.json$/, { expected: "a run file under runs/ (runs/<algorithm>-seed<seed>-<key>.json)" }))
  }))
})

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** What is wrong with a parsed sweep.json, at its first bad field (`units[0].file: expected …`); undefined if it is a manifest. */
export const manifestProblem = (value: unknown): string | undefined => {
  const result = Schema.decodeUnknownResult(Manifest)(value)
  if (Result.isSuccess(result)) {
    // Every unit's point is one of the points: the tables look each one up.
    const indices = new Set(result.success.points.map((p) => p.index))
    const stray = result.success.units.findIndex((u) => !indices.has(u.point))
    return stray < 0 ? undefined : `units[${stray}].point: expected the index of one of the points, got ${result.success.units[stray].point}`
  }
  const first = formatter(result.failure.issue).issues[0]
  const at = (first.path ?? []).map((p) => (typeof p === "object" ? p.key : p)) as Array<string | number>
  const message = first.message === "Missing key" ? "expected a value (missing)" : first.message.replace(/^Expected /, "expected ")
  return `${at.length === 0 ? "(sweep.json)" : formatPath(at)}: ${message}`
}

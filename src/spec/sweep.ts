/**
 * Sweep expansion: the spec's axes (`sweep: { agents: [1, 2, 5], cSep: [...] }`) become points,
 * each a complete spec that is decoded and compiled like any other before anything runs. An issue
 * at an axis's own field is reported at the axis value that caused it (`sweep.agents[2]`); any
 * other issue of a point says which point it is.
 */
import { Effect } from "effect"
import { type Compiled, compile } from "./compile.ts"
import { parseFieldPath, setAt } from "./paths.ts"
import { decode } from "./schema.ts"
import type { Experiment } from "./Spec.ts"
import { formatPath, SpecError, type SpecIssue } from "./SpecError.ts"

/** One combination of axis values. */
export interface SweepPoint {
  /** 0-based, in expansion order: the last axis varies fastest. */
  readonly index: number
  /** Axis key → value, in the order the axes are declared. */
  readonly values: Readonly<Record<string, number>>
  readonly compiled: Compiled
}

/** The axes as declared, `[key, values]`. */
export const sweepAxes = (spec: Experiment): ReadonlyArray<readonly [string, ReadonlyArray<number>]> => Object.entries(spec.sweep)

/** Every combination of the axes' values; one empty combination when there are no axes. */
export const combinations = (
  axes: ReadonlyArray<readonly [string, ReadonlyArray<number>]>
): Array<Array<{ readonly key: string; readonly index: number; readonly value: number }>> => {
  let out: Array<Array<{ key: string; index: number; value: number }>> = [[]]
  for (const [key, values] of axes) {
    out = out.flatMap((prefix) => values.map((value, index) => [...prefix, { key, index, value }]))
  }
  return out
}

/** `agents = 5, cSep = 0.3`: how a point is named in messages and tables. */
export const describePoint = (values: Readonly<Record<string, number>>): string =>
  Object.keys(values).length === 0 ? "the spec as written" : Object.entries(values).map(([k, v]) => `${k} = ${v}`).join(", ")

/** The spec of one point: the axes' values set, the sweep itself dropped. */
export const pointInput = (spec: Experiment, values: Readonly<Record<string, number>>): unknown => {
  let input: unknown = { ...spec, sweep: {} }
  for (const [key, value] of Object.entries(values)) input = setAt(input, parseFieldPath(key)!, value)
  return input
}

/**
 * Expands and checks every point: decode (types and ranges of the new values) and compile (what
 * needs the built environment, such as a cSep above the family's separation). Fails with every
 * issue of every point, or succeeds with all the compiled points.
 */
export const expandSweep = (spec: Experiment, source: string): Effect.Effect<ReadonlyArray<SweepPoint>, SpecError> =>
  Effect.gen(function*() {
    const axes = sweepAxes(spec)
    const axisPaths = new Map(axes.map(([key]) => [formatPath(parseFieldPath(key)!), key]))
    const points: Array<SweepPoint> = []
    const issues: Array<SpecIssue> = []
    const seen = new Set<string>()
    for (const [index, combination] of combinations(axes).entries()) {
      const values = Object.fromEntries(combination.map((c) => [c.key, c.value]))
      const where = describePoint(values)
      const checked = yield* Effect.result(
        Effect.flatMap(decode(pointInput(spec, values), source), (s) => compile(s, source))
      )
      if (checked._tag === "Success") {
        points.push({ index, values, compiled: checked.success })
        continue
      }
      for (const issue of checked.failure.issues) {
        const axis = axisPaths.get(issue.path)
        const at = combination.find((c) => c.key === axis)
        const mapped: SpecIssue = at !== undefined
          ? { ...issue, path: `sweep.${at.key}[${at.index}]` }
          : { ...issue, message: `${issue.message} (at sweep point ${where})` }
        // An axis value that is bad everywhere is reported once, not once per combination.
        const key = at !== undefined ? `${mapped.path}\u0000${mapped.message}` : `${mapped.path}\u0000${issue.message}`
        if (seen.has(key)) continue
        seen.add(key)
        issues.push(mapped)
      }
    }
    if (issues.length > 0) return yield* new SpecError({ source, issues })
    return points
  })

/**
 * Sweep expansion: the spec's axes (`sweep: { agents: [1, 2, 5], sharing: ["policy", "experience"] }`)
 * become points, each a complete spec that is decoded and compiled like any other before anything
 * runs. An issue at an axis's own field, or inside it, is reported at the axis value that caused it
 * (`sweep.agents[2]`, `sweep.assignment[1].k`); any other issue of a point says which point it is.
 *
 * Axis values are numbers (numeric axes) or categorical: a string or a builder's plain value. Every
 * value has a label (`axisLabel`: `5`, `experience`, `random(2)`) by which tables, plots, sweep.csv
 * and messages name it; two values of one axis with the same label are refused, since the report
 * could not tell them apart.
 */
import { Effect } from "effect"
import { type Compiled, compile } from "./compile.ts"
import { parseFieldPath, setAt } from "./paths.ts"
import { decode } from "./schema.ts"
import type { Experiment, SweepValue } from "./Spec.ts"
import { formatPath, SpecError, type SpecIssue } from "./SpecError.ts"

export type { SweepValue } from "./Spec.ts"

/** One combination of axis values. */
export interface SweepPoint {
  /** 0-based, in expansion order: the last axis varies fastest. */
  readonly index: number
  /** Axis key → value, in the order the axes are declared. */
  readonly values: Readonly<Record<string, SweepValue>>
  readonly compiled: Compiled
}

/** What a builder is called in a spec, by its `_tag`, for labels: `Random` is `Assignment.random`. */
const BUILDER_NAMES: Readonly<Record<string, string>> = {
  Partition: "partition",
  Stream: "stream",
  Random: "random",
  LsviUcb: "ucb",
  Adaptive: "adaptive",
  Schedule: "schedule",
  Theory: "theory"
}

/**
 * How an axis value is named in tables, plots, sweep.csv and messages: a number as itself, a string
 * as itself, a builder's value by its builder and arguments as the spec writes them: `stream`,
 * `random(2)`, `ucb(beta = 2)`, `schedule(k1 = 100, k2 = 2000)`. It must tell apart any two values that make different runs.
 */
export const axisLabel = (v: unknown): string => {
  if (typeof v === "number" || typeof v === "string") return String(v)
  if (v === null || typeof v !== "object" || Array.isArray(v)) return JSON.stringify(v) ?? String(v)
  const { _tag, ...args } = v as Record<string, unknown>
  const name = typeof _tag === "string" ? BUILDER_NAMES[_tag] ?? _tag.charAt(0).toLowerCase() + _tag.slice(1) : "value"
  const entries = Object.entries(args)
  if (entries.length === 0) return name
  // `Assignment.random(k)` takes its argument bare; the other builders take an object of named fields.
  if (_tag === "Random" && entries.length === 1) return `${name}(${axisLabel(entries[0][1])})`
  return `${name}(${entries.map(([k, x]) => `${k} = ${axisLabel(x)}`).join(", ")})`
}

/** Whether every value of the axis is a number: a numeric axis, drawn on a numeric x axis. */
export const isNumericAxis = (values: ReadonlyArray<unknown>): boolean => values.every((v) => typeof v === "number")

/** The axes as declared, `[key, values]`. */
export const sweepAxes = (spec: Experiment): ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]> => Object.entries(spec.sweep)

/** Every combination of the axes' values; one empty combination when there are no axes. */
export const combinations = (
  axes: ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]>
): Array<Array<{ readonly key: string; readonly index: number; readonly value: SweepValue }>> => {
  let out: Array<Array<{ key: string; index: number; value: SweepValue }>> = [[]]
  for (const [key, values] of axes) {
    out = out.flatMap((prefix) => values.map((value, index) => [...prefix, { key, index, value }]))
  }
  return out
}

/** `agents = 5, sharing = experience`: how a point is named in messages and tables. */
export const describePoint = (values: Readonly<Record<string, unknown>>): string =>
  Object.keys(values).length === 0 ? "the spec as written" : Object.entries(values).map(([k, v]) => `${k} = ${axisLabel(v)}`).join(", ")

/** The spec of one point: the axes' values set, the sweep itself dropped. */
export const pointInput = (spec: Experiment, values: Readonly<Record<string, unknown>>): unknown => {
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
    const axisPaths = axes.map(([key]) => [formatPath(parseFieldPath(key)!), key] as const)
    // The axis an issue's path lies in (`assignment.k` lies in `assignment`), and the rest of its path.
    const axisOf = (path: string): { readonly key: string; readonly rest: string } | undefined => {
      for (const [p, key] of axisPaths) {
        if (path === p) return { key, rest: "" }
        if (path.startsWith(`${p}.`) || path.startsWith(`${p}[`)) return { key, rest: path.slice(p.length) }
      }
      return undefined
    }
    const points: Array<SweepPoint> = []
    const issues: Array<SpecIssue> = []
    for (const [key, values] of axes) {
      const first = new Map<string, number>()
      values.forEach((v, i) => {
        const label = axisLabel(v)
        const j = first.get(label)
        if (j === undefined) first.set(label, i)
        else issues.push({ path: `sweep.${key}[${i}]`, message: `expected distinct values: the same as sweep.${key}[${j}]`, actual: label })
      })
    }
    if (issues.length > 0) return yield* new SpecError({ source, issues })
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
        const axis = axisOf(issue.path)
        const at = combination.find((c) => c.key === axis?.key)
        const mapped: SpecIssue = at !== undefined
          ? { ...issue, path: `sweep.${at.key}[${at.index}]${axis!.rest}` }
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

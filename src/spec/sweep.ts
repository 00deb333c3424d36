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
 *
 * A numeric axis may be a range (`Sweep.range`) instead: a sweep with one runs only as a random
 * search, `--sample K` points drawn (sweepSample.ts). A range is checked at both ends (an issue there
 * is named `sweep.epsilon.min` or `.max`), then each drawn point like any other.
 */
import { Effect } from "effect"
import { type Compiled, compile } from "./compile.ts"
import { parseFieldPath, setAt } from "./paths.ts"
import { decode } from "./schema.ts"
import type { Experiment, SweepAxis, SweepValue } from "./Spec.ts"
import { formatPath, SpecError, type SpecIssue } from "./SpecError.ts"
import { drawPoints, isRange, rangeLabel, type SampleOptions } from "./sweepSample.ts"

export type { SweepAxis, SweepValue } from "./Spec.ts"
export type { SampleOptions } from "./sweepSample.ts"

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

/** The axes as declared, `[key, values or range]`. */
export const sweepAxes = (spec: Experiment): ReadonlyArray<readonly [string, SweepAxis]> => Object.entries(spec.sweep)

/** Whether the spec's sweep has a range, so that it runs only with `--sample`. */
export const hasRanges = (spec: Experiment): boolean => Object.values(spec.sweep).some(isRange)

/** `agents ∈ {1, 2, 5}`, `epsilon ∈ 0.05 to 0.2 (log scale)`: an axis as messages name it. */
export const describeAxis = (key: string, axis: SweepAxis): string =>
  isRange(axis) ? `${key} ∈ ${rangeLabel(axis)}` : `${key} ∈ {${axis.map(axisLabel).join(", ")}}`

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
 * Every point of a sweep of lists, the last axis varying fastest: its axes' values and the spec
 * decoded there; an issue at an axis named at its value (`sweep.agents[0]`), as a linear sweep's
 * are, any other naming the point. The deep stage's sweep runs each as a whole run
 * (src/deep/distmt/sweep.ts), and validate checks them (check.ts).
 */
export const listPoints = (
  spec: Experiment,
  source: string,
  axes: ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]>
): Effect.Effect<Array<{ readonly values: Record<string, SweepValue>; readonly spec: Experiment }>, SpecError> =>
  Effect.gen(function*() {
    // Two values of an axis with one folder name are refused, as the linear sweep refuses two with
    // one label: a deep sweep ran both into one point's folder (points/agents=2), whose run of the
    // first then refused the second, and listed the point twice.
    const duplicates = duplicateLabels(axes, folderLabel)
    if (duplicates.length > 0) return yield* Effect.fail(new SpecError({ source, issues: duplicates }))
    const candidates = gridCandidates(axes)
    const { checked, issues } = yield* checkCandidates(spec, source, candidates, (input) => decode(input, source))
    if (issues.length > 0) return yield* Effect.fail(new SpecError({ source, issues }))
    return checked.map((decoded, i) => ({ values: { ...candidates[i].values }, spec: decoded }))
  })

/** The grid's points as candidates, a value named by its index in its list (`sweep.agents[2]`). */
const gridCandidates = (axes: ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]>): Array<Candidate> =>
  combinations(axes).map((combination) => ({
    values: Object.fromEntries(combination.map((c) => [c.key, c.value])),
    at: (key: string) => {
      const c = combination.find((x) => x.key === key)
      return c === undefined ? undefined : { path: `sweep.${c.key}[${c.index}]`, note: "" }
    }
  }))

const MAX_POINTS_SHOWN = 3

/** `at sweep point agents = 5`, or `at 7 sweep points: agents = 5; agents = 10; agents = 20 and 4 more`. */
const atPoints = (points: ReadonlyArray<string>): string =>
  points.length === 1
    ? `at sweep point ${points[0]}`
    : `at ${points.length} sweep points: ${points.slice(0, MAX_POINTS_SHOWN).join("; ")}` +
      (points.length > MAX_POINTS_SHOWN ? ` and ${points.length - MAX_POINTS_SHOWN} more` : "")

/** A candidate point, and how an issue at one of its axes is named (undefined: the point is named instead). */
interface Candidate {
  readonly values: Readonly<Record<string, SweepValue>>
  readonly at: (key: string) => { readonly path: string; readonly note: string } | undefined
}

/** A linear point's check: decoded (types and ranges of the new values) and compiled (what needs the built environment, such as a cSep above the family's separation). */
const compiledAt = (source: string) => (input: unknown): Effect.Effect<Compiled, SpecError> => Effect.flatMap(decode(input, source), (s) => compile(s, source))

/**
 * Checks every candidate's spec with `check` (compiledAt for a linear sweep; a deep sweep's points
 * are decoded only). An issue at an axis's field, or inside it, is named at the axis
 * (`sweep.agents[2]`, `sweep.assignment[1].k`, `sweep.epsilon.max`); any other issue names the
 * points that have it (how many, and the first few: it named only the first, and the user fixed
 * that one to meet the next). The same issue is reported once, not once per point.
 */
const checkCandidates = <A>(
  spec: Experiment,
  source: string,
  candidates: ReadonlyArray<Candidate>,
  check: (input: unknown) => Effect.Effect<A, SpecError>
) =>
  Effect.gen(function*() {
    const axisPaths = sweepAxes(spec).map(([key]) => [formatPath(parseFieldPath(key)!), key] as const)
    // The axis an issue's path lies in (`assignment.k` lies in `assignment`), and the rest of its path.
    const axisOf = (path: string): { readonly key: string; readonly rest: string } | undefined => {
      for (const [p, key] of axisPaths) {
        if (path === p) return { key, rest: "" }
        if (path.startsWith(`${p}.`) || path.startsWith(`${p}[`)) return { key, rest: path.slice(p.length) }
      }
      return undefined
    }
    const checked: Array<A> = []
    const issues: Array<SpecIssue> = []
    // Each distinct problem once; a drawn value refused at several points says at how many more,
    // an issue named by its point lists the points.
    const seen = new Map<string, { readonly index: number; readonly message: string; more: number; readonly points: Array<string> }>()
    for (const candidate of candidates) {
      const result = yield* Effect.result(check(pointInput(spec, candidate.values)))
      if (result._tag === "Success") {
        checked.push(result.success)
        continue
      }
      for (const issue of result.failure.issues) {
        const axis = axisOf(issue.path)
        const at = axis === undefined ? undefined : candidate.at(axis.key)
        const mapped: SpecIssue = at !== undefined
          ? { ...issue, path: `${at.path}${axis!.rest}`, message: `${issue.message}${at.note}` }
          : { ...issue, message: `${issue.message} (${atPoints([describePoint(candidate.values)])})` }
        // An axis value that is bad everywhere is reported once, not once per combination.
        const key = `${mapped.path}\u0000${issue.message}`
        const earlier = seen.get(key)
        if (earlier !== undefined) {
          if (at !== undefined && at.note !== "") earlier.more++
          if (at === undefined) earlier.points.push(describePoint(candidate.values))
          continue
        }
        seen.set(key, { index: issues.length, message: issue.message, more: 0, points: at === undefined ? [describePoint(candidate.values)] : [] })
        issues.push(mapped)
      }
    }
    for (const { index, message, more, points } of seen.values()) {
      // The note ends the message in parentheses: the count goes inside them.
      if (more > 0) issues[index] = { ...issues[index], message: issues[index].message.replace(/\)$/, `; the same at ${more} more drawn point${more === 1 ? "" : "s"})`) }
      if (points.length > 1) issues[index] = { ...issues[index], message: `${message} (${atPoints(points)})` }
    }
    return { checked, issues }
  })

/**
 * How a deep sweep names an axis value in its point's folder and table (`agents=5`,
 * `stopping=Adaptive`): a builder's value by its kind alone, since its full label can be too long
 * for a folder's name.
 */
export const folderLabel = (v: SweepValue): string => (typeof v === "object" ? v._tag : String(v))

/**
 * Two values of one list axis with the same label would be one column of the report, or one deep
 * point's folder (`label`: folderLabel): refused.
 */
const duplicateLabels = (axes: ReadonlyArray<readonly [string, SweepAxis]>, label: (v: SweepValue) => string = axisLabel): Array<SpecIssue> =>
  axes.flatMap(([key, axis]) => {
    if (isRange(axis)) return []
    const first = new Map<string, number>()
    return axis.flatMap((v, i) => {
      const j = first.get(label(v))
      if (j === undefined) {
        first.set(label(v), i)
        return []
      }
      // Two builders' values of one kind (Assignment.random(1) and (2)) are not the same value.
      const message = axisLabel(v) === axisLabel(axis[j])
        ? `expected distinct values: the same as sweep.${key}[${j}]`
        : `expected a value of another kind than sweep.${key}[${j}] (both ${label(v)}): a deep sweep names a point's folder by ` +
          `the kind alone (points/${key}=${label(v)}); sweep a numeric field inside it instead (sweep: { "${key}.…": [...] })`
      return [{ path: `sweep.${key}[${i}]`, message, actual: axisLabel(v) }]
    })
  })

/**
 * Each range at its two ends, every other axis at its first value (a range at its lower end): a
 * value a field refuses is usually refused at an end, and is then named there, `sweep.agents.min`.
 */
const rangeEnds = (axes: ReadonlyArray<readonly [string, SweepAxis]>): Array<Candidate> => {
  const base = Object.fromEntries(axes.map(([k, a]) => [k, isRange(a) ? a.min : a[0]]))
  return axes.flatMap(([key, axis]) =>
    !isRange(axis) ? [] : (["min", "max"] as const).map((end) => ({
      values: { ...base, [key]: axis[end] },
      at: (k: string) => (k === key ? { path: `sweep.${key}.${end}`, note: "" } : !isRange(axes.find(([x]) => x === k)![1]) ? { path: `sweep.${k}[0]`, note: "" } : undefined)
    }))
  )
}

export interface ExpandOptions {
  /** `--sample K --sample-seed S`: draw K points from the ranges and lists instead of the grid. */
  readonly sample?: SampleOptions | undefined
  /**
   * Without a sample, check each range at its ends and return those points (`validate`), instead
   * of refusing a sweep that has a range (`sweep`, which needs --sample to run one).
   */
  readonly rangeEnds?: boolean
}

/**
 * Expands and checks every point: the grid of the axes' values, or with `sample` the points drawn.
 * Fails with every issue of every point, or succeeds with all the compiled points.
 */
export const expandSweep = (spec: Experiment, source: string, options: ExpandOptions = {}): Effect.Effect<ReadonlyArray<SweepPoint>, SpecError> =>
  Effect.gen(function*() {
    const axes = sweepAxes(spec)
    const fail = (issues: ReadonlyArray<SpecIssue>) => Effect.fail(new SpecError({ source, issues }))
    const duplicates = duplicateLabels(axes)
    if (duplicates.length > 0) return yield* fail(duplicates)
    const ranges = axes.filter(([, a]) => isRange(a)).map(([k]) => k)
    if (ranges.length > 0 && (options.sample !== undefined || options.rangeEnds === true)) {
      const ends = rangeEnds(axes)
      const atEnds = yield* checkCandidates(spec, source, ends, compiledAt(source))
      if (atEnds.issues.length > 0) return yield* fail(atEnds.issues)
      if (options.sample === undefined) return atEnds.checked.map((compiled, index) => ({ index, values: ends[index].values, compiled }))
    }
    if (options.sample === undefined) {
      if (ranges.length > 0) {
        return yield* fail(ranges.map((key) => ({
          path: `sweep.${key}`,
          message: "expected a list of values: a range (Sweep.range) is drawn from only by a random search; " +
            "run `distmt sweep --sample K` to draw K points, or give a list of values for a grid"
        })))
      }
      return yield* grow(spec, source, gridCandidates(axes as ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]>))
    }
    const drawn = drawPoints(axes, options.sample)
    if ("problem" in drawn) return yield* fail([{ path: "sweep", message: `expected room for --sample ${options.sample.count}: ${drawn.problem}` }])
    const candidates = drawn.points.map((values, i) => ({
      values,
      at: (key: string) => {
        const axis = axes.find(([k]) => k === key)![1]
        // A drawn value is named by its axis and the draw; a list value by its index, as in a grid.
        return isRange(axis)
          ? { path: `sweep.${key}`, note: ` (the value ${axisLabel(values[key])} drawn for sampled point ${i})` }
          : { path: `sweep.${key}[${axis.findIndex((v) => axisLabel(v) === axisLabel(values[key]))}]`, note: "" }
      }
    }))
    return yield* grow(spec, source, candidates)
  })

/** The checked candidates as points, in order; or every issue found. */
const grow = (spec: Experiment, source: string, candidates: ReadonlyArray<Candidate>) =>
  Effect.gen(function*() {
    const { checked, issues } = yield* checkCandidates(spec, source, candidates, compiledAt(source))
    if (issues.length > 0) return yield* Effect.fail(new SpecError({ source, issues }))
    return checked.map((c, index): SweepPoint => ({ index, values: candidates[index].values, compiled: c }))
  })

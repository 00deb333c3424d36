/**
 * What every analysis of a sweep's report shares: the sweep's data as observations (one finished
 * run with its point and numbers), how numbers and axis values are written, and the grouping of
 * points into series over seeds.
 */
import type { Algorithm } from "../../run/runExperiment.ts"
import type { Block } from "../document.ts"
import type { SeriesPoint } from "../plots.ts"
import { type Manifest, type ManifestPoint, type RunMetrics, runMetrics, type RunRecord } from "../sweepFiles.ts"
import { interval95, type Interval } from "../stats.ts"
import { axisLabel, isNumericAxis } from "../../spec/sweep.ts"

export interface SweepData {
  readonly dir: string
  readonly manifest: Manifest
  readonly records: ReadonlyMap<string, RunRecord>
}

/** One finished run with its point and numbers. */
export interface Observation {
  readonly point: ManifestPoint
  readonly algorithm: Algorithm
  readonly seed: number
  readonly m: RunMetrics
}

export interface Analysis {
  readonly blocks: ReadonlyArray<Block>
  readonly headline: ReadonlyArray<string>
}

export const NAMES: Record<Algorithm, string> = { distmt: "DistMT-LSVI", independent: "independent", oracle: "oracle" }

/** The acceptance band of docs/algorithm.md §7 E3 around the paper's slope of −1. */
export const SLOPE_BAND: readonly [number, number] = [-1.2, -0.8]

/** How many of the sweep's planned runs have finished: what every verdict of a partial sweep is over. */
export const runsDone = (d: SweepData): { readonly finished: number; readonly planned: number } => ({
  finished: d.manifest.units.filter((u) => d.records.has(u.key)).length,
  planned: d.manifest.units.length
})

export const observations = (d: SweepData): Array<Observation> =>
  d.manifest.units.flatMap((u) => {
    const rec = d.records.get(u.key)
    const point = d.manifest.points.find((p) => p.index === u.point)
    if (rec === undefined || point === undefined) return []
    return [{ point, algorithm: u.algorithm, seed: u.seed, m: runMetrics(rec.run, point.adaptive) }]
  })

// ─── formatting ───────────────────────────────────────────────────────────────────────────────────

/** A number for prose and tables: thousands separated, otherwise three significant digits; a true minus. */
export const fmt = (x: number | null | undefined, digits = 3): string => {
  if (x === null || x === undefined || Number.isNaN(x)) return "—"
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞"
  const s = Math.abs(x) >= 1000 ? Math.round(x).toLocaleString("en-US") : Number(x.toPrecision(digits)).toString()
  return s.replace(/^-/, "−")
}
export const fmtFixed = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d).replace(/^-/, "−") : "—")
export const fmtInterval = (i: Interval, d = 2) => (i.n < 2 ? fmtFixed(i.mean, d) : `${fmtFixed(i.mean, d)} (95% CI ${fmtFixed(i.lo, d)} to ${fmtFixed(i.hi, d)})`)
export const pct = (x: number) => `${(100 * x).toFixed(x === 0 || x === 1 ? 0 : 1)}%`

/** `oracle` is drawn dashed: it often coincides with DistMT-LSVI (same policies, same messages). */
export const styleOf = (a: Algorithm): "solid" | "dash" => (a === "oracle" ? "dash" : "solid")

/** The value of a numeric axis at a point (series against an axis are drawn only for numeric axes). */
export const axisValue = (p: ManifestPoint, axis: string): number => p.values[axis] as number

/** An axis value for a reader: a number as `fmt` writes it, a categorical value by its label (`random(2)`). */
export const valueLabel = (v: unknown): string => (typeof v === "number" ? fmt(v) : axisLabel(v))

/** A point's assignment by its label (`partition`, `stream`, `random(2)`), from its decoded spec. */
export const assignmentOf = (p: ManifestPoint): string => axisLabel((p.spec as { readonly assignment?: unknown }).assignment ?? { _tag: "Partition" })

/**
 * Whether a group of runs is in the regime where DistMT-LSVI's gain is arithmetic, not measured:
 * under `partition` with N ≤ M each task is met, hence learned, by exactly one agent
 * (docs/algorithm.md §4), so learning per agent is (Σ over tasks of one task's learning)/N.
 */
export const byArithmetic = (p: ManifestPoint): boolean => assignmentOf(p) === "partition" && p.agents <= p.tasks

/**
 * The manifest's numeric axes that take two values or more, in declared order: the ones a line
 * chart can put on its x axis (a single value would draw every line as one point).
 */
export const numericAxes = (manifest: Manifest): Array<string> =>
  manifest.axes.filter(([, v]) => isNumericAxis(v) && new Set(v).size >= 2).map(([k]) => k)

/** A swept field as part of a file name: `stopping.k1` → `stopping-k1`. */
export const axisFile = (axis: string): string => axis.replace(/[^A-Za-z0-9]+/g, "-")

/**
 * Whether the sweep's points form a grid: every combination of the axes' values, each once. The
 * analyses that draw a line per setting against an axis need one; sampled points (`--sample`) are
 * drawn as scatters instead (sampled.ts).
 */
export const isGrid = (manifest: Manifest): boolean => {
  const combinations = manifest.axes.reduce((n, [, values]) => n * values.length, 1)
  const distinct = new Set(manifest.points.map((p) => manifest.axes.map(([k]) => axisLabel(p.values[k])).join("\u0000")))
  return distinct.size === manifest.points.length && manifest.points.length === combinations
}

/** `k1 = 100`-style label of the axes other than `axis` (the series a plot against `axis` draws). */
export const otherLabel = (manifest: Manifest, p: ManifestPoint, axes: ReadonlyArray<string>): string =>
  manifest.axes
    .map(([k]) => k)
    .filter((k) => !axes.includes(k))
    .map((k) => `${shortAxis(k)} = ${valueLabel(p.values[k])}`)
    .join(", ")

/** How an axis is named for a reader. */
export const shortAxis = (k: string): string =>
  ({ agents: "N", "contexts.count": "M", cSep: "cSep", epsilon: "ε", delta: "δ", "stopping.k1": "K1", "stopping.k2": "K2", "contexts.spacing": "spacing" } as Record<string, string>)[k] ?? k

export const seriesPoint = (x: number, xs: ReadonlyArray<number>): SeriesPoint => {
  const i = interval95(xs)
  return { x, y: i.mean, lo: i.lo, hi: i.hi }
}

export const groupBy = <A>(xs: ReadonlyArray<A>, key: (a: A) => string): Map<string, Array<A>> => {
  const m = new Map<string, Array<A>>()
  for (const x of xs) {
    const k = key(x)
    const g = m.get(k)
    if (g === undefined) m.set(k, [x])
    else g.push(x)
  }
  return m
}

export const sortedUnique = (xs: ReadonlyArray<number>) => [...new Set(xs)].sort((a, b) => a - b)

/** A series of `metric` against the axis, one point per axis value, mean and interval over seeds. */
export const seriesOf = (
  obs: ReadonlyArray<Observation>,
  axis: string,
  metric: (m: RunMetrics) => number | null
): Array<SeriesPoint> =>
  sortedUnique(obs.map((o) => axisValue(o.point, axis))).flatMap((x) => {
    const ys = obs.filter((o) => axisValue(o.point, axis) === x).map((o) => metric(o.m)).filter((v): v is number => v !== null)
    return ys.length === 0 ? [] : [seriesPoint(x, ys)]
  })

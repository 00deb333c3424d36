/**
 * The report's plots: Vega-Lite specs compiled by `vega-lite` and rendered to SVG by `vega` in
 * Node, with no browser and no canvas (text widths are estimated, which is fine for labels).
 *
 * Two kinds of chart cover every plot of the report: a line chart (a series per algorithm or per
 * setting, 95% error bars over seeds, optional fitted and reference lines, log axes where the
 * claim is a power law; unconnected, a scatter of sampled points) and a grouped bar chart.
 *
 * What a reader must be able to see: a line chart's legend shows each series' dash pattern and
 * marker (legend.ts); series that coincide are named under the legend and in the caption, and the
 * markers of coinciding data series are drawn a few pixels apart (coincide.ts); titles wrap at the
 * chart's width, measured with the report font's metrics (textWidth.ts).
 */
import type * as vl from "vega-lite"
import { plot, type Block } from "./document.ts"
import { coincidenceNotes, coincidences, dodgeOffsets } from "./coincide.ts"
import { type LegendEntry, legendView } from "./legend.ts"
import { measure, useFontMetrics, wrapToWidth } from "./textWidth.ts"

/** One point of a series: the mean over seeds and its 95% interval. */
export interface SeriesPoint {
  readonly x: number
  readonly y: number
  readonly lo: number
  readonly hi: number
}

export interface Series {
  readonly name: string
  readonly points: ReadonlyArray<SeriesPoint>
  /** The line's dash; data series are solid unless told otherwise. */
  readonly style?: "solid" | "dash" | "dot"
  /** `line`: a fitted or reference line, drawn without points or error bars (default `data`). */
  readonly kind?: "data" | "line"
  /** A color; by default the next of the palette. */
  readonly color?: string | undefined
  /** false: markers only, no line through them (a scatter of points that are not a grid). Default true. */
  readonly connect?: boolean
}

export interface LineChart {
  readonly title: string
  readonly subtitle?: string
  readonly x: { readonly title: string; readonly log?: boolean; readonly domain?: readonly [number, number] }
  readonly y: { readonly title: string; readonly log?: boolean; readonly domain?: readonly [number, number]; readonly format?: string }
  readonly series: ReadonlyArray<Series>
  /** How lines join their points: straight (default), or as steps (an empirical distribution function). */
  readonly interpolate?: "linear" | "step-after"
  /**
   * Which series coincide, said by the caller: given, it replaces the point-by-point detection
   * (coincide.ts), which reads a step function's doubled x values wrongly.
   */
  readonly notes?: ReadonlyArray<string>
}

/** Colors of the algorithms, the same in every plot. */
export const ALGORITHM_COLORS: Readonly<Record<string, string>> = {
  distmt: "#1f5fa8",
  independent: "#d9711c",
  oracle: "#2e8b3d"
}

const PALETTE = ["#1f5fa8", "#d9711c", "#2e8b3d", "#b3312d", "#7a4fa3", "#8c6239", "#c2408f", "#5f6b73", "#a39b1f", "#1fa3a3"]

const DASH: Record<string, ReadonlyArray<number>> = { solid: [1, 0], dash: [7, 4], dot: [2, 3] }

/** Point shapes of data series in turn, so that series that coincide stay visible. */
const SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "circle", "square", "triangle-up", "diamond"]

const WIDTH = 520
const HEIGHT = 320

const baseConfig = {
  background: "white",
  font: "DejaVu Sans, Helvetica, Arial, sans-serif",
  title: { fontSize: 15, subtitleFontSize: 12, anchor: "start", subtitleColor: "#444" },
  axis: { labelFontSize: 12, titleFontSize: 13, gridColor: "#e6e6e6" },
  legend: { labelFontSize: 12, titleFontSize: 12, labelLimit: 520, orient: "bottom", direction: "vertical", columns: 1, symbolStrokeWidth: 2 },
  view: { stroke: "#bbb" }
}

/** The y axis' labels and title take about this much room left of the plot; a title may use it. */
const Y_AXIS_ROOM = 56

/** A title and subtitle wrapped at the chart's full width (the fonts' sizes are baseConfig's). */
const titleOf = (title: string, subtitle: string | undefined, width: number) => {
  const text = wrapToWidth(title, width + Y_AXIS_ROOM, 15, true)
  return subtitle === undefined ? { text } : { text, subtitle: wrapToWidth(subtitle, width + Y_AXIS_ROOM, 12) }
}

/** Renders a Vega-Lite spec to an SVG string. Vega is loaded on first use: `distmt run` never needs it. */
export const renderSvg = async (spec: Record<string, unknown>): Promise<string> => {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")])
  // vega's typings leave out the textMetrics it exports (from vega-scenegraph): see textWidth.ts.
  useFontMetrics(vega as unknown as Parameters<typeof useFontMetrics>[0])
  const compiled = vegaLite.compile(spec as unknown as vl.TopLevelSpec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: "none" })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/**
 * Tick values for a log axis: 1, 2, 5 × powers of ten within the range (Vega's own log ticks
 * crowd), or finer steps when the range spans less than a decade or so.
 */
const logTicks = (lo: number, hi: number): Array<number> => {
  const at = (mantissas: ReadonlyArray<number>) => {
    const out: Array<number> = []
    for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)) + 1; e++) {
      for (const m of mantissas) {
        const v = Number((m * 10 ** e).toPrecision(6))
        if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v)
      }
    }
    return out
  }
  const coarse = at([1, 2, 5])
  if (coarse.length >= 4) return coarse
  const finer = at([1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9])
  return finer.length <= 12 ? finer : at([1, 2, 3, 5, 7])
}

/** A series' points that can be drawn on the chart's axes (finite, and positive on a log axis). */
const drawable = (c: LineChart, s: Series): Array<SeriesPoint> =>
  s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && !(c.x.log === true && p.x <= 0) && !(c.y.log === true && p.y <= 0))

/** The groups of series that coincide in a chart, with a sentence each (coincide.ts). */
export const lineChartNotes = (c: LineChart): Array<string> => {
  if (c.notes !== undefined) return [...c.notes]
  const drawn = c.series.map((s) => ({ name: s.name, data: (s.kind ?? "data") === "data", points: drawable(c, s) }))
  const groups = coincidences(drawn, c.y.log === true)
  return coincidenceNotes(groups, c.x.title, dodgeOffsets(drawn, groups))
}

/**
 * The x range markers are moved within: the chart's own domain, or the data's range; a single x
 * value gets a range around it (a factor 2 on a log axis, ±1 otherwise) so that a move is a few pixels.
 */
const xRange = (c: LineChart, xs: ReadonlyArray<number>): readonly [number, number] => {
  if (c.x.domain !== undefined) return c.x.domain
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)]
  if (lo < hi) return [lo, hi]
  return c.x.log === true ? [lo / 2, lo * 2] : [lo - 1, lo + 1]
}

/** Moves x by `px` pixels on an x scale over [lo, hi] (padded by 12 px each side): a coinciding series' markers. */
const shiftX = (x: number, px: number, [lo, hi]: readonly [number, number], log: boolean): number => {
  if (px === 0) return x
  const plot = WIDTH - 24
  return log ? x * (hi / lo) ** (px / plot) : x + (px / plot) * (hi - lo)
}

/** The Vega-Lite spec of a line chart (exported for tests): the plot, and under it its legend with notes. */
export const lineChartSpec = (c: LineChart): Record<string, unknown> => {
  const drawn = c.series.map((s) => ({ name: s.name, data: (s.kind ?? "data") === "data", points: drawable(c, s) }))
  const groups = c.notes === undefined ? coincidences(drawn, c.y.log === true) : []
  const offsets = dodgeOffsets(drawn, groups)
  const notes = c.notes ?? coincidenceNotes(groups, c.x.title, offsets)
  const trueXs = drawn.flatMap((s) => s.points.map((p) => p.x))
  const range = xRange(c, trueXs)
  const rows: Array<Record<string, unknown>> = []
  const entries: Array<LegendEntry> = []
  let next = 0
  let shapes = 0
  for (const [i, s] of c.series.entries()) {
    const color = s.color ?? PALETTE[next++ % PALETTE.length]
    const data = drawn[i].data
    entries.push({ name: s.name, color, dash: DASH[s.style ?? "solid"], shape: data ? SHAPES[shapes++ % SHAPES.length] : undefined, line: s.connect ?? true })
    const px = offsets.get(s.name) ?? 0
    for (const p of drawn[i].points) {
      // On a log axis an interval reaching 0 or below is cut at a tenth of the mean.
      const lo = c.y.log === true ? Math.max(p.lo, p.y / 10) : p.lo
      const x = shiftX(p.x, px, range, c.x.log === true)
      rows.push({ series: s.name, x, y: p.y, lo, hi: p.hi, data, connect: s.connect ?? true, bars: data && p.hi > lo })
    }
  }
  const ys = rows.flatMap((r) => (r.bars ? [r.lo as number, r.hi as number, r.y as number] : [r.y as number])).filter((v) => Number.isFinite(v))
  const xScale: Record<string, unknown> = c.x.log === true ? { type: "log", nice: false, padding: 12 } : { zero: false, nice: true, padding: 12 }
  const yScale: Record<string, unknown> = c.y.log === true ? { type: "log", nice: false } : { zero: false, nice: true }
  if (c.x.domain !== undefined) Object.assign(xScale, { domain: c.x.domain, nice: false, padding: 0 })
  // Moved markers must not widen the axis: it keeps the range the moves were measured on.
  else if (offsets.size > 0) Object.assign(xScale, { domain: range, nice: false })
  if (c.y.domain !== undefined) {
    yScale.domain = c.y.domain
    yScale.nice = false
  }
  else if (c.y.log === true && ys.length > 0) yScale.domain = [Math.min(...ys.filter((v) => v > 0)) / 1.3, Math.max(...ys) * 1.3]
  const xAxis: Record<string, unknown> = { title: c.x.title }
  // Ticks at the data's own x values when the series share a few (N = 1, 2, 5, …); round ticks for a
  // scatter or a distribution, whose x values are wherever the points fell.
  const scattered = c.x.domain !== undefined || c.series.some((s) => s.connect === false)
  if (c.x.log === true && trueXs.length > 0) {
    const distinct = [...new Set(trueXs)].sort((a, b) => a - b)
    const [lo, hi] = c.x.domain ?? [distinct[0], distinct[distinct.length - 1]]
    xAxis.values = !scattered && distinct.length <= 12 ? distinct : logTicks(lo, hi)
    xAxis.format = "~g"
  } else if (trueXs.length > 0 && trueXs.every(Number.isInteger)) {
    // Whole-number axes (N, M, K1) get whole-number ticks.
    Object.assign(xAxis, { tickMinStep: 1, format: "d" })
  }
  const yAxis: Record<string, unknown> = { title: c.y.title, format: c.y.format ?? "~s" }
  if (c.y.log === true && yScale.domain !== undefined) {
    const [lo, hi] = yScale.domain as [number, number]
    yAxis.values = logTicks(lo, hi)
  }
  const names = entries.map((e) => e.name)
  const bySeries = (range: ReadonlyArray<unknown>) => ({ field: "series", type: "nominal", scale: { domain: names, range }, legend: null })
  const x = { field: "x", type: "quantitative", scale: xScale, axis: xAxis }
  const y = { field: "y", type: "quantitative", scale: yScale, axis: yAxis }
  const color = bySeries(entries.map((e) => e.color))
  const shape = bySeries(entries.map((e) => e.shape ?? "circle"))
  const strokeDash = bySeries(entries.map((e) => e.dash))
  const bars = { filter: "datum.bars" }
  const plotView = {
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: "datum.connect" }],
        mark: { type: "line", strokeWidth: 2, clip: true, interpolate: c.interpolate ?? "linear" },
        encoding: { x, y, color, strokeDash, detail: { field: "series" } }
      },
      { transform: [{ filter: "datum.data" }], mark: { type: "point", filled: true, size: 50, opacity: 0.9, clip: true }, encoding: { x, y, color, shape } },
      {
        transform: [bars],
        mark: { type: "rule", strokeWidth: 1.5, clip: true },
        encoding: { x, y: { field: "lo", type: "quantitative", scale: yScale }, y2: { field: "hi" }, color }
      },
      {
        transform: [bars],
        mark: { type: "tick", orient: "horizontal", size: 10, thickness: 1.5, clip: true },
        encoding: { x, y: { field: "lo", type: "quantitative", scale: yScale }, color }
      },
      {
        transform: [bars],
        mark: { type: "tick", orient: "horizontal", size: 10, thickness: 1.5, clip: true },
        encoding: { x, y: { field: "hi", type: "quantitative", scale: yScale }, color }
      }
    ]
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: titleOf(c.title, c.subtitle, WIDTH),
    config: baseConfig,
    spacing: 14,
    vconcat: [plotView, legendView(entries, notes, WIDTH)]
  }
}

export interface Bar {
  /** The group on the x axis (e.g. "N = 5"). */
  readonly group: string
  /** The bar within the group (e.g. the algorithm). */
  readonly name: string
  readonly y: number
  readonly lo: number
  readonly hi: number
  readonly color?: string | undefined
}

export interface BarChart {
  readonly title: string
  readonly subtitle?: string
  readonly x: { readonly title: string }
  /** `log`: a log scale, for quantities that differ by orders of magnitude (bars then start at the axis' floor). */
  readonly y: { readonly title: string; readonly domain?: readonly [number, number]; readonly log?: boolean }
  readonly bars: ReadonlyArray<Bar>
}

/** The Vega-Lite spec of a grouped bar chart with error bars. */
export const barChartSpec = (c: BarChart): Record<string, unknown> => {
  const names = [...new Set(c.bars.map((b) => b.name))]
  const groups = [...new Set(c.bars.map((b) => b.group))]
  const colors = names.map((n, i) => c.bars.find((b) => b.name === n)?.color ?? PALETTE[i % PALETTE.length])
  const y = {
    field: "y",
    type: "quantitative",
    scale: c.y.log === true ? { type: "log" } : c.y.domain === undefined ? { zero: true } : { domain: c.y.domain },
    axis: { title: c.y.title, format: "~s" },
    // Side by side, not stacked: a stack starts at 0, which a log scale cannot hold (the chart came out empty).
    stack: null
  }
  const width = Math.max(WIDTH, groups.length * names.length * 16)
  // A group's label is never cut short: one wider than its group goes on a line per setting ("N = 6").
  const room = width / Math.max(groups.length, 1) - 8
  const split = groups.length <= 6 && groups.some((g) => measure(g, 12) > room)
  const xAxis = {
    title: c.x.title,
    labelAngle: groups.length > 6 ? -40 : 0,
    labelLimit: groups.length > 6 ? 400 : room,
    ...(split ? { labelExpr: "split(datum.label, ', ')" } : {})
  }
  const x = { field: "group", type: "nominal", sort: groups, axis: xAxis }
  const xOffset = { field: "name", type: "nominal", sort: names }
  const color = { field: "name", type: "nominal", scale: { domain: names, range: colors }, legend: { title: null } }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width,
    height: HEIGHT,
    title: titleOf(c.title, c.subtitle, width),
    config: baseConfig,
    // On a log scale a 0 would leave the whole chart empty: such a bar is left out, and an interval
    // reaching 0 or below is cut at a tenth of the mean, as in a line chart.
    data: {
      values: c.bars
        .filter((b) => c.y.log !== true || b.y > 0)
        .map((b) => {
          const lo = c.y.log === true ? Math.max(b.lo, b.y / 10) : b.lo
          return { ...b, lo, bars: b.hi > lo }
        })
    },
    layer: [
      { mark: { type: "bar" }, encoding: { x, xOffset, y, color } },
      {
        transform: [{ filter: "datum.bars" }],
        mark: { type: "rule", strokeWidth: 1.5, color: "#222" },
        encoding: { x, xOffset, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } }
      }
    ]
  }
}

export const lineChartSvg = (c: LineChart) => renderSvg(lineChartSpec(c))
export const barChartSvg = (c: BarChart) => renderSvg(barChartSpec(c))

/** A line chart as a report figure: its caption names the series that coincide, as its legend does. */
export const linePlot = async (file: string, caption: string, c: LineChart): Promise<Block> => {
  const notes = lineChartNotes(c)
  return plot(file, caption, await lineChartSvg(c), notes.length === 0 ? undefined : `${notes.map((n) => n.charAt(0).toUpperCase() + n.slice(1)).join(". ")}.`)
}

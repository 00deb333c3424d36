/**
 * The report's plots: Vega-Lite specs compiled by `vega-lite` and rendered to SVG by `vega` in
 * Node, with no browser and no canvas (text widths are estimated, which is fine for labels).
 *
 * Two kinds of chart cover every plot of the report: a line chart (a series per algorithm or per
 * setting, 95% error bars over seeds, optional fitted and reference lines, log axes where the
 * claim is a power law) and a grouped bar chart (success rates).
 */
import type * as vl from "vega-lite"

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
}

export interface LineChart {
  readonly title: string
  readonly subtitle?: string
  readonly x: { readonly title: string; readonly log?: boolean }
  readonly y: { readonly title: string; readonly log?: boolean; readonly domain?: readonly [number, number]; readonly format?: string }
  readonly series: ReadonlyArray<Series>
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

/**
 * Splits text into lines of at most `width` characters. Without a canvas Vega estimates text
 * widths generously, so a long title or subtitle on one line would widen the whole SVG.
 */
export const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  if (line !== "") lines.push(line)
  return lines
}

const titleOf = (title: string, subtitle: string | undefined) =>
  subtitle === undefined ? { text: wrap(title, 44) } : { text: wrap(title, 44), subtitle: wrap(subtitle, 58) }

/** Renders a Vega-Lite spec to an SVG string. Vega is loaded on first use: `distmt run` never needs it. */
export const renderSvg = async (spec: Record<string, unknown>): Promise<string> => {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")])
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

/** Pairs of data series that lie on top of each other (every point within 1%), so the reader is told. */
const coinciding = (series: ReadonlyArray<Series>): Array<string> => {
  const data = series.filter((s) => (s.kind ?? "data") === "data" && s.points.length > 0)
  const out: Array<string> = []
  const hidden = new Set<string>()
  for (let i = 0; i < data.length; i++) {
    for (let j = i + 1; j < data.length; j++) {
      const a = data[i].points
      const b = data[j].points
      if (hidden.has(data[j].name) || a.length !== b.length) continue
      const same = a.every((p, k) => p.x === b[k].x && Math.abs(p.y - b[k].y) <= 0.01 * Math.max(Math.abs(p.y), Math.abs(b[k].y), 1e-12))
      if (same) {
        out.push(`${data[i].name} and ${data[j].name} coincide`)
        hidden.add(data[j].name)
      }
    }
  }
  return out
}

/** The Vega-Lite spec of a line chart (exported for tests). */
export const lineChartSpec = (c: LineChart): Record<string, unknown> => {
  const rows: Array<Record<string, unknown>> = []
  const colors: Array<string> = []
  const names: Array<string> = []
  let next = 0
  const shapes: Array<string> = []
  for (const s of c.series) {
    const color = s.color ?? PALETTE[next++ % PALETTE.length]
    const data = (s.kind ?? "data") === "data"
    names.push(s.name)
    colors.push(color)
    shapes.push(data ? SHAPES[(shapes.length) % SHAPES.length] : "stroke")
    for (const p of s.points) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue
      if (c.x.log === true && p.x <= 0) continue
      if (c.y.log === true && p.y <= 0) continue
      // On a log axis an interval reaching 0 or below is cut at a tenth of the mean.
      const lo = c.y.log === true ? Math.max(p.lo, p.y / 10) : p.lo
      rows.push({ series: s.name, x: p.x, y: p.y, lo, hi: p.hi, style: s.style ?? "solid", data, bars: data && p.hi > lo })
    }
  }
  const xs = rows.map((r) => r.x as number)
  const ys = rows.flatMap((r) => (r.bars ? [r.lo as number, r.hi as number, r.y as number] : [r.y as number])).filter((v) => Number.isFinite(v))
  const xScale: Record<string, unknown> = c.x.log === true ? { type: "log", nice: false, padding: 12 } : { zero: false, nice: true, padding: 12 }
  const yScale: Record<string, unknown> = c.y.log === true ? { type: "log", nice: false } : { zero: false, nice: true }
  if (c.y.domain !== undefined) {
    yScale.domain = c.y.domain
    yScale.nice = false
  }
  else if (c.y.log === true && ys.length > 0) yScale.domain = [Math.min(...ys.filter((v) => v > 0)) / 1.3, Math.max(...ys) * 1.3]
  const xAxis: Record<string, unknown> = { title: c.x.title }
  if (c.x.log === true && xs.length > 0) {
    const distinct = [...new Set(xs)].sort((a, b) => a - b)
    xAxis.values = distinct.length <= 12 ? distinct : logTicks(distinct[0], distinct[distinct.length - 1])
    xAxis.format = "~g"
  }
  const yAxis: Record<string, unknown> = { title: c.y.title, format: c.y.format ?? "~s" }
  if (c.y.log === true && yScale.domain !== undefined) {
    const [lo, hi] = yScale.domain as [number, number]
    yAxis.values = logTicks(lo, hi)
  }
  const x = { field: "x", type: "quantitative", scale: xScale, axis: xAxis }
  const y = { field: "y", type: "quantitative", scale: yScale, axis: yAxis }
  const color = { field: "series", type: "nominal", scale: { domain: names, range: colors }, legend: { title: null } }
  const shape = { field: "series", type: "nominal", scale: { domain: names, range: shapes }, legend: { title: null } }
  const strokeDash = {
    field: "style",
    type: "nominal",
    scale: { domain: Object.keys(DASH), range: Object.values(DASH) },
    legend: null
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: WIDTH,
    height: HEIGHT,
    title: titleOf(c.title, [c.subtitle, ...coinciding(c.series)].filter((t) => t !== undefined).join("; ") || undefined),
    config: baseConfig,
    data: { values: rows },
    layer: [
      { mark: { type: "line", strokeWidth: 2, clip: true }, encoding: { x, y, color, strokeDash, detail: { field: "series" } } },
      {
        transform: [{ filter: "datum.data" }],
        mark: { type: "point", filled: true, size: 50, opacity: 0.9, clip: true },
        encoding: { x, y, color, shape }
      },
      {
        transform: [{ filter: "datum.bars" }],
        mark: { type: "rule", strokeWidth: 1.5, clip: true },
        encoding: { x, y: { field: "lo", type: "quantitative", scale: yScale }, y2: { field: "hi" }, color }
      },
      {
        transform: [{ filter: "datum.bars" }],
        mark: { type: "tick", orient: "horizontal", size: 10, thickness: 1.5, clip: true },
        encoding: { x, y: { field: "lo", type: "quantitative", scale: yScale }, color }
      },
      {
        transform: [{ filter: "datum.bars" }],
        mark: { type: "tick", orient: "horizontal", size: 10, thickness: 1.5, clip: true },
        encoding: { x, y: { field: "hi", type: "quantitative", scale: yScale }, color }
      }
    ]
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
    axis: { title: c.y.title }
  }
  const x = { field: "group", type: "nominal", sort: groups, axis: { title: c.x.title, labelAngle: groups.length > 6 ? -40 : 0 } }
  const xOffset = { field: "name", type: "nominal", sort: names }
  const color = { field: "name", type: "nominal", scale: { domain: names, range: colors }, legend: { title: null } }
  const width = Math.max(WIDTH, groups.length * names.length * 16)
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width,
    height: HEIGHT,
    title: titleOf(c.title, c.subtitle),
    config: baseConfig,
    data: { values: c.bars.map((b) => ({ ...b, bars: b.hi > b.lo })) },
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

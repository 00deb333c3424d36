/**
 * Learning curves on paper: curves.csv (one row per sampled episode of every algorithm, seed,
 * agent and instance; src/run/curves.ts) and the picture an LSVI-UCB user looks at first, the
 * certificate's width and the exact gap against episodes per agent, one line per algorithm, with
 * the ε and c_Sep/2 levels marked (docs/algorithm.md §2, §3).
 *
 * An agent's curve runs over its instances one after another, so its width climbs back to H when it
 * opens a new instance: the saw-tooth is the cost of each task. A line is the median over the
 * (seed, agent) curves still running at that many episodes, the band their interquartile range.
 */
import type { CurvePoint } from "../run/curves.ts"
import type { Algorithm, AlgorithmRun } from "../run/runExperiment.ts"
import { ALGORITHM_COLORS, renderSvg } from "./plots.ts"
import { wrapToWidth } from "./textWidth.ts"

const COLUMNS = "algorithm,seed,agent,slot,task,episode,agent_episode,phase,cert_lower,cert_upper,cert_width,gap"

/** curves.csv: every run's curve points, in run order. */
export const curvesCsv = (runs: ReadonlyArray<AlgorithmRun>): string =>
  [
    COLUMNS,
    ...runs.flatMap((r) =>
      r.curve.map((p) =>
        [r.algorithm, r.seed, p.agent, p.slot, p.task, p.episode, p.agentEpisode, p.phase, p.lower, p.upper, p.width, p.gap].join(",")
      )
    )
  ].join("\n") + "\n"

/** A curve point with the run it belongs to. */
export interface RunCurvePoint extends CurvePoint {
  readonly algorithm: Algorithm
  readonly seed: number
}

/** Reads curves.csv; a message naming the line when it is not such a file. */
export const parseCurvesCsv = (text: string): Array<RunCurvePoint> | string => {
  const lines = text.split("\n").filter((l) => l !== "")
  if (lines[0] !== COLUMNS) return `expected the header "${COLUMNS}" on line 1`
  const out: Array<RunCurvePoint> = []
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].split(",")
    const n = f.map(Number)
    if (f.length !== 12 || (f[7] !== "identify" && f[7] !== "learn") || [1, 2, 3, 4, 5, 6].some((j) => !Number.isFinite(n[j]))) {
      return `line ${i + 1} is not a curve point: ${JSON.stringify(lines[i].slice(0, 80))}`
    }
    out.push({
      algorithm: f[0] as Algorithm,
      seed: n[1],
      agent: n[2],
      slot: n[3],
      task: n[4],
      episode: n[5],
      agentEpisode: n[6],
      phase: f[7],
      lower: n[8],
      upper: n[9],
      width: n[10],
      gap: n[11]
    })
  }
  return out
}

/** One line of the plot: a quantile band at each x of a log grid. */
export interface CurveBand {
  readonly algorithm: string
  readonly points: ReadonlyArray<{ readonly x: number; readonly median: number; readonly lo: number; readonly hi: number; readonly running: number }>
}

/** The q-quantile of sorted values, interpolated linearly (the plots' bands). */
export const quantile = (sorted: ReadonlyArray<number>, q: number): number => {
  const i = (sorted.length - 1) * q
  const lo = Math.floor(i)
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (i - lo)
}

/** Grid points per decade of episodes. */
const GRID_PER_DECADE = 12

/**
 * For each algorithm, the median and quartiles of `value` over the (seed, agent) curves at
 * log-spaced episodes per agent: a curve's value at x is that of its last point at or before x, and
 * a curve counts only up to its own last episode (an agent that finished stops counting).
 */
export const curveBands = (points: ReadonlyArray<RunCurvePoint>, value: (p: CurvePoint) => number): Array<CurveBand> => {
  const byAlgorithm = new Map<string, Map<string, Array<RunCurvePoint>>>()
  for (const p of points) {
    const series = byAlgorithm.get(p.algorithm) ?? new Map<string, Array<RunCurvePoint>>()
    byAlgorithm.set(p.algorithm, series)
    const key = `${p.seed}/${p.agent}`
    const curve = series.get(key)
    if (curve === undefined) series.set(key, [p])
    else curve.push(p)
  }
  return [...byAlgorithm].map(([algorithm, series]) => {
    const curves = [...series.values()].map((ps) => ps.filter((p) => Number.isFinite(value(p))).sort((a, b) => a.agentEpisode - b.agentEpisode))
    const last = Math.max(1, ...curves.map((ps) => ps.at(-1)?.agentEpisode ?? 0))
    // The same x for every algorithm, so that lines compare point by point.
    const steps = Math.ceil(GRID_PER_DECADE * Math.log10(last))
    const grid = [...new Set(Array.from({ length: steps + 1 }, (_, j) => Math.min(last, Math.round(10 ** (j / GRID_PER_DECADE)))))]
    const bands = grid.flatMap((x) => {
      const values: Array<number> = []
      for (const ps of curves) {
        if (ps.length === 0 || ps.at(-1)!.agentEpisode < x) continue
        let at: RunCurvePoint | undefined
        for (const p of ps) if (p.agentEpisode <= x) at = p
        if (at !== undefined) values.push(value(at))
      }
      if (values.length === 0) return []
      values.sort((a, b) => a - b)
      return [{ x, median: quantile(values, 0.5), lo: quantile(values, 0.25), hi: quantile(values, 0.75), running: values.length }]
    })
    return { algorithm, points: bands }
  })
}

/** Dash per algorithm, so that a line under another still shows, and the legend says which is which. */
const DASHES: Readonly<Record<string, ReadonlyArray<number>>> = { distmt: [1, 0], independent: [8, 4], oracle: [2, 3] }

/**
 * Lines that lie on top of another over the whole range they share, named so that a reader knows
 * why one is not seen: oracle's curve is DistMT's until DistMT's agents stop, since both run the
 * same learner on the same instance streams.
 */
export const coinciding = (bands: ReadonlyArray<CurveBand>): Array<string> => {
  const out: Array<string> = []
  bands.forEach((b, j) => {
    const under = bands.slice(0, j).find((a) => {
      const at = new Map(a.points.map((p) => [p.x, p.median]))
      const shared = b.points.filter((p) => at.has(p.x))
      return shared.length > 1 && shared.every((p) => Math.abs(at.get(p.x)! - p.median) <= 1e-12 * Math.max(1, Math.abs(p.median)))
    })
    if (under !== undefined) out.push(`${b.algorithm}'s line lies on ${under.algorithm}'s where both run`)
  })
  return out
}

/** A horizontal reference level with its label. */
export interface Level {
  readonly y: number
  readonly label: string
}

/**
 * The Vega-Lite spec of one curve plot, one line per algorithm with its interquartile band, and its
 * reference levels: the linear stage's width and gap against episodes per agent (log x), and the
 * deep stage's return against frames per agent (src/deep/distmt/plot.ts).
 */
export const curveChartSpec = (
  title: string,
  subtitle: string,
  yTitle: string,
  bands: ReadonlyArray<CurveBand>,
  levels: ReadonlyArray<Level>,
  yScale: Record<string, unknown>,
  /** Where the levels' labels go: the side where the curves are far from the levels, so no label hides a line. */
  labelAt: "left" | "right",
  xAxis: { readonly title: string; readonly log: boolean } = { title: "episodes per agent", log: true }
): Record<string, unknown> => {
  const names = bands.map((b) => b.algorithm)
  const data = bands.flatMap((b) => b.points.map((p) => ({ algorithm: b.algorithm, ...p })))
  const color = { field: "algorithm", type: "nominal", title: "algorithm", scale: { domain: names, range: names.map((n) => ALGORITHM_COLORS[n] ?? "#555") } }
  const dash = { field: "algorithm", type: "nominal", title: "algorithm", scale: { domain: names, range: names.map((n) => DASHES[n] ?? [1, 0]) } }
  const last = Math.max(1, ...data.map((p) => p.x))
  const x = { field: "x", type: "quantitative", title: xAxis.title, ...(xAxis.log ? { scale: { type: "log", domain: [1, last], nice: false } } : {}) }
  const hidden = coinciding(bands)
  const note = hidden.length === 0 ? "" : `; ${hidden.join("; ")}`
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    // Wrapped at the chart's width with the axis' room on its left, in the report's font (textWidth.ts).
    title: {
      text: wrapToWidth(title, 576, 15, true),
      subtitle: wrapToWidth(`${subtitle}${note}; line: median over the agents and seeds still running, band: their interquartile range`, 576, 12),
      fontSize: 15,
      subtitleFontSize: 12,
      anchor: "start"
    },
    width: 520,
    height: 300,
    background: "white",
    config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", legend: { orient: "bottom", symbolType: "stroke", symbolOpacity: 1, symbolStrokeWidth: 2.5, symbolSize: 400 } },
    layer: [
      { data: { values: data }, mark: { type: "area", opacity: 0.15 }, encoding: { x, y: { field: "lo", type: "quantitative", scale: yScale, title: yTitle }, y2: { field: "hi" }, color } },
      { data: { values: data }, mark: { type: "line", strokeWidth: 2 }, encoding: { x, y: { field: "median", type: "quantitative" }, color, strokeDash: dash } },
      {
        data: { values: levels },
        layer: [
          { mark: { type: "rule", color: "#777", strokeDash: [4, 4] }, encoding: { y: { field: "y", type: "quantitative" } } },
          { mark: { type: "text", align: labelAt, dy: -6, color: "#444" }, encoding: { y: { field: "y", type: "quantitative" }, x: { value: labelAt === "left" ? 6 : 514 }, text: { field: "label" } } }
        ]
      }
    ]
  }
}

/**
 * The two plots of a set of curves, as SVG: the certificate's width and the exact gap, for a run
 * (`distmt plot`) or a sweep point (the report). `title` names each plot; `number` writes the levels.
 */
export const curvePlots = async (
  title: (what: "certificate width" | "exact gap") => string,
  points: ReadonlyArray<RunCurvePoint>,
  epsilon: number,
  cSep: number,
  number: (x: number) => string = String
): Promise<{ readonly width: string; readonly gap: string }> => {
  const width = await renderSvg(curveChartSpec(
    title("certificate width"),
    "V̄₁(s0) − V̲₁(s0) of the instance the agent is learning",
    "certificate width (log)",
    curveBands(points, (p) => (p.width > 0 ? p.width : Number.NaN)),
    [{ y: epsilon, label: `ε = ${number(epsilon)}` }, { y: cSep / 2, label: `c_Sep/2 = ${number(cSep / 2)}` }],
    { type: "log" },
    "left"
  ))
  const gap = await renderSvg(curveChartSpec(
    title("exact gap"),
    "V*(s0) − V^π(s0) of the greedy policy on the instance the agent is learning",
    "exact gap",
    curveBands(points, (p) => Math.max(0, p.gap)),
    [{ y: epsilon, label: `ε = ${number(epsilon)}` }],
    { type: "linear" },
    "right"
  ))
  return { width, gap }
}

/**
 * A sweep whose points are not a grid, such as a random search (`distmt sweep --sample K`): no two
 * points differ in one axis only, so a line along an axis would join unrelated settings, and the
 * grid analyses (slopes against N, thresholds against cSep) do not apply. Episodes per agent are
 * drawn against each numeric axis as a scatter instead: one marker per point and algorithm, the
 * mean over seeds with its 95% interval, while the other axes vary from marker to marker; and, for
 * a categorical axis, the mean over the points that drew each value.
 */
import type { Algorithm } from "../../run/runExperiment.ts"
import { describeAxis, isNumericAxis } from "../../spec/sweep.ts"
import { isRange } from "../../spec/sweepSample.ts"
import { type Block, heading, paragraph, plot } from "../document.ts"
import { ALGORITHM_COLORS, type Bar, barChartSvg, linePlot, type Series, type SeriesPoint } from "../plots.ts"
import { interval95, mean } from "../stats.ts"
import { type Analysis, axisFile, fmt, groupBy, isGrid, NAMES, type Observation, styleOf, type SweepData, valueLabel } from "./common.ts"

/** One marker per point: the mean of `metric` over the point's seeds, at the point's value of `axis`. */
const perPoint = (obs: ReadonlyArray<Observation>, axis: string): Array<SeriesPoint> =>
  [...groupBy(obs, (o) => String(o.point.index)).values()].map((g) => {
    const i = interval95(g.map((o) => o.m.meanEpisodesPerAgent))
    return { x: g[0].point.values[axis] as number, y: i.mean, lo: Math.max(i.lo, 0), hi: i.hi }
  })

/**
 * The x axis of a scatter against `axis`: log where the range was drawn on a log scale, or where
 * positive values span more than a decade; a range's axis spans the whole range, a little wider so
 * that a marker at an end shows whole.
 */
const xAxisOf = (d: SweepData, axis: string, xs: ReadonlyArray<number>): { readonly log: boolean; readonly domain?: readonly [number, number] } => {
  const declared = d.manifest.sample?.axes.find(([k]) => k === axis)?.[1]
  if (declared === undefined || !isRange(declared)) return { log: xs.every((x) => x > 0) && Math.max(...xs) >= 10 * Math.min(...xs) }
  if (declared.scale === "log") return { log: true, domain: [declared.min / 1.05, declared.max * 1.05] }
  const margin = 0.03 * (declared.max - declared.min)
  return { log: false, domain: [declared.min - margin, declared.max + margin] }
}

export const sampledAnalysis = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  if (isGrid(d.manifest) || obs.length === 0) return undefined
  const m = d.manifest
  const blocks: Array<Block> = [heading(2, "Episodes per agent at the sampled points")]
  const declared = m.sample?.axes ?? m.axes
  const algorithms = m.algorithms.filter((a) => obs.some((o) => o.algorithm === a))
  const extremes = algorithms.map((alg) => {
    const points = [...groupBy(obs.filter((o) => o.algorithm === alg), (o) => String(o.point.index)).values()]
      .map((g) => ({ label: g[0].point.values, y: mean(g.map((o) => o.m.meanEpisodesPerAgent)) }))
      .sort((a, b) => a.y - b.y)
    const where = (v: Readonly<Record<string, unknown>>) => Object.entries(v).map(([k, x]) => `${k} = ${valueLabel(x)}`).join(", ")
    return `${NAMES[alg]} from ${fmt(points[0].y)} (at ${where(points[0].label)}) to ${fmt(points[points.length - 1].y)} (at ${where(points[points.length - 1].label)})`
  })
  blocks.push(
    paragraph(
      `**Sampled points.** ${m.sample === undefined
        ? `The sweep's ${m.points.length} points do not form a grid.`
        : `The sweep drew ${m.sample.count} points at random (\`--sample ${m.sample.count} --sample-seed ${m.sample.seed}\`) from ${declared.map(([k, a]) => `\`${describeAxis(k, a)}\``).join(", ")}.`} ` +
        `No two points differ in one axis alone, so each plot below puts every point at its value of one axis, whatever the others; ` +
        `read a trend along an axis only where it holds across the other axes' values. Measured: episodes per agent, mean over seeds, ` +
        `${extremes.join("; ")}. The table at the end lists every point.`
    )
  )
  for (const [axis, values] of m.axes) {
    if (!isNumericAxis(values)) {
      blocks.push(await byValue(d, obs, axis, algorithms))
      continue
    }
    const series: Array<Series> = algorithms.map((alg: Algorithm) => ({
      name: NAMES[alg],
      color: ALGORITHM_COLORS[alg],
      style: styleOf(alg),
      connect: false,
      points: perPoint(obs.filter((o) => o.algorithm === alg), axis)
    }))
    const xs = series.flatMap((s) => s.points.map((p) => p.x))
    blocks.push(await linePlot(`plots/sampled-episodes-vs-${axisFile(axis)}.svg`, `Episodes per agent against ${axis} at the sampled points`, {
      title: `Episodes per agent against ${axis}, sampled points`,
      subtitle: "one marker per point and algorithm: mean over seeds, 95% error bars; the other axes vary from point to point",
      x: { title: axis, ...xAxisOf(d, axis, xs) },
      y: { title: "episodes per agent", log: true },
      series
    }))
  }
  return { blocks, headline: [`${m.points.length} sampled points: episodes per agent ${extremes.join("; ")}`] }
}

/** Episodes per agent for each value of a categorical axis, over the points that drew it. */
const byValue = async (d: SweepData, obs: ReadonlyArray<Observation>, axis: string, algorithms: ReadonlyArray<Algorithm>): Promise<Block> => {
  const bars: Array<Bar> = []
  for (const alg of algorithms) {
    for (const [value, g] of groupBy(obs.filter((o) => o.algorithm === alg), (o) => valueLabel(o.point.values[axis]))) {
      const i = interval95(g.map((o) => o.m.meanEpisodesPerAgent))
      bars.push({ group: value, name: NAMES[alg], y: i.mean, lo: Math.max(0, i.lo), hi: i.hi, color: ALGORITHM_COLORS[alg] })
    }
  }
  return plot(`plots/sampled-episodes-by-${axisFile(axis)}.svg`, `Episodes per agent for each ${axis} at the sampled points`, await barChartSvg({
    title: `Episodes per agent for each ${axis}, sampled points`,
    subtitle: "mean over the points that drew each value and their seeds, 95% error bars",
    x: { title: axis },
    y: { title: "episodes per agent" },
    bars
  }))
}

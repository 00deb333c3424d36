/**
 * E1, E2 (docs/algorithm.md §7): episodes per agent against the number of tasks M, with slopes and
 * the ratio to `independent`; and episodes per agent against any axis no other analysis covers.
 */
import type { Algorithm } from "../../run/runExperiment.ts"
import { type Block, heading, paragraph, plot } from "../document.ts"
import { isNumericAxis } from "../../spec/sweep.ts"
import { ALGORITHM_COLORS, type Bar, barChartSvg, type Series, linePlot } from "../plots.ts"
import { interval95, mean, slopeOverSeeds } from "../stats.ts"
import { type Analysis, assignmentOf, byArithmetic, fmt, fmtFixed, fmtInterval, groupBy, NAMES, numericAxes, type Observation, otherLabel, pct, seriesOf, sortedUnique, styleOf, type SweepData, valueLabel } from "./common.ts"
import { BUDGET_AXES, SEPARATION_AXES } from "./separability.ts"
import { SHARING_AXIS } from "./sharing.ts"

export const tasksAxis = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  const axis = "contexts.count"
  if (!numericAxes(d.manifest).includes(axis)) return undefined
  const blocks: Array<Block> = [heading(2, "Episodes per agent against the number of tasks M")]
  const headline: Array<string> = []
  const series: Array<Series> = []
  const text: Array<string> = []
  const N = sortedUnique(obs.map((o) => o.point.agents))
  const slopes = new Map<Algorithm, number>()
  for (const alg of ["distmt", "independent", "oracle"] as const) {
    const ga = obs.filter((o) => o.algorithm === alg)
    if (ga.length === 0) continue
    for (const [label, g] of groupBy(ga, (o) => otherLabel(d.manifest, o.point, [axis]))) {
      const name = `${NAMES[alg]}${label === "" ? "" : ` (${label})`}`
      series.push({ name, color: label === "" ? ALGORITHM_COLORS[alg] : undefined, style: styleOf(alg), points: seriesOf(g, axis, (m) => m.meanEpisodesPerAgent) })
      const s = slopeOverSeeds(g.map((o) => ({ seed: o.seed, x: o.point.tasks, y: o.m.meanEpisodesPerAgent })))
      if (label === "") slopes.set(alg, s.slope.mean)
      text.push(`${name}: slope ${fmtInterval(s.slope)}.`)
    }
  }
  const dist = obs.filter((o) => o.algorithm === "distmt")
  const indep = obs.filter((o) => o.algorithm === "independent")
  const Ms = sortedUnique(obs.map((o) => o.point.tasks))
  const ratio = Ms.flatMap((M) => {
    const a = mean(indep.filter((o) => o.point.tasks === M).map((o) => o.m.meanEpisodesPerAgent))
    const b = mean(dist.filter((o) => o.point.tasks === M).map((o) => o.m.meanEpisodesPerAgent))
    return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? [{ M, r: a / b }] : []
  })
  const si = slopes.get("independent")
  const single = N.length === 1 && N[0] === 1
  const claim = single
    ? `With one agent there is no one to share with: the paper's non-distributed cost Õ(d³H⁶·M·ε⁻²) grows linearly in M (slope 1), and ` +
      `DistMT-LSVI can do no better than learning alone — its identification episodes are not wasted, since the agent keeps learning on the same data.`
    : `With N = ${N.join(", ")} agents, \`independent\` grows linearly in M (slope 1) while DistMT-LSVI's learning is shared: each task is ` +
      `learned once, by the first agent to register it, and the others download its policy.`
  const verdict = si === undefined
    ? ""
    : Math.abs(si - 1) <= 0.2
    ? ` \`independent\`'s slope ${fmtFixed(si)} **agrees** with linear growth.`
    : ` \`independent\`'s slope ${fmtFixed(si)} **disagrees** with linear growth.`
  let ratioText = ""
  if (ratio.length > 0) {
    ratioText = ` Episodes per agent, independent ÷ DistMT-LSVI: ${ratio.map((r) => `${fmtFixed(r.r)} at M = ${r.M}`).join(", ")}`
    if (single) {
      ratioText += ` (the paper predicts about 1 for one agent${ratio.every((r) => Math.abs(r.r - 1) <= 0.15) ? ": **agrees**" : ratio.some((r) => r.r < 0.85) ? ": DistMT-LSVI costs **more** here, which disagrees" : ""}).`
    } else {
      const n = N[N.length - 1]
      const once = dist.filter((o) => o.m.learners === o.point.tasks).length
      const idShare = mean(dist.map((o) => o.m.meanIdentificationEpisodesPerAgent / Math.max(1, o.m.meanEpisodesPerAgent)))
      const reached = ratio.every((r) => r.r >= 0.8 * n)
      ratioText += `. Each task was learned by exactly one agent in ${once} of ${dist.length} DistMT-LSVI runs` +
        `${once === dist.length ? "" : " (in the others some task was learned twice)"}; the other agents' instances downloaded or waited for its policy. ` +
        (reached
          ? dist.every((o) => byArithmetic(o.point))
            ? `The ratio is close to N = ${n}, which **follows by arithmetic** under \`partition\` with N ≤ M: each task is learned exactly once, so it is not a measured effect of sharing.`
            : `The ratio is close to N = ${n}, a **measured effect** of sharing (under \`${assignmentOf(dist[0].point)}\` agents meet the same task at overlapping times): this **agrees** with the paper's factor 1/N.`
          : `The ratio stays **below N = ${n}**: identification, which every agent pays for every instance it meets and which sharing cannot remove, ` +
            `is ${pct(idShare)} of DistMT-LSVI's episodes here (identification stops at width cSep/2, learning at ε). On total episodes this ` +
            `**falls short** of the factor 1/N, which needs identification to be cheap against learning (cSep/2 well above ε); on learning ` +
            `episodes, every task learned once is exactly the sharing the paper describes.`)
    }
  }
  blocks.push(paragraph(`**Number of tasks.** Measured: episodes per agent against M on log–log axes. ${text.join(" ")} ${claim}${verdict}${ratioText}`))
  if (si !== undefined) headline.push(`independent ∝ M^${fmtFixed(si)}${slopes.has("distmt") ? `, DistMT-LSVI ∝ M^${fmtFixed(slopes.get("distmt")!)}` : ""}`)
  blocks.push(await linePlot("plots/episodes-vs-tasks.svg", "Episodes per agent against M (log–log)", {
    title: "Episodes per agent against the number of tasks M",
    subtitle: "mean over seeds, 95% error bars; log–log axes",
    x: { title: "tasks M", log: true },
    y: { title: "episodes per agent", log: true },
    series
  }))
  return { blocks, headline }
}

// ─── any other axis ──────────────────────────────────────────────────────────────────────────────

const COVERED = new Set(["agents", "contexts.count", ...SEPARATION_AXES, ...BUDGET_AXES])

export const otherAxes = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  // With a `sharing` axis, the sharing section (sharing.ts) shows every categorical setting side by side.
  const sharing = d.manifest.axes.some(([k]) => k === SHARING_AXIS)
  const axes = d.manifest.axes
    .filter(([k, v]) => !COVERED.has(k) && k !== SHARING_AXIS && (isNumericAxis(v) || !sharing))
    .map(([k]) => k)
  if (axes.length === 0) return undefined
  const blocks: Array<Block> = []
  for (const axis of axes) {
    if (!isNumericAxis(d.manifest.axes.find(([k]) => k === axis)![1])) {
      blocks.push(...(await categoricalAxis(d, obs, axis)))
      continue
    }
    const series: Array<Series> = []
    for (const alg of d.manifest.algorithms) {
      for (const [label, g] of groupBy(obs.filter((o) => o.algorithm === alg), (o) => otherLabel(d.manifest, o.point, [axis]))) {
        series.push({ name: `${NAMES[alg]}${label === "" ? "" : ` (${label})`}`, color: label === "" ? ALGORITHM_COLORS[alg] : undefined, points: seriesOf(g, axis, (m) => m.meanEpisodesPerAgent) })
      }
    }
    const file = `plots/episodes-vs-${axis.replace(/[^A-Za-z0-9]+/g, "-")}.svg`
    blocks.push(heading(2, `Episodes per agent against ${axis}`))
    blocks.push(paragraph(`Measured: episodes per agent against the swept field \`${axis}\`, mean over seeds.`))
    blocks.push(await linePlot(file, `Episodes per agent against ${axis}`, {
      title: `Episodes per agent against ${axis}`,
      subtitle: "mean over seeds, 95% error bars",
      x: { title: axis },
      y: { title: "episodes per agent", log: true },
      series
    }))
  }
  return { blocks, headline: [] }
}

/** Episodes per agent at each value of a categorical axis (`assignment`, `learner`, `stopping`): bars, one per algorithm and setting. */
const categoricalAxis = async (d: SweepData, obs: ReadonlyArray<Observation>, axis: string): Promise<Array<Block>> => {
  const bars: Array<Bar> = []
  const text: Array<string> = []
  for (const alg of d.manifest.algorithms) {
    for (const [label, g] of groupBy(obs.filter((o) => o.algorithm === alg), (o) => otherLabel(d.manifest, o.point, [axis]))) {
      const name = `${NAMES[alg]}${label === "" ? "" : ` (${label})`}`
      for (const [value, gv] of groupBy(g, (o) => valueLabel(o.point.values[axis]))) {
        const i = interval95(gv.map((o) => o.m.meanEpisodesPerAgent))
        bars.push({ group: value, name, y: i.mean, lo: Math.max(0, i.lo), hi: i.hi, color: label === "" ? ALGORITHM_COLORS[alg] : undefined })
        text.push(`${name} at ${axis} = ${value}: ${fmt(i.mean)}`)
      }
    }
  }
  return [
    heading(2, `Episodes per agent for each ${axis}`),
    paragraph(`Measured: episodes per agent for each value of the swept field \`${axis}\`, mean over seeds: ${text.join("; ")}.`),
    plot(`plots/episodes-by-${axis.replace(/[^A-Za-z0-9]+/g, "-")}.svg`, `Episodes per agent for each ${axis}`, await barChartSvg({
      title: `Episodes per agent for each ${axis}`,
      subtitle: "mean over seeds, 95% error bars",
      x: { title: axis },
      y: { title: "episodes per agent" },
      bars
    }))
  ]
}

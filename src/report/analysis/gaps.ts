/**
 * The exact gaps V*(s0) − V^π(s0) of every policy the agents hold at the end, against ε: one
 * empirical distribution function per algorithm. Success is the share of gaps at most ε, so a bar
 * chart of success rates is a row of full bars whenever the guarantee holds; the distribution shows
 * what the bars hide: how far below ε the gaps are, and by how much a failure misses.
 *
 * When every point of the sweep has the same ε the x axis is the gap itself, with a line at ε;
 * when ε is swept it is gap / ε, with a line at 1. A policy that was never published (a failure,
 * docs/algorithm.md §3 step 4) has no gap: its curve never reaches 1.
 */
import type { Algorithm } from "../../run/runExperiment.ts"
import { nameList } from "../coincide.ts"
import type { Block } from "../document.ts"
import { ALGORITHM_COLORS, linePlot, type Series } from "../plots.ts"
import { fmt, NAMES, styleOf, type SweepData } from "./common.ts"

/** At most this many steps per curve: enough for the eye, and the SVG stays small. */
const MAX_STEPS = 400

/** A gap this small is rounding in the exact solution, not a worse policy: it counts as 0. */
const ZERO = 1e-12

/** Each algorithm's gaps (divided by ε when `relative`), NaN for a policy never published. */
const gapsByAlgorithm = (d: SweepData, relative: boolean): Map<Algorithm, Array<number>> => {
  const out = new Map<Algorithm, Array<number>>()
  for (const u of d.manifest.units) {
    const rec = d.records.get(u.key)
    const point = d.manifest.points.find((p) => p.index === u.point)
    if (rec === undefined || point === undefined) continue
    const gaps = out.get(u.algorithm) ?? []
    // Twelve digits: the same gap computed along two routes differs in the last bits (0.004999…9893, 0.0050…0044).
    for (const r of rec.run.rows) gaps.push(Number.isNaN(r.gap) ? NaN : r.gap <= ZERO ? 0 : Number((r.gap / (relative ? point.epsilon : 1)).toPrecision(12)))
    out.set(u.algorithm, gaps)
  }
  return out
}

type Step = { readonly x: number; readonly y: number; readonly lo: number; readonly hi: number }

/**
 * The steps of the empirical distribution function on a log axis from `left` to `right`: it starts
 * at `left` at the share of gaps that are exactly 0, rises at each positive gap, and runs on to
 * `right` at the share of policies that have a gap (less than 1 when some were never published).
 */
const ecdf = (gaps: ReadonlyArray<number>, left: number, right: number): Array<Step> => {
  const known = gaps.filter((g) => !Number.isNaN(g)).sort((a, b) => a - b)
  const n = gaps.length
  const zeros = known.filter((g) => g === 0).length
  const steps: Array<{ x: number; y: number }> = []
  known.forEach((g, i) => {
    if (g === 0 || (i + 1 < known.length && known[i + 1] === g)) return
    steps.push({ x: g, y: (i + 1) / n })
  })
  const every = Math.ceil(steps.length / MAX_STEPS)
  const kept = steps.filter((_, i) => i % every === every - 1 || i === steps.length - 1)
  return [{ x: left, y: zeros / n }, ...kept, { x: right, y: known.length / n }].map((p) => ({ ...p, lo: p.y, hi: p.y }))
}

/** Two curves with the same steps lie on top of each other from end to end. */
const sameCurve = (a: ReadonlyArray<Step>, b: ReadonlyArray<Step>) =>
  a.length === b.length && a.every((p, i) => Math.abs(p.x - b[i].x) <= 1e-9 * Math.max(1, p.x) && Math.abs(p.y - b[i].y) <= 1e-9)

const quantile = (sorted: ReadonlyArray<number>, q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

/** The plot of the gaps' distributions, and a sentence per algorithm on its gaps. */
export const gapDistribution = async (d: SweepData): Promise<{ readonly block: Block | undefined; readonly parts: ReadonlyArray<string> }> => {
  const epsilons = [...new Set(d.manifest.points.map((p) => p.epsilon))]
  const relative = epsilons.length > 1
  const eps = relative ? 1 : epsilons[0]
  const byAlg = gapsByAlgorithm(d, relative)
  const positive = [...byAlg.values()].flat().filter((g) => g > 0)
  // A log axis spreads gaps of 1e-6 and 1e-2 apart; it runs from below the smallest gap (and a
  // hundredth of ε) to above the largest gap (and ε); gaps of exactly 0 sit at its left edge.
  const left = Math.min(eps / 100, ...positive) / 2
  const right = Math.max(eps, ...positive) * 2
  const series: Array<Series> = []
  const parts: Array<string> = []
  const unit = relative ? "gap / ε" : "gap"
  for (const alg of d.manifest.algorithms) {
    const gaps = byAlg.get(alg)
    if (gaps === undefined || gaps.length === 0) continue
    series.push({ name: NAMES[alg], kind: "line", style: styleOf(alg), color: ALGORITHM_COLORS[alg], points: ecdf(gaps, left, right) })
    const known = gaps.filter((g) => !Number.isNaN(g)).sort((a, b) => a - b)
    const zeros = known.filter((g) => g === 0).length
    const missing = gaps.length - known.length
    parts.push(
      `${NAMES[alg]}: ${zeros} of ${gaps.length} policies exactly optimal` +
        (zeros === known.length ? "" : `, median ${unit} ${fmt(quantile(known, 0.5))}, 95th percentile ${fmt(quantile(known, 0.95))}, largest ${fmt(known[known.length - 1])}`) +
        (missing > 0 ? `, ${missing} never published` : "")
    )
  }
  // Every policy exactly optimal: a distribution at 1 from end to end says nothing the sentence does not.
  if (positive.length === 0 && [...byAlg.values()].every((gs) => gs.every((g) => !Number.isNaN(g)))) return { block: undefined, parts }
  const notes: Array<string> = []
  for (let i = 0; i < series.length; i++) {
    const twin = series.slice(i + 1).filter((t) => sameCurve(series[i].points as Array<Step>, t.points as Array<Step>))
    if (twin.length > 0 && !series.slice(0, i).some((t) => sameCurve(t.points as Array<Step>, series[i].points as Array<Step>))) {
      notes.push(`${nameList([series[i].name, ...twin.map((t) => t.name)])} hold policies with the same gaps: their curves coincide from end to end`)
    }
  }
  if (series.filter((s) => s.points[s.points.length - 1].y === 1).length >= 2) notes.push("curves that reach 1 run together along the top from there")
  series.push({
    name: relative ? "ε (gap / ε = 1)" : `ε = ${fmt(eps)}`,
    kind: "line",
    style: "dot",
    color: "#555555",
    points: [{ x: eps, y: 0, lo: 0, hi: 0 }, { x: eps, y: 1, lo: 1, hi: 1 }]
  })
  const block = await linePlot("plots/gaps.svg", `Exact gaps of the final policies against ε, per algorithm`, {
    title: "Exact gaps of the final policies against ε",
    subtitle: `share of the final policies (every seed, agent and task) whose exact gap V*(s0) − V^π(s0)${relative ? " / ε" : ""} is at most x; ` +
      "optimal policies (gap 0) at the left edge; a curve's height at the ε line is its success rate",
    x: { title: relative ? "exact gap / ε (log scale)" : "exact gap V*(s0) − V^π(s0) (log scale)", log: true, domain: [left, right] },
    y: { title: "share of policies", domain: [0, 1.02], format: "~g" },
    interpolate: "step-after",
    notes,
    series
  })
  return { block, parts }
}

/**
 * E4 (docs/algorithm.md §7): the misidentification rate against the separation and against the
 * identification budget K1, and the threshold separation per budget against the theory's 1/√K1;
 * beside it, the unidentified rate: instances whose identification hit its cap with a certificate
 * wider than cSep/2, which never asked the server (§3, capped identification).
 */
import { type Block, heading, paragraph } from "../document.ts"
import { type Series, linePlot } from "../plots.ts"
import type { RunMetrics } from "../sweepFiles.ts"
import { type Analysis, axisValue, fmt, fmtFixed, groupBy, numericAxes, type Observation, otherLabel, seriesOf, shortAxis, sortedUnique, type SweepData } from "./common.ts"

export const SEPARATION_AXES = ["cSep", "contexts.spacing"]
export const BUDGET_AXES = ["stopping.k1"]
/** A misidentification rate at most this counts as "no misidentification" in the prose. */
const NEGLIGIBLE = 0.02

export const separability = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  const sepAxis = numericAxes(d.manifest).find((k) => SEPARATION_AXES.includes(k))
  const budgetAxis = numericAxes(d.manifest).find((k) => BUDGET_AXES.includes(k))
  if (sepAxis === undefined && budgetAxis === undefined) return undefined
  const dist = obs.filter((o) => o.algorithm === "distmt")
  if (dist.length === 0) return undefined
  const blocks: Array<Block> = [heading(2, "Misidentification against the separation and the identification budget")]
  const headline: Array<string> = []
  const rate = (m: RunMetrics) => m.misidentificationRate
  const unidentified = (m: RunMetrics) => m.unidentifiedRate
  /** The unidentified rate beside a misidentification series, dashed, where any instance was. */
  const withUnidentified = (series: Array<Series>, name: string, g: ReadonlyArray<Observation>, axis: string) => {
    if (g.some((o) => o.m.unidentifiedRate > 0)) series.push({ name: `${name}, unidentified`, style: "dash", points: seriesOf(g, axis, unidentified) })
  }
  const text: Array<string> = [
    `**Separability.** Measured: the share of DistMT-LSVI's task instances identified wrongly — matched to another task's registry entry, ` +
      `or given a second entry for their own task — over ${sortedUnique(dist.map((o) => o.seed)).length} seeds.`
  ]
  const thresholds: Array<{ label: string; budget: number | undefined; at: number | undefined }> = []
  const violations: Array<string> = []
  if (sepAxis !== undefined) {
    const series: Array<Series> = []
    for (const [label, g] of groupBy(dist, (o) => otherLabel(d.manifest, o.point, [sepAxis]))) {
      const pts = seriesOf(g, sepAxis, rate)
      series.push({ name: label === "" ? "DistMT-LSVI" : label, points: pts })
      withUnidentified(series, label === "" ? "DistMT-LSVI" : label, g, sepAxis)
      const clean = pts.findIndex((_, i) => pts.slice(i).every((p) => p.y <= NEGLIGIBLE))
      thresholds.push({
        label,
        budget: budgetAxis === undefined ? undefined : axisValue(g[0].point, budgetAxis),
        at: clean === -1 ? undefined : pts[clean].x
      })
      pts.slice(1).forEach((p, i) => {
        if (p.y > pts[i].y + 0.1) violations.push(`${label === "" ? "" : `${label}: `}the rate rises from ${fmtFixed(pts[i].y)} at ${shortAxis(sepAxis)} = ${fmt(pts[i].x)} to ${fmtFixed(p.y)} at ${fmt(p.x)}`)
      })
    }
    blocks.push(await linePlot("plots/misidentification-vs-separation.svg", `Misidentification rate against ${sepAxis}`, {
      title: `Misidentification rate against the separation ${shortAxis(sepAxis)}`,
      subtitle: "the family's tasks are spaced exactly by this separation; mean over seeds, 95% error bars",
      x: { title: sepAxis === "cSep" ? "separation cSep (declared = actual)" : "spacing of the family's V*(s0)" },
      y: { title: "share of instances", domain: [0, 1], format: "~g" },
      series
    }))
    const described = thresholds.map((t) =>
      `${t.label === "" ? "" : `with ${t.label}, `}${t.at === undefined ? `the rate never falls to ${NEGLIGIBLE} or below` : `the rate is at most ${NEGLIGIBLE} from ${shortAxis(sepAxis)} = ${fmt(t.at)} on`}`
    )
    text.push(`Against the separation: ${described.join("; ")}.`)
  }
  if (budgetAxis !== undefined) {
    const series: Array<Series> = []
    for (const [label, g] of groupBy(dist, (o) => otherLabel(d.manifest, o.point, [budgetAxis]))) {
      const pts = seriesOf(g, budgetAxis, rate)
      series.push({ name: label === "" ? "DistMT-LSVI" : label, points: pts })
      withUnidentified(series, label === "" ? "DistMT-LSVI" : label, g, budgetAxis)
      pts.slice(1).forEach((p, i) => {
        if (p.y > pts[i].y + 0.1) violations.push(`${label === "" ? "" : `${label}: `}the rate rises from ${fmtFixed(pts[i].y)} at K1 = ${fmt(pts[i].x)} to ${fmtFixed(p.y)} at K1 = ${fmt(p.x)}`)
      })
    }
    blocks.push(await linePlot("plots/misidentification-vs-budget.svg", "Misidentification rate against the identification budget K1", {
      title: "Misidentification rate against the identification budget K1",
      subtitle: "episodes each instance explores before asking the server; mean over seeds, 95% error bars",
      x: { title: "identification budget K1 (episodes)", log: true },
      y: { title: "share of instances", domain: [0, 1], format: "~g" },
      series
    }))
    if (sepAxis === undefined) {
      const pts = seriesOf(dist, budgetAxis, rate)
      text.push(`Against the budget K1: ${pts.map((p) => `${fmtFixed(p.y)} at K1 = ${fmt(p.x)}`).join(", ")}.`)
    }
  }
  // The theory: identification is right once the width after K1 episodes is below cSep/2, and the
  // width falls like 1/√K1, so the separation needed falls like 1/√K1.
  const paired = thresholds.filter((t) => t.budget !== undefined && t.at !== undefined).sort((a, b) => a.budget! - b.budget!)
  let order = ""
  if (paired.length >= 2) {
    const shrinking = paired.slice(1).every((t, i) => t.at! <= paired[i].at!)
    order = ` The separation needed for correct identification ${shrinking ? "shrinks" : "does **not** shrink"} as the budget grows ` +
      `(${paired.map((t) => `${fmt(t.at)} at K1 = ${fmt(t.budget)}`).join(", ")}); ` +
      `the theory's cSep ∝ 1/√K1 gives products cSep·√K1 that stay about constant: ${paired.map((t) => fmt(t.at! * Math.sqrt(t.budget!))).join(", ")}.`
    if (!shrinking) violations.push("a larger budget needed a larger separation")
  }
  text.push(
    `The paper's separability argument: intervals narrower than cSep/2 that contain V* identify correctly, and an interval's width after K1 ` +
      `exploration episodes shrinks like 1/√K1. So misidentification should fall as the separation grows and as the budget grows, and vanish ` +
      `once K1 is of order 1/cSep².${order} ` +
      (violations.length === 0
        ? "The measurements **agree**: the rate falls with both (rises of less than 0.1 between neighbouring points are taken as noise)."
        : `Where the measurements **disagree**: ${violations.join("; ")}.`)
  )
  const unid = dist.filter((o) => o.m.unidentifiedRate > 0)
  text.push(
    unid.length === 0
      ? "No instance was left unidentified: every identification phase reached cSep/2 within its budget."
      : `${unid.length} of ${dist.length} runs left instances **unidentified** (up to ${fmtFixed(Math.max(...unid.map((o) => o.m.unidentifiedRate)))} ` +
        `of a run's instances; dashed in the plots): their identification reached its cap with a certificate wider than cSep/2, so they ` +
        `learned alone rather than ask with an interval that could overlap several tasks. They count neither as right nor as wrong.`
  )
  const worst = Math.max(...dist.map((o) => o.m.misidentificationRate ?? 0))
  headline.push(`misidentification rate from ${fmtFixed(worst)} (worst point) down to ${fmtFixed(Math.min(...dist.map((o) => o.m.misidentificationRate ?? 0)))}`)
  blocks.splice(1, 0, paragraph(text.join(" ")))
  return { blocks, headline }
}

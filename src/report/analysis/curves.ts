/**
 * The sweep report's learning curves (the picture of `distmt plot`, src/report/curves.ts): the
 * certificate's width and the exact gap against episodes per agent, one line per algorithm, for the
 * first and the last point of the sweep (for an `agents` axis: the fewest and the most agents), so
 * that a reader sees how a run behaves at both ends of what was swept.
 */
import type { CurvePoint } from "../../run/curves.ts"
import { curvePlots, type RunCurvePoint } from "../curves.ts"
import { type Block, heading, paragraph, plot } from "../document.ts"
import type { ManifestPoint } from "../sweepFiles.ts"
import { type Analysis, fmt, type SweepData, valueLabel } from "./common.ts"

/** The points whose curves are drawn: the first and the last of the sweep. */
const endPoints = (d: SweepData): Array<ManifestPoint> => {
  const points = d.manifest.points
  if (points.length === 0) return []
  return points.length === 1 ? [points[0]] : [points[0], points[points.length - 1]]
}

const pointName = (p: ManifestPoint): string => {
  const values = Object.entries(p.values)
  return values.length === 0 ? "the spec as written" : values.map(([k, v]) => `${k} = ${valueLabel(v)}`).join(", ")
}

export const learningCurves = async (d: SweepData): Promise<Analysis | undefined> => {
  const blocks: Array<Block> = []
  for (const p of endPoints(d)) {
    const points: Array<RunCurvePoint> = d.manifest.units
      .filter((u) => u.point === p.index)
      .flatMap((u) => {
        const rec = d.records.get(u.key)
        return rec === undefined ? [] : rec.run.curve.map((c: CurvePoint) => ({ ...c, algorithm: u.algorithm, seed: u.seed }))
      })
    if (points.length === 0) continue
    const where = pointName(p)
    const svg = await curvePlots(
      (what) => `${what.charAt(0).toUpperCase()}${what.slice(1)} against episodes per agent (${where})`,
      points,
      p.epsilon,
      p.cSep,
      (x) => fmt(x)
    )
    blocks.push(plot(`plots/curves-${p.index}-width.svg`, `certificate width against episodes per agent, ${where}`, svg.width))
    blocks.push(plot(`plots/curves-${p.index}-gap.svg`, `exact gap against episodes per agent, ${where}`, svg.gap))
  }
  if (blocks.length === 0) return undefined
  return {
    blocks: [
      heading(2, "Learning curves"),
      paragraph(
        "Each agent's certificate width and the exact gap of its greedy policy, at logarithmically spaced episodes, over the instances it meets one after another " +
          "(its width climbs back when it opens a new instance). The lines are medians over the agents and seeds still running at that many episodes; the bands are their interquartile ranges. " +
          "Identification stops at width c_Sep/2, learning at ε. The numbers are in each run's `curve` (run files) and, for a single run, in `curves.csv`; `distmt plot` draws them for a run folder."
      ),
      ...blocks
    ],
    headline: []
  }
}

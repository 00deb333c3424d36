/**
 * What a sweep's report says: each analysis looks at the axes a sweep has, measures what the
 * paper claims about them, and says in plain words what the measurement shows (docs/algorithm.md
 * §7). Every analysis returns report blocks (paragraphs, tables, plots) and a one-line headline for
 * the terminal. One module per claim:
 *
 * - `scaling.ts`: `agents` axis, episodes per agent against N — E3;
 * - `communication.ts`: `agents` axis, messages, bytes and wall-clock against N — E5;
 * - `separability.ts`: `cSep` (or `contexts.spacing`) and `stopping.k1` axes — E4;
 * - `tasks.ts`: `contexts.count` axis — E1, E2; and any axis no other module covers;
 * - `sharing.ts`: `sharing` axis, experience against policy sharing — E6;
 * - `sampled.ts`: points that are not a grid (`--sample K`): scatters against each axis, in place of the above;
 * - `curves.ts`: always: the learning curves of the first and last points;
 * - `tables.ts`: always: identification, success and the exact gaps (gaps.ts), the table of all points.
 */
import { describeAxis } from "../../spec/sweep.ts"
import { type Block, heading, list, paragraph } from "../document.ts"
import { communication } from "./communication.ts"
import { learningCurves } from "./curves.ts"
import { type Analysis, fmt, isGrid, NAMES, observations, runsDone, type SweepData, valueLabel } from "./common.ts"
import { sampledAnalysis } from "./sampled.ts"
import { scaling } from "./scaling.ts"
import { separability } from "./separability.ts"
import { sharingAnalysis } from "./sharing.ts"
import { identification, pointsTable, success } from "./tables.ts"
import { otherAxes, tasksAxis } from "./tasks.ts"

export { type Analysis, fmt, NAMES, type Observation, observations, shortAxis, SLOPE_BAND, type SweepData } from "./common.ts"

/** The whole report of one sweep: its header, every analysis that applies, and the table of all points. */
export const analyse = async (d: SweepData): Promise<{ readonly blocks: ReadonlyArray<Block>; readonly headline: ReadonlyArray<string> }> => {
  const obs = observations(d)
  const m = d.manifest
  const { finished, planned } = runsDone(d)
  const blocks: Array<Block> = [heading(1, `${m.name}${m.quick ? " (quick)" : ""}: sweep report`)]
  if (m.description !== undefined) blocks.push(paragraph(m.description))
  const p0 = m.points[0]
  blocks.push(
    list([
      `Spec: \`${m.source}\`${m.quick ? " with its `quick` variant (`--quick`)" : ""}; written by \`distmt sweep\`, read by \`distmt report\`.`,
      `Axes: ${m.axes.length === 0
        ? "none (the spec as written)"
        : m.sample !== undefined
        ? `${m.sample.count} points drawn at random (\`--sample ${m.sample.count} --sample-seed ${m.sample.seed}\`) from ${m.sample.axes.map(([k, a]) => `\`${describeAxis(k, a)}\``).join(", ")}`
        : m.axes.map(([k, v]) => `\`${k}\` ∈ {${v.map(valueLabel).join(", ")}}`).join(" × ")}; ` +
        `seeds ${m.seeds.join(", ")}; algorithms: ${m.algorithms.map((a) => NAMES[a]).join(", ")}.`,
      ...(p0 === undefined
        ? []
        : [
          `Setting: ε = ${fmt(p0.epsilon)}${m.axes.some(([k]) => k === "epsilon") ? " (swept)" : ""}, declared cSep = ${fmt(p0.cSep)}${m.axes.some(([k]) => k === "cSep") ? " (swept)" : ""}, ` +
            `actual separation ${p0.separation === null ? "∞ (one task)" : fmt(p0.separation)}, β = ${fmt(p0.beta)}, stopping rule ${p0.adaptive ? "adaptive (certificate widths)" : "schedule (K1, K2)"}.`
        ]),
      `Runs: ${finished} of ${planned} finished${
        obs.length === 0 ? " — **no results yet**" : finished < planned ? " — **incomplete**: the numbers below use the finished runs only; run the sweep again to finish it" : ""
      }.`
    ])
  )
  // Over no runs every "all runs …" would hold vacuously (an empty table, "this agrees"): say plainly that nothing is measured yet.
  if (obs.length === 0) {
    blocks.push(
      paragraph(
        `**No results yet.** ${finished} of the sweep's ${planned} runs ${finished === 1 ? "has" : "have"} finished, so nothing is measured and no claim of the paper ` +
          "is checked: there is no verdict, table or plot. Run the same `distmt sweep` command again to resume the sweep, then `distmt report` again."
      )
    )
    return { blocks, headline: [`no results yet: ${finished} of ${planned} runs finished`] }
  }
  // The terminal's one line is read without the report: it says first that its figures are over part of the sweep.
  const headline: Array<string> = finished < planned ? [`incomplete: ${finished} of ${planned} runs finished, the figures are over these`] : []
  // The analyses along an axis hold the other axes fixed: they need a grid (sampled.ts otherwise).
  const alongAxes: Array<Analysis | undefined> = isGrid(m)
    ? [
      await sharingAnalysis(d, obs),
      await scaling(d, obs),
      await communication(d, obs),
      await separability(d, obs),
      await tasksAxis(d, obs),
      await otherAxes(d, obs)
    ]
    : [await sampledAnalysis(d, obs)]
  const sections: Array<Analysis | undefined> = [...alongAxes, identification(d, obs), await success(d, obs), await learningCurves(d)]
  for (const s of sections) {
    if (s === undefined) continue
    blocks.push(...s.blocks)
    headline.push(...s.headline)
  }
  blocks.push(heading(2, "All points"))
  blocks.push(pointsTable(d, obs))
  blocks.push(
    paragraph(
      "Intervals are 95% Student-t intervals over seeds; a slope's interval comes from one least-squares fit per seed. " +
        "Episodes per agent are means over agents; `identify` and `learn` split them into the identification phase and the learning phase. " +
        "The raw numbers are in `sweep.csv` (one row per run) and `rows.csv` (one row per agent and task instance); docs/experiments.md explains every plot."
    )
  )
  return { blocks, headline }
}

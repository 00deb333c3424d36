/**
 * What every report has, whatever its axes: identification accuracy and registry entries (adaptive
 * sweeps), success per algorithm with certificates and capped learners and the distribution of the
 * exact gaps, and the table of every point and algorithm.
 */
import { type Block, heading, paragraph, table } from "../document.ts"
import { ALGORITHM_COLORS, linePlot, type Series } from "../plots.ts"
import type { RunMetrics } from "../sweepFiles.ts"
import { interval95, mean } from "../stats.ts"
import { bytes } from "../bytes.ts"
import {
  type Analysis,
  axisFile,
  axisValue,
  fmt,
  fmtFixed,
  groupBy,
  isGrid,
  NAMES,
  numericAxes,
  type Observation,
  otherLabel,
  pct,
  runsDone,
  seriesOf,
  shortAxis,
  sortedUnique,
  styleOf,
  type SweepData,
  valueLabel
} from "./common.ts"
import { gapDistribution } from "./gaps.ts"
import { BUDGET_AXES, SEPARATION_AXES } from "./separability.ts"

export const identification = (d: SweepData, obs: ReadonlyArray<Observation>): Analysis | undefined => {
  const dist = obs.filter((o) => o.algorithm === "distmt")
  // The separability section (separability.ts) covers identification where the separation or the budget varies.
  if (dist.length === 0 || numericAxes(d.manifest).some((k) => SEPARATION_AXES.includes(k) || BUDGET_AXES.includes(k))) return undefined
  // A run whose every instance was unidentified asked nothing: no accuracy to count.
  const asked = dist.filter((o) => o.m.identificationAccuracy !== null)
  const acc = mean(asked.map((o) => o.m.identificationAccuracy!))
  const wrongRuns = asked.filter((o) => o.m.identificationAccuracy! < 1)
  // Against the tasks the run met, not M: a `random(k)` assignment may leave tasks out.
  const extraEntries = dist.filter((o) => o.m.registered !== o.m.tasksMet)
  const unidentified = mean(dist.map((o) => o.m.unidentifiedRate))
  // No run asked: no accuracy (a mean of nothing) and no verdict ("no run misidentified" would hold vacuously).
  const none = asked.length === 0
  return {
    blocks: [
      heading(2, "Identification"),
      paragraph(
        `**Identification.** Over all ${dist.length} DistMT-LSVI runs, ` +
          (none
            ? "no instance asked the server, so there is no identification accuracy to measure"
            : `${pct(acc)} of task instances were identified with the right task ` +
              (wrongRuns.length === 0
                ? "(every run identified every instance right)"
                : `(${wrongRuns.length} run${wrongRuns.length === 1 ? "" : "s"} had misidentified instances)`)) +
          `; ${unidentified === 0 ? "no instance was left unidentified" : `${pct(unidentified)} of instances were left **unidentified** (their identification reached its cap above cSep/2; they learned alone and count neither as right nor as wrong)`}` +
          `, and ${extraEntries.length === 0 ? "the server's registry held exactly one entry per task that appeared in every run" : `${extraEntries.length} run${extraEntries.length === 1 ? "" : "s"} registered a different number of entries than tasks`}. ` +
          `The paper's separability argument says that with adaptive identification (explore until the certificate's width is at most cSep/2) ` +
          `and a valid certificate, identification is always right: ${
            none
              ? "with no identification to check, there is no verdict."
              : wrongRuns.length === 0
              ? "this **agrees**."
              : "the misidentified runs **disagree** (check the certificates column: a certificate that fails to hold means β is too small)."
          }`
      )
    ],
    headline: [none ? "no instance identified" : `identification accuracy ${pct(acc)}`]
  }
}

/**
 * Success per algorithm in words, and as a picture the distribution of the exact gaps against ε
 * (gaps.ts): a success rate of 1 everywhere would be a chart of full bars, which shows nothing.
 * Where some run fell short, success against the first numeric axis of a grid shows where.
 */
export const success = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis> => {
  const blocks: Array<Block> = [heading(2, "Success: the exact gaps against ε")]
  const headline: Array<string> = []
  const parts: Array<string> = []
  for (const alg of d.manifest.algorithms) {
    const ga = obs.filter((o) => o.algorithm === alg)
    if (ga.length === 0) continue
    const rates = ga.map((o) => o.m.successRate)
    const certs = ga.map((o) => o.m.certificateRate)
    const capped = ga.map((o) => o.m.cappedRate)
    parts.push(
      `${NAMES[alg]} ${fmtFixed(mean(rates))} on average, lowest ${fmtFixed(Math.min(...rates))}` +
        ` (certificates held in ${pct(mean(certs))} of instances${mean(capped) > 0 ? `; ${pct(mean(capped))} of learners stopped at the episode cap` : ""})`
    )
    headline.push(`${NAMES[alg]} success ${fmtFixed(mean(rates))}`)
  }
  const all = obs.every((o) => o.m.successRate === 1)
  // A partial sweep's verdict names what it is over: the runs finished, not the sweep.
  const { finished, planned } = runsDone(d)
  const partial = finished < planned
  const everyRun = partial ? `Every one of the ${finished} runs finished (of ${planned})` : "Every run"
  const schedule = d.manifest.points.some((p) => !p.adaptive)
  const delta = mean(d.manifest.points.map((p) => Number((p.spec as { delta?: number }).delta ?? NaN)))
  const gaps = await gapDistribution(d)
  blocks.push(
    paragraph(
      `**Success.** Measured: the share of (agent, task instance) pairs whose final policy is ε-optimal, V*(s0) − V^π(s0) ≤ ε, computed exactly ` +
        `from the tables: ${parts.join("; ")}. The paper guarantees that every agent ends with an ε-optimal policy for every task it met, ` +
        `with probability at least 1 − δ${Number.isFinite(delta) ? ` = ${fmt(1 - delta)}` : ""}` +
        (schedule ? ", provided the schedule's K1 and K2 are large enough — with fixed budgets, success falls where identification fails or K2 is short" : "") +
        `. ${all ? `${everyRun} reached success 1.00: this **agrees**${partial ? " over the runs done" : ""}.` : schedule ? "Runs below 1.00 are expected where the budgets are too small (see the misidentification plot)." : "Runs below 1.00 **disagree** with the guarantee unless they are within its δ."} ` +
        (gaps.block === undefined
          ? `Every final policy is exactly optimal (gap 0): ${gaps.parts.join("; ")}; there is no distribution of gaps to plot.`
          : `The gaps themselves, whose distribution the plot shows against ε: ${gaps.parts.join("; ")}.`)
    )
  )
  if (gaps.block !== undefined) blocks.push(gaps.block)
  const xAxis = numericAxes(d.manifest)[0]
  const values = xAxis === undefined ? [] : sortedUnique(obs.map((o) => axisValue(o.point, xAxis)))
  if (!all && xAxis !== undefined && values.length >= 2 && isGrid(d.manifest)) blocks.push(await successAgainst(d, obs, xAxis))
  return { blocks, headline }
}

/** Success rate against a numeric axis, a line per algorithm and setting: drawn only where some run fell short. */
const successAgainst = async (d: SweepData, obs: ReadonlyArray<Observation>, xAxis: string): Promise<Block> => {
  const lines: Array<Series> = []
  for (const alg of d.manifest.algorithms) {
    for (const [label, g] of groupBy(obs.filter((o) => o.algorithm === alg), (o) => otherLabel(d.manifest, o.point, [xAxis]))) {
      lines.push({
        name: `${NAMES[alg]}${label === "" ? "" : `, ${label}`}`,
        color: label === "" ? ALGORITHM_COLORS[alg] : undefined,
        style: styleOf(alg),
        points: seriesOf(g, xAxis, (m) => m.successRate).map((p) => ({ ...p, lo: Math.max(0, p.lo), hi: Math.min(1, p.hi) }))
      })
    }
  }
  return linePlot(`plots/success-vs-${axisFile(xAxis)}.svg`, `Success rate against ${xAxis}`, {
    title: `Success rate against ${shortAxis(xAxis)}`,
    subtitle: "share of (agent, task instance) pairs with an ε-optimal final policy; mean over seeds, 95% error bars",
    x: { title: xAxis, log: xAxis === "stopping.k1" || xAxis === "agents" },
    y: { title: "success rate", domain: [0, 1.02], format: "~g" },
    series: lines
  })
}

/** The per-point, per-algorithm table of the summary numbers. */
export const pointsTable = (d: SweepData, obs: ReadonlyArray<Observation>): Block => {
  const axes = d.manifest.axes.map(([k]) => k)
  const rows: Array<Array<string>> = []
  for (const p of d.manifest.points) {
    for (const alg of d.manifest.algorithms) {
      const g = obs.filter((o) => o.point.index === p.index && o.algorithm === alg)
      if (g.length === 0) continue
      const avg = (f: (m: RunMetrics) => number | null) => {
        const xs = g.map((o) => f(o.m)).filter((x): x is number => x !== null)
        return xs.length === 0 ? null : mean(xs)
      }
      const ep = interval95(g.map((o) => o.m.meanEpisodesPerAgent))
      rows.push([
        ...axes.map((k) => valueLabel(p.values[k])),
        NAMES[alg],
        String(g.length),
        fmtFixed(avg((m) => m.successRate)!),
        g.length < 2 ? fmt(ep.mean) : `${fmt(ep.mean)} ± ${fmt(ep.hi - ep.mean)}`,
        fmt(avg((m) => m.meanIdentificationEpisodesPerAgent)),
        fmt(avg((m) => m.meanLearningEpisodesPerAgent)),
        alg === "independent" ? "—" : fmtFixed(avg((m) => m.identificationAccuracy)!),
        alg === "independent" ? "—" : fmtFixed(avg((m) => m.unidentifiedRate)!),
        fmtFixed(avg((m) => m.certificateRate)!),
        fmt(avg((m) => m.messages)),
        bytes(avg((m) => m.bytes)!),
        fmtFixed(avg((m) => m.wallSeconds)!)
      ])
    }
  }
  return table(
    [...axes.map(shortAxis), "algorithm", "seeds", "success", "episodes/agent (95% CI)", "identify", "learn", "ident. acc.", "unidentified", "certificates", "messages", "bytes", "wall s"],
    rows,
    "Every point and algorithm, mean over seeds"
  )
}

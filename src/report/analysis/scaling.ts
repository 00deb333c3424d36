/**
 * E3 (docs/algorithm.md §7): episodes per agent against N — the log–log slope of DistMT-LSVI's
 * learning episodes with a 95% interval over seeds, the 1/N reference, and the ratio to
 * `independent` at each N.
 */
import type { Algorithm } from "../../run/runExperiment.ts"
import { type Block, heading, paragraph, table } from "../document.ts"
import { ALGORITHM_COLORS, linePlot, type Series } from "../plots.ts"
import type { RunMetrics } from "../sweepFiles.ts"
import { interval95, mean, slopeOverSeeds } from "../stats.ts"
import { type Analysis, assignmentOf, fmt, fmtFixed, fmtInterval, groupBy, NAMES, numericAxes, type Observation, otherLabel, seriesOf, SLOPE_BAND, sortedUnique, styleOf, type SweepData } from "./common.ts"

export const scaling = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  if (!numericAxes(d.manifest).includes("agents")) return undefined
  const dist = obs.filter((o) => o.algorithm === "distmt")
  if (dist.length === 0) return undefined
  const blocks: Array<Block> = [heading(2, "Episodes per agent against N")]
  const headline: Array<string> = []
  const groups = groupBy(obs, (o) => otherLabel(d.manifest, o.point, ["agents"]))
  const series: Array<Series> = []
  const ratioSeries: Array<Series> = []
  const tableRows: Array<Array<string>> = []
  for (const [label, gobs] of groups) {
    const suffix = label === "" ? "" : ` (${label})`
    const gd = gobs.filter((o) => o.algorithm === "distmt")
    // A partial sweep may have finished only the baselines of a setting: no DistMT-LSVI to measure there.
    if (gd.length === 0) continue
    const Ns = sortedUnique(gd.map((o) => o.point.agents))
    const M = gd[0].point.tasks
    // Partition's arithmetic (common.ts, byArithmetic) holds over the fit range N ≤ M only when every point of the group is partition.
    const assignment = assignmentOf(gd[0].point)
    const partition = gd.every((o) => assignmentOf(o.point) === "partition")
    const experience = gd.some((o) => (o.point.spec as { readonly sharing?: string }).sharing === "experience")
    const inRange = (N: number) => N <= gd.find((o) => o.point.agents === N)!.point.tasks
    const learn = (o: Observation) => o.m.meanLearningEpisodesPerAgent
    const learning = seriesOf(gd, "agents", (m) => m.meanLearningEpisodesPerAgent)
    const fitObs = gd.filter((o) => inRange(o.point.agents)).map((o) => ({ seed: o.seed, x: o.point.agents, y: learn(o) }))
    const fit = slopeOverSeeds(fitObs)
    const all = slopeOverSeeds(gd.map((o) => ({ seed: o.seed, x: o.point.agents, y: learn(o) })))
    const ident = slopeOverSeeds(gd.filter((o) => inRange(o.point.agents)).map((o) => ({ seed: o.seed, x: o.point.agents, y: o.m.meanIdentificationEpisodesPerAgent })))
    const fitNs = sortedUnique(fitObs.map((o) => o.x))
    series.push({ name: `DistMT-LSVI, learning episodes${suffix}`, points: learning, color: label === "" ? ALGORITHM_COLORS.distmt : undefined })
    series.push({ name: `DistMT-LSVI, all episodes (with identification)${suffix}`, points: seriesOf(gd, "agents", (m) => m.meanEpisodesPerAgent), color: label === "" ? "#7fa7d6" : undefined })
    for (const alg of ["independent", "oracle"] as const) {
      const ga = gobs.filter((o) => o.algorithm === alg)
      if (ga.length > 0) series.push({ name: `${NAMES[alg]}, all episodes${suffix}`, style: styleOf(alg), points: seriesOf(ga, "agents", (m) => m.meanEpisodesPerAgent), color: label === "" ? ALGORITHM_COLORS[alg] : undefined })
    }
    if (fitNs.length >= 2 && Number.isFinite(fit.pooled.slope)) {
      const f = fit.pooled
      series.push({
        name: `fit to DistMT-LSVI learning for N ≤ M: slope ${fmtFixed(fit.slope.mean, 3)}${suffix}`,
        style: "dash",
        kind: "line",
        color: "#0b2f5a",
        points: fitNs.map((N) => ({ x: N, y: Math.exp(f.intercept + f.slope * Math.log(N)), lo: 0, hi: 0 }))
      })
    }
    const first = learning[0]
    if (first !== undefined) {
      series.push({ name: `1/N reference${suffix}`, style: "dot", kind: "line", color: "#888888", points: Ns.map((N) => ({ x: N, y: first.y * first.x / N, lo: 0, hi: 0 })) })
    }

    // The ratio to independent, per seed (same seed, same environments), then over seeds.
    const indep = gobs.filter((o) => o.algorithm === "independent")
    const ratios = Ns.map((N) => {
      const per = gd.filter((o) => o.point.agents === N).flatMap((o) => {
        const i = indep.find((x) => x.point.agents === N && x.seed === o.seed)
        return i === undefined || o.m.meanEpisodesPerAgent === 0 ? [] : [i.m.meanEpisodesPerAgent / o.m.meanEpisodesPerAgent]
      })
      return { N, ratio: per.length === 0 ? undefined : interval95(per) }
    })
    if (indep.length > 0) {
      ratioSeries.push({
        name: `independent / DistMT-LSVI, episodes per agent${suffix}`,
        color: label === "" ? ALGORITHM_COLORS.independent : undefined,
        points: ratios.flatMap((r) => (r.ratio === undefined ? [] : [{ x: r.N, y: r.ratio.mean, lo: r.ratio.lo, hi: r.ratio.hi }]))
      })
      const r0 = ratios.find((r) => r.ratio !== undefined)
      if (r0?.ratio !== undefined) {
        ratioSeries.push({ name: `∝ N reference${suffix}`, style: "dot", kind: "line", color: "#888888", points: Ns.map((N) => ({ x: N, y: r0.ratio!.mean * N / r0.N, lo: 0, hi: 0 })) })
      }
    }
    for (const N of Ns) {
      const at = (alg: Algorithm) => gobs.filter((o) => o.algorithm === alg && o.point.agents === N)
      const iv = (alg: Algorithm, f: (m: RunMetrics) => number) => {
        const xs = at(alg).map((o) => f(o.m))
        return xs.length === 0 ? "—" : fmt(mean(xs))
      }
      const r = ratios.find((x) => x.N === N)?.ratio
      const success = at("distmt").map((o) => o.m.successRate)
      tableRows.push([
        ...(groups.size > 1 ? [label] : []),
        String(N),
        fmt(M / N),
        iv("distmt", (m) => m.meanLearningEpisodesPerAgent),
        iv("distmt", (m) => m.meanIdentificationEpisodesPerAgent),
        iv("distmt", (m) => m.meanEpisodesPerAgent),
        iv("independent", (m) => m.meanEpisodesPerAgent),
        iv("oracle", (m) => m.meanEpisodesPerAgent),
        r === undefined ? "—" : r.n < 2 ? fmtFixed(r.mean) : `${fmtFixed(r.mean)} ± ${fmtFixed(r.hi - r.mean)}`,
        success.length === 0 ? "—" : fmtFixed(mean(success))
      ])
    }

    // The paragraph: what was measured, the number, the claim, the verdict.
    const seeds = fit.perSeed.length > 0 ? fit.perSeed.length : sortedUnique(gd.map((o) => o.seed)).length
    const s = fit.slope
    const inBand = s.mean >= SLOPE_BAND[0] && s.mean <= SLOPE_BAND[1]
    const covers = s.n >= 2 && s.lo <= -1 && -1 <= s.hi
    const text: Array<string> = []
    text.push(
      `**Scaling with N${suffix}.** Measured: DistMT-LSVI's learning episodes per agent (the episodes after identification; ` +
        `identification is counted apart) at N = ${Ns.join(", ")} with M = ${M} tasks, over ${seeds} seed${seeds === 1 ? "" : "s"}.`
    )
    if (fitNs.length >= 2) {
      text.push(
        `On log–log axes, over the points with M/N ≥ 1 (N = ${fitNs.join(", ")}), the fitted slope is ` +
          `**${fmtInterval(s, 3)}**${seeds >= 2 ? ` (one least-squares fit per seed, t interval over the ${seeds} seeds)` : " (a single seed: no interval)"}.`
      )
      // Under partition with N ≤ M the slope is bookkeeping, not sharing: say so rather than "agrees".
      const arithmetic = partition
      const outside = `the measurement **disagrees**: ${fmtFixed(s.mean, 3)} is outside the band ${fmt(SLOPE_BAND[0])} to ${fmt(SLOPE_BAND[1])}.`
      text.push(
        `The paper's bound Õ(d³H⁶(ε⁻² + c_Sep⁻²)·M/N) episodes per agent predicts a slope of −1. ` +
          (arithmetic
            ? `Under \`partition\` with N ≤ M each task is learned exactly once, by the one agent that meets it, so the mean learning per ` +
              `agent is (Σ over tasks of one task's learning)/N and a slope of −1 **follows by arithmetic**: it is not a measured effect of ` +
              `sharing, and it checks only that nothing (waiting, a misidentification, a second registration) adds learning. ` +
              (inBand && (covers || s.n < 2)
                ? "The measured slope is −1, as the arithmetic requires."
                : inBand
                ? `The measured slope is within the band ${fmt(SLOPE_BAND[0])} to ${fmt(SLOPE_BAND[1])} around −1, but its interval excludes −1 exactly: something added or removed learning.`
                : `Here ${outside}`)
            : `Under \`${assignment}\` agents meet tasks at overlapping times, so the slope is a **measured effect** of sharing: ` +
              (inBand && (covers || s.n < 2)
                ? "the measurement **agrees**."
                : inBand
                ? `the measurement is within the band ${fmt(SLOPE_BAND[0])} to ${fmt(SLOPE_BAND[1])} around −1, so it **agrees** in size, but its interval excludes −1 exactly.`
                : outside))
      )
      headline.push(
        `learning episodes per agent ∝ N^${fmtFixed(s.mean, 3)}${s.n >= 2 ? ` (95% CI ${fmtFixed(s.lo, 3)} to ${fmtFixed(s.hi, 3)})` : ""} for N ≤ M${suffix}` +
          (arithmetic ? " (partition: by arithmetic)" : " (measured)")
      )
    } else {
      text.push("Fewer than two values of N with M/N ≥ 1: no slope is fitted.")
    }
    if (Ns.some((N) => !inRange(N)) && Number.isFinite(all.slope.mean)) {
      text.push(
        `Over all N, including N > M where several agents meet each task and ` +
          (experience ? "pool their experience on it while it is being learned" : "only the first learns it") +
          `, the slope is ${fmtFixed(all.slope.mean)}.`
      )
    }
    if (Number.isFinite(ident.slope.mean)) {
      text.push(
        `Identification episodes per agent fall with slope ${fmtFixed(ident.slope.mean)} while M/N ≥ 1 (each agent identifies each of its M/N instances) ` +
          `and stay at about one identification per agent beyond.`
      )
    }
    const known = ratios.filter((r) => r.ratio !== undefined)
    if (known.length > 0) {
      const falls = known.slice(1).flatMap((r, i) => (r.ratio!.mean <= known[i].ratio!.mean ? [`from ${fmtFixed(known[i].ratio!.mean)} at N = ${known[i].N} to ${fmtFixed(r.ratio!.mean)} at N = ${r.N}`] : []))
      // The ratio is N by arithmetic where each task is learned once (partition, N ≤ M); elsewhere it is measured.
      const arith = partition ? known.filter((r) => r.N <= M) : []
      const measured = known.filter((r) => !arith.includes(r))
      text.push(
        `Against \`independent\` (every agent learns all M tasks alone), DistMT-LSVI needs fewer episodes per agent by a factor of ` +
          known.map((r) => `${fmtFixed(r.ratio!.mean)} at N = ${r.N}`).join(", ") + ". " +
          (arith.length === 0
            ? ""
            : `At N = ${arith.map((r) => r.N).join(", ")} (N ≤ M under \`partition\`) each task is learned exactly once, so a ratio of about N ` +
              `**follows by arithmetic**, not from a measured effect of sharing. `) +
          (measured.length === 0
            ? ""
            : `At N = ${measured.map((r) => r.N).join(", ")} the ratio is a **measured effect** of sharing: ` +
              (partition ? "N > M, so several agents meet each task and only the first to register it learns it. " : `under \`${assignment}\` agents meet the same task at overlapping times. `)) +
          (falls.length === 0
            ? "The ratio **grows with N** at every step" + (measured.length === 0 ? ", as the arithmetic requires" : ", as the paper's factor 1/N against the non-distributed setting says it should") +
              (known.length >= 2 && known[known.length - 1].ratio!.mean < 0.5 * known[known.length - 1].N * known[0].ratio!.mean / known[0].N
                ? "; it grows more slowly than N once identification, which every agent pays, dominates."
                : ".")
            : `The ratio does **not** grow with N everywhere: it falls ${falls.join(" and ")}. This **disagrees** with the paper's 1/N factor there.`)
      )
      headline.push(`ratio to independent ${known.map((r) => fmtFixed(r.ratio!.mean, 1)).join(" → ")} over N = ${known.map((r) => r.N).join(", ")}${suffix}`)
    }
    const failing = Ns.filter((N) => gd.some((o) => o.point.agents === N && o.m.successRate < 1))
    text.push(
      failing.length === 0
        ? `Success rate 1.00 at every N: every agent ended with an ε-optimal policy for every task instance, checked exactly.`
        : `Success rate below 1 at N = ${failing.join(", ")} (${failing.map((N) => fmtFixed(mean(gd.filter((o) => o.point.agents === N).map((o) => o.m.successRate)))).join(", ")}): ` +
          `this **disagrees** with the guarantee that every agent ends ε-optimal (with probability 1 − δ).`
    )
    blocks.push(paragraph(text.join(" ")))
  }
  blocks.push(await linePlot("plots/episodes-vs-agents.svg", "Episodes per agent against N (log–log), with the fitted slope and the 1/N reference", {
    title: "Episodes per agent against the number of agents N",
    subtitle: "mean over seeds, 95% error bars; log–log axes",
    x: { title: "agents N", log: true },
    y: { title: "episodes per agent", log: true },
    series
  }))
  if (ratioSeries.length > 0) {
    blocks.push(await linePlot("plots/ratio-vs-agents.svg", "Ratio of episodes per agent, independent / DistMT-LSVI, against N", {
      title: "How many times fewer episodes per agent than independent",
      subtitle: "per-seed ratio independent / DistMT-LSVI, mean and 95% error bars",
      x: { title: "agents N", log: true },
      y: { title: "ratio of episodes per agent", log: true, format: "~g" },
      series: ratioSeries
    }))
  }
  blocks.push(
    table(
      [
        ...(groups.size > 1 ? ["setting"] : []),
        "N", "M/N", "DistMT learning/agent", "DistMT identification/agent", "DistMT all/agent", "independent/agent", "oracle/agent",
        "independent ÷ DistMT (95% CI)", "DistMT success"
      ],
      tableRows,
      "Episodes per agent, mean over seeds"
    )
  )
  return { blocks, headline }
}

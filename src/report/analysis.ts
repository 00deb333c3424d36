/**
 * What a sweep's report says: each analysis looks at the axes a sweep has, measures what the
 * paper claims about them, and says in plain words whether the measurement agrees
 * (docs/algorithm.md §7). Every analysis returns report blocks (paragraphs, tables, plots) and a
 * one-line headline for the terminal.
 *
 * - `agents` axis: episodes per agent against N (log–log slope of DistMT-LSVI's learning episodes
 *   with a 95% interval over seeds, the 1/N reference, the ratio to `independent` at each N) — E3;
 *   messages, bytes and wall-clock against N — E5.
 * - `cSep` (or `contexts.spacing`) and `stopping.k1` axes: misidentification rate against the
 *   separation and the identification budget — E4.
 * - `contexts.count` axis: episodes per agent against M — E1, E2.
 * - always: identification and sharing, success rates per algorithm.
 */
import type { Algorithm } from "../run/runExperiment.ts"
import { type Block, heading, list, paragraph, plot, table } from "./document.ts"
import { ALGORITHM_COLORS, type Bar, barChartSvg, type LineChart, lineChartSvg, type Series, type SeriesPoint } from "./plots.ts"
import { type Manifest, type ManifestPoint, type RunMetrics, runMetrics, type RunRecord } from "./sweepFiles.ts"
import { interval95, type Interval, mean, slopeOverSeeds } from "./stats.ts"

export interface SweepData {
  readonly dir: string
  readonly manifest: Manifest
  readonly records: ReadonlyMap<string, RunRecord>
}

/** One finished run with its point and numbers. */
export interface Observation {
  readonly point: ManifestPoint
  readonly algorithm: Algorithm
  readonly seed: number
  readonly m: RunMetrics
}

export interface Analysis {
  readonly blocks: ReadonlyArray<Block>
  readonly headline: ReadonlyArray<string>
}

export const NAMES: Record<Algorithm, string> = { distmt: "DistMT-LSVI", independent: "independent", oracle: "oracle" }

/** The acceptance band of docs/algorithm.md §7 E3 around the paper's slope of −1. */
export const SLOPE_BAND: readonly [number, number] = [-1.2, -0.8]

export const observations = (d: SweepData): Array<Observation> =>
  d.manifest.units.flatMap((u) => {
    const rec = d.records.get(u.key)
    const point = d.manifest.points.find((p) => p.index === u.point)
    if (rec === undefined || point === undefined) return []
    return [{ point, algorithm: u.algorithm, seed: u.seed, m: runMetrics(rec.run, point.adaptive) }]
  })

// ─── formatting ───────────────────────────────────────────────────────────────────────────────────

/** A number for prose and tables: thousands separated, otherwise three significant digits; a true minus. */
export const fmt = (x: number | null | undefined, digits = 3): string => {
  if (x === null || x === undefined || Number.isNaN(x)) return "—"
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞"
  const s = Math.abs(x) >= 1000 ? Math.round(x).toLocaleString("en-US") : Number(x.toPrecision(digits)).toString()
  return s.replace(/^-/, "−")
}
const fmtFixed = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d).replace(/^-/, "−") : "—")
const fmtInterval = (i: Interval, d = 2) => (i.n < 2 ? fmtFixed(i.mean, d) : `${fmtFixed(i.mean, d)} (95% CI ${fmtFixed(i.lo, d)} to ${fmtFixed(i.hi, d)})`)
const fmtBytes = (b: number) =>
  !Number.isFinite(b) ? "—" : b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`
const pct = (x: number) => `${(100 * x).toFixed(x === 0 || x === 1 ? 0 : 1)}%`

/** `oracle` is drawn dashed: it often coincides with DistMT-LSVI (same policies, same messages). */
const styleOf = (a: Algorithm): "solid" | "dash" => (a === "oracle" ? "dash" : "solid")

const axisValue = (p: ManifestPoint, axis: string): number => p.values[axis]

/** `k1 = 100`-style label of the axes other than `axis` (the series a plot against `axis` draws). */
const otherLabel = (manifest: Manifest, p: ManifestPoint, axes: ReadonlyArray<string>): string =>
  manifest.axes
    .map(([k]) => k)
    .filter((k) => !axes.includes(k))
    .map((k) => `${shortAxis(k)} = ${fmt(p.values[k])}`)
    .join(", ")

/** How an axis is named for a reader. */
export const shortAxis = (k: string): string =>
  ({ agents: "N", "contexts.count": "M", cSep: "cSep", epsilon: "ε", delta: "δ", "stopping.k1": "K1", "stopping.k2": "K2", "contexts.spacing": "spacing" } as Record<string, string>)[k] ?? k

const seriesPoint = (x: number, xs: ReadonlyArray<number>): SeriesPoint => {
  const i = interval95(xs)
  return { x, y: i.mean, lo: i.lo, hi: i.hi }
}

const groupBy = <A>(xs: ReadonlyArray<A>, key: (a: A) => string): Map<string, Array<A>> => {
  const m = new Map<string, Array<A>>()
  for (const x of xs) {
    const k = key(x)
    const g = m.get(k)
    if (g === undefined) m.set(k, [x])
    else g.push(x)
  }
  return m
}

const sortedUnique = (xs: ReadonlyArray<number>) => [...new Set(xs)].sort((a, b) => a - b)

/** A series of `metric` against the axis, one point per axis value, mean and interval over seeds. */
const seriesOf = (
  obs: ReadonlyArray<Observation>,
  axis: string,
  metric: (m: RunMetrics) => number | null
): Array<SeriesPoint> =>
  sortedUnique(obs.map((o) => axisValue(o.point, axis))).flatMap((x) => {
    const ys = obs.filter((o) => axisValue(o.point, axis) === x).map((o) => metric(o.m)).filter((v): v is number => v !== null)
    return ys.length === 0 ? [] : [seriesPoint(x, ys)]
  })

// ─── E3 / E5: against N ──────────────────────────────────────────────────────────────────────────

const scaling = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  if (!d.manifest.axes.some(([k]) => k === "agents")) return undefined
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
    const Ns = sortedUnique(gd.map((o) => o.point.agents))
    const M = gd[0].point.tasks
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
    const seeds = fit.perSeed.length
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
      text.push(
        `The paper's bound Õ(d³H⁶(ε⁻² + c_Sep⁻²)·M/N) episodes per agent predicts a slope of −1: ` +
          (inBand && (covers || s.n < 2)
            ? "the measurement **agrees**."
            : inBand
            ? `the measurement is within the band ${fmt(SLOPE_BAND[0])} to ${fmt(SLOPE_BAND[1])} around −1, so it **agrees** in size, but its interval excludes −1 exactly.`
            : `the measurement **disagrees**: ${fmtFixed(s.mean, 3)} is outside the band ${fmt(SLOPE_BAND[0])} to ${fmt(SLOPE_BAND[1])}.`)
      )
      headline.push(`learning episodes per agent ∝ N^${fmtFixed(s.mean, 3)}${s.n >= 2 ? ` (95% CI ${fmtFixed(s.lo, 3)} to ${fmtFixed(s.hi, 3)})` : ""} for N ≤ M${suffix}`)
    } else {
      text.push("Fewer than two values of N with M/N ≥ 1: no slope is fitted.")
    }
    if (Ns.some((N) => !inRange(N)) && Number.isFinite(all.slope.mean)) {
      text.push(
        `Over all N, including N > M where several agents meet each task and only the first learns it, the slope is ${fmtFixed(all.slope.mean)}.`
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
      text.push(
        `Against \`independent\` (every agent learns all M tasks alone), DistMT-LSVI needs fewer episodes per agent by a factor of ` +
          known.map((r) => `${fmtFixed(r.ratio!.mean)} at N = ${r.N}`).join(", ") + ". " +
          (falls.length === 0
            ? "The ratio **grows with N** at every step, as the paper's factor 1/N against the non-distributed setting says it should" +
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
  const svg = await lineChartSvg({
    title: "Episodes per agent against the number of agents N",
    subtitle: "mean over seeds, 95% error bars; log–log axes",
    x: { title: "agents N", log: true },
    y: { title: "episodes per agent", log: true },
    series
  })
  blocks.push(plot("plots/episodes-vs-agents.svg", "Episodes per agent against N (log–log), with the fitted slope and the 1/N reference", svg))
  if (ratioSeries.length > 0) {
    const rsvg = await lineChartSvg({
      title: "How many times fewer episodes per agent than independent",
      subtitle: "per-seed ratio independent / DistMT-LSVI, mean and 95% error bars",
      x: { title: "agents N", log: true },
      y: { title: "ratio of episodes per agent", log: true, format: "~g" },
      series: ratioSeries
    })
    blocks.push(plot("plots/ratio-vs-agents.svg", "Ratio of episodes per agent, independent / DistMT-LSVI, against N", rsvg))
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

const communication = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  if (!d.manifest.axes.some(([k]) => k === "agents")) return undefined
  const withServer = obs.filter((o) => o.algorithm !== "independent")
  if (withServer.length === 0) return undefined
  const blocks: Array<Block> = [heading(2, "Communication and wall-clock against N")]
  const headline: Array<string> = []
  const messages: Array<Series> = []
  const bytes: Array<Series> = []
  const wall: Array<Series> = []
  const text: Array<string> = []
  const verdicts: Array<string> = []
  for (const alg of ["distmt", "oracle", "independent"] as const) {
    const ga = obs.filter((o) => o.algorithm === alg)
    if (ga.length === 0) continue
    for (const [label, g] of groupBy(ga, (o) => otherLabel(d.manifest, o.point, ["agents"]))) {
      const name = `${NAMES[alg]}${label === "" ? "" : ` (${label})`}`
      const color = label === "" ? ALGORITHM_COLORS[alg] : undefined
      const style = styleOf(alg)
      wall.push({ name, color, style, points: seriesOf(g, "agents", (m) => m.wallSeconds) })
      if (alg === "independent") continue
      messages.push({ name, color, style, points: seriesOf(g, "agents", (m) => m.messages) })
      bytes.push({ name, color, style, points: seriesOf(g, "agents", (m) => m.bytes) })
      const sm = slopeOverSeeds(g.map((o) => ({ seed: o.seed, x: o.point.agents, y: o.m.messages })))
      const sb = slopeOverSeeds(g.map((o) => ({ seed: o.seed, x: o.point.agents, y: o.m.bytes })))
      // Beyond N = M the per-instance and per-agent terms dominate: there the growth should be linear.
      const large = g.filter((o) => o.point.agents >= o.point.tasks)
      const largeNs = sortedUnique(large.map((o) => o.point.agents))
      const smLarge = largeNs.length >= 2 ? slopeOverSeeds(large.map((o) => ({ seed: o.seed, x: o.point.agents, y: o.m.messages }))) : undefined
      const sbLarge = largeNs.length >= 2 ? slopeOverSeeds(large.map((o) => ({ seed: o.seed, x: o.point.agents, y: o.m.bytes }))) : undefined
      const Ns = sortedUnique(g.map((o) => o.point.agents))
      const at = (N: number, f: (m: RunMetrics) => number) => mean(g.filter((o) => o.point.agents === N).map((o) => f(o.m)))
      const lo = Ns[0]
      const hi = Ns[Ns.length - 1]
      const perAgent = Ns.map((N) => at(N, (m) => m.messages) / N)
      text.push(
        `${name}: messages per run go from ${fmt(at(lo, (m) => m.messages))} at N = ${lo} to ${fmt(at(hi, (m) => m.messages))} at N = ${hi}, ` +
          `${fmt(perAgent[0])} to ${fmt(perAgent[perAgent.length - 1])} per agent (log–log slope ${fmtInterval(sm.slope)} over all N` +
          (smLarge === undefined ? "" : `, ${fmtInterval(smLarge.slope)} over N ≥ M = ${large[0].point.tasks}`) + `); ` +
          `bytes from ${fmtBytes(at(lo, (m) => m.bytes))} to ${fmtBytes(at(hi, (m) => m.bytes))} (slope ${fmtInterval(sb.slope)}` +
          (sbLarge === undefined ? "" : `, ${fmtInterval(sbLarge.slope)} over N ≥ M`) + `); ` +
          `wall-clock per run from ${fmtFixed(at(lo, (m) => m.wallSeconds))} s to ${fmtFixed(at(hi, (m) => m.wallSeconds))} s.`
      )
      if (alg === "distmt") {
        const linear = smLarge === undefined
          ? perAgent.every((x, i) => i === 0 || x <= perAgent[i - 1] * 1.05)
          : Math.abs(smLarge.slope.mean - 1) <= 0.2
        verdicts.push(
          linear
            ? `DistMT-LSVI's messages per agent stay bounded, so its communication grows linearly in N: this **agrees**.`
            : `DistMT-LSVI's messages per agent grow with N (slope ${fmtFixed((smLarge ?? sm).slope.mean)}): this **disagrees** with linear growth.`
        )
        headline.push(`messages per agent ${fmt(perAgent[0])} → ${fmt(perAgent[perAgent.length - 1])}, bytes ${fmtBytes(at(lo, (m) => m.bytes))} → ${fmtBytes(at(hi, (m) => m.bytes))} per run`)
      }
    }
  }
  blocks.push(
    paragraph(
      `**Communication.** Measured: the requests and replies to and from the server per run, their bytes (ids and floats 8 bytes, a policy its ` +
        `w̄ and Λ⁻¹ arrays), and the wall-clock time of a run, against N. ` + text.join(" ") + " " +
        `The protocol (docs/algorithm.md §3) costs two messages per identification (one per task instance), per publication (one per task), per ` +
        `wait for a policy, and per final fetch (one per agent). Under \`partition\` there are max(N, M) instances, so messages grow like ` +
        `4M + 2N while N ≤ M and then linearly, 4 to 6 per agent (6 when an agent waits for a policy); bytes are dominated by the final ` +
        `fetches, N·M policies. The agents exchange ` +
        `policies and intervals, never raw experience. ${verdicts.join(" ")} ` +
        `Wall-clock here is one process simulating all N agents on one core: it measures the total simulation work, not the time a real ` +
        `distributed deployment would take.`
    )
  )
  blocks.push(plot("plots/messages-vs-agents.svg", "Messages per run against N (log–log)", await lineChartSvg({
    title: "Messages to and from the server per run",
    subtitle: "mean over seeds, 95% error bars; log–log axes",
    x: { title: "agents N", log: true },
    y: { title: "messages per run", log: true },
    series: messages
  })))
  blocks.push(plot("plots/bytes-vs-agents.svg", "Bytes per run against N (log–log)", await lineChartSvg({
    title: "Bytes to and from the server per run",
    subtitle: "mean over seeds, 95% error bars; log–log axes",
    x: { title: "agents N", log: true },
    y: { title: "bytes per run", log: true, format: "~s" },
    series: bytes
  })))
  blocks.push(plot("plots/wall-vs-agents.svg", "Wall-clock seconds per run against N (log–log)", await lineChartSvg({
    title: "Wall-clock time of one run",
    subtitle: "all N agents simulated in one process; mean over seeds, 95% error bars",
    x: { title: "agents N", log: true },
    y: { title: "seconds per run", log: true, format: "~g" },
    series: wall
  })))
  return { blocks, headline }
}

// ─── E4: separation and identification budget ───────────────────────────────────────────────────

const SEPARATION_AXES = ["cSep", "contexts.spacing"]
const BUDGET_AXES = ["stopping.k1"]
/** A misidentification rate at most this counts as "no misidentification" in the prose. */
const NEGLIGIBLE = 0.02

const separability = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  const sepAxis = d.manifest.axes.map(([k]) => k).find((k) => SEPARATION_AXES.includes(k))
  const budgetAxis = d.manifest.axes.map(([k]) => k).find((k) => BUDGET_AXES.includes(k))
  if (sepAxis === undefined && budgetAxis === undefined) return undefined
  const dist = obs.filter((o) => o.algorithm === "distmt")
  if (dist.length === 0) return undefined
  const blocks: Array<Block> = [heading(2, "Misidentification against the separation and the identification budget")]
  const headline: Array<string> = []
  const rate = (m: RunMetrics) => m.misidentificationRate
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
      const clean = pts.findIndex((_, i) => pts.slice(i).every((p) => p.y <= NEGLIGIBLE))
      thresholds.push({
        label,
        budget: budgetAxis === undefined ? undefined : g[0].point.values[budgetAxis],
        at: clean === -1 ? undefined : pts[clean].x
      })
      pts.slice(1).forEach((p, i) => {
        if (p.y > pts[i].y + 0.1) violations.push(`${label === "" ? "" : `${label}: `}the rate rises from ${fmtFixed(pts[i].y)} at ${shortAxis(sepAxis)} = ${fmt(pts[i].x)} to ${fmtFixed(p.y)} at ${fmt(p.x)}`)
      })
    }
    blocks.push(plot("plots/misidentification-vs-separation.svg", `Misidentification rate against ${sepAxis}`, await lineChartSvg({
      title: `Misidentification rate against the separation ${shortAxis(sepAxis)}`,
      subtitle: "the family's tasks are spaced exactly by this separation; mean over seeds, 95% error bars",
      x: { title: sepAxis === "cSep" ? "separation cSep (declared = actual)" : "spacing of the family's V*(s0)" },
      y: { title: "misidentification rate", domain: [0, 1], format: "~g" },
      series
    })))
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
      pts.slice(1).forEach((p, i) => {
        if (p.y > pts[i].y + 0.1) violations.push(`${label === "" ? "" : `${label}: `}the rate rises from ${fmtFixed(pts[i].y)} at K1 = ${fmt(pts[i].x)} to ${fmtFixed(p.y)} at K1 = ${fmt(p.x)}`)
      })
    }
    blocks.push(plot("plots/misidentification-vs-budget.svg", "Misidentification rate against the identification budget K1", await lineChartSvg({
      title: "Misidentification rate against the identification budget K1",
      subtitle: "episodes each instance explores before asking the server; mean over seeds, 95% error bars",
      x: { title: "identification budget K1 (episodes)", log: true },
      y: { title: "misidentification rate", domain: [0, 1], format: "~g" },
      series
    })))
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
  const worst = Math.max(...dist.map((o) => o.m.misidentificationRate ?? 0))
  headline.push(`misidentification rate from ${fmtFixed(worst)} (worst point) down to ${fmtFixed(Math.min(...dist.map((o) => o.m.misidentificationRate ?? 0)))}`)
  blocks.splice(1, 0, paragraph(text.join(" ")))
  return { blocks, headline }
}

// ─── E1, E2: against M ───────────────────────────────────────────────────────────────────────────

const tasksAxis = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  const axis = "contexts.count"
  if (!d.manifest.axes.some(([k]) => k === axis)) return undefined
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
          ? `The ratio is close to N = ${n}: this **agrees** with the paper's factor 1/N.`
          : `The ratio stays **below N = ${n}**: identification, which every agent pays for every instance it meets and which sharing cannot remove, ` +
            `is ${pct(idShare)} of DistMT-LSVI's episodes here (identification stops at width cSep/2, learning at ε). On total episodes this ` +
            `**falls short** of the factor 1/N, which needs identification to be cheap against learning (cSep/2 well above ε); on learning ` +
            `episodes, every task learned once is exactly the sharing the paper describes.`)
    }
  }
  blocks.push(paragraph(`**Number of tasks.** Measured: episodes per agent against M on log–log axes. ${text.join(" ")} ${claim}${verdict}${ratioText}`))
  if (si !== undefined) headline.push(`independent ∝ M^${fmtFixed(si)}${slopes.has("distmt") ? `, DistMT-LSVI ∝ M^${fmtFixed(slopes.get("distmt")!)}` : ""}`)
  blocks.push(plot("plots/episodes-vs-tasks.svg", "Episodes per agent against M (log–log)", await lineChartSvg({
    title: "Episodes per agent against the number of tasks M",
    subtitle: "mean over seeds, 95% error bars; log–log axes",
    x: { title: "tasks M", log: true },
    y: { title: "episodes per agent", log: true },
    series
  })))
  return { blocks, headline }
}

// ─── any other axis ──────────────────────────────────────────────────────────────────────────────

const COVERED = new Set(["agents", "contexts.count", ...SEPARATION_AXES, ...BUDGET_AXES])

const otherAxes = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  const axes = d.manifest.axes.map(([k]) => k).filter((k) => !COVERED.has(k))
  if (axes.length === 0) return undefined
  const blocks: Array<Block> = []
  for (const axis of axes) {
    const series: Array<Series> = []
    for (const alg of d.manifest.algorithms) {
      for (const [label, g] of groupBy(obs.filter((o) => o.algorithm === alg), (o) => otherLabel(d.manifest, o.point, [axis]))) {
        series.push({ name: `${NAMES[alg]}${label === "" ? "" : ` (${label})`}`, color: label === "" ? ALGORITHM_COLORS[alg] : undefined, points: seriesOf(g, axis, (m) => m.meanEpisodesPerAgent) })
      }
    }
    const file = `plots/episodes-vs-${axis.replace(/[^A-Za-z0-9]+/g, "-")}.svg`
    blocks.push(heading(2, `Episodes per agent against ${axis}`))
    blocks.push(paragraph(`Measured: episodes per agent against the swept field \`${axis}\`, mean over seeds.`))
    blocks.push(plot(file, `Episodes per agent against ${axis}`, await lineChartSvg({
      title: `Episodes per agent against ${axis}`,
      subtitle: "mean over seeds, 95% error bars",
      x: { title: axis },
      y: { title: "episodes per agent", log: true },
      series
    })))
  }
  return { blocks, headline: [] }
}

// ─── always: identification, success ────────────────────────────────────────────────────────────

const identification = (d: SweepData, obs: ReadonlyArray<Observation>): Analysis | undefined => {
  const dist = obs.filter((o) => o.algorithm === "distmt")
  if (dist.length === 0 || d.manifest.axes.some(([k]) => SEPARATION_AXES.includes(k) || BUDGET_AXES.includes(k))) return undefined
  const acc = mean(dist.map((o) => o.m.identificationAccuracy ?? 0))
  const wrongRuns = dist.filter((o) => (o.m.identificationAccuracy ?? 0) < 1)
  const extraEntries = dist.filter((o) => o.m.registered !== o.point.tasks && o.point.agents * 1 >= 1)
  return {
    blocks: [
      heading(2, "Identification"),
      paragraph(
        `**Identification.** Over all ${dist.length} DistMT-LSVI runs, ${pct(acc)} of task instances were identified with the right task ` +
          (wrongRuns.length === 0
            ? "(every run identified every instance right)"
            : `(${wrongRuns.length} run${wrongRuns.length === 1 ? "" : "s"} had misidentified instances)`) +
          `, and ${extraEntries.length === 0 ? "the server's registry held exactly one entry per task that appeared in every run" : `${extraEntries.length} run${extraEntries.length === 1 ? "" : "s"} registered a different number of entries than tasks`}. ` +
          `The paper's separability argument says that with adaptive identification (explore until the certificate's width is at most cSep/2) ` +
          `and a valid certificate, identification is always right: ${wrongRuns.length === 0 ? "this **agrees**." : "the misidentified runs **disagree** (check the certificates column: a certificate that fails to hold means β is too small)."}`
      )
    ],
    headline: [`identification accuracy ${pct(acc)}`]
  }
}

const success = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis> => {
  const blocks: Array<Block> = [heading(2, "Success rate per algorithm")]
  const headline: Array<string> = []
  const axes = d.manifest.axes.map(([k]) => k)
  const points = d.manifest.points.filter((p) => obs.some((o) => o.point.index === p.index))
  // One axis and few points: grouped bars per point. More: a line per algorithm and setting against the first axis.
  const asBars = axes.length <= 1 && points.length <= 12
  const bars: Array<Bar> = []
  const lines: Array<Series> = []
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
    if (asBars) {
      for (const p of points) {
        const i = interval95(ga.filter((o) => o.point.index === p.index).map((o) => o.m.successRate))
        const group = axes.length === 0 ? "the spec as written" : `${shortAxis(axes[0])} = ${fmt(p.values[axes[0]])}`
        bars.push({ group, name: NAMES[alg], y: i.mean, lo: Math.max(0, i.lo), hi: Math.min(1, i.hi), color: ALGORITHM_COLORS[alg] })
      }
    } else {
      for (const [label, g] of groupBy(ga, (o) => otherLabel(d.manifest, o.point, [axes[0]]))) {
        lines.push({
          name: `${NAMES[alg]}${label === "" ? "" : `, ${label}`}`,
          color: label === "" ? ALGORITHM_COLORS[alg] : undefined,
          style: styleOf(alg),
          points: seriesOf(g, axes[0], (m) => m.successRate).map((p) => ({ ...p, lo: Math.max(0, p.lo), hi: Math.min(1, p.hi) }))
        })
      }
    }
  }
  const all = obs.every((o) => o.m.successRate === 1)
  const schedule = d.manifest.points.some((p) => !p.adaptive)
  const delta = mean(d.manifest.points.map((p) => Number((p.spec as { delta?: number }).delta ?? NaN)))
  blocks.push(
    paragraph(
      `**Success.** Measured: the share of (agent, task instance) pairs whose final policy is ε-optimal, V*(s0) − V^π(s0) ≤ ε, computed exactly ` +
        `from the tables: ${parts.join("; ")}. The paper guarantees that every agent ends with an ε-optimal policy for every task it met, ` +
        `with probability at least 1 − δ${Number.isFinite(delta) ? ` = ${fmt(1 - delta)}` : ""}` +
        (schedule ? ", provided the schedule's K1 and K2 are large enough — with fixed budgets, success falls where identification fails or K2 is short" : "") +
        `. ${all ? "Every run reached success 1.00: this **agrees**." : schedule ? "Runs below 1.00 are expected where the budgets are too small (see the misidentification plot)." : "Runs below 1.00 **disagree** with the guarantee unless they are within its δ."}`
    )
  )
  const title = "Success rate per algorithm"
  const subtitle = "share of (agent, task instance) pairs with an ε-optimal final policy; mean over seeds, 95% error bars"
  const svg = asBars
    ? await barChartSvg({ title, subtitle, x: { title: axes.length === 0 ? "" : axes[0] === "agents" ? "agents N" : axes[0] }, y: { title: "success rate", domain: [0, 1] }, bars })
    : await lineChartSvg({
      title,
      subtitle,
      x: { title: axes[0], log: axes[0] === "stopping.k1" || axes[0] === "agents" },
      y: { title: "success rate", domain: [0, 1.02], format: "~g" },
      series: lines
    })
  blocks.push(plot("plots/success.svg", "Success rate per algorithm", svg))
  return { blocks, headline }
}

/** The per-point, per-algorithm table of the summary numbers. */
const pointsTable = (d: SweepData, obs: ReadonlyArray<Observation>): Block => {
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
        ...axes.map((k) => fmt(p.values[k])),
        NAMES[alg],
        String(g.length),
        fmtFixed(avg((m) => m.successRate)!),
        g.length < 2 ? fmt(ep.mean) : `${fmt(ep.mean)} ± ${fmt(ep.hi - ep.mean)}`,
        fmt(avg((m) => m.meanIdentificationEpisodesPerAgent)),
        fmt(avg((m) => m.meanLearningEpisodesPerAgent)),
        alg === "independent" ? "—" : fmtFixed(avg((m) => m.identificationAccuracy)!),
        fmtFixed(avg((m) => m.certificateRate)!),
        fmt(avg((m) => m.messages)),
        fmtBytes(avg((m) => m.bytes)!),
        fmtFixed(avg((m) => m.wallSeconds)!)
      ])
    }
  }
  return table(
    [...axes.map(shortAxis), "algorithm", "seeds", "success", "episodes/agent (95% CI)", "identify", "learn", "ident. acc.", "certificates", "messages", "bytes", "wall s"],
    rows,
    "Every point and algorithm, mean over seeds"
  )
}

/** The whole report of one sweep: its header, every analysis that applies, and the table of all points. */
export const analyse = async (d: SweepData): Promise<{ readonly blocks: ReadonlyArray<Block>; readonly headline: ReadonlyArray<string> }> => {
  const obs = observations(d)
  const m = d.manifest
  const finished = m.units.filter((u) => d.records.has(u.key)).length
  const blocks: Array<Block> = [heading(1, `${m.name}${m.quick ? " (quick)" : ""}: sweep report`)]
  if (m.description !== undefined) blocks.push(paragraph(m.description))
  const p0 = m.points[0]
  blocks.push(
    list([
      `Spec: \`${m.source}\`${m.quick ? " with its `quick` variant (`--quick`)" : ""}; written by \`distmt sweep\`, read by \`distmt report\`.`,
      `Axes: ${m.axes.length === 0 ? "none (the spec as written)" : m.axes.map(([k, v]) => `\`${k}\` ∈ {${v.map((x) => fmt(x)).join(", ")}}`).join(" × ")}; ` +
        `seeds ${m.seeds.join(", ")}; algorithms: ${m.algorithms.map((a) => NAMES[a]).join(", ")}.`,
      ...(p0 === undefined
        ? []
        : [
          `Setting: ε = ${fmt(p0.epsilon)}${m.axes.some(([k]) => k === "epsilon") ? " (swept)" : ""}, declared cSep = ${fmt(p0.cSep)}${m.axes.some(([k]) => k === "cSep") ? " (swept)" : ""}, ` +
            `actual separation ${p0.separation === null ? "∞ (one task)" : fmt(p0.separation)}, β = ${fmt(p0.beta)}, stopping rule ${p0.adaptive ? "adaptive (certificate widths)" : "schedule (K1, K2)"}.`
        ]),
      `Runs: ${finished} of ${m.units.length} finished${finished < m.units.length ? " — **incomplete**: the numbers below use the finished runs only; run the sweep again to finish it" : ""}.`
    ])
  )
  const headline: Array<string> = []
  const sections: Array<Analysis | undefined> = [
    await scaling(d, obs),
    await communication(d, obs),
    await separability(d, obs),
    await tasksAxis(d, obs),
    await otherAxes(d, obs),
    identification(d, obs),
    await success(d, obs)
  ]
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

/**
 * E6: experience sharing against policy sharing (docs/algorithm.md §3 step 3), in the regime where
 * sharing is a real effect: several agents meet the same task at overlapping times (`stream`,
 * `random(k)`, N > M). Applies to a sweep with a `sharing` axis. Per setting (the other axes'
 * values), algorithm and sharing mode: episodes per agent, wall-clock in virtual time (episodes
 * until the last agent held every policy), and traffic, the policy messages and the experience
 * pool's apart. The ratio experience / policy is taken seed by seed (same seed, same environments,
 * same assignment), then given with its 95% interval over seeds.
 */
import type { Algorithm } from "../../run/runExperiment.ts"
import { type Block, heading, paragraph, plot, table } from "../document.ts"
import { type Bar, barChartSvg, linePlot, type Series } from "../plots.ts"
import type { RunMetrics } from "../sweepFiles.ts"
import { interval95, type Interval, mean } from "../stats.ts"
import { bytes } from "../bytes.ts"
import {
  type Analysis,
  fmt,
  fmtFixed,
  groupBy,
  NAMES,
  numericAxes,
  type Observation,
  otherLabel,
  seriesOf,
  shortAxis,
  type SweepData,
  valueLabel
} from "./common.ts"

export const SHARING_AXIS = "sharing"

/** One color per (algorithm, mode), the mode a lighter shade: the same in every plot of the section. */
const COLORS: Readonly<Record<string, string>> = {
  "distmt/policy": "#1f5fa8",
  "distmt/experience": "#79a6dc",
  "oracle/policy": "#2e8b3d",
  "oracle/experience": "#8fd19e",
  "independent/policy": "#d9711c",
  "independent/experience": "#d9711c"
}
const DASHES = ["solid", "dash", "dot"] as const

const ci = (i: Interval, f: (x: number) => string = fmtFixed) => (i.n < 2 ? f(i.mean) : `${f(i.mean)} (95% CI ${f(i.lo)} to ${f(i.hi)})`)

/** Per seed, experience / policy of a metric at one setting; the interval over seeds. */
const ratioOverSeeds = (g: ReadonlyArray<Observation>, alg: Algorithm, metric: (m: RunMetrics) => number): Interval | undefined => {
  const at = (mode: string) => g.filter((o) => o.algorithm === alg && o.point.values[SHARING_AXIS] === mode)
  const policy = at("policy")
  const per = at("experience").flatMap((e) => {
    const p = policy.find((x) => x.seed === e.seed)
    return p === undefined || metric(p.m) === 0 ? [] : [metric(e.m) / metric(p.m)]
  })
  return per.length === 0 ? undefined : interval95(per)
}

/** A ratio within this of 1 counts as "the same": a difference of a few episodes in tens of thousands is not an effect. */
const SAME = 0.01

/** Fewer, more, the same, or not resolved by the seeds: read off the interval of a ratio against 1. */
const direction = (r: Interval): "fewer" | "more" | "same" | "unresolved" =>
  r.lo >= 1 - SAME && r.hi <= 1 + SAME ? "same" : r.n >= 2 && r.hi < 1 ? "fewer" : r.n >= 2 && r.lo > 1 ? "more" : "unresolved"

const WORDS = { fewer: "**fewer**", more: "**more**", same: "the same (within 1%)", unresolved: "not resolved by the seeds" } as const

/** `from 0.75 to 0.89`, or the one value. */
const range = (xs: ReadonlyArray<number>) => {
  const lo = Math.min(...xs)
  const hi = Math.max(...xs)
  return fmtFixed(lo) === fmtFixed(hi) ? fmtFixed(lo) : `from ${fmtFixed(lo)} to ${fmtFixed(hi)}`
}

/** How many settings fall each way, in words: `fewer in 5 of 6 settings, not resolved by the seeds in 1`. */
const tally = (rs: ReadonlyArray<Interval>) => {
  const counts = new Map<string, number>()
  for (const r of rs) counts.set(direction(r), (counts.get(direction(r)) ?? 0) + 1)
  return [...counts].map(([k, n], i) => `${WORDS[k as keyof typeof WORDS]} in ${n}${i === 0 ? ` of ${rs.length} setting${rs.length === 1 ? "" : "s"}` : ""}`).join(", ")
}

export const sharingAnalysis = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  const axis = d.manifest.axes.find(([k]) => k === SHARING_AXIS)
  if (axis === undefined || obs.length === 0) return undefined
  const modes = axis[1].map(String)
  const blocks: Array<Block> = [heading(2, "Experience sharing against policy sharing")]
  const headline: Array<string> = []
  // `independent` shares nothing: its runs are the same under both modes, so it is shown once, from the first mode's runs.
  const shown = obs.filter((o) => o.algorithm !== "independent" || o.point.values[SHARING_AXIS] === modes[0])
  const settings = groupBy(shown, (o) => otherLabel(d.manifest, o.point, [SHARING_AXIS]))
  const rows: Array<Array<string>> = []
  const ratioRows: Array<Array<string>> = []
  const allRatios: Array<{ readonly setting: string; readonly alg: Algorithm; readonly episodes: Interval; readonly wall: Interval | undefined }> = []
  for (const [setting, g] of settings) {
    for (const alg of d.manifest.algorithms) {
      for (const mode of alg === "independent" ? [modes[0]] : modes) {
        const ga = g.filter((o) => o.algorithm === alg && o.point.values[SHARING_AXIS] === mode)
        if (ga.length === 0) continue
        const avg = (f: (m: RunMetrics) => number) => mean(ga.map((o) => f(o.m)))
        const ep = interval95(ga.map((o) => o.m.meanEpisodesPerAgent))
        rows.push([
          setting === "" ? "—" : setting,
          NAMES[alg],
          alg === "independent" ? "none" : mode,
          String(ga.length),
          ga.length < 2 ? fmt(ep.mean) : `${fmt(ep.mean)} ± ${fmt(ep.hi - ep.mean)}`,
          fmt(avg((m) => m.maxEpisodesPerAgent)),
          fmt(avg((m) => m.virtualEpisodes)),
          fmt(avg((m) => m.messages)),
          bytes(avg((m) => m.bytes)),
          fmt(avg((m) => m.experienceMessages)),
          fmt(avg((m) => m.transitionsPushed)),
          fmt(avg((m) => m.transitionsPulled)),
          bytes(avg((m) => m.experienceBytes)),
          fmtFixed(avg((m) => m.successRate))
        ])
      }
      if (alg === "independent" || !modes.includes("policy") || !modes.includes("experience")) continue
      const episodes = ratioOverSeeds(g, alg, (m) => m.meanEpisodesPerAgent)
      if (episodes === undefined) continue
      const wall = ratioOverSeeds(g, alg, (m) => m.virtualEpisodes)
      allRatios.push({ setting, alg, episodes, wall })
      ratioRows.push([
        setting === "" ? "—" : setting,
        NAMES[alg],
        String(episodes.n),
        ci(episodes),
        WORDS[direction(episodes)].replace(/\*\*/g, ""),
        wall === undefined ? "—" : ci(wall),
        wall === undefined ? "—" : WORDS[direction(wall)].replace(/\*\*/g, "")
      ])
    }
  }
  const dist = allRatios.filter((r) => r.alg === "distmt")
  // One sentence per algorithm: the measured ratios' range over settings, and how many settings the seeds resolve each way.
  const sentences = (["distmt", "oracle"] as const).flatMap((alg) => {
    const rs = allRatios.filter((r) => r.alg === alg)
    if (rs.length === 0) return []
    const walls = rs.flatMap((r) => (r.wall === undefined ? [] : [r.wall]))
    return [
      `${NAMES[alg]} with experience sharing runs ${range(rs.map((r) => r.episodes.mean))} times the episodes per agent of policy sharing ` +
        `(per-seed ratios, mean over ${rs[0].episodes.n} seed${rs[0].episodes.n === 1 ? "" : "s"}; ${tally(rs.map((r) => r.episodes))} at 95%)` +
        (walls.length === 0 ? "." : `, and ${range(walls.map((w) => w.mean))} times its wall-clock in virtual time (${tally(walls)}).`)
    ]
  })
  const success = shown.filter((o) => o.m.successRate < 1)
  blocks.push(
    paragraph(
      `**Experience against policy sharing.** Measured: for each setting and sharing mode, episodes per agent (identification and ` +
        `learning), the wall-clock in virtual time (episodes until the last agent held a policy of every task), and the traffic: the ` +
        `policy messages and bytes (identify, publish, wait, fetch) and, apart, the experience pool's (messages, transitions pushed and ` +
        `pulled, bytes). Under policy sharing an agent matched to a task still being learned waits for the owner's policy; under ` +
        `experience sharing it keeps running episodes and learns from every contributor's transitions (docs/algorithm.md §3 step 3), so ` +
        `the task's learning is split among the agents that meet it at overlapping times. ` +
        (sentences.length === 0 ? "No setting has finished runs of both modes: no ratio." : `${sentences.join(" ")} The table below gives each setting's ratio with its 95% interval.`) +
        " `oracle` (identities given) pools too under experience sharing; `independent` shares nothing and is shown once. " +
        (success.length === 0
          ? "Every run ended with success 1.00: every agent held an ε-optimal policy for every task, checked exactly."
          : `${success.length} run${success.length === 1 ? "" : "s"} ended with success below 1.00 (see the table).`)
    )
  )
  if (dist.length > 0) {
    const lo = Math.min(...dist.map((r) => r.episodes.mean))
    const hi = Math.max(...dist.map((r) => r.episodes.mean))
    headline.push(`DistMT-LSVI experience/policy episodes per agent ${lo === hi ? fmtFixed(lo) : `${fmtFixed(lo)} to ${fmtFixed(hi)}`} over ${dist.length} setting${dist.length === 1 ? "" : "s"}`)
  }
  if (ratioRows.length > 0) {
    blocks.push(
      table(
        ["setting", "algorithm", "seeds", "episodes/agent, experience ÷ policy (95% CI)", "episodes", "virtual wall-clock, experience ÷ policy (95% CI)", "wall-clock"],
        ratioRows,
        "Experience sharing against policy sharing, per-seed ratios (same seed, same environments), mean and 95% t interval over seeds"
      )
    )
  }
  blocks.push(...(await charts(d, shown)))
  blocks.push(
    table(
      [
        "setting", "algorithm", "sharing", "seeds", "episodes/agent (95% CI)", "max/agent", "virtual wall-clock", "messages", "bytes",
        "experience messages", "pushed", "pulled", "experience bytes", "success"
      ],
      rows,
      "Episodes per agent, virtual wall-clock (episodes) and traffic per run (policy, then experience), mean over seeds"
    )
  )
  return { blocks, headline }
}

/**
 * Episodes per agent, virtual wall-clock and traffic: lines against the first other numeric axis
 * (e.g. N) when there is one, otherwise grouped bars per setting.
 */
const charts = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Array<Block>> => {
  const x = numericAxes(d.manifest).find((k) => k !== SHARING_AXIS)
  const keyOf = (o: Observation) => `${o.algorithm}/${String(o.point.values[SHARING_AXIS])}`
  // Legend entries stay short (Vega cuts labels at about 50 characters): the other axes by their values alone.
  const nameOf = (o: Observation) => (o.algorithm === "independent" ? NAMES.independent : `${NAMES[o.algorithm]} ${String(o.point.values[SHARING_AXIS])}`)
  const restOf = (o: Observation) =>
    d.manifest.axes.map(([k]) => k).filter((k) => k !== SHARING_AXIS && k !== x).map((k) => valueLabel(o.point.values[k])).join(", ")
  const draw = async (file: string, title: string, ytitle: string, metrics: ReadonlyArray<readonly [string, (m: RunMetrics) => number]>, keep: (o: Observation) => boolean) => {
    const sub = obs.filter(keep)
    if (x !== undefined) {
      const rests = [...groupBy(sub, restOf).keys()]
      const series: Array<Series> = []
      for (const [key, g] of groupBy(sub, keyOf)) {
        for (const [rest, gr] of groupBy(g, restOf)) {
          for (const [what, f] of metrics) {
            const points = seriesOf(gr, x, (m) => f(m)).filter((p) => p.y > 0)
            if (points.length === 0) continue
            series.push({
              name: `${nameOf(g[0])}${what === "" ? "" : `: ${what}`}${rest === "" ? "" : `, ${rest}`}`,
              color: COLORS[key],
              style: DASHES[(rests.indexOf(rest) + metrics.findIndex(([w]) => w === what)) % DASHES.length],
              points
            })
          }
        }
      }
      return await linePlot(file, title, { title, subtitle: "mean over seeds, 95% error bars; log–log axes", x: { title: x === "agents" ? "agents N" : shortAxis(x), log: true }, y: { title: ytitle, log: true, format: "~s" }, series })
    }
    const bars: Array<Bar> = []
    for (const [setting, g] of groupBy(sub, (o) => otherLabel(d.manifest, o.point, [SHARING_AXIS]))) {
      for (const [key, gk] of groupBy(g, keyOf)) {
        for (const [what, f] of metrics) {
          const i = interval95(gk.map((o) => f(o.m)))
          if (i.mean > 0) bars.push({ group: setting === "" ? "the spec as written" : setting, name: `${nameOf(gk[0])}${what === "" ? "" : `: ${what}`}`, y: i.mean, lo: Math.max(0, i.lo), hi: i.hi, color: metrics.length > 1 && what !== metrics[0][0] ? undefined : COLORS[key] })
        }
      }
    }
    return plot(file, title, await barChartSvg({ title, subtitle: "mean over seeds, 95% error bars", x: { title: "setting" }, y: { title: ytitle, log: metrics.length > 1 }, bars }))
  }
  const server = (o: Observation) => o.algorithm !== "independent"
  return [
    await draw("plots/sharing-episodes.svg", "Episodes per agent, experience against policy sharing", "episodes per agent", [["", (m) => m.meanEpisodesPerAgent]], () => true),
    await draw("plots/sharing-wallclock.svg", "Wall-clock in virtual time: episodes until the last agent held every policy", "virtual wall-clock (episodes)", [["", (m) => m.virtualEpisodes]], () => true),
    await draw("plots/sharing-traffic.svg", "Traffic per run: policy messages and the experience pool (pool bytes), apart", "bytes per run", [["policy bytes", (m) => m.bytes], ["pool bytes", (m) => m.experienceBytes]], server)
  ]
}

/**
 * E5 (docs/algorithm.md §7): messages, bytes and wall-clock of a run against N, with their log–log
 * slopes over all N and over N ≥ M, where the protocol's per-agent terms make growth linear.
 */
import { type Block, heading, paragraph } from "../document.ts"
import { ALGORITHM_COLORS, type Series, linePlot } from "../plots.ts"
import type { RunMetrics } from "../sweepFiles.ts"
import { mean, slopeOverSeeds } from "../stats.ts"
import { bytes } from "../bytes.ts"
import { type Analysis, fmt, fmtFixed, fmtInterval, groupBy, NAMES, numericAxes, type Observation, otherLabel, seriesOf, sortedUnique, styleOf, type SweepData } from "./common.ts"

export const communication = async (d: SweepData, obs: ReadonlyArray<Observation>): Promise<Analysis | undefined> => {
  if (!numericAxes(d.manifest).includes("agents")) return undefined
  const withServer = obs.filter((o) => o.algorithm !== "independent")
  if (withServer.length === 0) return undefined
  const blocks: Array<Block> = [heading(2, "Communication and wall-clock against N")]
  // Experience sharing's pool traffic is counted apart (docs/algorithm.md §3, "Accounting"): say so rather than "never raw experience".
  const experience = d.manifest.points.some((p) => (p.spec as { readonly sharing?: string }).sharing === "experience")
  const headline: Array<string> = []
  const messages: Array<Series> = []
  const byteSeries: Array<Series> = []
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
      byteSeries.push({ name, color, style, points: seriesOf(g, "agents", (m) => m.bytes) })
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
          `bytes from ${bytes(at(lo, (m) => m.bytes))} to ${bytes(at(hi, (m) => m.bytes))} (slope ${fmtInterval(sb.slope)}` +
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
        headline.push(`messages per agent ${fmt(perAgent[0])} → ${fmt(perAgent[perAgent.length - 1])}, bytes ${bytes(at(lo, (m) => m.bytes))} → ${bytes(at(hi, (m) => m.bytes))} per run`)
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
        `fetches, N·M policies. ` +
        (experience
          ? "Under policy sharing the agents exchange policies and intervals, never raw experience; under experience sharing the " +
            "pools' transitions are counted apart and are not in these numbers (see the sharing section). "
          : "The agents exchange policies and intervals, never raw experience. ") +
        `${verdicts.join(" ")} ` +
        `Wall-clock here is one process simulating all N agents on one core: it measures the total simulation work, not the time a real ` +
        `distributed deployment would take.`
    )
  )
  blocks.push(await linePlot("plots/messages-vs-agents.svg", "Messages per run against N (log–log)", {
    title: "Messages to and from the server per run",
    subtitle: "mean over seeds, 95% error bars; log–log axes",
    x: { title: "agents N", log: true },
    y: { title: "messages per run", log: true },
    series: messages
  }))
  blocks.push(await linePlot("plots/bytes-vs-agents.svg", "Bytes per run against N (log–log)", {
    title: "Bytes to and from the server per run",
    subtitle: "mean over seeds, 95% error bars; log–log axes",
    x: { title: "agents N", log: true },
    y: { title: "bytes per run", log: true, format: "~s" },
    series: byteSeries
  }))
  blocks.push(await linePlot("plots/wall-vs-agents.svg", "Wall-clock seconds per run against N (log–log)", {
    title: "Wall-clock time of one run",
    subtitle: "all N agents simulated in one process; mean over seeds, 95% error bars",
    x: { title: "agents N", log: true },
    y: { title: "seconds per run", log: true, format: "~g" },
    series: wall
  }))
  return { blocks, headline }
}

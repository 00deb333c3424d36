/**
 * Aggregates the rows of a run into the per-algorithm summary of `summary.json` and the table the
 * CLI prints (see docs/results.md for every field).
 */
import type { Algorithm, AlgorithmRun } from "../run/runExperiment.ts"

export interface AlgorithmSummary {
  /** Share of (agent, task instance) pairs whose exact gap V* − V^π is at most ε. */
  readonly successRate: number
  /** Episodes per agent (identification + learning), mean over seeds × agents. */
  readonly meanEpisodesPerAgent: number
  readonly maxEpisodesPerAgent: number
  readonly meanIdentificationEpisodesPerAgent: number
  readonly meanLearningEpisodesPerAgent: number
  /** Share of instances identified with the right context; null for `independent` (no identification). */
  readonly identificationAccuracy: number | null
  /** Share of instances whose certificate held: V* ∈ [V̲, V̄] and gap ≤ width. */
  readonly certificateRate: number
  /** Share of instances whose learning stopped at the episode cap rather than the width target (adaptive rule). */
  readonly cappedRate: number
  /** Messages to and from the server, mean per seed. */
  readonly messages: number
  readonly bytes: number
  /** Wall-clock seconds, mean per seed. */
  readonly wallSeconds: number
  readonly seeds: number
  readonly instances: number
}

const mean = (xs: ReadonlyArray<number>): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)
const share = <A>(xs: ReadonlyArray<A>, p: (a: A) => boolean): number =>
  xs.length === 0 ? 0 : xs.filter(p).length / xs.length

export const summarize = (
  runs: ReadonlyArray<AlgorithmRun>,
  adaptive: boolean
): Partial<Record<Algorithm, AlgorithmSummary>> => {
  const out: Partial<Record<Algorithm, AlgorithmSummary>> = {}
  const algorithms = [...new Set(runs.map((r) => r.algorithm))]
  for (const algorithm of algorithms) {
    const mine = runs.filter((r) => r.algorithm === algorithm)
    const rows = mine.flatMap((r) => r.rows)
    // Episodes per agent: one entry per (seed, agent), summing the agent's instances.
    const perAgent = new Map<string, { id: number; learn: number }>()
    for (const r of rows) {
      const key = `${r.seed}/${r.agent}`
      const e = perAgent.get(key) ?? { id: 0, learn: 0 }
      e.id += r.identificationEpisodes
      e.learn += r.learningEpisodes
      perAgent.set(key, e)
    }
    const totals = [...perAgent.values()].map((e) => e.id + e.learn)
    out[algorithm] = {
      successRate: share(rows, (r) => r.success),
      meanEpisodesPerAgent: mean(totals),
      maxEpisodesPerAgent: totals.length === 0 ? 0 : Math.max(...totals),
      meanIdentificationEpisodesPerAgent: mean([...perAgent.values()].map((e) => e.id)),
      meanLearningEpisodesPerAgent: mean([...perAgent.values()].map((e) => e.learn)),
      identificationAccuracy: algorithm === "independent" ? null : share(rows, (r) => r.identificationCorrect === true),
      certificateRate: share(rows, (r) => r.certificateHeld),
      cappedRate: adaptive ? share(rows, (r) => (r.role === "owner" || r.role === "solo") && !r.reachedTarget) : 0,
      messages: mean(mine.map((r) => r.traffic.messages)),
      bytes: mean(mine.map((r) => r.traffic.bytes)),
      wallSeconds: mean(mine.map((r) => r.wallSeconds)),
      seeds: mine.length,
      instances: rows.length
    }
  }
  return out
}

const NAMES: Record<Algorithm, string> = { distmt: "DistMT-LSVI", independent: "independent", oracle: "oracle" }

const fmt = (x: number | null, digits = 2): string =>
  x === null ? "—" : Math.abs(x) >= 1000 ? Math.round(x).toLocaleString("en-US") : x.toFixed(digits)

const bytes = (b: number): string =>
  b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`

/** The summary as a fixed-width text table, one row per algorithm. */
export const summaryTable = (summary: Partial<Record<Algorithm, AlgorithmSummary>>): string => {
  const header = ["algorithm", "success", "episodes/agent (mean)", "(max)", "identify", "learn", "ident. acc.", "certificates", "messages", "bytes", "wall s"]
  const rows = (Object.entries(summary) as Array<[Algorithm, AlgorithmSummary]>).map(([a, s]) => [
    NAMES[a],
    fmt(s.successRate),
    fmt(s.meanEpisodesPerAgent, 0),
    fmt(s.maxEpisodesPerAgent, 0),
    fmt(s.meanIdentificationEpisodesPerAgent, 0),
    fmt(s.meanLearningEpisodesPerAgent, 0),
    fmt(s.identificationAccuracy),
    fmt(s.certificateRate),
    fmt(s.messages, 0),
    bytes(s.bytes),
    fmt(s.wallSeconds)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

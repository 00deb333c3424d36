/**
 * Aggregates the rows of a run into the per-algorithm summary of `summary.json` and the table the
 * CLI prints (see docs/results.md for every field).
 */
import type { Algorithm, AlgorithmRun, Row } from "../run/runExperiment.ts"
import { bytes } from "./bytes.ts"

export interface AlgorithmSummary {
  /**
   * Share of the policies agents hold at the end whose exact gap V* − V^π is at most ε: one per
   * (seed, agent, task instance) and, for the server's algorithms, one per (seed, agent, task the
   * agent never faced) fetched from the server (docs/algorithm.md §3 step 4); a task whose policy was
   * never published counts as a failure.
   */
  readonly successRate: number
  /** Episodes per agent (identification + learning), mean over seeds × agents. */
  readonly meanEpisodesPerAgent: number
  readonly maxEpisodesPerAgent: number
  readonly meanIdentificationEpisodesPerAgent: number
  readonly meanLearningEpisodesPerAgent: number
  /**
   * Share of the identified instances (those that asked the server) identified with the right
   * context; null for `independent` (no identification) or when no instance asked.
   */
  readonly identificationAccuracy: number | null
  /** Share of instances whose identification hit its cap above c_Sep/2 and never asked (§3). */
  readonly unidentifiedRate: number
  /** Share of instances whose certificate held: V* ∈ [V̲, V̄] and gap ≤ width. */
  readonly certificateRate: number
  /**
   * Share of instances whose own learning stopped at the episode cap rather than the width target
   * (adaptive rule).
   */
  readonly cappedRate: number
  /** Messages to and from the server about tasks and policies, mean per seed. */
  readonly messages: number
  readonly bytes: number
  /** Experience sharing's traffic, apart from the above, mean per seed. */
  readonly experienceMessages: number
  readonly transitionsPushed: number
  readonly transitionsPulled: number
  readonly experienceBytes: number
  /** Wall-clock seconds, mean per seed. */
  readonly wallSeconds: number
  /** Wall-clock in virtual time: episodes until the last agent held every policy, mean per seed. */
  readonly virtualEpisodes: number
  readonly seeds: number
  /** (seed, agent, task instance) rows. */
  readonly instances: number
  /** Policies held at the end and checked: instances plus fetched (and missing) tasks. */
  readonly policies: number
}

const mean = (xs: ReadonlyArray<number>): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)
const share = <A>(xs: ReadonlyArray<A>, p: (a: A) => boolean): number =>
  xs.length === 0 ? 0 : xs.filter(p).length / xs.length

/** Rows of task instances (not of tasks fetched at the end). */
export const instanceRows = (rows: ReadonlyArray<Row>): ReadonlyArray<Row> => rows.filter((r) => r.slot !== undefined)

/** An instance whose own learner produced its final policy and stopped at the cap, not the target. */
export const learnedToCap = (r: Row): boolean => r.slot !== undefined && r.source === "learned" && !r.reachedTarget

export const summarize = (
  runs: ReadonlyArray<AlgorithmRun>,
  adaptive: boolean
): Partial<Record<Algorithm, AlgorithmSummary>> => {
  const out: Partial<Record<Algorithm, AlgorithmSummary>> = {}
  const algorithms = [...new Set(runs.map((r) => r.algorithm))]
  for (const algorithm of algorithms) {
    const mine = runs.filter((r) => r.algorithm === algorithm)
    const rows = mine.flatMap((r) => r.rows)
    const instances = instanceRows(rows)
    const identified = instances.filter((r) => r.identificationCorrect !== undefined)
    // Episodes per agent: one entry per (seed, agent), summing the agent's instances.
    const perAgent = new Map<string, { id: number; learn: number }>()
    for (const r of instances) {
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
      identificationAccuracy: algorithm === "independent" || identified.length === 0
        ? null
        : share(identified, (r) => r.identificationCorrect === true),
      unidentifiedRate: share(instances, (r) => r.role === "unidentified"),
      certificateRate: share(instances, (r) => r.certificateHeld),
      cappedRate: adaptive ? share(instances, learnedToCap) : 0,
      messages: mean(mine.map((r) => r.traffic.messages)),
      bytes: mean(mine.map((r) => r.traffic.bytes)),
      experienceMessages: mean(mine.map((r) => r.traffic.experience.messages)),
      transitionsPushed: mean(mine.map((r) => r.traffic.experience.pushed)),
      transitionsPulled: mean(mine.map((r) => r.traffic.experience.pulled)),
      experienceBytes: mean(mine.map((r) => r.traffic.experience.bytes)),
      wallSeconds: mean(mine.map((r) => r.wallSeconds)),
      virtualEpisodes: mean(mine.map((r) => r.virtualEpisodes)),
      seeds: mine.length,
      instances: instances.length,
      policies: rows.length
    }
  }
  return out
}

/**
 * What a run's caps did, in words, when they did anything (§3): instances left unidentified by the
 * identification cap, and learners that stopped at the cap before their width target. Empty when
 * every phase met its target.
 */
export const capWarnings = (
  runs: ReadonlyArray<AlgorithmRun>,
  stopping: { readonly _tag: string; readonly maxEpisodes?: number },
  cSep: number
): Array<string> => {
  if (stopping._tag !== "Adaptive") return []
  const out: Array<string> = []
  for (const algorithm of [...new Set(runs.map((r) => r.algorithm))]) {
    const rows = instanceRows(runs.filter((r) => r.algorithm === algorithm).flatMap((r) => r.rows))
    const unidentified = rows.filter((r) => r.role === "unidentified").length
    const capped = rows.filter(learnedToCap).length
    const name = NAMES[algorithm]
    if (unidentified > 0) {
      out.push(
        `warning: ${name}: ${unidentified} of ${rows.length} instances reached the identification cap ` +
          `(stopping.maxEpisodes = ${stopping.maxEpisodes}) with a certificate wider than cSep/2 = ${cSep / 2}: ` +
          `they were learned alone and are counted as unidentified; raise stopping.maxEpisodes to identify them`
      )
    }
    if (capped > 0) {
      out.push(
        `warning: ${name}: ${capped} of ${rows.length} instances stopped learning at the episode cap ` +
          `(stopping.maxEpisodes = ${stopping.maxEpisodes}) before their certificate reached ε; raise stopping.maxEpisodes`
      )
    }
  }
  return out
}

const NAMES: Record<Algorithm, string> = { distmt: "DistMT-LSVI", independent: "independent", oracle: "oracle" }

const fmt = (x: number | null, digits = 2): string =>
  x === null ? "—" : Math.abs(x) >= 1000 ? Math.round(x).toLocaleString("en-US") : x.toFixed(digits)

/** The summary as a fixed-width text table, one row per algorithm. */
export const summaryTable = (summary: Partial<Record<Algorithm, AlgorithmSummary>>): string => {
  const header = [
    "algorithm",
    "success",
    "episodes/agent (mean)",
    "(max)",
    "identify",
    "learn",
    "ident. acc.",
    "unidentified",
    "certificates",
    "messages",
    "bytes",
    "shared transitions",
    "wall s"
  ]
  const rows = (Object.entries(summary) as Array<[Algorithm, AlgorithmSummary]>).map(([a, s]) => [
    NAMES[a],
    fmt(s.successRate),
    fmt(s.meanEpisodesPerAgent, 0),
    fmt(s.maxEpisodesPerAgent, 0),
    fmt(s.meanIdentificationEpisodesPerAgent, 0),
    fmt(s.meanLearningEpisodesPerAgent, 0),
    fmt(s.identificationAccuracy),
    a === "independent" ? "—" : fmt(s.unidentifiedRate),
    fmt(s.certificateRate),
    fmt(s.messages, 0),
    bytes(s.bytes),
    s.experienceMessages === 0 ? "—" : `${fmt(s.transitionsPulled, 0)} (${bytes(s.experienceBytes)})`,
    fmt(s.wallSeconds)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

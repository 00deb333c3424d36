/**
 * The result files of a deep-stage run (docs/deep.md, "DistMT with deep learners"):
 *
 *   results.csv   one row per (algorithm, seed, agent, task): what the agent did, the greedy return
 *                 of the policy it holds on fresh episodes of the true task (mean and interval), the
 *                 target and whether it was met
 *   curves.csv    every finished episode of every agent: (algorithm, seed, agent, frame, return, phase)
 *   summary.json  the spec, the tasks, the random policy's returns, the identification statistic's
 *                 separation, and per algorithm the means over seeds; written last, `complete: true`
 */
import { bytes } from "../../report/bytes.ts"
import type { Algorithm } from "../../run/runExperiment.ts"
import type { DeepResults, DeepRow, DeepRun } from "./run.ts"

const num = (x: number | undefined, digits = 4): string => (x === undefined || !Number.isFinite(x) ? "" : String(Number(x.toPrecision(digits + 2))))
const opt = (x: unknown): string => (x === undefined ? "" : String(x))

export const RESULT_COLUMNS = [
  "algorithm", "seed", "agent", "slot", "task", "role", "source", "entry", "identification_episodes", "learning_episodes",
  "identification_correct", "return", "return_lower", "return_upper", "evaluation_episodes", "target", "success",
  "train_return_lower", "train_return_upper", "return_when_learned"
] as const

const resultLine = (r: DeepRow): string =>
  [
    r.algorithm, r.seed, r.agent, opt(r.slot), r.task, opt(r.role), r.source, opt(r.entry), r.identificationEpisodes, r.learningEpisodes,
    opt(r.identificationCorrect), num(r.evaluated?.mean), num(r.evaluated?.lower), num(r.evaluated?.upper), opt(r.evaluated?.episodes),
    r.target, r.success, num(r.certificate.lower), num(r.certificate.upper), num(r.evaluatedWhenLearned?.mean)
  ].join(",")

export const resultsCsv = (runs: ReadonlyArray<DeepRun>): string =>
  [RESULT_COLUMNS.join(","), ...runs.flatMap((run) => run.rows.map(resultLine))].join("\n") + "\n"

export const curvesCsv = (runs: ReadonlyArray<DeepRun>): string =>
  ["algorithm,seed,agent,frame,return,phase", ...runs.flatMap((run) => run.curve.map((p) => `${run.algorithm},${run.seed},${p.agent},${p.frame},${p.ret},${p.phase}`))]
    .join("\n") + "\n"

const mean = (xs: ReadonlyArray<number>): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length)

/** One algorithm's figures, averaged over its seeds. */
export interface DeepAlgorithmSummary {
  readonly algorithm: Algorithm
  readonly seeds: number
  /** Fraction of (agent, task) rows whose held policy met the task's target. */
  readonly success: number
  /** Mean greedy return over the rows that hold a policy (those of source `missing` hold none: see `missing`). */
  readonly meanReturn: number
  /**
   * Rows of source `missing`: tasks an agent ends with no policy of (none was published). They
   * count as failures in `success` and are not in `meanReturn`, which they would otherwise flatter.
   */
  readonly missing: number
  /** Fraction of asked identifications that found the right task (undefined for `independent`). */
  readonly identificationAccuracy: number | undefined
  /**
   * Share of task instances whose identification hit its cap and learned alone (§3, capped
   * identification): a rate, as the linear stage's `unidentifiedRate`, so that the two tables'
   * "unidentified" columns read alike.
   */
  readonly unidentifiedRate: number
  readonly framesPerAgent: number
  readonly identificationEpisodesPerAgent: number
  readonly registered: number
  readonly messages: number
  readonly bytes: number
  readonly experienceBytes: number
  readonly wallSeconds: number
  /**
   * Lifelong learning: the mean, over the tasks an agent learned, of the return its network had
   * when it finished the task minus the return of the network it holds at the end (undefined otherwise).
   */
  readonly forgetting: number | undefined
}

export const summarize = (runs: ReadonlyArray<DeepRun>, algorithm: Algorithm): DeepAlgorithmSummary => {
  const mine = runs.filter((r) => r.algorithm === algorithm)
  const rows = mine.flatMap((r) => r.rows)
  const asked = rows.filter((r) => r.identificationCorrect !== undefined)
  // Rows of the instances an agent met, not of the tasks it fetched at the end.
  const instances = rows.filter((r) => r.slot !== undefined)
  const agents = mine.reduce((n, r) => n + r.frames.length, 0)
  return {
    algorithm,
    seeds: mine.length,
    success: mean(rows.map((r) => (r.success ? 1 : 0))),
    meanReturn: mean(rows.flatMap((r) => (r.evaluated === undefined ? [] : [r.evaluated.mean]))),
    missing: rows.filter((r) => r.source === "missing").length,
    identificationAccuracy: algorithm === "independent" || asked.length === 0 ? undefined : mean(asked.map((r) => (r.identificationCorrect ? 1 : 0))),
    unidentifiedRate: instances.length === 0 ? 0 : instances.filter((r) => r.role === "unidentified").length / instances.length,
    framesPerAgent: mine.reduce((n, r) => n + r.frames.reduce((a, b) => a + b, 0), 0) / Math.max(1, agents),
    identificationEpisodesPerAgent: rows.reduce((n, r) => n + r.identificationEpisodes, 0) / Math.max(1, agents),
    registered: mean(mine.map((r) => r.registered)),
    messages: mean(mine.map((r) => r.traffic.messages + r.traffic.experience.messages)),
    bytes: mean(mine.map((r) => r.traffic.bytes + r.traffic.experience.bytes)),
    experienceBytes: mean(mine.map((r) => r.traffic.experience.bytes)),
    wallSeconds: mean(mine.map((r) => r.wallSeconds)),
    forgetting: rows.some((r) => r.evaluatedWhenLearned !== undefined)
      ? mean(rows.flatMap((r) => (r.evaluatedWhenLearned === undefined || r.evaluated === undefined ? [] : [r.evaluatedWhenLearned.mean - r.evaluated.mean])))
      : undefined
  }
}

export const algorithmsOf = (runs: ReadonlyArray<DeepRun>): ReadonlyArray<Algorithm> => [...new Set(runs.map((r) => r.algorithm))]

/** What a deep run's summary.json holds. */
export interface DeepSummary {
  readonly stage: "deep"
  readonly complete: boolean
  readonly spec: DeepResults["compiled"]["spec"]
  readonly tasks: ReadonlyArray<{ readonly task: number; readonly game: string; readonly params: unknown; readonly target: number; readonly randomReturn: number | undefined }>
  readonly network: DeepResults["compiled"]["shape"]
  readonly dqn: DeepResults["compiled"]["config"]
  readonly identification: { readonly cSep: number; readonly separation: number; readonly closestPair: unknown }
  readonly algorithms: ReadonlyArray<DeepAlgorithmSummary>
  /** The overrides applied (`--set`, `--seeds`; path → value), as the linear stage records them. */
  readonly overrides?: Readonly<Record<string, unknown>>
  /** Units run at a time (worker threads): they never change the results. */
  readonly threads?: number
}

/** What a run records beside its results (summary.json's `overrides` and `threads`). */
export interface DeepRecord {
  readonly overrides: Readonly<Record<string, unknown>>
  readonly threads: number
}

export const summaryObject = (r: DeepResults, complete: boolean, record?: DeepRecord): DeepSummary => {
  const c = r.compiled
  return {
    stage: "deep",
    complete,
    ...(record === undefined ? {} : { threads: record.threads, overrides: record.overrides }),
    spec: c.spec,
    tasks: c.tasks.map((t, m) => ({ task: m, game: t.game, params: t.params, target: c.targets[m], randomReturn: r.random[m]?.mean })),
    network: c.shape,
    dqn: c.config,
    identification: { cSep: c.spec.cSep, separation: r.separation.value, closestPair: r.separation.pair ?? null },
    algorithms: algorithmsOf(r.runs).map((a) => summarize(r.runs, a))
  }
}

export const summaryJson = (r: DeepResults, complete: boolean, record?: DeepRecord): string =>
  JSON.stringify(summaryObject(r, complete, record), (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n"

const pad = (s: string, n: number) => s.padStart(n)

/** The table `distmt run` prints for a deep run. */
export const deepTable = (r: DeepResults): string => {
  const head = ["algorithm", "success", "return", "ident. acc.", "unidentified", "frames/agent", "registered", "bytes", "wall s"]
  const lines = algorithmsOf(r.runs).map((a) => {
    const s = summarize(r.runs, a)
    return [
      a,
      s.success.toFixed(2),
      s.meanReturn.toFixed(2),
      s.identificationAccuracy === undefined ? "—" : s.identificationAccuracy.toFixed(2),
      // `independent` does not identify: nothing can be left unidentified (— as in the linear stage's table).
      a === "independent" ? "—" : s.unidentifiedRate.toFixed(2),
      Math.round(s.framesPerAgent).toLocaleString("en-US"),
      s.registered.toFixed(1),
      // As the linear table and validate show sizes (cost.ts): 0 B for independent, not 0.0 MiB.
      bytes(Math.round(s.bytes)),
      s.wallSeconds.toFixed(1)
    ]
  })
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const fmt = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[0]) : pad(c, widths[i]))).join("  ")
  const random = r.compiled.tasks.map((_, m) => `${m}:${r.random[m].mean.toFixed(2)}`).join(" ")
  // A mean over the rows with a policy would read as better than it is without this line.
  const missing = algorithmsOf(r.runs).flatMap((a) => {
    const s = summarize(r.runs, a)
    const rows = r.runs.filter((u) => u.algorithm === a).reduce((n, u) => n + u.rows.length, 0)
    return s.missing === 0 ? [] : [`${a}: ${s.missing} of ${rows} (agent, task) rows hold no policy (missing): failures in success, not in the return`]
  })
  // SimNet matches instances by its own embedding: the occupancy statistic's separation says nothing of it.
  const identification = r.compiled.settings.identification === "simnet"
    ? "identification: SimNet (the server's similarity network)"
    : `identification statistic: cSep = ${r.compiled.spec.cSep}, measured separation ${r.separation.value.toPrecision(3)}`
  return [fmt(head), ...lines.map(fmt), ...missing, "", `random policy's return per task: ${random}`, identification].join("\n")
}

/**
 * What a spec will cost, estimated from its compiled form before anything runs (issue 15 item 2):
 * `validate` prints it, and `run` and `sweep` refuse a spec whose learner memory exceeds the
 * machine's (or DISTMT_MEMORY_LIMIT) or whose episode bound is so large it would never finish,
 * unless `--force`. Without this, `agents: 1e9` passed validation and died of a V8 out-of-memory
 * trace 72 s into the run, and `seeds: 1e9` or `schedule({ k1: 1e12 })` ran for ever.
 *
 * Everything here is arithmetic on sizes (nothing is allocated per agent or per seed), so that the
 * estimate of an absurd spec is as quick as that of a small one. All are upper bounds:
 *
 * - episodes: seeds × Σ over algorithms (instances × the episodes one learner may run), the latter
 *   2·maxEpisodes under the adaptive rule (identification, then learning) and K1 + K2 under a schedule;
 * - learner memory: each `Lsvi` learner holds Λ⁻¹ (H·d² numbers) and its next-state groups
 *   (at most H·S·d numbers); the N agents' learners of one algorithm run are alive at once;
 * - result files: seeds × algorithms × N × M rows of results.csv, and H·S ints per row in policies.json.
 */
import * as os from "node:os"
import { bytes } from "../report/bytes.ts"
import type { Compiled } from "./compile.ts"
import { learnerEpisodes } from "./theory.ts"

/** Episode bounds above this would not finish in any lifetime: refused unless --force. */
export const MAX_EPISODES = 1e12
/** The environment variable that states a memory limit (bytes, or with a KiB/MiB/GiB/TiB suffix). */
export const MEMORY_LIMIT_ENV = "DISTMT_MEMORY_LIMIT"

const BYTES_PER_NUMBER = 8 // Float64
/** A results.csv row (ids, returns, episodes, flags) is well under this many characters. */
const BYTES_PER_ROW = 160
/** A policy entry is an action index and a comma. */
const BYTES_PER_POLICY_INT = 3

export interface Cost {
  readonly episodes: number
  /** The factors of `episodes`, for naming the field that drives it. */
  readonly seeds: number
  readonly instances: number
  readonly perLearner: number
  readonly stoppingField: string
  readonly learnerBytes: number
  /** One learner's numbers: H·d² + H·S·d. */
  readonly perLearnerNumbers: number
  readonly agents: number
  readonly rows: number
  readonly resultBytes: number
}

/** Task instances of one algorithm run without listing them (instancesOf lists a random assignment per agent). */
const instances = (c: Compiled, algorithm: string): number => {
  const N = c.spec.agents
  const M = c.tasks.length
  if (algorithm === "independent") return N * M
  const a = c.spec.assignment
  return a._tag === "Partition" ? Math.max(N, M) : a._tag === "Stream" ? N * M : N * Math.min(a.k, M)
}

export const estimateCost = (c: Compiled): Cost => {
  const s = c.spec
  const algorithms = ["distmt", ...s.baselines]
  const perLearner = learnerEpisodes(s.stopping)
  const inst = algorithms.reduce((n, a) => n + instances(c, a), 0)
  const H = c.horizon
  const d = c.features.dim
  const perLearnerNumbers = H * d * d + H * c.states * d
  const rows = s.seeds * algorithms.length * s.agents * c.tasks.length
  return {
    episodes: s.seeds * inst * perLearner,
    seeds: s.seeds,
    instances: inst,
    perLearner,
    stoppingField: s.stopping._tag === "Adaptive" ? "stopping.maxEpisodes" : "stopping.k1 + k2",
    learnerBytes: s.agents * perLearnerNumbers * BYTES_PER_NUMBER,
    perLearnerNumbers,
    agents: s.agents,
    rows,
    resultBytes: rows * (BYTES_PER_ROW + H * c.states * BYTES_PER_POLICY_INT)
  }
}

/** 1e9, 2.5e12, 40000: exact below a million, else in powers of ten. */
export const count = (n: number): string =>
  n < 1e6 ? String(Math.round(n)) : n.toExponential(n === Number(n.toExponential(0)) ? 0 : 2).replace("e+", "e")

/** What validate prints: one line. */
export const costLine = (cost: Cost): string =>
  `estimate: at most ${count(cost.episodes)} episodes, learner memory about ${bytes(cost.learnerBytes)}, ` +
  `result files about ${bytes(cost.resultBytes)} (${count(cost.rows)} rows)`

/**
 * A sweep's estimate, from its points' (estimateCost of each, as `distmt sweep` computes them before
 * it runs): the spec as written is not what a sweep runs, and its estimate can be far from the
 * sweep's (a point with 10 times the agents, 6 points × the seeds × the algorithms).
 */
export interface SweepCost {
  readonly points: number
  /** (point, seed, algorithm) runs: Σ over the points of seeds × algorithms. */
  readonly runs: number
  /** The points' episode bounds added up. */
  readonly episodes: number
  /** The largest point's learner memory, and that point (`agents = 20`), as the sweep names it. */
  readonly learnerBytes: number
  readonly largest: string
  /** Why `distmt sweep` refuses it (its first point that is too big, costProblem), or absent. */
  readonly refused?: string
}

/** What validate prints of a sweep, under the spec's own line: one line. */
export const sweepCostLine = (sweep: SweepCost): string =>
  `sweep estimate: ${sweep.points} points, ${count(sweep.runs)} (point, seed, algorithm) runs: at most ${count(sweep.episodes)} episodes in all, ` +
  `learner memory about ${bytes(sweep.learnerBytes)} at its largest point (${sweep.largest})`

/** The memory a run may use: DISTMT_MEMORY_LIMIT if set, else the machine's; or why the variable is not valid. */
export const memoryLimit = (): { readonly bytes: number; readonly label: string } | string => {
  const given = process.env[MEMORY_LIMIT_ENV]?.trim()
  if (given === undefined || given === "") return { bytes: os.totalmem(), label: `this machine's ${bytes(os.totalmem())}` }
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(B|KiB|MiB|GiB|TiB)?$/i.exec(given)
  if (m === null) return `${MEMORY_LIMIT_ENV}: expected a number of bytes, optionally with KiB, MiB, GiB or TiB, got ${JSON.stringify(given)}`
  const power = ["b", "kib", "mib", "gib", "tib"].indexOf((m[2] ?? "B").toLowerCase())
  const limit = Number(m[1]) * 1024 ** power
  return { bytes: limit, label: `the ${MEMORY_LIMIT_ENV} limit of ${bytes(limit)}` }
}

/** The field that drives the learner memory: the agents when there are more of them than numbers in one learner, else the learner's sizes. */
const memoryDriver = (cost: Cost): string =>
  cost.agents >= cost.perLearnerNumbers
    ? `agents: ${count(cost.agents)}`
    : `features/environment: ${count(cost.perLearnerNumbers)} numbers per learner (H·d² + H·S·d)`

/**
 * How a refusal names the ways past it, and the quick variant: the command line's flags, or the
 * library API's options, since an API caller has no --force or --quick to pass (docs/api.md, "Errors").
 */
export interface Remedies {
  readonly force: string
  readonly threads: string
  readonly quick: string
  /** The run and the sweep of the quick variant. */
  readonly runQuick: string
  readonly sweepQuick: string
}
export const CLI_REMEDIES: Remedies = { force: "--force", threads: "--threads", quick: "--quick", runQuick: "run --quick", sweepQuick: "sweep --quick" }
export const API_REMEDIES: Remedies = {
  force: "force: true",
  threads: "threads",
  quick: "quick: true",
  runQuick: "run with quick: true",
  sweepQuick: "sweep with quick: true"
}

/**
 * Why a spec is refused before it runs, naming the field that drives the estimate, or undefined.
 * `where` prefixes a sweep point's description.
 */
export const costProblem = (cost: Cost, where = "", remedies: Remedies = CLI_REMEDIES): string | undefined => {
  const limit = memoryLimit()
  if (typeof limit === "string") return limit
  const force = `; pass ${remedies.force} to run it anyway`
  if (cost.learnerBytes > limit.bytes) {
    return `${where}${memoryDriver(cost)} → about ${bytes(cost.learnerBytes)} of learner memory, more than ${limit.label}${force}`
  }
  if (!(cost.episodes <= MAX_EPISODES)) {
    const factors: Array<[number, string]> = [
      [cost.seeds, `seeds: ${count(cost.seeds)}`],
      [cost.instances, `agents × tasks: ${count(cost.instances)} task instances`],
      [cost.perLearner, `${cost.stoppingField}: ${count(cost.perLearner)} episodes per learner`]
    ]
    const driver = factors.reduce((a, b) => (b[0] > a[0] ? b : a))[1]
    return `${where}${driver} → at most ${count(cost.episodes)} episodes, more than ${count(MAX_EPISODES)}: it would not finish${force}`
  }
  return undefined
}

/** A sweep point's estimate, with its number of units (seeds × algorithms) and its description for messages. */
export interface PointCost {
  readonly cost: Cost
  readonly units: number
  readonly where: string
}

/**
 * Why a sweep is refused because `jobs` of its units run at once, or undefined. Each unit (point,
 * seed, algorithm) runs on its own worker thread with its learners alive, so the memory of the
 * `jobs` largest units adds up: a sweep whose every unit fits alone (costProblem) may not fit
 * `--jobs 2` of them. The message names the field of the largest unit, the jobs, and how many
 * would fit. `jobsFlag` says where the jobs came from (`--jobs 2`, or the default).
 */
export const jobsProblem = (points: ReadonlyArray<PointCost>, jobs: number, jobsFlag: string): string | undefined => {
  const limit = memoryLimit()
  if (typeof limit === "string") return limit
  // The largest units first: those are the ones that may run together.
  const largest = [...points].sort((a, b) => b.cost.learnerBytes - a.cost.learnerBytes)
  let together = 0
  let running = 0
  let fit = 0
  for (const p of largest) {
    for (let u = 0; u < p.units && running < jobs; u++) {
      together += p.cost.learnerBytes
      running++
      if (together <= limit.bytes) fit = running
    }
  }
  if (together <= limit.bytes || largest.length === 0) return undefined
  const top = largest[0]
  return `${top.where}${memoryDriver(top.cost)} → about ${bytes(top.cost.learnerBytes)} of learner memory per run, and ${jobsFlag} ` +
    `runs ${running} at once: about ${bytes(together)}, more than ${limit.label}; ` +
    `lower --jobs to ${Math.max(fit, 1)}, or pass --force to run it anyway`
}

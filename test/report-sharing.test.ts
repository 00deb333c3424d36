/**
 * A sweep over categorical axes (`sharing` × `assignment`) through the report: points grouped and
 * named by their labels (`stream`, `random(2)`), sweep.csv carrying the label as the column value,
 * and the E6 section's ratio experience / policy, taken seed by seed, on data whose answer is known.
 */
import { noTraffic } from "../src/coordinator/Coordinator.ts"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { AlgorithmRun, Row } from "../src/run/runExperiment.ts"
import { planUnits, type SweepUnit } from "../src/run/sweepPlan.ts"
import { analyse, type SweepData } from "../src/report/analysis/index.ts"
import { toMarkdown } from "../src/report/document.ts"
import { type Manifest, manifestOf, parseRunFile, runFileJson, type RunRecord, sweepCsv } from "../src/report/sweepFiles.ts"
import { interval95 } from "../src/report/stats.ts"
import { decode } from "../src/spec/schema.ts"
import { Assignment, Contexts, Env, Experiment, Lsvi, Stopping } from "../src/spec/Spec.ts"
import { expandSweep } from "../src/spec/sweep.ts"

const SOURCE = "report-sharing.spec.ts"

const spec = Experiment.make({
  name: "sharing-test",
  environment: Env.linearChain({ length: 2, horizon: 3 }),
  contexts: Contexts.separated({ count: 2, lowest: 0.3, vary: "reward", within: [0, 1], bases: [{ goal: 1, slip: 0.1 }, { goal: 0, slip: 0.1 }] }),
  agents: 4,
  epsilon: 0.15,
  cSep: 0.4,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.adaptive({ maxEpisodes: 10_000 }),
  baselines: ["independent", "oracle"],
  seeds: 3,
  sweep: { sharing: ["policy", "experience"], assignment: [Assignment.stream(), Assignment.random(2)] }
})

/**
 * Known numbers: every agent runs `policy(seed)` episodes under policy sharing and `policy(seed)·r(seed)`
 * under experience sharing (DistMT-LSVI; `oracle` half of `policy(seed)` in both modes), one instance
 * each; the virtual wall-clock halves under experience sharing; `independent` runs 5000 whatever the mode.
 */
const policy = (seed: number) => 1000 + 100 * seed
const r = (seed: number) => [0.7, 0.8, 0.75][seed]
const fakeRun = (u: SweepUnit): AlgorithmRun => {
  const experience = u.point.values.sharing === "experience"
  const scale = u.algorithm === "oracle" ? 0.5 : 1
  // As measured: pooling spreads oracle's learning without changing its total, so its episodes per agent do not move.
  const episodes = u.algorithm === "independent" ? 5000 : scale * policy(u.seed) * (experience && u.algorithm === "distmt" ? r(u.seed) : 1)
  const rows: Array<Row> = Array.from({ length: u.point.compiled.spec.agents }, (_, agent): Row => ({
    algorithm: u.algorithm, seed: u.seed, agent, slot: 0, task: agent % 2, identificationEpisodes: 0, learningEpisodes: episodes,
    entry: u.algorithm === "independent" ? undefined : agent % 2, role: u.algorithm === "independent" ? "solo" : "owner", source: "learned",
    identificationCorrect: u.algorithm === "independent" ? undefined : true, vStar: 1, vPi: 0.99, gap: 0.01, success: true,
    certificate: { lower: 0.9, upper: 1, width: 0.1 }, certificateHeld: true, reachedTarget: true, actions: new Int32Array(0)
  }))
  const traffic = u.algorithm === "independent"
    ? noTraffic
    : { messages: 20, bytes: 4096, experience: experience ? { messages: 300, pushed: 1000, pulled: 3000, bytes: 2 << 20 } : noTraffic.experience }
  return { algorithm: u.algorithm, seed: u.seed, rows, traffic, registered: 2, wallSeconds: 0.1, virtualEpisodes: (experience ? 1 : 2) * policy(u.seed), curve: [] }
}

const dataOf = (input: unknown) => Effect.gen(function*() {
  const s = yield* decode(input, SOURCE)
  const units = planUnits(s, yield* expandSweep(s, SOURCE))
  const manifest: Manifest = JSON.parse(JSON.stringify(manifestOf(SOURCE, s, false, units)))
  const records = new Map<string, RunRecord>()
  for (const u of units) records.set(u.key, parseRunFile(runFileJson(u, fakeRun(u)), u.key)!)
  return { dir: "unused", manifest, records } satisfies SweepData
})
const data = dataOf(spec)

describe("a sweep over categorical axes", () => {
  it.effect("sweep.csv carries each categorical value's label", () =>
    Effect.gen(function*() {
      const d = yield* data
      const lines = sweepCsv(d.manifest, d.records).trim().split("\n")
      expect(lines[0].startsWith("point,sharing,assignment,algorithm,seed,")).toBe(true)
      // 4 points × 3 seeds × 3 algorithms, in plan order: point 1 is (policy, random(2)).
      expect(lines).toHaveLength(1 + 4 * 3 * 3)
      expect(lines[1].startsWith("0,policy,stream,distmt,0,")).toBe(true)
      expect(lines.filter((l) => l.startsWith("1,policy,random(2),")).length).toBe(9)
      expect(lines.filter((l) => l.startsWith("3,experience,random(2),oracle,")).length).toBe(3)
    }))

  it.effect("sweep.csv leaves independent's identification columns empty, unidentified_rate too, as the table's —", () =>
    Effect.gen(function*() {
      const d = yield* data
      const [head, ...lines] = sweepCsv(d.manifest, d.records).trim().split("\n").map((l) => l.split(","))
      const at = (row: ReadonlyArray<string>, column: string) => row[head.indexOf(column)]
      const columns = ["identification_accuracy", "misidentification_rate", "unidentified_rate"]
      for (const row of lines) {
        // It wrote unidentified_rate 0 for independent, beside an empty identification_accuracy.
        expect(columns.map((c) => at(row, c) === ""), row.join(",")).toEqual(columns.map(() => at(row, "algorithm") === "independent"))
      }
    }))

  it.effect("the report names points by their labels and states experience / policy with its interval over seeds", () =>
    Effect.gen(function*() {
      const d = yield* data
      const { blocks, headline } = yield* Effect.promise(() => analyse(d))
      const md = toMarkdown(blocks)
      expect(md).toContain("Axes: `sharing` ∈ {policy, experience} × `assignment` ∈ {stream, random(2)}")
      // The ratio is taken per seed, then a t interval over the three seeds: r(seed) exactly.
      const i = interval95([0, 1, 2].map(r))
      const f = (x: number) => x.toFixed(2)
      const expected = `${f(i.mean)} (95% CI ${f(i.lo)} to ${f(i.hi)})`
      const p = md.split("\n\n").find((x) => x.startsWith("**Experience against policy sharing.**")) ?? ""
      expect(p).toContain(`DistMT-LSVI with experience sharing runs ${f(i.mean)} times the episodes per agent of policy sharing (per-seed ratios, mean over 3 seeds; **fewer** in 2 of 2 settings at 95%), and 0.50 times its wall-clock in virtual time (**fewer** in 2 of 2 settings)`)
      for (const a of ["stream", "random(2)"]) {
        expect(md).toContain(`| assignment = ${a} | DistMT-LSVI | 3 | ${expected} | fewer | 0.50 (95% CI 0.50 to 0.50) | fewer |`)
        // A ratio of exactly 1 is "the same", not "more" or "fewer".
        expect(md).toContain(`| assignment = ${a} | oracle | 3 | 1.00 (95% CI 1.00 to 1.00) | the same (within 1%) | 0.50 (95% CI 0.50 to 0.50) | fewer |`)
      }
      expect(p).toContain("oracle with experience sharing runs 1.00 times the episodes per agent of policy sharing (per-seed ratios, mean over 3 seeds; the same (within 1%) in 2 of 2 settings at 95%)")
      expect(headline.join("; ")).toContain(`DistMT-LSVI experience/policy episodes per agent ${f(i.mean)} over 2 settings`)
      // The section's table: one row per setting, algorithm and mode; independent once per setting.
      expect(md).toContain("| assignment = random(2) | DistMT-LSVI | experience | 3 |")
      expect(md).toContain("| assignment = stream | independent | none | 3 | 5,000 ± 0 | 5,000 |")
      expect(md).not.toContain("| assignment = stream | independent | experience |")
      // The closing table names each point by its labels too.
      expect(md).toContain("| experience | random(2) | oracle | 3 |")
      const plots = blocks.flatMap((b) => (b._tag === "Plot" ? [b.file] : []))
      expect(plots).toEqual(expect.arrayContaining(["plots/sharing-episodes.svg", "plots/sharing-wallclock.svg", "plots/sharing-traffic.svg", "plots/gaps.svg"]))
      for (const b of blocks) if (b._tag === "Plot") expect(b.svg).not.toMatch(/NaN|undefined/)
    }))

  it.effect("a categorical axis without a sharing axis gets bars, one group per value's label", () =>
    Effect.gen(function*() {
      const d = yield* dataOf({ ...spec, sweep: { assignment: [Assignment.stream(), Assignment.random(2)] } })
      const { blocks } = yield* Effect.promise(() => analyse(d))
      const md = toMarkdown(blocks)
      expect(md).toContain("## Episodes per agent for each assignment")
      // Policy sharing everywhere: DistMT-LSVI runs policy(seed) per agent, 1 100 over the seeds 0, 1, 2.
      expect(md).toContain("DistMT-LSVI at assignment = stream: 1,100; DistMT-LSVI at assignment = random(2): 1,100; independent at assignment = stream: 5,000")
      expect(md).not.toContain("Experience sharing against policy sharing")
      const bars = blocks.find((b) => b._tag === "Plot" && b.file === "plots/episodes-by-assignment.svg")
      expect(bars?._tag === "Plot" && bars.svg).toMatch(/random\(2\)/)
    }))
})

/**
 * The files of a sweep folder (docs/experiments.md, "Files"):
 *
 *   sweep.json      the plan: spec, axes, seeds, algorithms, points, and each unit's run file
 *   runs/*.json     one finished (point, seed, algorithm) run each, written once, atomically
 *   sweep.csv       one row per finished run: the axes' values (a categorical value by its label,
 *                   `random(2)`) and the run's summary numbers
 *   rows.csv        one row per (run, agent, task instance), as results.csv of `distmt run`
 *   summary.json    per point and algorithm, the summary of `distmt run` over the seeds
 *
 * Run files are the source of truth; the tables are rebuilt from them at any time.
 */
import { curveColumns, curveFromColumns } from "../run/curves.ts"
import type { Algorithm, AlgorithmRun, Row } from "../run/runExperiment.ts"
import { RUN_FORMAT, type SweepUnit } from "../run/sweepPlan.ts"
import type { Experiment } from "../spec/Spec.ts"
import { axisLabel, type SampleOptions, type SweepAxis, type SweepValue } from "../spec/sweep.ts"
import { specJson } from "./files.ts"
import { isSweepRunJson } from "./runShape.ts"
import { type AlgorithmSummary, summarize } from "./summary.ts"

export const MANIFEST_FORMAT = "distmt-sweep/1"

export interface ManifestPoint {
  readonly index: number
  /** Axis key → value: a number, or a categorical value (a string or a builder's plain value). */
  readonly values: Readonly<Record<string, SweepValue>>
  /** N, M, ε, declared cSep, the family's actual separation, β, the stopping rule. */
  readonly agents: number
  readonly tasks: number
  readonly epsilon: number
  readonly cSep: number
  readonly separation: number
  readonly beta: number
  readonly adaptive: boolean
  readonly spec: unknown
}

export interface ManifestUnit {
  readonly point: number
  readonly algorithm: Algorithm
  readonly seed: number
  readonly key: string
  readonly file: string
}

/** How a sampled sweep's points were drawn (`--sample K --sample-seed S`), and from what. */
export interface ManifestSample extends SampleOptions {
  /** The axes as declared: lists and ranges (`Sweep.range`). */
  readonly axes: ReadonlyArray<readonly [string, SweepAxis]>
}

/** sweep.json */
export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT
  readonly source: string
  readonly name: string
  readonly description?: string
  readonly quick: boolean
  /** Each axis's values: as declared for a grid; in a sampled sweep the distinct values drawn, in order. */
  readonly axes: ReadonlyArray<readonly [string, ReadonlyArray<SweepValue>]>
  /** Present when the points were drawn at random rather than crossed into a grid. */
  readonly sample?: ManifestSample
  readonly seeds: ReadonlyArray<number>
  readonly algorithms: ReadonlyArray<Algorithm>
  readonly points: ReadonlyArray<ManifestPoint>
  readonly units: ReadonlyArray<ManifestUnit>
}

/** The values an axis takes at the points: a list as declared; a range's draws, distinct, in increasing order. */
const axisValues = (key: string, axis: SweepAxis, points: ReadonlyArray<SweepUnit["point"]>): ReadonlyArray<SweepValue> =>
  Array.isArray(axis) ? axis : [...new Set(points.map((p) => p.values[key] as number))].sort((a, b) => a - b)

export const manifestOf = (
  source: string,
  spec: Experiment,
  quick: boolean,
  units: ReadonlyArray<SweepUnit>,
  sample?: SampleOptions
): Manifest => {
  const points = [...new Map(units.map((u) => [u.point.index, u.point])).values()]
  return {
    format: MANIFEST_FORMAT,
    source,
    name: spec.name,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    quick,
    axes: Object.entries(spec.sweep).map(([k, axis]) => [k, axisValues(k, axis, points)] as const),
    ...(sample === undefined ? {} : { sample: { count: sample.count, seed: sample.seed, axes: Object.entries(spec.sweep) } }),
    seeds: [...new Set(units.map((u) => u.seed))],
    algorithms: [...new Set(units.map((u) => u.algorithm))],
    points: points.map((p) => {
      const c = p.compiled
      return {
        index: p.index,
        values: p.values,
        agents: c.spec.agents,
        tasks: c.tasks.length,
        epsilon: c.spec.epsilon,
        cSep: c.spec.cSep,
        separation: c.separation.value,
        beta: c.beta,
        adaptive: c.spec.stopping._tag === "Adaptive",
        spec: specJson(c.spec)
      }
    }),
    units: units.map((u) => ({ point: u.point.index, algorithm: u.algorithm, seed: u.seed, key: u.key, file: u.file }))
  }
}

/** One finished unit, as its run file holds it. */
export interface RunRecord {
  readonly format: typeof RUN_FORMAT
  readonly key: string
  readonly point: number
  readonly values: Readonly<Record<string, SweepValue>>
  readonly run: AlgorithmRun
}

/** A row in JSON: undefined fields as null, and NaN (a missing policy's gap) as null too. */
type RowJson = Omit<Row, "actions" | "entry" | "identificationCorrect" | "slot" | "role" | "vPi" | "gap" | "certificate"> & {
  readonly entry: number | null
  readonly identificationCorrect: boolean | null
  readonly slot: number | null
  readonly role: Row["role"] | null
  readonly vPi: number | null
  readonly gap: number | null
  readonly certificate: { readonly lower: number | null; readonly upper: number | null; readonly width: number | null }
}

const orNaN = (x: number | null): number => x ?? Number.NaN

/** A run file's content. Policies' action tables are left out: `distmt run` writes those. */
export const runFileJson = (unit: SweepUnit, run: AlgorithmRun): string =>
  JSON.stringify({
    format: RUN_FORMAT,
    key: unit.key,
    point: unit.point.index,
    values: unit.point.values,
    run: {
      algorithm: run.algorithm,
      seed: run.seed,
      traffic: run.traffic,
      registered: run.registered,
      wallSeconds: run.wallSeconds,
      virtualEpisodes: run.virtualEpisodes,
      curve: curveColumns(run.curve),
      rows: run.rows.map(({ actions: _actions, entry, identificationCorrect, slot, role, ...r }): RowJson => ({
        ...r,
        entry: entry ?? null,
        identificationCorrect: identificationCorrect ?? null,
        slot: slot ?? null,
        role: role ?? null
      }))
    }
  }) + "\n"

const isObject = (u: unknown): u is Record<string, any> => u !== null && typeof u === "object"

/** Reads a run file; undefined if it is not a complete run file of this format and key. */
export const parseRunFile = (text: string, key: string): RunRecord | undefined => {
  let j: unknown
  try {
    j = JSON.parse(text)
  } catch {
    return undefined
  }
  // A run that is not a run's shape (runShape.ts) is unfinished, like a file that does not parse.
  if (!isObject(j) || j.format !== RUN_FORMAT || j.key !== key || !isSweepRunJson(j.run)) return undefined
  const r = j.run
  // A run file written before curves existed has none: resumed, its curve is empty, not an error.
  const curve = r.curve === undefined ? [] : curveFromColumns(r.curve)
  if (curve === undefined) return undefined
  const rows: Array<Row> = r.rows.map((x: RowJson): Row => ({
    ...x,
    entry: x.entry ?? undefined,
    identificationCorrect: x.identificationCorrect ?? undefined,
    slot: x.slot ?? undefined,
    role: x.role ?? undefined,
    vPi: orNaN(x.vPi),
    gap: orNaN(x.gap),
    certificate: { lower: orNaN(x.certificate.lower), upper: orNaN(x.certificate.upper), width: orNaN(x.certificate.width) },
    actions: new Int32Array(0)
  }))
  return {
    format: RUN_FORMAT,
    key,
    point: j.point,
    values: j.values,
    run: { algorithm: r.algorithm, seed: r.seed, traffic: r.traffic, registered: r.registered, wallSeconds: r.wallSeconds, virtualEpisodes: r.virtualEpisodes, rows, curve }
  }
}

/** The numbers of one run that tables and plots use. */
export interface RunMetrics extends AlgorithmSummary {
  readonly misidentificationRate: number | null
  readonly registered: number
  /** Instances that learned their task themselves (owners; every instance for `independent`). */
  readonly learners: number
  /** Distinct tasks met in the run: fewer than M when `random(k)` draws leave some out. */
  readonly tasksMet: number
}

export const runMetrics = (run: AlgorithmRun, adaptive: boolean): RunMetrics => {
  const s = summarize([run], adaptive)[run.algorithm]!
  return {
    ...s,
    misidentificationRate: s.identificationAccuracy === null ? null : 1 - s.identificationAccuracy,
    registered: run.registered,
    learners: run.rows.filter((r) => r.role !== undefined && r.role !== "downloaded").length,
    tasksMet: new Set(run.rows.filter((r) => r.slot !== undefined).map((r) => r.task)).size
  }
}

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return ""
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** sweep.csv's columns of the run; empty where not applicable, as the printed table's "—". */
const METRIC_COLUMNS: ReadonlyArray<readonly [string, (m: RunMetrics, algorithm: string) => number | null]> = [
  ["success_rate", (m) => m.successRate],
  ["episodes_per_agent", (m) => m.meanEpisodesPerAgent],
  ["identification_episodes_per_agent", (m) => m.meanIdentificationEpisodesPerAgent],
  ["learning_episodes_per_agent", (m) => m.meanLearningEpisodesPerAgent],
  ["max_episodes_per_agent", (m) => m.maxEpisodesPerAgent],
  ["identification_accuracy", (m) => m.identificationAccuracy],
  ["misidentification_rate", (m) => m.misidentificationRate],
  ["certificate_rate", (m) => m.certificateRate],
  ["capped_rate", (m) => m.cappedRate],
  // `independent` identifies nothing: its 0 read as "every instance identified" beside an empty identification_accuracy.
  ["unidentified_rate", (m, algorithm) => (algorithm === "independent" ? null : m.unidentifiedRate)],
  ["registered", (m) => m.registered],
  ["messages", (m) => m.messages],
  ["bytes", (m) => m.bytes],
  ["experience_messages", (m) => m.experienceMessages],
  ["transitions_pushed", (m) => m.transitionsPushed],
  ["transitions_pulled", (m) => m.transitionsPulled],
  ["experience_bytes", (m) => m.experienceBytes],
  ["wall_seconds", (m) => m.wallSeconds],
  ["virtual_episodes", (m) => m.virtualEpisodes],
  ["instances", (m) => m.instances],
  ["policies", (m) => m.policies]
]

/** sweep.csv's columns of the point: [column, the spec field an axis would name, value]. */
const POINT_COLUMNS: ReadonlyArray<readonly [string, string, (p: Manifest["points"][number]) => unknown]> = [
  ["agents", "agents", (p) => p.agents],
  ["tasks", "contexts.count", (p) => p.tasks],
  ["epsilon", "epsilon", (p) => p.epsilon],
  ["c_sep", "cSep", (p) => p.cSep]
]

/** sweep.csv: one row per finished run, in plan order. */
export const sweepCsv = (manifest: Manifest, records: ReadonlyMap<string, RunRecord>): string => {
  const axes = manifest.axes.map(([k]) => k)
  // A point's own column is left out when an axis of the same field already gives it (`agents`).
  const own = POINT_COLUMNS.filter(([, field]) => !axes.includes(field))
  const header = ["point", ...axes, "algorithm", "seed", ...own.map(([c]) => c), "separation", ...METRIC_COLUMNS.map(([c]) => c)]
  const lines = [header.map(csvCell).join(",")]
  for (const u of manifest.units) {
    const rec = records.get(u.key)
    if (rec === undefined) continue
    const p = manifest.points.find((x) => x.index === u.point)!
    const m = runMetrics(rec.run, p.adaptive)
    lines.push(
      [u.point, ...axes.map((a) => axisLabel(p.values[a])), u.algorithm, u.seed, ...own.map(([, , f]) => f(p)), p.separation, ...METRIC_COLUMNS.map(([, f]) => f(m, u.algorithm))]
        .map(csvCell)
        .join(",")
    )
  }
  return lines.join("\n") + "\n"
}

/** rows.csv: every (run, agent, task instance) row, with the point's axis values in front. */
export const rowsCsv = (manifest: Manifest, records: ReadonlyMap<string, RunRecord>): string => {
  const axes = manifest.axes.map(([k]) => k)
  const header = [
    "point", ...axes, "algorithm", "seed", "agent", "slot", "task", "identification_episodes", "learning_episodes", "entry", "role", "source",
    "identification_correct", "v_star", "v_pi", "gap", "success", "cert_lower", "cert_upper", "cert_width", "certificate_held", "reached_target"
  ]
  const lines = [header.map(csvCell).join(",")]
  for (const u of manifest.units) {
    const rec = records.get(u.key)
    if (rec === undefined) continue
    const p = manifest.points.find((x) => x.index === u.point)!
    for (const r of rec.run.rows) {
      lines.push(
        [
          u.point, ...axes.map((a) => axisLabel(p.values[a])), r.algorithm, r.seed, r.agent, r.slot, r.task, r.identificationEpisodes, r.learningEpisodes,
          r.entry, r.role, r.source, r.identificationCorrect, r.vStar, r.vPi, r.gap, r.success, r.certificate.lower, r.certificate.upper,
          r.certificate.width, r.certificateHeld, r.reachedTarget
        ].map(csvCell).join(",")
      )
    }
  }
  return lines.join("\n") + "\n"
}

/** summary.json: per point, the summary of `distmt run` per algorithm over the finished seeds. */
export const sweepSummaryJson = (manifest: Manifest, records: ReadonlyMap<string, RunRecord>, complete: boolean) => ({
  source: manifest.source,
  name: manifest.name,
  quick: manifest.quick,
  complete,
  finishedRuns: manifest.units.filter((u) => records.has(u.key)).length,
  plannedRuns: manifest.units.length,
  axes: manifest.axes,
  points: manifest.points.map((p) => {
    const runs = manifest.units.filter((u) => u.point === p.index).flatMap((u) => {
      const r = records.get(u.key)
      return r === undefined ? [] : [r.run]
    })
    return {
      index: p.index,
      values: p.values,
      agents: p.agents,
      tasks: p.tasks,
      epsilon: p.epsilon,
      cSep: p.cSep,
      separation: p.separation,
      beta: p.beta,
      algorithms: summarize(runs, p.adaptive)
    }
  })
})

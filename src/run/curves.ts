/**
 * A run's learning curves (docs/results.md, curves.csv): for every (agent, instance) the certificate
 * and the exact gap of the greedy policy at logarithmically spaced episodes of each phase
 * (src/agent/curve.ts). The gap is ground truth (docs/algorithm.md §5), so it is computed here, by
 * the run, from the instance's true task; the agent's code never sees it.
 */
import { InstanceCurve, type Phase } from "../agent/curve.ts"
import { policyValues } from "../env/solve.ts"
import type { Compiled } from "../spec/compile.ts"

/** One point of a curve as written to curves.csv (with the run's algorithm and seed). */
export interface CurvePoint {
  readonly agent: number
  /** Position of the instance in the agent's sequence. */
  readonly slot: number
  /** The instance's true task. */
  readonly task: number
  /** Episodes on this instance so far. */
  readonly episode: number
  /** Episodes the agent has run so far, on this instance and every one before it. */
  readonly agentEpisode: number
  readonly phase: Phase
  readonly lower: number
  readonly upper: number
  readonly width: number
  /** V*(s0) − V^π(s0) of the greedy policy at that episode. */
  readonly gap: number
}

/** A fresh curve for an instance of `task`, each sampled policy turned into its exact gap at once. */
export const instanceCurve = (c: Compiled, task: number): InstanceCurve => {
  const m = c.tasks[task]
  const vStar = c.startValues[task]
  return new InstanceCurve((actions) => vStar - policyValues(m, actions).V[m.start])
}

/**
 * Every agent's curves in one list, agent by agent and instance by instance: `curves[agent][slot]`
 * is the curve of the agent's slot-th instance (missing where the agent never opened it).
 */
export const curvePoints = (
  curves: ReadonlyArray<ReadonlyArray<InstanceCurve | undefined>>,
  tasksOf: ReadonlyArray<ReadonlyArray<number>>
): Array<CurvePoint> =>
  curves.flatMap((slots, agent) => {
    let before = 0
    return slots.flatMap((curve, slot) => {
      if (curve === undefined) return []
      const offset = before
      before += curve.episodes
      return curve.points.map((p) => ({
        agent,
        slot,
        task: tasksOf[agent][slot],
        episode: p.episode,
        agentEpisode: offset + p.episode,
        phase: p.phase,
        lower: p.certificate.lower,
        upper: p.certificate.upper,
        width: p.certificate.width,
        gap: p.gap
      }))
    })
  })

const NUMBER_FIELDS = ["agent", "slot", "task", "episode", "agentEpisode", "lower", "upper", "width", "gap"] as const

/** A curve as columns (one array per field), the compact form of run files; JSON keeps NaN as null. */
export type CurveColumns = Record<(typeof NUMBER_FIELDS)[number], Array<number | null>> & { readonly phase: Array<Phase> }

export const curveColumns = (points: ReadonlyArray<CurvePoint>): CurveColumns => {
  const columns = Object.fromEntries(NUMBER_FIELDS.map((f) => [f, points.map((p) => (Number.isNaN(p[f]) ? null : p[f]))]))
  return { ...columns, phase: points.map((p) => p.phase) } as CurveColumns
}

/** The points of `curveColumns`; undefined when `u` is not such columns of one length. */
export const curveFromColumns = (u: unknown): Array<CurvePoint> | undefined => {
  if (u === null || typeof u !== "object") return undefined
  const c = u as Record<string, unknown>
  const phase = c.phase
  if (!Array.isArray(phase) || !phase.every((p) => p === "identify" || p === "learn")) return undefined
  const columns = NUMBER_FIELDS.map((f) => c[f])
  if (!columns.every((col) => Array.isArray(col) && col.length === phase.length && col.every((x) => x === null || typeof x === "number"))) {
    return undefined
  }
  return phase.map((p: Phase, i) => {
    const point: Record<string, unknown> = { phase: p }
    NUMBER_FIELDS.forEach((f, j) => {
      point[f] = (columns[j] as Array<number | null>)[i] ?? Number.NaN
    })
    return point as unknown as CurvePoint
  })
}

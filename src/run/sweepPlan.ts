/**
 * The plan of a sweep: one unit of work per (point, seed, algorithm), each an independent call of
 * `runAlgorithm`. A unit is named by a key that hashes everything its result depends on: the
 * point's decoded spec, the exact tables of its tasks and features (so that a change inside a
 * user's function is seen too), β, the algorithm and the seed. A finished unit's file carries its
 * key, so a resumed sweep redoes exactly the units whose inputs changed, and no other.
 */
import { createHash } from "node:crypto"
import { specJson } from "../report/files.ts"
import type { Compiled } from "../spec/compile.ts"
import type { Experiment } from "../spec/Spec.ts"
import type { SweepPoint } from "../spec/sweep.ts"
import { assign } from "./assignment.ts"
import type { Algorithm } from "./runExperiment.ts"

/** Changes when the meaning of a run file changes, so that older files are redone, not misread. */
export const RUN_FORMAT = "distmt-sweep-run/2"

export interface SweepUnit {
  readonly point: SweepPoint
  readonly algorithm: Algorithm
  readonly seed: number
  /** Hash of everything the unit's result depends on. */
  readonly key: string
  /** The unit's result file, relative to the sweep folder. */
  readonly file: string
  /** Task instances the unit runs: a rough measure of its cost, for ordering and the time estimate. */
  readonly instances: number
}

const hashArray = (h: ReturnType<typeof createHash>, a: Float64Array) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))

/** The hash of one point's inputs (without seed and algorithm). */
export const pointKey = (c: Compiled): string => {
  const { name: _name, seeds: _seeds, seed: _seed, description: _description, sweep: _sweep, ...rest } = c.spec
  const h = createHash("sha256")
  h.update(JSON.stringify({ format: RUN_FORMAT, spec: specJson(rest as Experiment), beta: c.beta }))
  for (const m of c.tasks) {
    h.update(JSON.stringify([m.horizon, m.states, m.actions, m.start]))
    hashArray(h, m.reward)
    hashArray(h, m.transition)
  }
  hashArray(h, c.features.values)
  return h.digest("hex")
}

/** How many task instances an algorithm runs at a point (docs/algorithm.md §4; `independent` meets all M tasks). */
export const instancesOf = (c: Compiled, algorithm: Algorithm): number => {
  const N = c.spec.agents
  const M = c.tasks.length
  if (algorithm === "independent") return N * M
  const a = c.spec.assignment
  return a._tag === "Partition" ? Math.max(N, M) : a._tag === "Stream" ? N * M : assign(a, N, M, 0).reduce((n, t) => n + t.length, 0)
}

/** The algorithms a spec runs: DistMT-LSVI, then its baselines. */
export const algorithmsOf = (spec: Experiment): ReadonlyArray<Algorithm> => ["distmt", ...spec.baselines]

/** The seeds a spec runs: seed, seed + 1, …, seed + seeds − 1. */
export const seedsOf = (spec: Experiment): ReadonlyArray<number> => Array.from({ length: spec.seeds }, (_, r) => spec.seed + r)

/** Every unit of the sweep, in plan order (point, then seed, then algorithm). */
export const planUnits = (spec: Experiment, points: ReadonlyArray<SweepPoint>): ReadonlyArray<SweepUnit> =>
  points.flatMap((point) => {
    const pk = pointKey(point.compiled)
    return seedsOf(spec).flatMap((seed) =>
      algorithmsOf(point.compiled.spec).map((algorithm) => {
        const key = createHash("sha256").update(`${pk}/${algorithm}/${seed}`).digest("hex").slice(0, 20)
        return {
          point,
          algorithm,
          seed,
          key,
          // Named by the key alone (not the point's position), so that adding an axis value keeps every finished file.
          file: `runs/${algorithm}-seed${seed}-${key}.json`,
          instances: instancesOf(point.compiled, algorithm)
        }
      })
    )
  })

/**
 * A sweep worker (a worker thread of `distmt sweep`): runs one unit at a time, as the parent asks.
 * It loads the spec module itself (a spec may hold functions, which cannot be sent between
 * threads), rebuilds the unit's point, checks that the point's key is the one the parent planned,
 * and runs `runAlgorithm`. Everything is deterministic given the seed, so a unit's result does not
 * depend on which worker ran it. Asked to stop, it interrupts the unit (poolWorker.ts).
 */
import { Effect } from "effect"
import { type Algorithm, type AlgorithmRun, type ProgressSink, runAlgorithm } from "../run/runExperiment.ts"
import { pointKey } from "../run/sweepPlan.ts"
import { type Compiled, compile } from "../spec/compile.ts"
import type { Override } from "../spec/overrides.ts"
import { decode } from "../spec/schema.ts"
import type { Experiment } from "../spec/Spec.ts"
import { pointInput, type SweepValue } from "../spec/sweep.ts"
import { loadSpec } from "./loadSpec.ts"
import { servePool } from "./poolWorker.ts"

export interface WorkRequest {
  readonly source: string
  readonly quick: boolean
  /** `--set` and `--seeds` (src/spec/overrides.ts), applied as the parent applied them. */
  readonly overrides: ReadonlyArray<Override>
  readonly values: Readonly<Record<string, SweepValue>>
  readonly pointKey: string
  readonly algorithm: Algorithm
  readonly seed: number
}

const specs = new Map<string, Experiment>()
const points = new Map<string, Compiled>()

const compiledPoint = (req: WorkRequest) =>
  Effect.gen(function*() {
    const specKey = `${req.source}\u0000${req.quick}\u0000${JSON.stringify(req.overrides)}`
    let spec = specs.get(specKey)
    if (spec === undefined) {
      spec = yield* loadSpec(req.source, { quick: req.quick, overrides: req.overrides })
      specs.set(specKey, spec)
    }
    const cacheKey = `${specKey}\u0000${JSON.stringify(req.values)}`
    let c = points.get(cacheKey)
    if (c === undefined) {
      c = yield* compile(yield* decode(pointInput(spec, req.values), req.source), req.source)
      points.set(cacheKey, c)
    }
    return c
  })

const handle = (req: WorkRequest, post: (episodes: number) => void) =>
  Effect.gen(function*() {
    const c = yield* compiledPoint(req)
    if (pointKey(c) !== req.pointKey) {
      return yield* Effect.fail({
        message: `${req.source} gives another spec in this worker than in the sweep's plan ` +
          `(does the module change from one import to the next?)`
      })
    }
    let episodes = 0
    let last = performance.now()
    const progress: ProgressSink = {
      start: () => {},
      instanceDone: () => {},
      episodes: (n) => {
        episodes += n
        const t = performance.now()
        if (t - last > 500) {
          last = t
          post(episodes)
        }
      }
    }
    return yield* runAlgorithm(c, req.algorithm, req.seed, progress)
  })

servePool(handle)

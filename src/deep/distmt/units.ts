/**
 * The units of a deep run on worker threads (unitWorker.ts), at most `size` at once, through the
 * same pool as `distmt sweep`'s (src/cli/workerPool.ts): onnxruntime trains on the calling thread,
 * so this is how a run uses more than one core.
 */
import { Effect } from "effect"
import { makeWorkerPool, WorkerError } from "../../cli/workerPool.ts"
import type { Algorithm, ProgressSink } from "../../run/runExperiment.ts"
import type { Experiment } from "../../spec/Spec.ts"
import type { DeepRun } from "./run.ts"
import type { UnitRequest } from "./unitWorker.ts"

export const UNIT_WORKER = new URL("./unitWorker.ts", import.meta.url).href

/**
 * How a deep run's units are run, once the finished ones are set aside: each started with
 * `progress.start`, its frames told to `progress.episodes`, and given to `finished` when it is done.
 * On this process's worker threads (`runOnWorkers`), or on a cluster's runners
 * (src/cluster/runDeepUnits.ts).
 */
export type UnitRunner = <E, R>(
  units: ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }>,
  progress: ProgressSink,
  finished: (run: DeepRun) => Effect.Effect<void, E, R>
) => Effect.Effect<void, E | WorkerError, R>

export const runOnWorkers = <E, R>(
  spec: Experiment,
  units: ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }>,
  size: number,
  progress: ProgressSink,
  finished: (run: DeepRun) => Effect.Effect<void, E, R>
): Effect.Effect<void, E | WorkerError, R> =>
  Effect.scoped(Effect.gen(function*() {
    const pool = yield* makeWorkerPool<UnitRequest, DeepRun>(UNIT_WORKER, size, "a deep-run worker")
    // Longest first, so that no long unit runs alone at the end: `independent` trains least (its
    // agents split their frames among every task, each warming up its replay), so it goes last.
    const queue = [...units].sort((a, b) => Number(a.algorithm === "independent") - Number(b.algorithm === "independent"))
    yield* Effect.forEach(
      queue,
      (u) =>
        Effect.sync(() => progress.start(`${u.algorithm} · seed ${u.seed}`, 0)).pipe(
          Effect.andThen(pool.run({ spec, algorithm: u.algorithm, seed: u.seed }, (frames) => progress.episodes(frames))),
          Effect.mapError((e) => new WorkerError({ reason: `${u.algorithm} · seed ${u.seed}: ${e.reason}` })),
          Effect.flatMap(finished)
        ),
      { concurrency: size, discard: true }
    )
  }))

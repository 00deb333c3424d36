/**
 * The submitting side of `distmt run <deep spec> --cluster`: each (algorithm, seed) unit goes to one
 * `DistmtDeepUnit` entity (DeepUnitEntity.ts), all at once, and the cluster spreads them over its
 * runners; each runner runs as many at a time as it has deep-run threads and queues the rest. This
 * process follows their frames, and writes each unit's results as it comes back, as an in-process
 * deep run writes those of its worker threads (src/deep/distmt/runDeep.ts): the same files, and the
 * same numbers, since each unit is a function of its seed.
 *
 * A unit whose runner died is sent again, and starts over on a runner that is up: its `RunUnit`
 * fails, or its entity stops answering that it runs (`Frames`) for the stall time. A unit stopped so
 * is a new attempt (`distmt_attempts`), and the older attempt's unit stops within 5 s wherever it
 * still runs.
 */
import { Effect, Exit, Schedule } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { WorkerError } from "../cli/workerPool.ts"
import { nextAttempt } from "../coordinator/postgres.ts"
import type { DeepRun } from "../deep/distmt/run.ts"
import { decodeUnit, encodeJson } from "../deep/distmt/unitFiles.ts"
import type { UnitRunner } from "../deep/distmt/units.ts"
import type { Algorithm } from "../run/runExperiment.ts"
import type { Experiment } from "../spec/Spec.ts"
import { DeepUnit, deepUnitId } from "./DeepUnitEntity.ts"
import { stallMs, untilAnswered, untilReachable } from "./runAgents.ts"

/**
 * The way to run a deep spec's units on the cluster, as run `run` (`clusterRunKey`): a `UnitRunner`
 * in place of this process's worker threads (src/deep/distmt/units.ts `runOnWorkers`).
 */
export const deepUnitsOnCluster = Effect.gen(function*() {
  const client = yield* DeepUnit.client
  const sql = yield* SqlClient
  return (spec: Experiment, run: string): UnitRunner => deepUnitRunner(client, sql, spec, run)
})

/** The units of `spec` sent as run `run`'s through `client` (exported for test/cluster-deep-watch.test.ts). */
export const deepUnitRunner = (
  client: Effect.Success<typeof DeepUnit.client>,
  sql: SqlClient,
  spec: Experiment,
  run: string
): UnitRunner => {
  const specText = encodeJson(spec)
  // The frames of a unit: each of its agents plays the spec's frames per agent.
  const unitFrames = spec.agents * (spec.learner._tag === "Dqn" ? spec.learner.framesPerAgent : 0)
  const one = (u: { readonly algorithm: Algorithm; readonly seed: number }, frames: (n: number) => void): Effect.Effect<DeepRun> =>
    Effect.gen(function*() {
      const unit = `${run}-${u.algorithm}-${u.seed}`
      // Frames told so far: a unit started over tells nothing until it is past where the last one was.
      let told = 0
      for (;;) {
        const attempt = yield* untilReachable(`starting ${unit}`, nextAttempt(unit))
        const entity = client(deepUnitId(unit, attempt))
        const call = untilAnswered(unit, entity.RunUnit({ unit, attempt, spec: specText, algorithm: u.algorithm, seed: u.seed }))
        // Every second: the frames played, and whether the unit runs at all. A runner that died, or a
        // `RunUnit` the cluster dropped, leaves no entity that says it runs. Any end of `Frames` but
        // an answer is no answer: the cluster ends one as an interruption when its shard is released
        // (PostgreSQL unreachable for a few seconds), and that interruption, let through, ended the
        // whole run as if the user had pressed Ctrl-C.
        let alive = performance.now()
        const watch = Effect.repeat(
          Effect.flatMap(Effect.exit(Effect.timeout(entity.Frames(), "5 seconds")), (answer) =>
            Effect.sync(() => {
              const now = performance.now()
              if (Exit.isSuccess(answer) && answer.value >= 0) {
                alive = now
                if (answer.value > told) frames(answer.value - told)
                told = Math.max(told, answer.value)
              }
              return now - alive > stallMs()
            })),
          { schedule: Schedule.spaced("1 second"), until: (stalled) => stalled }
        )
        const ended = yield* Effect.raceFirst(Effect.map(call, (text) => ({ text })), Effect.as(watch, undefined))
        if (ended !== undefined) {
          // The frames it played after the last `Frames` asked: the progress line ended short of
          // its total (18,689/36,000 frames for a finished run), where an in-process run's reaches it.
          if (unitFrames > told) frames(unitFrames - told)
          return decodeUnit(ended.text)
        }
        yield* Effect.sync(() =>
          process.stderr.write(`\ndistmt: ${unit}: no runner said it was running for ${stallMs() / 1000} s; it starts over\n`)
        )
      }
    }).pipe(Effect.provideService(SqlClient, sql))
  return <E, R>(
    units: ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }>,
    progress: Parameters<UnitRunner>[1],
    finished: (run: DeepRun) => Effect.Effect<void, E, R>
  ): Effect.Effect<void, E | WorkerError, R> =>
    Effect.forEach(
      units,
      (u) =>
        Effect.sync(() => progress.start(`${u.algorithm} · seed ${u.seed}`, 0)).pipe(
          Effect.andThen(one(u, (n) => progress.episodes(n))),
          Effect.flatMap(finished)
        ),
      { concurrency: "unbounded", discard: true }
    )
}

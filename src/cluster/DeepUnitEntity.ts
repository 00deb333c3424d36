/**
 * The deep stage on the cluster: one `DistmtDeepUnit` entity per (run, algorithm, seed, attempt),
 * hosted by whichever runner holds its shard, runs that whole unit (its N agents, their server, the
 * evaluation) on one of the runner's deep-run worker threads, as an in-process deep run runs it on
 * one of its own (src/deep/distmt/unitWorker.ts). So a deep run's units spread over the runners and
 * their machines, and the results are the in-process run's: each unit is a function of its seed.
 *
 * Within a unit the agents share one process: a deep agent's state is its networks and its replay
 * (megabytes each, a frame at a time), which a unit keeps in memory, not in PostgreSQL. A runner
 * that dies loses its units in progress; the submitting process sends them again (runDeepUnits.ts)
 * and they start over on the runners that remain. Nothing of a deep unit is in the database but its
 * attempt number (`distmt_attempts`), which lets an older attempt's unit stop once it is replaced.
 */
import { Effect, Exit, Fiber, Layer, Schema, Scope } from "effect"
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import * as Rpc from "effect/rpc/Rpc"
import type { SqlClient } from "effect/sql/SqlClient"
import { makeWorkerPool } from "../cli/workerPool.ts"
import { runnerMemoryProblem } from "../deep/distmt/compile.ts"
import type { DeepRun } from "../deep/distmt/run.ts"
import { decodeJson, encodeJson } from "../deep/distmt/unitFiles.ts"
import { UNIT_WORKER } from "../deep/distmt/units.ts"
import type { UnitRequest } from "../deep/distmt/unitWorker.ts"
import { autoThreads } from "../run/threads/pool.ts"
import type { Experiment } from "../spec/Spec.ts"
import { AgentFailed, finalUnlessTransient, whileCurrent } from "./AgentEntity.ts"
import { signedEntity } from "./Ping.ts"

const Whole = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * Run one deep unit to its end; the reply is the unit's results (src/deep/distmt/run.ts `DeepRun`)
 * as JSON text, its non-finite numbers as strings (unitFiles.ts). A unit that fails in a way that
 * running it again would repeat (its code's defect) fails with `AgentFailed`.
 */
export const RunUnit = Rpc.make("RunUnit", {
  payload: {
    /** The unit's key (`<run>-<algorithm>-<seed>`), whose attempt `distmt_attempts` counts. */
    unit: Schema.String,
    attempt: Whole,
    /** The deep spec, decoded (plain data: games and numbers), as JSON text (unitFiles.ts `encodeJson`). */
    spec: Schema.String,
    algorithm: Schema.Literals(["distmt", "oracle", "independent"]),
    seed: Schema.Int
  },
  success: Schema.String,
  error: AgentFailed
})

/** The frames the unit has played so far on this entity, or −1 when it has not started here. */
export const UnitFrames = Rpc.make("Frames", { success: Schema.Number })

/**
 * Interrupted at once when its runner stops or hands its shard over, as the agents are
 * (AgentEntity.ts): a unit runs for minutes, and Effect Cluster would otherwise hold the runner's
 * stop up to 15 s, then kill it. The submitting process sends the unit again.
 */
export const DeepUnit = signedEntity("DistmtDeepUnit", [RunUnit, UnitFrames]).annotateRpcs(ClusterSchema.InterruptOnTermination, true)

/** The entity id of a deep unit: its key and the attempt. */
export const deepUnitId = (unit: string, attempt: number): string => `${unit}.${attempt}`

/**
 * The runner's deep-run worker threads, made at the first deep unit it is sent (a runner that only
 * ever hosts linear agents never loads onnxruntime) and kept while the runner lives: one unit per
 * thread at a time, the others queued.
 */
const deepWorkers = (threads: number) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    return yield* Effect.cached(Scope.provide(scope)(makeWorkerPool<UnitRequest, DeepRun>(UNIT_WORKER, threads, "a deep-run worker")))
  })

export const DeepUnitLive = (options: { readonly threads?: number; readonly runner?: string } = {}) =>
  Layer.unwrap(Effect.map(deepWorkers(options.threads ?? autoThreads()), (pool) =>
    DeepUnit.toLayer(
      Effect.gen(function*() {
        const address = yield* Entity.CurrentAddress
        const context = yield* Effect.context<SqlClient>()
        // The entity's own scope: the unit runs in it, not in the request that started it.
        const scope = yield* Effect.scope
        // One unit per entity, run once: a `RunUnit` sent again while it runs (its first call failed
        // on the way) waits for the same run rather than starting a second. `frames`: what it has
        // played, for `Frames` (progress, and a sign of life).
        let running: Fiber.Fiber<string, AgentFailed> | undefined
        let frames = -1
        // The `RunUnit` calls waiting for it. When the last is interrupted (the submitting process
        // was stopped: Ctrl-C, or its watch gave the attempt up), the unit stops: nothing would
        // take its results. It used to run on to its end, holding a runner thread for nothing.
        let waiters = 0
        const runUnit = (payload: typeof RunUnit.payloadSchema.Type) =>
          Effect.gen(function*() {
            const spec = decodeJson(payload.spec) as Experiment
            // The submitting machine checked the memory of its own; this runner may have less. Final:
            // the unit would come back to this runner (its shard's) and fail again.
            const tooBig = runnerMemoryProblem(spec, options.runner ?? "(this runner)", payload.unit)
            if (tooBig !== undefined) {
              yield* Effect.logError(tooBig)
              return yield* new AgentFailed({ message: tooBig })
            }
            const workers = yield* pool
            // Which runner runs which unit is what an operator (and the runner-death test) looks for.
            yield* Effect.logInfo("started")
            frames = 0
            const request: UnitRequest = { spec, algorithm: payload.algorithm, seed: payload.seed }
            const run = yield* Effect.raceFirst(
              // A failure on the worker is the unit's code's (onnxruntime's, a game's): final.
              Effect.mapError(workers.run(request, (n) => (frames += n)), (e) => new AgentFailed({ message: e.reason })),
              Effect.andThen(whileCurrent(payload.unit, payload.attempt, payload.unit), Effect.never)
            )
            yield* Effect.logInfo(`finished: ${frames.toLocaleString("en-US")} frames`)
            return encodeJson(run)
          }).pipe(
            finalUnlessTransient,
            Effect.annotateLogs("unit", address.entityId),
            Effect.provide(context)
          )
        return DeepUnit.of({
          RunUnit: ({ payload }) =>
            Effect.gen(function*() {
              if (running === undefined) running = yield* Effect.forkIn(runUnit(payload), scope)
              const fiber = running
              waiters++
              return yield* Fiber.join(fiber).pipe(
                Effect.onExit((exit) => {
                  if (--waiters > 0 || !Exit.hasInterrupts(exit) || running !== fiber) return Effect.void
                  running = undefined
                  frames = -1
                  const said = Effect.logInfo("stopped: nothing waits for it any more (its submitting process stopped, or its shard moved)")
                  return Effect.andThen(Effect.annotateLogs(said, "unit", address.entityId), Fiber.interrupt(fiber))
                })
              )
            }),
          Frames: () => Effect.sync(() => frames)
        })
      }),
      // `Frames` is asked while `RunUnit` runs.
      { concurrency: "unbounded", maxIdleTime: "1 minute" }
    )
  ))

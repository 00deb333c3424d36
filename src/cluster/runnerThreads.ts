/**
 * A runner's learner threads (src/run/threads/), shared by the agent entities it hosts
 * (AgentEntity.ts): their episodes run there, off the event loop whose pauses would cost the runner
 * its shard locks. Each run's tables are sent to the threads once, when its first agent arrives.
 */
import { Context, Effect, Layer } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import { autoThreads, type LearnerPool, makeLearnerPool } from "../run/threads/pool.ts"
import { type AgentModel, loadModel } from "./agentState.ts"

/**
 * The runner's learner threads, shared by the agents it hosts, and the models they have been given
 * (each run's tables are sent to the threads once).
 */
export class RunnerThreads extends Context.Service<RunnerThreads, {
  readonly pool: LearnerPool
  /** How often an agent writes a checkpoint inside an instance (at most; docs/cluster.md). */
  readonly checkpointMillis: number
  readonly model: (run: string) => Effect.Effect<{ readonly model: AgentModel; readonly id: number }, unknown, SqlClient>
}>()("distmt/RunnerThreads") {}

/** Checkpoints inside an instance at most every 10 seconds by default (`distmt runner --checkpoint-every`). */
export const CHECKPOINT_SECONDS = 10

export const RunnerThreadsLive = (options: { readonly threads?: number; readonly checkpointSeconds?: number } = {}) =>
  Layer.effect(
    RunnerThreads,
    Effect.gen(function*() {
      const pool = yield* makeLearnerPool(options.threads ?? autoThreads())
      const models = new Map<string, { readonly model: AgentModel; readonly id: number }>()
      return {
        pool,
        checkpointMillis: 1000 * (options.checkpointSeconds ?? CHECKPOINT_SECONDS),
        model: (run) =>
          Effect.suspend(() => {
            const known = models.get(run)
            if (known !== undefined) return Effect.succeed(known)
            return Effect.map(loadModel(run), (model) => {
              // Two agents may load it at once: the first to finish registers it.
              const again = models.get(run)
              if (again !== undefined) return again
              const entry = { model, id: pool.addModel(model.tasks, model.features, model.lsvi) }
              models.set(run, entry)
              return entry
            })
          })
      }
    })
  )


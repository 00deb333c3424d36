/**
 * A runner's learner threads (src/run/threads/), shared by the agent entities it hosts
 * (AgentEntity.ts): their episodes run there, off the event loop whose pauses would cost the runner
 * its shard locks. Each run's tables are sent to the threads when its first agent arrives, and
 * dropped some time after its last agent has gone: a runner serves run after run for as long as it
 * lives, and would otherwise keep the tables of every one of them, on every thread.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import { autoThreads, type LearnerPool, makeLearnerPool } from "../run/threads/pool.ts"
import { type AgentModel, loadModel } from "./agentState.ts"

/**
 * The runner's learner threads, shared by the agents it hosts, and the models they have been given
 * (each run's tables are sent to the threads once while its agents run).
 */
export class RunnerThreads extends Context.Service<RunnerThreads, {
  readonly pool: LearnerPool
  /** How often an agent writes a checkpoint inside an instance (at most; docs/cluster.md). */
  readonly checkpointMillis: number
  /**
   * The model of run `run` on the threads, for as long as the scope lasts: an agent holds its run's
   * model while it runs.
   */
  readonly model: (run: string) => Effect.Effect<{ readonly model: AgentModel; readonly id: number }, unknown, SqlClient | Scope.Scope>
}>()("distmt/RunnerThreads") {}

/** Checkpoints inside an instance at most every 10 seconds by default (`distmt runner --checkpoint-every`). */
export const CHECKPOINT_SECONDS = 10

/**
 * Why `--checkpoint-every S` is refused, or undefined: seconds above 0, at most a day. `distmt runner`
 * and `distmt cluster up` (which passes it on to each runner it starts) check it alike; cluster up
 * did not, so each of its runners failed on it, one log each, after the database was reached.
 */
export const checkpointEveryProblem = (seconds: number): string | undefined =>
  seconds > 0 && seconds <= 86_400 ? undefined : `--checkpoint-every: expected seconds above 0 (at most 86400), got ${seconds}`

/**
 * Models that no agent holds are kept, the most recently used first, up to this many: the units of
 * one run follow each other (its agents all leave between two), and reloading a model costs a read
 * of the database and a copy to every thread.
 */
export const IDLE_MODELS = 4

interface Held {
  readonly model: AgentModel
  readonly id: number
  users: number
  /** When it was last let go (a counter, not a time). */
  released: number
}

export const RunnerThreadsLive = (options: {
  readonly threads?: number
  readonly checkpointSeconds?: number
  /** Where a run's model comes from (the database's `distmt_models`; a test gives its own). */
  readonly load?: (run: string) => Effect.Effect<AgentModel, unknown, SqlClient>
} = {}) =>
  Layer.effect(
    RunnerThreads,
    Effect.gen(function*() {
      const pool = yield* makeLearnerPool(options.threads ?? autoThreads())
      const load = options.load ?? loadModel
      const models = new Map<string, Held>()
      let clock = 0
      /** Drops the models no agent holds beyond the IDLE_MODELS most recently let go. */
      const evict = () => {
        const idle = [...models.entries()].filter(([, h]) => h.users === 0).sort((a, b) => b[1].released - a[1].released)
        for (const [run, held] of idle.slice(IDLE_MODELS)) {
          models.delete(run)
          pool.removeModel(held.id)
        }
      }
      /** The model counted as held in the same step as it is found, so that no `evict` comes between. */
      const take = (held: Held): Held => {
        held.users++
        return held
      }
      const acquire = (run: string) =>
        Effect.suspend(() => {
          const known = models.get(run)
          if (known !== undefined) return Effect.succeed(take(known))
          return Effect.map(load(run), (model) => {
            // Two agents may load it at once: the first to finish registers it.
            const again = models.get(run)
            if (again !== undefined) return take(again)
            const held: Held = { model, id: pool.addModel(model.tasks, model.features, model.lsvi), users: 0, released: 0 }
            models.set(run, held)
            return take(held)
          })
        })
      return {
        pool,
        checkpointMillis: 1000 * (options.checkpointSeconds ?? CHECKPOINT_SECONDS),
        model: (run) =>
          Effect.map(
            Effect.acquireRelease(acquire(run), (held) =>
              Effect.sync(() => {
                held.users--
                held.released = ++clock
                evict()
              })),
            (held) => ({ model: held.model, id: held.id })
          )
      }
    })
  )

/**
 * A runner's learner threads (src/cluster/runnerThreads.ts) serve run after run: a run's tables
 * are loaded when its first agent arrives, shared by its agents, kept a while after the last one
 * has gone, and then dropped, on the main thread and on every worker. No PostgreSQL: the models come
 * from a loader the test gives.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { modelOf } from "../src/cluster/runAgents.ts"
import { IDLE_MODELS, RunnerThreads, RunnerThreadsLive } from "../src/cluster/runnerThreads.ts"
import { watching } from "../src/agent/Learning.ts"
import * as Rng from "../src/rng/Rng.ts"
import { chain } from "./chain.ts"

describe("a runner's models (src/cluster/runnerThreads.ts)", () => {
  it.live("shared by a run's agents, kept while few are idle, then dropped everywhere; an instance on a reloaded model runs", () => {
    const model = modelOf(chain("runner-threads"))
    const loads: Array<string> = []
    const load = (run: string) => Effect.sync(() => (loads.push(run), model))
    // The test's loader reads no table: the SqlClient that a runner's loader needs is a stand-in.
    return Effect.gen(function*() {
      const threads = yield* RunnerThreads
      /** Holds run `run`'s model until the returned scope closes. */
      const hold = (run: string) =>
        Effect.gen(function*() {
          const scope = yield* Scope.make()
          const held = yield* Scope.provide(threads.model(run), scope)
          return { ...held, scope }
        })
      // Two agents of one run at once: one load, one model on the threads.
      const [a, b] = yield* Effect.all([hold("run-0"), hold("run-0")], { concurrency: "unbounded" })
      expect(a.id).toBe(b.id)
      expect(threads.pool.stats().models).toBe(1)
      yield* Scope.close(a.scope, Exit.void)
      yield* Scope.close(b.scope, Exit.void)
      // Its agents gone, it stays for the run's next unit: held again, not loaded again.
      const again = yield* hold("run-0")
      expect(again.id).toBe(a.id)
      expect(loads).toEqual(["run-0"])
      yield* Scope.close(again.scope, Exit.void)
      // Ten more runs, one after another: the threads keep the IDLE_MODELS last let go, not all.
      for (let r = 1; r <= 10; r++) yield* Scope.close((yield* hold(`run-${r}`)).scope, Exit.void)
      expect(threads.pool.stats().models).toBe(IDLE_MODELS)
      // A held model is never dropped, however many runs pass meanwhile.
      const busy = yield* hold("run-busy")
      for (let r = 11; r <= 20; r++) yield* Scope.close((yield* hold(`run-${r}`)).scope, Exit.void)
      expect(threads.pool.stats().models).toBe(IDLE_MODELS + 1)
      // run-0 was dropped: it is loaded again, under a new id, and an instance of it runs on the threads.
      const back = yield* hold("run-0")
      expect(back.id).not.toBe(a.id)
      expect(loads.filter((r) => r === "run-0")).toHaveLength(2)
      const learning = threads.pool.open({
        model: back.id,
        task: 0,
        rng: Rng.make(1, 0, 0, 0).state(),
        agent: 0,
        clock: () => 0,
        watch: watching(model.states)
      })
      const phase = yield* learning.phase({ untilWidth: 0, maxEpisodes: 50 })
      expect(phase.episodes).toBe(50)
      // A dropped model's id is refused, not run on stale tables.
      const stale = { model: a.id, task: 0, rng: Rng.make(1, 0, 0, 0).state(), agent: 0, clock: () => 0, watch: watching(model.states) }
      expect(() => threads.pool.open(stale)).toThrow(/no model/)
      yield* Scope.close(back.scope, Exit.void)
      yield* Scope.close(busy.scope, Exit.void)
    }).pipe(Effect.provide(RunnerThreadsLive({ threads: 2, load })), Effect.provideService(SqlClient, {} as never))
  }, 60_000)
})

/**
 * The submitting side of a deep run on the cluster (src/cluster/runDeepUnits.ts) follows each unit
 * by asking its entity `Frames` every second. The cluster ends such a request as an interruption
 * when the entity's shard is being released (a runner stopping, PostgreSQL unreachable for a few
 * seconds): that is no answer, not the end of the run. It used to end the whole run as if the user
 * had pressed Ctrl-C (exit 130, "interrupted: …"), seen once with PostgreSQL stopped mid-run.
 *
 * Needs PostgreSQL ($DISTMT_TEST_DB) for the unit's attempt number: skipped with a message on a
 * developer machine without it, a failure under CI.
 */
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { deepUnitRunner } from "../src/cluster/runDeepUnits.ts"
import type { Experiment } from "../src/spec/Spec.ts"
import { clusterTestsMode, failsWithoutDatabase, TEST_DB } from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-deep-watch")

describe.skipIf(mode === "skip")("a deep run's watch of its units on the cluster", () => {
  if (failsWithoutDatabase(mode)) return
  const pg = PgClient.layer({ url: Redacted.make(TEST_DB!), maxConnections: 2 })

  it.live("a Frames request that the cluster ends as an interruption is no answer: the run goes on", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient
      // A unit that runs for ever, and whose every `Frames` the cluster interrupts.
      const client = (() => ({ RunUnit: () => Effect.never, Frames: () => Effect.interrupt })) as unknown as Parameters<typeof deepUnitRunner>[0]
      const run = `watch-test-${process.pid}`
      const spec = { agents: 1, learner: { _tag: "Dqn", framesPerAgent: 1 } } as unknown as Experiment
      const units = deepUnitRunner(client, sql, spec, run)
      const progress = { start: () => {}, episodes: () => {}, instanceDone: () => {} }
      // Still waiting for its unit after 4 s (four `Frames` asked), rather than interrupted.
      const exit = yield* Effect.exit(Effect.timeout(units([{ algorithm: "distmt", seed: 0 }], progress, () => Effect.void), "4 seconds"))
      yield* sql`DELETE FROM distmt_attempts WHERE run = ${`${run}-distmt-0`}`
      expect(Exit.isFailure(exit) && !Exit.hasInterrupts(exit), String(exit)).toBe(true)
    }).pipe(Effect.provide(Layer.orDie(pg))), 30_000)
})

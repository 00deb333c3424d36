/**
 * The cluster's tables are created once per process's SQL client, not at every server or agent
 * start (src/coordinator/postgres.ts `oncePerClient`): a migration that succeeded is not run again
 * for that client, one that failed is, and another client runs its own.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { SqlError } from "effect/sql/SqlError"
import { oncePerClient } from "../src/coordinator/postgres.ts"

describe("oncePerClient", () => {
  it.effect("runs a migration once per client, and again after it failed", () =>
    Effect.gen(function*() {
      let runs = 0
      let fail = true
      const migration = oncePerClient(Effect.suspend(() => {
        runs++
        return fail ? Effect.fail(new SqlError({ cause: new Error("no connection"), message: "no connection" } as never)) : Effect.void
      }))
      // Only the client's identity matters to it: two distinct stand-ins.
      const [a, b] = [{}, {}] as unknown as ReadonlyArray<SqlClient>
      const on = (client: SqlClient) => Effect.provideService(migration, SqlClient, client)
      expect((yield* Effect.exit(on(a)))._tag).toBe("Failure")
      fail = false
      yield* on(a)
      yield* on(a)
      yield* on(a)
      expect(runs).toBe(2)
      yield* on(b)
      expect(runs).toBe(3)
    }))
})

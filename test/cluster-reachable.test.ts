/**
 * The submitting process's statements, and its client of the cluster, tried again while PostgreSQL
 * is unreachable for a moment (`untilReachable`, `buildUntilReachable`, src/cluster/runAgents.ts),
 * with no database: failures made as the driver makes them. An outage that broke the transaction
 * storing the run's model came out as a defect and ended a run of test/cluster-outage.test.ts with
 * the driver's stack.
 */
import { Context, Effect, Layer } from "effect"
import { ConnectionError, SqlError, SqlSyntaxError } from "effect/sql/SqlError"
import { describe, expect, it } from "vitest"
import { buildUntilReachable, untilReachable } from "../src/cluster/runAgents.ts"

class Client extends Context.Service<Client, { readonly attempt: number }>()("test/Client") {}

/** A client whose building opens a connection, then fails with `failures[k]` on attempt k (none: it is built). */
const flaky = (failures: ReadonlyArray<SqlError>) => {
  const log = { attempts: 0, open: 0, closed: 0 }
  const layer = Layer.effect(
    Client,
    Effect.gen(function*() {
      const attempt = log.attempts++
      yield* Effect.acquireRelease(Effect.sync(() => log.open++), () => Effect.sync(() => log.closed++))
      const failure = failures[attempt]
      if (failure !== undefined) return yield* failure
      return { attempt }
    })
  )
  return { layer, log }
}

const cut = () => new SqlError({ reason: new ConnectionError({ cause: new Error("read ECONNRESET"), message: "PgConnection: Socket error" }) })

/** Runs `effect` with what it writes to stderr kept. */
const quietly = async <A>(effect: Effect.Effect<A>): Promise<{ readonly value: A; readonly said: string }> => {
  const stderr = process.stderr.write
  const said: Array<string> = []
  process.stderr.write = ((text: string) => said.push(String(text)) > 0) as typeof process.stderr.write
  try {
    return { value: await Effect.runPromise(effect), said: said.join("") }
  } finally {
    process.stderr.write = stderr
  }
}

describe("a statement through a database outage", () => {
  it("a connection cut that comes out as a defect (a transaction's rollback failing too) is tried again", async () => {
    let attempts = 0
    const statement = Effect.suspend(() => (attempts++ === 0 ? Effect.die(cut()) : Effect.succeed("stored")))
    const { value, said } = await quietly(untilReachable("storing the run's model", statement))
    expect([value, attempts]).toEqual(["stored", 2])
    expect(said).toContain("the database did not answer (PgConnection: Socket error) storing the run's model")
  }, 10_000)

  it("any other defect ends the run at once", async () => {
    let attempts = 0
    const statement = Effect.suspend(() => (attempts++, Effect.die(new Error("a bug"))))
    const exit = await Effect.runPromiseExit(untilReachable("storing the run's model", statement))
    expect([exit._tag, attempts]).toEqual(["Failure", 1])
  })
})

describe("the cluster client's building through a database outage", () => {
  it("a connection cut is tried again (2 s later) and the run gets the client; the failed attempt's connection is closed", async () => {
    const { layer, log } = flaky([cut()])
    const { value: attempt, said } = await quietly(
      Effect.gen(function*() {
        const client = yield* Client
        // Inside the run: the failed attempt's connection is closed, the good one still open.
        expect([log.open, log.closed]).toEqual([2, 1])
        return client.attempt
      }).pipe(Effect.provide(buildUntilReachable("connecting to the cluster", layer)))
    )
    expect(attempt).toBe(1)
    expect([log.attempts, log.open, log.closed]).toEqual([2, 2, 2])
    expect(said).toContain("the database did not answer (PgConnection: Socket error) connecting to the cluster; trying again every 2 s")
  }, 10_000)

  it("any other failure (a wrong statement) is not tried again: it ends the run at once, its connection closed", async () => {
    const wrong = new SqlError({ reason: new SqlSyntaxError({ cause: new Error("syntax error at or near"), message: "syntax error" }) })
    const { layer, log } = flaky([wrong, wrong])
    const exit = await Effect.runPromiseExit(Effect.provide(Effect.map(Client, (c) => c.attempt), buildUntilReachable("connecting to the cluster", layer)))
    expect(exit._tag).toBe("Failure")
    expect([log.attempts, log.open, log.closed]).toEqual([1, 1, 1])
  })
})

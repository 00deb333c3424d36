/**
 * The coordinator's protocol (src/coordinator/protocol.ts, issue 10 item 1): the same agent program
 * talks to the server through `Rpc` messages and gets the same results as with the in-process
 * server, because the server orders requests by the clocks the messages carry; and every message
 * survives its Schema encoding bit for bit.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { RpcTest } from "effect/rpc"
import { make as makeCoordinator } from "../src/coordinator/Coordinator.ts"
import { CoordinatorRpcs, Exchange, Identification, Outcome, Policy, serve } from "../src/coordinator/protocol.ts"
import { chain as chainOf } from "./chain.ts"
import { remote } from "../src/run/remote.ts"
import { inProcess, type RunServer } from "../src/run/RunServer.ts"
import { type Algorithm, runAlgorithm } from "../src/run/runExperiment.ts"
import { sequenced } from "../src/run/sequenced.ts"
import { VirtualTime } from "../src/run/VirtualTime.ts"

const chain = (over: Record<string, unknown> = {}) => chainOf("protocol", over)

/**
 * A server behind the protocol: its virtual time on its own side, agents reaching it only by
 * messages. With `hints: false` every `Advance` is lost: the order must then come from the clocks
 * the requests carry alone.
 */
const overRpc = (hints: boolean, slowWrites = false) => (agents: number) =>
  Effect.gen(function*() {
    const made = yield* makeCoordinator
    // A server that writes each decision somewhere slow after making it (as the PostgreSQL one
    // does): waiters learn of a publication before the publisher's turn is over.
    const inner = slowWrites
      ? { ...made, publish: (...args: Parameters<typeof made.publish>) => Effect.andThen(made.publish(...args), Effect.sleep("5 millis")) }
      : made
    const time = new VirtualTime(agents)
    const rpc = yield* RpcTest.makeClient(CoordinatorRpcs).pipe(Effect.provide(serve(sequenced(inner, time), time)))
    const lossy: typeof rpc = hints ? rpc : { ...rpc, Advance: () => Effect.void }
    return (agentSide = yield* remote(lossy, agents))
  })

/** The agents' side of the last server made by `overRpc`, and the last in-process one (`local`). */
let agentSide: RunServer | undefined
let inProcessSide: RunServer | undefined
const local = (agents: number) => Effect.map(inProcess(agents), (s) => (inProcessSide = s))
const clocks = (s: RunServer | undefined, agents: number) => Array.from({ length: agents }, (_, i) => s!.clock(i))

describe("agents through the protocol get the in-process results", () => {
  const same = (c: ReturnType<typeof chain>, algorithms: ReadonlyArray<Algorithm>, seed: number) =>
    Effect.gen(function*() {
      for (const algorithm of algorithms) {
        const direct = yield* runAlgorithm(c, algorithm, seed, undefined, undefined, { server: local })
        for (const [hints, slow] of [[true, false], [false, false], [true, true]]) {
          const messages = yield* runAlgorithm(c, algorithm, seed, undefined, undefined, { server: overRpc(hints, slow) })
          // Each agent's own clock, moved by the waits it was answered (the cluster's makespan comes from them).
          expect(clocks(agentSide, c.spec.agents)).toEqual(clocks(inProcessSide, c.spec.agents))
          expect(messages.rows).toEqual(direct.rows)
          expect(messages.traffic).toEqual(direct.traffic)
          expect(messages.registered).toBe(direct.registered)
          expect(messages.virtualEpisodes).toBe(direct.virtualEpisodes)
        }
      }
    })

  it.live("policy sharing, stream: owners, waiters and downloads", () =>
    Effect.gen(function*() {
      const c = chain()
      const run = yield* runAlgorithm(c, "distmt", 2)
      expect(run.rows.some((r) => r.role === "downloaded")).toBe(true)
      yield* same(c, ["distmt", "oracle"], 2)
    }), 120_000)

  it.live("experience sharing: pools exchanged by message", () =>
    Effect.gen(function*() {
      const c = chain({ sharing: "experience", epsilon: 0.08 })
      const run = yield* runAlgorithm(c, "distmt", 1)
      expect(run.traffic.experience.pulled).toBeGreaterThan(0)
      yield* same(c, ["distmt"], 1)
    }), 120_000)
})

describe("messages survive their encoding", () => {
  const policy = {
    horizon: 2,
    dim: 2,
    actions: 3,
    beta: 1.5,
    w: Float64Array.from([0.1, -2.5e-300, Math.PI, Number.MIN_VALUE]),
    LambdaInv: Float64Array.from({ length: 8 }, (_, i) => 1 / (i + 3))
  }
  const roundTrip = <S extends Schema.Codec<any, any>>(schema: S, value: S["Type"]) =>
    Schema.decodeUnknownSync(schema)(Schema.encodeUnknownSync(schema)(value))

  it("a policy travels as 8 bytes a float, and comes back bit for bit", () => {
    const encoded = Schema.encodeUnknownSync(Policy)(policy) as { w: Uint8Array; LambdaInv: Uint8Array }
    expect(encoded.w).toBeInstanceOf(Uint8Array)
    expect(encoded.w.length).toBe(8 * policy.w.length)
    expect(encoded.LambdaInv.length).toBe(8 * policy.LambdaInv.length)
    const back = roundTrip(Policy, policy)
    expect(Array.from(back.w)).toEqual(Array.from(policy.w))
    expect(Array.from(back.LambdaInv)).toEqual(Array.from(policy.LambdaInv))
  })

  it("identifications, outcomes and exchanges round-trip; a byte count that is no whole float is refused", () => {
    const certificate = { lower: 0.1, upper: 0.2, width: 0.1 }
    for (const x of [
      { _tag: "Registered", task: 3 },
      { _tag: "Learning", task: 1, epoch: 2 },
      { _tag: "Claimed", task: 0 }
    ] as const) expect(roundTrip(Identification, x)).toEqual(x)
    const solved = roundTrip(Identification, { _tag: "Solved", task: 2, policy, certificate, reached: false })
    expect(solved._tag === "Solved" && Array.from(solved.policy.w)).toEqual(Array.from(policy.w))
    expect(roundTrip(Outcome, { _tag: "Reopened" })).toEqual({ _tag: "Reopened" })
    const pulled = Float64Array.from([0, 3, 1, 0.25, 2])
    const pooled = roundTrip(Exchange, { _tag: "Pooled", pulled, cursor: 4 })
    expect(pooled._tag === "Pooled" && Array.from(pooled.pulled)).toEqual(Array.from(pulled))
    expect(() => Schema.decodeUnknownSync(Exchange)({ _tag: "Pooled", pulled: new Uint8Array(12), cursor: 0 })).toThrow(/8-byte floats/)
  })
})

/**
 * The server behind the `Rpc` protocol (src/coordinator/protocol.ts), as a run's `RunServer`: the
 * agents' side keeps each agent's clock and sends it with every request, and the server orders the
 * requests by it (src/run/VirtualTime.ts on the server's side). So the order, and with it every
 * number of the run, does not depend on where the agents run or how late their messages arrive.
 *
 * `Advance` messages are sent as the episodes run, without waiting for an answer: they only let the
 * server admit the other agents' requests sooner. A request carries the exact clock, so a stale or
 * lost `Advance` delays others but never reorders anything.
 */
import { Effect, Fiber } from "effect"
import type { CoordinatorShape } from "../coordinator/Coordinator.ts"
import type { CoordinatorClient } from "../coordinator/protocol.ts"
import type { RunServer } from "./RunServer.ts"

/**
 * The protocol's calls, whatever the transport adds to their errors (a cluster entity's client
 * adds its own): each a payload in, the reply out.
 */
export type Caller = {
  readonly [K in keyof CoordinatorClient]: CoordinatorClient[K] extends (payload: infer P, ...rest: infer _R) => Effect.Effect<infer A, infer _E, infer _X>
    ? (payload: P) => Effect.Effect<A, unknown>
    : never
}

/** A `RunServer` over the protocol, which also tells how many requests each agent has numbered. */
export interface RemoteServer extends RunServer {
  readonly seq: (agent: number) => number
  /**
   * The agent's next request is numbered `seq` (at least): a resumed agent skips the requests of
   * the part of a pooled phase its checkpoint holds (src/cluster/agentRun.ts).
   */
  readonly skipTo: (agent: number, seq: number) => void
}

/**
 * A `RunServer` for `agents` agents over `rpc`. The evaluator reads the server's registry, traffic
 * and length in virtual time with `Inspect` once the run is over (agents never do). `from` gives
 * an agent resumed from a checkpoint its clock and the number of its next request
 * (src/cluster/AgentEntity.ts); agents start at 0 otherwise.
 */
export const remote = (
  rpc: Caller,
  agents: number,
  from: (agent: number) => { readonly clock: number; readonly seq: number } = () => ({ clock: 0, seq: 0 })
): Effect.Effect<RemoteServer> =>
  Effect.sync(() => {
    const clocks = Array.from({ length: agents }, (_, i) => from(i).clock)
    // Each agent numbers its requests, so that one sent again after a runner died is recognised.
    const seqs = Array.from({ length: agents }, (_, i) => from(i).seq)
    const next = (agent: number) => seqs[agent]++
    // Hints in flight; awaited at the end so that none outlives the run.
    const hints = new Set<Fiber.Fiber<unknown, unknown>>()
    const hint = (message: Effect.Effect<void, unknown>) => {
      const fiber = Effect.runFork(Effect.ignore(message))
      hints.add(fiber)
      fiber.addObserver(() => hints.delete(fiber))
    }
    const inspect = Effect.orDie(Effect.andThen(
      // Hints still in flight are answered first, so that the server's clocks are final.
      Effect.suspend(() => Effect.forEach([...hints], (f) => Fiber.await(f), { discard: true })),
      rpc.Inspect(undefined as never)
    ))
    const send = <A, E>(agent: number, request: (clock: number) => Effect.Effect<A, E>): Effect.Effect<A> =>
      Effect.orDie(Effect.suspend(() => request(clocks[agent])))
    const coordinator: CoordinatorShape = {
      identify: (agent, interval) => send(agent, (clock) => rpc.Identify({ agent, seq: next(agent), clock, interval })),
      identifyKnown: (agent, key, interval) =>
        send(agent, (clock) => rpc.IdentifyKnown({ agent, seq: next(agent), clock, key, interval })),
      awaitPolicy: (agent, task, epoch) =>
        send(agent, (clock) =>
          Effect.map(rpc.AwaitPolicy({ agent, seq: next(agent), clock, task, epoch }), (reply) => {
            // Waiting costs no episodes: the server moved this agent's clock up to its releaser's.
            clocks[agent] = Math.max(clocks[agent], reply.clock)
            return reply.outcome
          })),
      claim: (agent, task) => send(agent, (clock) => rpc.Claim({ agent, seq: next(agent), clock, task })),
      publish: (agent, task, policy, certificate, reached) =>
        send(agent, (clock) => rpc.Publish({ agent, seq: next(agent), clock, task, policy, certificate, reached })),
      abandon: (agent, task) => send(agent, (clock) => rpc.Abandon({ agent, clock, task })),
      exchange: (agent, task, pushed, cursor) =>
        send(agent, (clock) => rpc.Exchange({ agent, seq: next(agent), clock, task, pushed, cursor })),
      fetchAll: (agent) => send(agent, (clock) => rpc.FetchAll({ agent, seq: next(agent), clock })),
      registry: Effect.map(inspect, (i) => i.registry),
      traffic: Effect.map(inspect, (i) => i.traffic)
    }
    return {
      coordinator,
      advance: (agent, episodes) => {
        clocks[agent] += episodes
        hint(rpc.Advance({ agent, clock: clocks[agent] }))
      },
      retire: (agent) => hint(rpc.Retire({ agent })),
      clock: (agent) => clocks[agent],
      seq: (agent) => seqs[agent],
      skipTo: (agent, seq) => void (seqs[agent] = Math.max(seqs[agent], seq)),
      makespan: Effect.map(inspect, (i) => i.makespan)
    }
  })

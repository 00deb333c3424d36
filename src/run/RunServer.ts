/**
 * The server as one algorithm's run sees it: the coordinator the agents talk to, and the virtual
 * clocks that order their requests (src/run/VirtualTime.ts). `inProcess` is the default: one
 * `Ref`-backed coordinator in this process, requests sequenced here. `remote`
 * (src/coordinator/remote.ts) is the same server behind the `Rpc` protocol, where the sequencing
 * happens on the server's side and the agents only report their clocks.
 */
import { Effect } from "effect"
import { type CoordinatorShape, make as makeCoordinator } from "../coordinator/Coordinator.ts"
import { sequenced } from "./sequenced.ts"
import { VirtualTime } from "./VirtualTime.ts"

export interface RunServer {
  /** What the agents call: every request in virtual-time order. */
  readonly coordinator: CoordinatorShape
  /** The agent ran `episodes` more episodes. */
  readonly advance: (agent: number, episodes: number) => void
  /** The agent sends nothing more (finished, failed or interrupted). */
  readonly retire: (agent: number) => void
  /** The agent's virtual time, as far as this side knows (it orders the learner threads' work). */
  readonly clock: (agent: number) => number
  /** The run's length in virtual time, once it is over. */
  readonly makespan: Effect.Effect<number>
}

/** A RunServer over `inner` for `agents` agents: their requests sequenced in this process. */
export const sequencedOver = (inner: CoordinatorShape, agents: number): RunServer => {
  const time = new VirtualTime(agents)
  return {
    coordinator: sequenced(inner, time),
    advance: time.advance,
    retire: time.retire,
    clock: (agent) => time.clock(agent),
    makespan: Effect.sync(() => time.makespan())
  }
}

/** A fresh in-process coordinator for `agents` agents, its requests in virtual-time order. */
export const inProcess = (agents: number): Effect.Effect<RunServer> =>
  Effect.map(makeCoordinator, (inner) => sequencedOver(inner, agents))

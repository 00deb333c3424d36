/**
 * The coordinator behind virtual time (src/run/VirtualTime.ts): the server as the agents of a run
 * see it, in one process (src/run/RunServer.ts, the deep stage's run) or in a cluster entity
 * (src/cluster/ServerEntity.ts).
 */
import { Effect } from "effect"
import type { CoordinatorShape } from "../coordinator/Coordinator.ts"
import { awaited, type VirtualTime } from "./VirtualTime.ts"

/**
 * The coordinator as agents see it in a run: every request in virtual-time order (`VirtualTime`). An agent
 * told to wait for a task is blocked in virtual time until the publication, or the re-opening, that
 * settles what it waits for releases it; publish and abandon move the waiters' clocks in the same
 * uninterruptible step as they settle it.
 */
export const sequenced = <P>(server: CoordinatorShape<P>, time: VirtualTime): CoordinatorShape<P> => {
  /** What waiters of `task` wait on now, if `agent`'s publish or abandon is going to settle it. */
  const settledBy = (agent: number, task: number, publishing: boolean) =>
    Effect.map(server.registry, (entries) => {
      const e = entries[task]
      if (e === undefined) return undefined
      const key = awaited(task, e.epoch)
      if (publishing) return e.status === "solved" ? undefined : key
      return e.owner === agent && e.status === "learning" ? key : undefined
    })
  const releasing = (agent: number, task: number, publishing: boolean, change: Effect.Effect<void>) =>
    Effect.uninterruptible(Effect.gen(function*() {
      const outcome = yield* settledBy(agent, task, publishing)
      yield* change
      if (outcome !== undefined) time.release(agent, outcome)
    }))
  return {
    identify: (agent, interval) => time.turn(agent, server.identify(agent, interval)),
    identifyKnown: (agent, key, interval) => time.turn(agent, server.identifyKnown(agent, key, interval)),
    claim: (agent, task) => time.turn(agent, server.claim(agent, task)),
    awaitPolicy: (agent, task, epoch) =>
      Effect.andThen(
        time.turn(
          agent,
          Effect.map(server.registry, (entries) => {
            // Already settled (published or re-opened before this turn): nothing to wait for.
            const e = entries[task]
            if (e.epoch === epoch && e.status !== "solved") time.block(agent, awaited(task, epoch))
          })
        ),
        // Answered once the releaser has moved this agent's clock (`released`), unless no agent
        // can go on any more (`deadlock`).
        Effect.raceFirst(Effect.tap(server.awaitPolicy(agent, task, epoch), () => time.released(agent)), time.deadlock())
      ),
    publish: (agent, task, policy, certificate, reached) =>
      time.turn(agent, releasing(agent, task, true, server.publish(agent, task, policy, certificate, reached))),
    // An owner that fails does not wait for a turn: its waiters are released at its clock.
    abandon: (agent, task) => releasing(agent, task, false, server.abandon(agent, task)),
    // A push and its pull are one request, in virtual-time order like every other: a contributor's
    // view after it holds every transition pushed before it in virtual time, whatever the threads.
    exchange: (agent, task, pushed, cursor) => time.turn(agent, server.exchange(agent, task, pushed, cursor)),
    // "At the end" (§3 step 4): once every agent has finished, nothing changes any more, so the
    // fetches need no order.
    fetchAll: (agent) => Effect.andThen(time.end(agent), server.fetchAll(agent)),
    registry: server.registry,
    traffic: server.traffic
  }
}

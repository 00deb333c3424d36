/**
 * Virtual time: why a run gives the same numbers on one thread or on two.
 *
 * Agents are concurrent fibers, and DistMT-LSVI's outcome depends on the order in which their
 * requests reach the server (who registers a task first owns it; a late agent downloads a policy
 * instead of waiting for it). Left to the scheduler, that order would follow wall-clock speed, which
 * changes with the number of threads, the machine and its load. So each agent carries a clock, the
 * number of episodes it has run, and the server sees requests in the order of their virtual time
 * `(clock, agent)` (ties to the lower agent index), whatever the real time at which they are sent.
 * This is the order of an idealized run in which every agent runs one episode per tick.
 *
 * The rule is conservative: a request at `(t, i)` goes through only when no other agent can still
 * send one before it, i.e. every other agent is
 * - done, or blocked until a publication (it sends nothing until then), or
 * - running episodes with `(clock, agent) > (t, i)` (its next request comes no earlier than its
 *   clock), or waiting with a later request of its own.
 * One request goes through at a time. A publication releases the agents blocked on its task, at the
 * publisher's virtual time (waiting costs no episodes, so a waiter's clock moves up to it).
 *
 * The state is plain mutable fields behind `Effect.sync`: every change is one synchronous step on
 * the JavaScript thread the fibers share, so no two changes interleave.
 */
import { Deferred, Effect } from "effect"
import type { CoordinatorShape, Identification, Outcome } from "../coordinator/Coordinator.ts"

type Status =
  /** Running episodes: its next request comes at a virtual time ≥ (clock, agent). */
  | { readonly _tag: "Running" }
  /** Asking for a turn at (clock, agent). */
  | { readonly _tag: "Waiting"; readonly admit: () => void }
  /** Its request is going through now. */
  | { readonly _tag: "Admitted" }
  /** Waiting for the publication of a task: no request until then. */
  | { readonly _tag: "Blocked"; readonly task: number }
  | { readonly _tag: "Done" }

const running: Status = { _tag: "Running" }
const admitted: Status = { _tag: "Admitted" }
const done: Status = { _tag: "Done" }

export class VirtualTime {
  private readonly clocks: Array<number>
  private readonly status: Array<Status>
  private busy = false

  constructor(agents: number) {
    this.clocks = Array.from({ length: agents }, () => 0)
    this.status = Array.from({ length: agents }, () => running)
  }

  /** The agent's virtual time: the episodes it has run, moved up by waits. */
  clock(agent: number): number {
    return this.clocks[agent]
  }

  /** The agent ran `episodes` more episodes. */
  readonly advance = (agent: number, episodes: number): void => {
    this.clocks[agent] += episodes
    this.wake()
  }

  /**
   * Runs `request` when it is the agent's turn in virtual time. Waiting for the turn can be
   * interrupted; once admitted, the turn is given back however `request` ends.
   */
  turn<A, E, R>(agent: number, request: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.andThen(
        restore(this.admission(agent)),
        Effect.ensuring(restore(request), Effect.sync(() => this.finish(agent)))
      )
    )
  }

  /** Inside a turn: the agent now waits for `task`'s publication. */
  block(agent: number, task: number): void {
    this.status[agent] = { _tag: "Blocked", task }
  }

  /** `task` was published or re-opened at `agent`'s virtual time: its waiters run again from there. */
  release(agent: number, task: number): void {
    const at = this.clocks[agent]
    this.status.forEach((s, i) => {
      if (s._tag === "Blocked" && s.task === task) {
        this.clocks[i] = Math.max(this.clocks[i], at)
        this.status[i] = running
      }
    })
    this.wake()
  }

  /** The agent sends nothing more (finished, failed or interrupted). */
  readonly retire = (agent: number): void => {
    if (this.status[agent]._tag === "Admitted") this.busy = false
    this.status[agent] = done
    this.wake()
  }

  private admission(agent: number): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      this.status[agent] = { _tag: "Waiting", admit: () => resume(Effect.void) }
      this.wake()
      // Interrupted before its turn came: the agent is gone.
      return Effect.sync(() => this.retire(agent))
    })
  }

  private finish(agent: number): void {
    this.busy = false
    if (this.status[agent]._tag === "Admitted") this.status[agent] = running
    this.wake()
  }

  /** Lets the earliest request through if nothing can still come before it. */
  private wake(): void {
    if (this.busy) return
    let first = -1
    for (let i = 0; i < this.status.length; i++) {
      const s = this.status[i]._tag
      if (s !== "Running" && s !== "Waiting") continue
      if (first < 0 || this.clocks[i] < this.clocks[first]) first = i
    }
    const s = first < 0 ? undefined : this.status[first]
    if (s?._tag !== "Waiting") return
    this.busy = true
    this.status[first] = admitted
    s.admit()
  }
}

/**
 * The coordinator as agents see it in a run: every request in virtual-time order (above). An agent
 * told to wait for a task is blocked in virtual time until the publication (or the re-opening) of
 * that task releases it, inside the same turn.
 */
export const sequenced = (server: CoordinatorShape, time: VirtualTime): CoordinatorShape => {
  // The task each waiter's `outcome` belongs to, from the answers that handed it out.
  const taskOf = new WeakMap<Deferred.Deferred<Outcome>, number>()
  const remember = (answer: Identification): Identification => {
    if (answer._tag === "Learning") taskOf.set(answer.outcome, answer.task)
    return answer
  }
  return {
    identify: (agent, interval) => time.turn(agent, Effect.map(server.identify(agent, interval), remember)),
    identifyKnown: (agent, key, interval) => time.turn(agent, Effect.map(server.identifyKnown(agent, key, interval), remember)),
    claim: (agent, task) => time.turn(agent, Effect.map(server.claim(agent, task), remember)),
    awaitPolicy: (agent, outcome) =>
      Effect.andThen(
        time.turn(agent, Effect.sync(() => {
          const task = taskOf.get(outcome)
          // Already settled (published or re-opened before this turn): nothing to wait for.
          if (task !== undefined && !Deferred.isDoneUnsafe(outcome)) time.block(agent, task)
        })),
        server.awaitPolicy(agent, outcome)
      ),
    publish: (agent, task, policy, certificate) =>
      time.turn(agent, Effect.andThen(server.publish(agent, task, policy, certificate), Effect.sync(() => time.release(agent, task)))),
    // An owner that fails does not wait for a turn: its waiters are released at its clock.
    abandon: (agent, task) => Effect.andThen(server.abandon(agent, task), Effect.sync(() => time.release(agent, task))),
    fetchAll: (agent) => time.turn(agent, server.fetchAll(agent)),
    registry: server.registry,
    traffic: server.traffic
  }
}

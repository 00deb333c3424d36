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
 * One request goes through at a time. A publication (or an owner's failure) releases the agents
 * that wait for it, at the publisher's virtual time: waiting costs no episodes, so a waiter's clock
 * moves up to it. A released agent may wake up and ask for its next turn before the publisher has
 * moved its clock; that turn is held until it has, so the waiter's next request always carries the
 * publisher's time, however the fibers interleave.
 *
 * The state is plain mutable fields behind `Effect.sync`: every change is one synchronous step on
 * the JavaScript thread the fibers share, so no two changes interleave.
 */
import { Effect, Schema } from "effect"
import { Heap } from "./heap.ts"

/**
 * No agent can go on (`VirtualTime`'s `stuck`): every agent still in the run waits for something
 * only a waiting agent could do. The waits die with it; a server on the cluster answers it as a typed
 * error (src/coordinator/protocol.ts), since a defect there would only restart the server, which
 * would find the same waits again.
 */
export class Deadlock extends Schema.TaggedError<Deadlock>()("Deadlock", { message: Schema.String }) {}

/** What a blocked agent waits for: one epoch of one task, `${task}/${epoch}` (plain data). */
export type Awaited = string

export const awaited = (task: number, epoch: number): Awaited => `${task}/${epoch}`

type Status =
  /** Running episodes: its next request comes at a virtual time ≥ (clock, agent). */
  | { readonly _tag: "Running" }
  /**
   * Asking for a turn at (clock, agent). `held`: the agent woke up on the settled `outcome` it waited
   * for before its releaser moved its clock; no turn until `release`. `fail` ends the wait (`stuck`).
   */
  | { readonly _tag: "Waiting"; readonly admit: () => void; readonly fail: (error: Deadlock) => void; readonly held: Awaited | undefined }
  /** Its request is going through now (admitted by `by`, its turn's `admit`). */
  | { readonly _tag: "Admitted"; readonly by: () => void }
  /** Waiting for `outcome` (a task's publication or re-opening): no request until then. */
  | { readonly _tag: "Blocked"; readonly outcome: Awaited }
  | { readonly _tag: "Done" }

const running: Status = { _tag: "Running" }
const done: Status = { _tag: "Done" }

export class VirtualTime {
  private readonly clocks: Array<number>
  private readonly status: Array<Status>
  private busy = false
  /** Agents waiting for the end of the run (§3 step 4). */
  private atEnd: Array<{ readonly resume: () => void; readonly fail: (error: Deadlock) => void }> = []
  /** Per agent: who waits until its block is released (`released`). */
  private onRelease: Array<Array<() => void>>
  /** Agents not yet done. */
  private live: number
  /**
   * `(clock, agent)` of every agent that may be the next to send a request, earliest first, for
   * `wake`: an entry is pushed whenever an agent becomes running or waiting, or its clock moves,
   * and an entry that no longer holds (its agent blocked, admitted or done, or its clock moved on)
   * is dropped when it reaches the top. A scan of every agent at each wake cost a run of a thousand
   * agents about half a second.
   */
  private readonly next = new Heap<{ readonly clock: number; readonly agent: number }>(
    (a, b) => a.clock < b.clock || (a.clock === b.clock && a.agent < b.agent)
  )
  /** Per agent: the clock of its entry in `next` at its latest clock, or −1 when there is none. */
  private readonly entered: Array<number>
  /** The waits for a publication in progress (`deadlock`), ended with an error if no agent can go on. */
  private readonly parked = new Set<(error: Deadlock) => void>()
  /** Set once no agent can go on (`stuck`): nothing changes it any more. */
  private failure: Deadlock | undefined
  /**
   * The admission `wake` has decided on but not yet made (`admitNext`), and whether one is being
   * made now: an admitted agent's turn runs inside the call that admits it, up to the turn's end,
   * whose `finish` admits the next one; made there, the admissions would nest one inside the other.
   */
  private toAdmit: (() => void) | undefined
  private admitting = false

  /**
   * `remote`: the agents are elsewhere (a cluster entity's server, src/cluster/ServerEntity.ts). A
   * request interrupted while it waits for its turn then means its sender's connection is gone, not
   * the agent: the agent will send the same request again (resumed from its checkpoint), so it is
   * not retired, only set running again at its clock. In one process an interrupted wait is the
   * agent's fiber ending, and retires it.
   */
  constructor(agents: number, private readonly remote = false) {
    this.clocks = Array.from({ length: agents }, () => 0)
    this.status = Array.from({ length: agents }, () => running)
    this.onRelease = Array.from({ length: agents }, () => [])
    this.live = agents
    this.entered = Array.from({ length: agents }, () => -1)
    for (let i = 0; i < agents; i++) this.candidate(i)
  }

  /**
   * `agent` may now send the next request (running or waiting, at its clock). At most one entry per
   * agent and clock: an agent that takes many turns without running an episode (waiting for a
   * policy, say) would otherwise pile up entries that stay valid below the top, without bound.
   */
  private candidate(agent: number): void {
    const clock = this.clocks[agent]
    if (this.entered[agent] === clock) return
    this.entered[agent] = clock
    this.next.push({ clock, agent })
  }

  /**
   * The run's length in virtual time: the latest clock, which is when the last agent finished and
   * so when every agent holds every policy (§3 step 4), in episodes of one agent.
   */
  makespan(): number {
    return Math.max(0, ...this.clocks)
  }

  /** Entries in the queue of possible next requests (for the test that it stays bounded). */
  queued(): number {
    return this.next.size
  }

  /** The agent's virtual time: the episodes it has run, moved up by waits. */
  clock(agent: number): number {
    return this.clocks[agent]
  }

  /**
   * The agent says its clock is `clock` (a request from afar carries it): clocks only move forward,
   * so a late or repeated report changes nothing.
   */
  readonly at = (agent: number, clock: number): void => {
    if (clock <= this.clocks[agent]) return
    this.clocks[agent] = clock
    this.candidate(agent)
    this.wake()
  }

  /** The agent ran `episodes` more episodes. */
  readonly advance = (agent: number, episodes: number): void => {
    this.clocks[agent] += episodes
    this.candidate(agent)
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

  /** Inside a turn: the agent now waits for `outcome`. */
  block(agent: number, outcome: Awaited): void {
    this.status[agent] = { _tag: "Blocked", outcome }
  }

  /** `agent` settled `outcome` (published or re-opened a task): its waiters run again from its clock. */
  release(agent: number, outcome: Awaited): void {
    const at = this.clocks[agent]
    this.status.forEach((s, i) => {
      const waited = s._tag === "Blocked" ? s.outcome : s._tag === "Waiting" ? s.held : undefined
      if (waited !== outcome) return
      this.clocks[i] = Math.max(this.clocks[i], at)
      this.status[i] = s._tag === "Waiting" ? { ...s, held: undefined } : running
      this.candidate(i)
      this.wakeReleased(i)
    })
    this.wake()
  }

  /**
   * Succeeds once `agent` is no longer blocked: at once if it is not, else when the publication or
   * re-opening it waits for releases it, its clock moved. A waiter learns that the task settled
   * (its deferred outcome) possibly before the releaser has moved its clock, e.g. while a server in
   * PostgreSQL writes the decision; what it answers must carry the moved clock.
   */
  released(agent: number): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      if (this.status[agent]._tag !== "Blocked") return resume(Effect.void)
      this.onRelease[agent].push(() => resume(Effect.void))
    })
  }

  private wakeReleased(agent: number): void {
    const waiting = this.onRelease[agent]
    this.onRelease[agent] = []
    waiting.forEach((resume) => resume())
  }

  /** The agent sends nothing more (finished, failed or interrupted). */
  readonly retire = (agent: number): void => {
    if (this.status[agent]._tag === "Admitted") this.busy = false
    if (this.status[agent]._tag !== "Done") this.live--
    this.status[agent] = done
    this.wakeReleased(agent)
    this.wake()
    if (this.live === 0) {
      const waiting = this.atEnd
      this.atEnd = []
      waiting.forEach((w) => w.resume())
    }
  }

  /**
   * The agent has finished its instances: it sends nothing more in virtual time, and waits until
   * every other agent has finished too (or failed), so that what it fetches then is final (§3 step 4).
   */
  end(agent: number): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      this.atEnd.push({ resume: () => resume(Effect.void), fail: (error) => resume(Effect.die(error)) })
      this.retire(agent)
    })
  }

  private admission(agent: number): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      const s = this.status[agent]
      const admit = () => resume(Effect.void)
      const fail = (error: Deadlock) => resume(Effect.die(error))
      // Still blocked: it woke up on its settled outcome before the releaser moved its clock.
      this.status[agent] = { _tag: "Waiting", admit, fail, held: s._tag === "Blocked" ? s.outcome : undefined }
      this.candidate(agent)
      this.wake()
      // Interrupted before its turn came: the agent is gone (in one process), or its message is.
      return Effect.sync(() => {
        if (this.toAdmit === admit) this.toAdmit = undefined
        if (!this.remote) return this.retire(agent)
        // Only this turn is given up: the same request sent again may already be waiting for its own.
        const now = this.status[agent]
        if (now._tag === "Waiting" && now.admit === admit) {
          this.status[agent] = now.held === undefined ? running : { _tag: "Blocked", outcome: now.held }
        } else if (now._tag === "Admitted" && now.by === admit) {
          this.busy = false
          this.status[agent] = running
        } else return
        this.candidate(agent)
        this.wake()
      })
    })
  }

  /**
   * Fails, when no agent can go on, the wait for a publication that `awaitPolicy` is in; never
   * succeeds. Without it such a run would wait for ever, without a word.
   */
  deadlock(): Effect.Effect<never> {
    return Effect.callback<never>((resume) => {
      // The wait may begin after the step that made the run stuck (the turn that blocked it).
      if (this.failure !== undefined) return resume(Effect.die(this.failure))
      const fail = (error: Deadlock) => resume(Effect.die(error))
      this.parked.add(fail)
      return Effect.sync(() => void this.parked.delete(fail))
    })
  }

  /**
   * No agent is running, none is admitted and none may ask for a turn: every agent still in the run
   * waits for a publication or re-opening that only a waiting agent could make. No request can ever
   * go through again, so each wait ends with an error that says who waits for what (a bug of the
   * protocol: in one run, an agent resumed on the cluster was told to wait for its own task).
   */
  private stuck(): void {
    const waits = this.status.flatMap((s, agent) => {
      const outcome = s._tag === "Blocked" ? s.outcome : s._tag === "Waiting" ? s.held : undefined
      return outcome === undefined ? [] : [`agent ${agent} waits for task ${outcome.replace("/", ", epoch ")}`]
    })
    const error = this.failure ??= new Deadlock({ message: `no agent can go on (a deadlock of the protocol): ${waits.join("; ")}` })
    const parked = [...this.parked]
    this.parked.clear()
    for (const fail of parked) fail(error)
    for (const s of this.status) if (s._tag === "Waiting") s.fail(error)
    // The agents that finished and wait for the others to (§3 step 4) would wait for ever too.
    const ended = this.atEnd
    this.atEnd = []
    for (const w of ended) w.fail(error)
  }

  private finish(agent: number): void {
    this.busy = false
    if (this.status[agent]._tag === "Admitted") this.status[agent] = running
    this.candidate(agent)
    this.wake()
  }

  /** Whether `agent` may send the next request and its clock is `clock` (an entry of `next` holds). */
  private holds(agent: number, clock: number): boolean {
    const s = this.status[agent]
    return this.clocks[agent] === clock && (s._tag === "Running" || (s._tag === "Waiting" && s.held === undefined))
  }

  /** Lets the earliest request through if nothing can still come before it. */
  private wake(): void {
    if (this.busy) return
    // The earliest (clock, agent) among the agents that may still send a request.
    let top = this.next.peek()
    while (top !== undefined && !this.holds(top.agent, top.clock)) {
      this.next.pop()
      if (this.entered[top.agent] === top.clock) this.entered[top.agent] = -1
      top = this.next.peek()
    }
    if (top === undefined) {
      if (this.live > 0) this.stuck()
      return
    }
    const first = top.agent
    const s = this.status[first]
    if (s._tag !== "Waiting") return
    this.busy = true
    this.status[first] = { _tag: "Admitted", by: s.admit }
    this.toAdmit = s.admit
    this.admitNext()
  }

  /**
   * Makes the admissions `wake` decides on, one after the other. One made while another runs (its
   * turn ended at once and admitted the next) is left for the loop of the outer one: thousands of
   * agents waiting for their turns, each turn ending at once, would otherwise nest thousands of
   * turns on the stack until it overflowed. Which agent is admitted, and when in virtual time, is
   * `wake`'s decision and does not change; only the real-time call does.
   */
  private admitNext(): void {
    if (this.admitting) return
    this.admitting = true
    try {
      while (this.toAdmit !== undefined) {
        const admit = this.toAdmit
        this.toAdmit = undefined
        admit()
      }
    } finally {
      this.admitting = false
    }
  }
}

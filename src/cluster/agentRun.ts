/**
 * One agent of a cluster run, from its checkpoint to its end (AgentEntity.ts `Run`): the agent
 * program of an in-process run (src/agent/programs.ts), its server reached through the protocol
 * (src/run/remote.ts), its episodes on the runner's learner threads, and its checkpoints written to
 * PostgreSQL (agentState.ts):
 * - after each instance it finishes (awaited before it goes on);
 * - inside an instance, between two chunks of a phase, at most every `checkpointMillis` (written in
 *   the background: the agent does not wait for the database).
 *
 * **Resuming.** An agent starts at its first unfinished instance, with the clock and the request
 * number it had when it finished the one before. If its checkpoint was taken inside that instance,
 * the instance's finished phases give their results again without running (moving the clock as they
 * did), and the phase in progress continues from the learner, random stream and transitions saved
 * after its last chunk (chunk boundaries change no number: src/agent/episodes.ts). The requests the
 * program sends again carry the same numbers and clocks, and the server answers them from the
 * replies it kept. Inside a pooled phase (experience sharing) a checkpoint is taken after an
 * exchange, with its reply: resumed, the phase goes on from that step, its next exchange numbered as
 * it was then. So an agent loses at most `checkpointMillis` of work to a runner's death.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { PhaseResult, PhaseState } from "../agent/episodes.ts"
import type { Learning, Watch } from "../agent/Learning.ts"
import { type AgentResult, distmtAgentOn, independentAgent, type InstanceOutcome, oracleAgentOn, type Resume } from "../agent/programs.ts"
import * as Rng from "../rng/Rng.ts"
import type { CoordinatorShape } from "../coordinator/Coordinator.ts"
import { type Caller, remote } from "../run/remote.ts"
import type { Payload } from "./AgentEntity.ts"
import { RunnerThreads } from "./runnerThreads.ts"
import { type AgentState, type CurveLog, type InstanceCheckpoint, loadState, RecordingCurve, replay, saveState } from "./agentState.ts"
import { type Server, serverId } from "./ServerEntity.ts"

type ServerClients = Effect.Success<typeof Server.client>

/** An agent's virtual clock where it has no server (`independent`): only its episodes move it. */
const ownClock = (start: number) => {
  let clock = start
  return { advance: (_agent: number, n: number) => void (clock += n), clock: () => clock, seq: () => 0, skipTo: () => {} }
}

/**
 * A checkpoint's arrays in memory of their own: deserialized ones may be views into one buffer,
 * which cannot be moved to a worker thread.
 */
const owned = (c: InstanceCheckpoint): InstanceCheckpoint => ({
  ...c,
  rng: c.rng.slice(),
  log: c.log?.slice(),
  ...(c.pooled === undefined ? {} : { pooled: { ...c.pooled, pulled: c.pooled.pulled.slice() } }),
  learner: c.learner === undefined ? undefined : {
    LambdaInv: c.learner.LambdaInv.slice(),
    phiReward: c.learner.phiReward.slice(),
    groupStart: c.learner.groupStart.slice(),
    nextStates: c.learner.nextStates.slice(),
    phiInto: c.learner.phiInto.slice(),
    wUpper: c.learner.wUpper.slice(),
    wLower: c.learner.wLower.slice()
  }
})

/** What the agent logs when it starts: where it resumes. */

/**
 * An agent's server as the agent program sees it on the cluster. An agent there is never lost, only
 * resumed: it never gives a task back (`abandon` does nothing). So the requests that may make it a
 * task's owner need not run uninterruptibly, as programs.ts `ask` runs them in one process (where an
 * interrupt between the answer and its guard would leave a task owned by nobody); and here they must
 * not. After a database outage the answer may never come, and an agent that cannot be interrupted
 * holds its runner's shards for ever (seen: "Forced shard release is still pending" for minutes,
 * every entity on those shards stuck, the run stalled). Resumed, the agent sends the same request
 * again, numbered as before, and gets the answer its server kept.
 */
export const onCluster = <P>(server: CoordinatorShape<P>): CoordinatorShape<P> => ({
  ...server,
  identify: (agent, interval) => Effect.interruptible(server.identify(agent, interval)),
  identifyKnown: (agent, key, interval) => Effect.interruptible(server.identifyKnown(agent, key, interval)),
  claim: (agent, task) => Effect.interruptible(server.claim(agent, task)),
  abandon: () => Effect.void
})

export const startLine = (saved: AgentState | undefined, instances: number): string =>
  saved === undefined
    ? "started"
    : `resumed from its checkpoint: ${saved.outcomes.length} of ${instances} instances finished` +
      (saved.current === undefined
        ? ""
        : `, the next one at episode ${saved.current.inPhase.episodes} of its ${
          saved.current.pooled === undefined ? `phase ${saved.current.phases.length + 1}` : "pooled phase"
        }`)

export const runAgent = (p: Payload, servers: ServerClients) =>
  // Scoped: the agent holds its run's model on the threads until it ends (runnerThreads.ts).
  Effect.scoped(Effect.gen(function*() {
    const threads = yield* RunnerThreads
    const sql = yield* SqlClient
    const { model, id } = yield* threads.model(p.run)
    const saved: AgentState | undefined = yield* loadState(p.unit, p.agent)
    // Finished before (the submitting process asks again after a take-over): nothing to do.
    if (saved?.fetched !== undefined) return "already finished"
    const server = p.algorithm === "independent"
      ? undefined
      : yield* remote(
        servers(serverId(p.unit, p.agents, p.attempt)) as unknown as Caller,
        p.agents,
        (agent) => agent === p.agent && saved !== undefined ? { clock: saved.clock, seq: saved.seq } : { clock: 0, seq: 0 }
      )
    const time = server ?? ownClock(saved?.clock ?? 0)
    const curves: Array<CurveLog> = [...(saved?.curves ?? [])]
    const outcomes: Array<InstanceOutcome> = [...(saved?.outcomes ?? [])]
    const record = p.algorithm !== "independent" && model.config.sharing === "experience"
    const write = (state: AgentState) => Effect.provideService(saveState(p.unit, p.attempt, p.agent, state), SqlClient, sql)
    let last = performance.now()
    let writing = false

    const open = (task: number, slot: number): Learning => {
      const resumed = slot === saved?.outcomes.length ? saved.current : undefined
      const curve = new RecordingCurve()
      if (resumed !== undefined) replay(resumed.curve, curve)
      curves[slot] = curve.log
      // The instance's checkpoints all restart it from here: its start's clock and request number.
      const start = { clock: time.clock(p.agent), seq: time.seq(p.agent) }
      const finished: Array<PhaseResult> = []
      const replayed = resumed?.phases ?? []
      let pooled = false
      // Where the phase in progress stands: after the last chunk, or the last step of a pooled phase.
      let at: PhaseState | undefined = undefined
      /** A checkpoint at `inPhase`; in a pooled phase, after an exchange whose reply is `reply`. */
      const checkpoint = (inPhase: PhaseState, reply?: InstanceCheckpoint["pooled"]) => {
        const now = performance.now()
        if (writing || now - last < threads.checkpointMillis) return
        last = now
        writing = true
        // Serialized here, before the next chunk moves the learner to a worker.
        const saving = write({
          outcomes: [...outcomes],
          curves: curves.slice(0, slot),
          ...start,
          current: { ...learning.state(), phases: [...finished], inPhase, curve: [...curve.log], ...(reply === undefined ? {} : { pooled: reply }) }
        })
        Effect.runFork(Effect.ensuring(saving, Effect.sync(() => (writing = false))))
      }
      const watch: Watch = {
        states: model.states,
        curve,
        episodes: (n, state) => {
          time.advance(p.agent, n)
          at = state
          // Inside a pooled phase, only after an exchange (below): the next step needs its reply.
          if (!pooled) checkpoint(state)
        }
      }
      const rng = Rng.make(p.seed, p.agent, slot, task)
      const learning = threads.pool.open({
        model: id,
        task,
        rng: rng.state(),
        agent: p.agent,
        clock: () => time.clock(p.agent),
        watch,
        record,
        ...(resumed === undefined ? {} : { from: owned(resumed) })
      })
      return {
        phase: (budget) =>
          Effect.suspend(() => {
            const k = finished.length
            if (k < replayed.length) {
              // Finished before the checkpoint: the same result, and the clock moved as it was then.
              finished.push(replayed[k])
              time.advance(p.agent, replayed[k].episodes)
              return Effect.succeed(replayed[k])
            }
            // The phase the checkpoint was taken in: its episodes so far moved the clock then.
            if (k === replayed.length && resumed !== undefined && resumed.pooled === undefined) time.advance(p.agent, resumed.inPhase.episodes)
            return Effect.tap(learning.phase(budget), (r) => Effect.sync(() => finished.push(r)))
          }),
        shared: (budget, exchange) =>
          Effect.suspend(() => {
            pooled = true
            at = undefined
            if (resumed?.pooled !== undefined) {
              // The pooled phase the checkpoint was taken in: its steps so far moved the clock, and
              // its exchanges took their numbers, then.
              time.advance(p.agent, resumed.inPhase.episodes)
              time.skipTo(p.agent, resumed.pooled.seq)
              at = resumed.inPhase
            }
            return learning.shared(budget, (pushed, cursor) =>
              Effect.tap(exchange(pushed, cursor), (reply) =>
                Effect.sync(() => {
                  if (reply._tag === "Pooled" && at !== undefined) {
                    checkpoint(at, { pulled: reply.pulled, cursor: reply.cursor, seq: time.seq(p.agent) })
                  }
                })))
          }),
        policy: learning.policy
      }
    }

    const instances = p.tasks.map((task, slot) => () => open(task, slot))
    /** The checkpoint after the instances finished so far; at the end, the agent's result (§3 step 4). */
    const stateOf = (result?: AgentResult): AgentState => ({
      outcomes: [...(result?.outcomes ?? outcomes)],
      curves: curves.slice(0, outcomes.length),
      clock: time.clock(p.agent),
      seq: time.seq(p.agent),
      ...(result === undefined ? {} : { fetched: result.fetched })
    })
    const resume: Resume = {
      restored: outcomes,
      finished: (done) =>
        Effect.orDie(Effect.suspend(() => {
          outcomes.splice(0, outcomes.length, ...done)
          last = performance.now()
          return write(stateOf())
        }))
    }
    const coordinator = server === undefined ? undefined : onCluster(server.coordinator)
    yield* Effect.logInfo(startLine(saved, p.tasks.length))
    const result = yield* (coordinator === undefined
      ? independentAgent(p.agent, instances, model.config, resume)
      : p.algorithm === "distmt"
      ? distmtAgentOn(coordinator, p.agent, instances, model.config, resume)
      : oracleAgentOn(coordinator, p.agent, instances, p.tasks, model.config, resume))
    // The outcomes as the final fetch left them: each policy the server's copy of its task's.
    yield* Effect.orDie(write(stateOf(result)))
    return "finished"
  }))

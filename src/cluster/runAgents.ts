/**
 * The submitting side of `distmt run --cluster`: each (algorithm, seed) unit runs as one server
 * entity and N agent entities on the runners (ServerEntity.ts, AgentEntity.ts); this process sends
 * each agent its `Run`, follows the run in the agents' checkpoints, then reads their final
 * checkpoints and checks the policies against ground truth, which never leaves this process.
 *
 * A `Run` that fails because a runner went away (its agent dies with it) is sent again until the
 * agent has finished: the cluster delivers it to the runner that holds the agent's shard by then,
 * and the agent resumes from its last checkpoint (AgentEntity.ts).
 */
import { Cause, Data, Effect, Fiber, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { isSqlError } from "effect/sql/SqlError"
import type { AgentResult } from "../agent/programs.ts"
import { noTraffic } from "../coordinator/Coordinator.ts"
import { nextAttempt } from "../coordinator/postgres.ts"
import { instanceCurve } from "../run/curves.ts"
import { agentConfig, type Algorithm, type AlgorithmRun, assemble, lsviConfig, type ProgressSink, startUnit } from "../run/runExperiment.ts"
import type { Compiled } from "../spec/compile.ts"
import { Agent, agentId } from "./AgentEntity.ts"
import { type AgentModel, type AgentState, loadStates, replay, saveModel, standing } from "./agentState.ts"
import { MAX_CHECKPOINT_SECONDS } from "./runnerThreads.ts"
import { Server, serverId } from "./ServerEntity.ts"

/** What the agents of a compiled spec learn on (no ground truth). */
export const modelOf = (c: Compiled): AgentModel => ({
  tasks: c.tasks,
  features: c.features,
  lsvi: lsviConfig(c),
  config: agentConfig(c),
  states: c.states
})

/** How often the checkpoints are read for progress. */
const PROGRESS_EVERY = "1 second"

/** An agent's `Run` is sent again every second while it fails (a runner down, a take-over), up to 10 minutes. */
const RETRY_EVERY = "1 second"
const RETRIES = 600

/**
 * A unit that cannot finish on the cluster, for a reason the user can act on (an agent's program
 * failed for good; a runner refused the messages): the unit's Effect has no error channel, so it
 * travels as a defect, and the `run` command prints its message alone, as one line.
 */
export class UnitFailed extends Data.TaggedError("UnitFailed")<{ readonly message: string }> {}

/** An agent's `Run` that the cluster ended as an interruption: sent again. */
class RunInterrupted extends Data.TaggedError("RunInterrupted") {}

/**
 * A call that runs `who` (an agent, a deep unit) on a runner, until it answers: sent again every
 * second while it fails, up to 10 minutes, unless a runner refused its signature or `who` failed
 * for good (`AgentFailed`), which end the run with a `UnitFailed` that says so. The cluster may also
 * end a call to an entity whose runner died as an interruption of the request (not of this fiber,
 * which an interruption from outside still stops): it is sent again like any other failure. It
 * once ended a whole run with exit code 130.
 */
export const untilAnswered = <A, E extends { readonly _tag: string; readonly message: string }>(who: string, call: Effect.Effect<A, E>): Effect.Effect<A> =>
  call.pipe(
    Effect.catchCauseIf(Cause.hasInterruptsOnly, () => Effect.fail(new RunInterrupted())),
    // A refused signature or a failed agent is final; anything else is a runner gone or a shard moving.
    Effect.retry({
      while: (e) => e._tag !== "AuthError" && e._tag !== "AgentFailed",
      schedule: Schedule.spaced(RETRY_EVERY),
      times: RETRIES
    }),
    Effect.mapError((e) =>
      e._tag === "AgentFailed"
        ? new UnitFailed({ message: `${who} failed on its runner (that runner's log has the details): ${e.message}` })
        : e._tag === "AuthError"
        ? new UnitFailed({
          message: `a runner refused a message of ${who} (${e.message}): this process and every runner must share one ` +
            "secret; the runners' logs name what they refused (REFUSED)"
        })
        : e
    ),
    Effect.orDie
  )

/** The stall limit (`stallMs`): twice the longest interval between an agent's checkpoints (runnerThreads.ts). */
export const STALL_SECONDS = 2 * MAX_CHECKPOINT_SECONDS

/**
 * How long a unit's checkpoints may stay as they are before its agents are taken for lost. Every
 * running agent writes one every few seconds (`--checkpoint-every`, 10 s, at most 60), and agents that all wait
 * fail with `Deadlock` (VirtualTime.ts), so minutes without a change mean the cluster dropped the
 * agents' `Run`s: seen after a short PostgreSQL outage, when the runners recovered but no `Run`
 * ever answered (they are volatile messages) and the submission waited, silent, for ever.
 * `DISTMT_CLUSTER_STALL_SECONDS` sets it (for tests).
 */
export const stallMs = (): number => 1000 * (Number(process.env.DISTMT_CLUSTER_STALL_SECONDS) || STALL_SECONDS)

/**
 * After this many stalls in a row with no checkpoint moving in between, a unit is given up rather
 * than started again for ever: something fails each time its server or agents start (seen: a
 * server entity that failed at its first decision, restarted by the cluster again and again, and
 * the submission saying every 2 minutes that it started the agents again, without end). Its
 * checkpoints stay; the same command resumes it once the cause is gone.
 */
export const GIVE_UP_AFTER = 3

const givenUp = (unit: string, stalls: number): string =>
  `${unit}: no agent's checkpoint changed through ${stalls} starts in a row (${(stalls * stallMs()) / 1000} s), so something fails ` +
  "each time its server or agents start: the runners' logs say what (their errors name the unit). Its checkpoints are kept: " +
  "once the cause is gone, the same command resumes it"

/** While PostgreSQL is unreachable, the submission's statements are tried again every 2 s for up to 10 minutes. */
const DB_RETRY_EVERY = "2 seconds"
const DB_RETRIES = 300

/** A failure of the database for a moment (a restart, a network cut): a `SqlError` it calls retryable. */
const unreachable = (e: unknown): boolean => isSqlError(e) && e.isRetryable

/**
 * A statement of the submitting process (a unit's attempt, its checkpoints, forgetting it), tried
 * again while the database is unreachable or busy for a moment (`unreachable`), as an agent's `Run`
 * is sent again while a runner is down. Said once per statement. Any other failure (a wrong query,
 * no rights), or an outage beyond 10 minutes, is a defect. Seen: a 5 s outage while a unit began
 * ended the whole run with a stack; and again, under the load of the whole test suite, when the cut
 * broke the transaction that stores the run's model and came out as a defect
 * (test/cluster-outage.test.ts).
 */
export const untilReachable = <A, E, R>(what: string, statement: Effect.Effect<A, E, R>): Effect.Effect<A, never, R> => {
  let said = false
  return statement.pipe(
    // A connection cut inside a transaction can come out as a defect (its rollback failing too):
    // the same outage, tried again as well.
    Effect.catchDefect((defect) => unreachable(defect) ? Effect.fail(defect as E) : Effect.die(defect)),
    Effect.tapError((e) =>
      Effect.sync(() => {
        if (said || !unreachable(e)) return
        said = true
        process.stderr.write(`\ndistmt: the database did not answer (${(e as Error).message}) ${what}; trying again every 2 s\n`)
      })
    ),
    Effect.retry({ while: unreachable, schedule: Schedule.spaced(DB_RETRY_EVERY), times: DB_RETRIES }),
    Effect.orDie
  )
}

/**
 * `layer`, built again while the database is unreachable for a moment (`untilReachable`); a failed
 * attempt releases what it opened (Layer's own building does). For the submission's client of the
 * cluster, whose building queries PostgreSQL: an outage just then ended the run with the driver's
 * stack (`Layer.orDie`).
 */
export const buildUntilReachable = <A, E, R>(what: string, layer: Layer.Layer<A, E, R>): Layer.Layer<A, never, R> =>
  Layer.effectContext(untilReachable(what, Layer.build(layer)))

/**
 * Tells `progress` what the checkpoints of `unit` say beyond what it was told before, and keeps
 * when they last changed. A failed read (the database down for a moment) is skipped, not fatal:
 * the next one catches up.
 */
const follow = (unit: string, progress: ProgressSink) =>
  Effect.gen(function*() {
    const seen = new Map<number, { slots: number; episodes: number }>()
    let changed = performance.now()
    /** How many reads found a checkpoint beyond all seen before. */
    let changes = 0
    const read = Effect.map(Effect.orDie(standing(unit)), (rows) => {
      for (const r of rows) {
        const before = seen.get(r.agent) ?? { slots: 0, episodes: 0 }
        if (r.episodes > before.episodes) progress.episodes(r.episodes - before.episodes)
        for (let k = before.slots; k < r.slots; k++) progress.instanceDone(r.agent)
        if (r.episodes > before.episodes || r.slots > before.slots) {
          changed = performance.now()
          changes++
        }
        seen.set(r.agent, { slots: Math.max(before.slots, r.slots), episodes: Math.max(before.episodes, r.episodes) })
      }
    })
    const poll = Effect.catchDefect(read, () => Effect.void)
    const polling = Effect.repeat(poll, Schedule.spaced(PROGRESS_EVERY))
    /** Ends once the checkpoints have not changed for `stallMs`, and starts the count again. */
    const stalled = Effect.gen(function*() {
      while (performance.now() - changed < stallMs()) yield* Effect.sleep("1 second")
      changed = performance.now()
    })
    return {
      poll,
      stalled,
      changes: () => changes,
      /** The agents were just started again: the stall limit counts from now. */
      restarted: () => void (changed = performance.now()),
      fiber: yield* Effect.forkChild(polling)
    }
  })

/**
 * Forgets what the database holds of `unit` (its server's tables, its kept replies, its agents'
 * checkpoints). Once the unit has finished: they only served to resume it, and a run with
 * experience sharing keeps a reply per exchange and its pools' transitions.
 * For a run started over (`--fresh`), after `nextAttempt`: without this, the same spec in the same
 * folder is the same run (clusterRunKey), and its agents would resume from the old checkpoints;
 * the server and agents of the older attempt, if still running, can write nothing more (their
 * writes check the attempt under its row's lock). The attempt itself is kept: attempts only grow.
 * The tables exist by then: `storeModel` saved the model (`saveModel` creates distmt_agents)
 * and took the attempt (`nextAttempt` creates the server's tables).
 */
export const forgetUnit = (unit: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    yield* sql.withTransaction(Effect.gen(function*() {
      for (const table of ["distmt_tasks", "distmt_pool", "distmt_traffic", "distmt_replies", "distmt_done"]) {
        yield* sql`DELETE FROM ${sql(table)} WHERE run = ${unit}`
      }
      yield* sql`DELETE FROM distmt_agents WHERE unit = ${unit}`
    }))
  })

/** A run on the cluster: its key (`clusterRunKey`), and the folder its files go to. */
export interface ClusterRun {
  readonly key: string
  readonly folder: string
}

/**
 * Stores run `run`'s model for its agents (`saveModel`), retried while the database is unreachable.
 * Before any unit of the run starts, once per submission (`withCluster`): a sweep's point is one
 * run of several units, and wrote the same model once per unit.
 */
export const storeModel = (c: Compiled, { key, folder }: ClusterRun) => untilReachable(`storing the run's model`, saveModel(key, modelOf(c), folder))

/** The units of run `run` (its model stored first: `storeModel`). */
export const clusterUnits = (c: Compiled, { key: run }: ClusterRun, progress: ProgressSink, fresh = false) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const agents = yield* Agent.client
    const servers = yield* Server.client
    return (algorithm: Algorithm, seed: number): Effect.Effect<AlgorithmRun> =>
      Effect.gen(function*() {
        const unit = `${run}-${algorithm}-${seed}`
        const N = c.spec.agents
        const tasksOf = startUnit(c, algorithm, seed, progress)
        // A submission given again is a new attempt: the agents and server of the older one stop.
        let attempt = yield* untilReachable(`starting ${unit}`, nextAttempt(unit))
        if (fresh) yield* untilReachable(`forgetting ${unit}'s earlier run (--fresh)`, forgetUnit(unit))
        const started = performance.now()
        const watch = yield* follow(unit, progress)
        const runAll = (attempt: number) => Effect.forEach(
          tasksOf,
          (tasks, agent) =>
            untilAnswered(`agent ${agent} of ${unit}`, agents(agentId(unit, agent, attempt)).Run({ unit, run, attempt, algorithm, seed, agent, agents: N, tasks })),
          { concurrency: "unbounded", discard: true }
        )
        // Agents whose checkpoints stopped moving are started again as a submission given again
        // would start them: a new attempt, whose agents resume from their checkpoints and whose
        // server from its tables, the old attempt's stopping (the path a resubmission has tested).
        // Started again that many times in a row with nothing gained in between, the unit is given
        // up (`GIVE_UP_AFTER`).
        let fruitless = 0
        for (;;) {
          const changes = watch.changes()
          const ended = yield* Effect.raceFirst(Effect.as(runAll(attempt), "done" as const), Effect.as(watch.stalled, "stalled" as const))
          if (ended === "done") break
          fruitless = watch.changes() === changes ? fruitless + 1 : 1
          if (fruitless >= GIVE_UP_AFTER) {
            return yield* Effect.die(new UnitFailed({ message: givenUp(unit, fruitless) }))
          }
          yield* Effect.sync(() =>
            process.stderr.write(`\ndistmt: ${unit}: no agent's checkpoint changed for ${stallMs() / 1000} s; its agents are started again from their checkpoints\n`)
          )
          attempt = yield* untilReachable(`starting ${unit} again`, nextAttempt(unit))
          watch.restarted()
        }
        const wallSeconds = (performance.now() - started) / 1000
        yield* Fiber.interrupt(watch.fiber)
        // The last progress, if the database answers; the results come from the final checkpoints.
        yield* watch.poll
        const saved = yield* untilReachable(`reading ${unit}'s final checkpoints`, loadStates(unit))
        const states: Array<AgentState> = []
        const results: Array<AgentResult> = []
        for (let agent = 0; agent < N; agent++) {
          const s = saved.get(agent)
          if (s?.fetched === undefined) return yield* Effect.die(new Error(`agent ${agent} of ${unit} ended without its final checkpoint`))
          states.push(s)
          results.push({ outcomes: s.outcomes, fetched: s.fetched })
        }
        const curves = states.map((s, agent) => s.curves.map((log, slot) => replay(log, instanceCurve(c, tasksOf[agent][slot]))))
        // Asked again as an agent's Run is, if the server's runner stops now: its next owner reads the same
        // registry and traffic from the tables.
        const inspection = algorithm === "independent"
          ? undefined
          : yield* untilAnswered(`the server of ${unit}`, servers(serverId(unit, N, attempt)).Inspect())
        // Everything the unit's results need is here now (they go to the run's folder next; a
        // process that dies before that runs the unit again from the start).
        yield* untilReachable(`forgetting ${unit}, finished`, forgetUnit(unit))
        return assemble(c, algorithm, seed, tasksOf, results, curves, {
          traffic: inspection?.traffic ?? noTraffic,
          registered: inspection?.registry.length ?? 0,
          wallSeconds,
          // The last agent's clock: when every agent held every policy (§3 step 4), as in one process.
          virtualEpisodes: Math.max(0, ...states.map((s) => s.clock))
        })
      }).pipe(Effect.provideService(SqlClient, sql))
  })

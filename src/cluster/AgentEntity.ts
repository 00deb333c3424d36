/**
 * The agents of a cluster run as entities (issue 10): one `DistmtAgent` per (run, algorithm, seed,
 * agent, attempt), hosted by whichever runner holds its shard, so that a run's agents spread over
 * the runners. `Run` runs the agent's whole program (src/agent/programs.ts) against its server
 * entity (ServerEntity.ts), through the same protocol and virtual clocks as an in-process run
 * (src/run/remote.ts), with its episodes on the runner's learner threads, off the event loop that
 * keeps the runner's shard locks alive.
 *
 * An agent whose runner died is started again by the next `Run` (the submitting process sends it
 * again) on whichever runner holds its shard then, from its last checkpoint in PostgreSQL: how it
 * checkpoints and resumes is agentRun.ts. An agent of an older attempt (its submission was given
 * again) stops within a few seconds.
 */
import { Effect, Schedule, Schema } from "effect"
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import * as Rpc from "effect/rpc/Rpc"
import { SqlClient } from "effect/sql/SqlClient"
import { runAgent } from "./agentRun.ts"
import { current, Replaced } from "./agentState.ts"
import { signedEntity } from "./Ping.ts"
import { RunnerThreads } from "./runnerThreads.ts"
import { Server } from "./ServerEntity.ts"

const Whole = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * An agent's program failed in a way that running it again would repeat (a bug, a model that is
 * not there): the run must stop and say why. Without it the cluster restarts the entity and runs
 * the request again, for ever, and the submitting process waits without a word (measured: a `Run`
 * whose model was missing, restarted 27 times in 40 s, its call never answered).
 */
export class AgentFailed extends Schema.TaggedError<AgentFailed>()("AgentFailed", {
  message: Schema.String
}) {}

/**
 * The cluster's own errors that a later try gets past: a shard moving between runners (a runner
 * handed its shards back on SIGTERM, or died), a runner not there yet or any more, a full mailbox,
 * the message store failing for a moment. Seen: an agent's call to its server while the server's
 * shard moved to another runner ended in `EntityNotAssignedToRunner`, which failed the whole run.
 */
const CLUSTER_TRANSIENT = new Set([
  "EntityNotAssignedToRunner",
  "RunnerUnavailable",
  "RunnerNotRegistered",
  "MailboxFull",
  "AlreadyProcessingMessage",
  "PersistenceError"
])

/**
 * Whether a defect of an agent's program may go away if the program runs again: the database
 * failed (`SqlError`, which the tables' reads and writes turn into defects), the cluster was moving
 * (CLUSTER_TRANSIENT), or the agent belongs to an attempt that was replaced (`Replaced`, its entity
 * stops). These stay defects, for the cluster to restart the entity; any other defect is `AgentFailed`.
 */
export const transient = (defect: unknown): boolean => {
  if (defect instanceof Replaced) return true
  const tag = typeof defect === "object" && defect !== null ? (defect as { _tag?: unknown })._tag : undefined
  return tag === "SqlError" || (typeof tag === "string" && CLUSTER_TRANSIENT.has(tag))
}

/** A defect in words for the submitting process: its message, or its tag and fields when it has none (the cluster's errors). */
export const describeDefect = (defect: unknown): string => {
  if (defect instanceof Error && defect.message !== "") return defect.message
  if (typeof defect === "object" && defect !== null && "_tag" in defect) {
    const { _tag, ...fields } = defect as { readonly _tag: unknown }
    const shown = JSON.stringify(fields, (_k, v) => (typeof v === "bigint" ? String(v) : v))
    return `${String(_tag)}${shown === "{}" ? "" : ` ${shown}`}`
  }
  return String(defect)
}

/**
 * Run one agent of a unit to its end. The reply is empty: the agent's results are its final
 * checkpoint, which the submitting process reads from PostgreSQL.
 */
export const RunAgent = Rpc.make("Run", {
  payload: {
    /** The unit's key (`<run>-<algorithm>-<seed>`): its server's tables and its agents' checkpoints. */
    unit: Schema.String,
    /** The run's key, under which its model is stored. */
    run: Schema.String,
    attempt: Whole,
    algorithm: Schema.Literals(["distmt", "oracle", "independent"]),
    seed: Schema.Int,
    agent: Whole,
    agents: Whole,
    /** The agent's true tasks in order: the run opens its instances; the agent's program never sees them. */
    tasks: Schema.Array(Whole)
  },
  error: AgentFailed
})

/**
 * A runner that stops (SIGTERM, `cluster down`) or hands a shard to another interrupts the agents
 * there at once (`InterruptOnTermination`). Without it Effect Cluster lets a request run to its end
 * before the entity stops, up to `entityTerminationTimeout` (15 s): a `Run` lasts as long as the
 * agent's whole program, so every busy runner took 15 s to stop, and `cluster down` killed it. The
 * submitting process sends an interrupted `Run` again (runAgents.ts): the agent resumes from its
 * checkpoint on whichever runner holds its shard then, as after a runner's death.
 */
export const Agent = signedEntity("DistmtAgent", [RunAgent]).annotateRpcs(ClusterSchema.InterruptOnTermination, true)

/** The entity id of an agent: its unit, its index and the attempt. */
export const agentId = (unit: string, agent: number, attempt: number): string => `${unit}.${agent}.${attempt}`

export type Payload = typeof RunAgent.payloadSchema.Type

/**
 * Dies with `Replaced` once the unit's submission has been given again (a newer attempt runs it):
 * checked every 5 s, so that the work of an abandoned attempt (`who`: an agent, a deep unit) does
 * not go on for ever.
 */
export const whileCurrent = (unit: string, attempt: number, who: string) =>
  Effect.repeat(
    Effect.flatMap(Effect.orDie(current(unit, attempt)), (yes) =>
      yes ? Effect.void : Effect.die(new Replaced(`${who}: attempt ${attempt} was replaced`))),
    Schedule.spaced("5 seconds")
  )

/**
 * A handler's defects as the submitting process needs them: a transient one stays a defect, for the
 * cluster to restart the entity and the request to be sent again; any other is final, logged with
 * its stack and answered as `AgentFailed`.
 */
export const finalUnlessTransient = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | AgentFailed, R> =>
  Effect.catchDefect(self, (defect) =>
    transient(defect)
      ? Effect.die(defect)
      : Effect.andThen(
        Effect.logError("failed, not to be run again", defect),
        Effect.fail(new AgentFailed({ message: describeDefect(defect) }))
      ))

export const AgentLive = Agent.toLayer(
  Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    // The clients of the servers, made once with the runner's services (signing included).
    const servers = yield* Server.client
    const context = yield* Effect.context<RunnerThreads | SqlClient>()
    return Agent.of({
      Run: ({ payload }) =>
        Effect.gen(function*() {
          // A failure to read the tables is a defect: the submitting process sends `Run` again.
          const replaced = whileCurrent(payload.unit, payload.attempt, `agent ${payload.agent} of ${payload.unit}`)
          const ended = yield* Effect.raceFirst(Effect.orDie(runAgent(payload, servers)), Effect.andThen(replaced, Effect.never))
          yield* Effect.logInfo(ended)
        }).pipe(
          finalUnlessTransient,
          Effect.annotateLogs("agent", address.entityId),
          Effect.provide(context)
        )
    })
  }),
  { maxIdleTime: "1 minute" }
)

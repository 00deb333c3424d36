/**
 * The central server as a cluster entity (issue 10): one `DistmtServer` entity per (run, algorithm,
 * seed), hosted by whichever runner holds its shard. Its messages are the coordinator's protocol
 * (src/coordinator/protocol.ts), signed like every distmt message (Ping.ts `signedEntity`). Its
 * state is the PostgreSQL-backed coordinator (src/coordinator/postgres.ts): every decision is
 * written in one transaction before the reply leaves, so a runner that dies loses none of them, and
 * the entity restarted on another runner begins from the tables. Requests are handled concurrently
 * and ordered by the clocks they carry (virtual time, on this side), as in one process.
 *
 * The entity id names the run and its number of agents: `<run>.<agents>` (`serverId`).
 */
import { Effect } from "effect"
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import { SqlClient } from "effect/sql/SqlClient"
import { durable } from "../coordinator/postgres.ts"
import { CoordinatorRpcs, handlers } from "../coordinator/protocol.ts"
import { sequenced } from "../run/sequenced.ts"
import { VirtualTime } from "../run/VirtualTime.ts"
import { signedEntity } from "./Ping.ts"

/**
 * Interrupted at once when its runner stops or hands its shard over (as the agents, AgentEntity.ts):
 * a request waits its turn in virtual time, which may be for agents that are stopping too, so
 * letting it run to its end held the runner up to Effect's `entityTerminationTimeout` (15 s). An
 * agent whose request was interrupted is sent its `Run` again, and the server's next owner answers
 * a request sent again from the tables.
 */
export const Server = signedEntity("DistmtServer", [...CoordinatorRpcs.requests.values()])
  .annotateRpcs(ClusterSchema.InterruptOnTermination, true)

/** The entity id of a run's server: the run's key, its number of agents, and the attempt. */
export const serverId = (run: string, agents: number, attempt: number): string => `${run}.${agents}.${attempt}`

const parseId = (id: string): { readonly run: string; readonly agents: number; readonly attempt: number } => {
  const [attempt, agents, ...run] = id.split(".").reverse()
  return { run: run.reverse().join("."), agents: Number(agents), attempt: Number(attempt) }
}

export const ServerLive = Server.toLayer(
  Effect.gen(function*() {
    const { run, agents, attempt } = parseId((yield* Entity.CurrentAddress).entityId)
    const sql = yield* SqlClient
    // A failure to read the tables is the runner's to retry (it restarts the entity).
    const inner = yield* Effect.orDie(Effect.provideService(durable(run, attempt), SqlClient, sql))
    const restored = (yield* inner.registry).length
    // Which runner holds which server (and whether it took one over) is what an operator looks for.
    yield* Effect.logInfo(
      `DistmtServer ${run} (attempt ${attempt}): started for ${agents} agents, ${restored} task${restored === 1 ? "" : "s"} restored from the tables`
    )
    const time = new VirtualTime(agents, true)
    // Agents that had fetched their policies before a take-over send nothing more: no turn waits for them.
    for (const agent of inner.done) time.retire(agent)
    // A request sent again after a take-over is answered from the tables, not decided twice.
    const h = handlers(sequenced(inner, time), time, (agent, seq) => sequenced(inner.request(agent, seq), time), inner)
    type Handlers = typeof h
    // The entity's handlers take the whole request; the protocol's take its payload.
    const byRequest = Object.fromEntries(
      Object.entries(h).map(([tag, f]) => [tag, (request: { readonly payload: never }) => (f as (p: never) => unknown)(request.payload)])
    ) as { readonly [K in keyof Handlers]: (request: { readonly payload: Parameters<Handlers[K]>[0] }) => ReturnType<Handlers[K]> }
    // (`Inspect`'s payload is void where the mapped type says undefined: the same at run time.)
    return Server.of(byRequest as unknown as Parameters<typeof Server.of>[0])
  }),
  // Requests wait for their turn in virtual time: they must not wait for each other's replies.
  // A server with no request for 5 minutes is let go: its unit has ended (its agents send a hint
  // every chunk while they run), or it is restarted from its tables by the next request. It was an
  // hour: a runner then held every server of the last hour's units, with their registries (a sweep
  // of 432 units left 126 of them, and the heap 3.4 MB above its start, after its agents had gone).
  { concurrency: "unbounded", maxIdleTime: "5 minutes" }
)

/**
 * The entities every distmt runner hosts. Add an entity here (its `toLayer` layer) and every runner
 * started by `distmt runner` or `distmt cluster up` serves it; define it with `signedEntity` (Ping.ts)
 * so that its messages are signed and checked.
 */
import { Layer } from "effect"
import { AgentLive } from "./AgentEntity.ts"
import { DeepUnitLive } from "./DeepUnitEntity.ts"
import { RunnerThreadsLive } from "./runnerThreads.ts"
import type { EntitiesLayer } from "./layers.ts"
import { PingLive } from "./Ping.ts"
import { ServerLive } from "./ServerEntity.ts"

/** The entities, with the agents' learner threads and checkpoint interval (`distmt runner --threads`, `--checkpoint-every`), and the runner's address for its messages. */
export const distmtEntities = (
  agents: { readonly threads?: number; readonly checkpointSeconds?: number; readonly runner?: string } = {}
): EntitiesLayer =>
  Layer.mergeAll(
    PingLive,
    // The central server of each run (ServerEntity.ts).
    ServerLive,
    // The agents of each run (AgentEntity.ts), their episodes on this runner's learner threads.
    AgentLive.pipe(Layer.provide(RunnerThreadsLive(agents))),
    // The units of deep runs (DeepUnitEntity.ts), each on one of this runner's deep-run worker threads.
    DeepUnitLive({
      ...(agents.threads === undefined ? {} : { threads: agents.threads }),
      ...(agents.runner === undefined ? {} : { runner: agents.runner })
    })
  )

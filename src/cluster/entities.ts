/**
 * The entities every distmt runner hosts. Add an entity here (its `toLayer` layer) and every runner
 * started by `distmt runner` or `distmt cluster up` serves it; define it with `signedEntity` (Ping.ts)
 * so that its messages are signed and checked.
 */
import { Layer } from "effect"
import type { EntitiesLayer } from "./layers.ts"
import { PingLive } from "./Ping.ts"
import { ServerLive } from "./ServerEntity.ts"

export const distmtEntities: EntitiesLayer = Layer.mergeAll(
  PingLive,
  // The central server of each run (ServerEntity.ts); agents are not entities yet (docs/cluster.md).
  ServerLive
)

/**
 * `Ping`: the trivial entity every distmt runner hosts, to check that a cluster is up, that signed
 * messages get through and forged ones do not (test/cluster-infra.test.ts), and to measure round
 * trips (`distmt cluster ping`). Each Ping entity instance counts the pings its handlers ran, so
 * that a test can show a refused message never reached a handler.
 */
import { Effect, Schema } from "effect"
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import * as Rpc from "effect/rpc/Rpc"
import * as RpcGroup from "effect/rpc/RpcGroup"
import { Signed } from "./Signed.ts"

/**
 * An entity whose every message must carry a valid signature (Signed.ts). distmt's entities are all
 * defined through this rather than `Entity.make`, so none can be left unprotected by mistake.
 */
export const signedEntity = <const Type extends string, const Rpcs extends ReadonlyArray<Rpc.Any>>(type: Type, rpcs: Rpcs) =>
  Entity.fromRpcGroup(type, RpcGroup.make(...rpcs).middleware(Signed))

/** Volatile: sent straight to the owning runner over its socket. */
export const PingRpc = Rpc.make("Ping", { payload: { text: Schema.String }, success: Schema.String })

/** Persisted: written to cluster_messages first, the reply read back from cluster_replies. */
export const PingPersistedRpc = Rpc.make("PingPersisted", { payload: { text: Schema.String }, success: Schema.String })
  .annotate(ClusterSchema.Persisted, true)

/** How many Ping/PingPersisted handlers ran in this entity instance since it started. */
export const CountRpc = Rpc.make("Count", { success: Schema.Number })

export const Ping = signedEntity("Ping", [PingRpc, PingPersistedRpc, CountRpc])

export const PingLive = Ping.toLayer(
  Effect.sync(() => {
    let handled = 0
    const pong = (text: string) =>
      Effect.sync(() => {
        handled++
        return `pong: ${text}`
      })
    return Ping.of({
      Ping: (request) => pong(request.payload.text),
      PingPersisted: (request) => pong(request.payload.text),
      Count: () => Effect.sync(() => handled)
    })
  })
)

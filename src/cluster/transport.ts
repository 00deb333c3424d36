/**
 * How runners reach each other: plain TCP (Effect's default for `NodeClusterSocket`) or mutual TLS.
 *
 * With TLS every runner is both a server (it accepts messages for its shards) and a client (it
 * sends to the others'), so one certificate per runner serves both ends: the server demands and
 * checks a client certificate (`requestCert` + `rejectUnauthorized`) against the cluster's CA, and
 * the client checks the server's against the same CA. A peer without a certificate from that CA
 * never gets a byte through; Node's TLS layer drops it during the handshake.
 *
 * TLS covers the socket path only: persisted messages travel through PostgreSQL, which the HMAC
 * signature (Signed.ts) covers.
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import { Effect, Layer } from "effect"
import * as Runners from "effect/cluster/Runners"
import * as RpcClient from "effect/rpc/RpcClient"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import { Socket } from "effect/socket/Socket"
import * as SocketServer from "effect/socket/SocketServer"
import type * as Tls from "node:tls"

/** PEM contents (not paths) of this runner's certificate and key and of the cluster's CA. */
export interface TlsFiles {
  readonly cert: string
  readonly key: string
  readonly ca: string
}

/**
 * The client options for a TLS connection to another runner. Runners are addressed by IP or host
 * name as registered in `cluster_runners`; certificates made as in docs/cluster.md carry
 * `IP:127.0.0.1` and `DNS:localhost` in their subjectAltName, so the default host-name check holds.
 */
const tlsClientOptions = (tls: TlsFiles): Tls.ConnectionOptions => ({
  cert: tls.cert,
  key: tls.key,
  ca: tls.ca,
  rejectUnauthorized: true
})

/**
 * The protocol a runner (or a client-only process) uses to send to a runner: Effect's own
 * (`NodeClusterSocket.layerClientProtocol`, same timeouts) with a TLS socket when `tls` is given.
 */
export const clientProtocol = (tls: TlsFiles | undefined): Layer.Layer<
  Runners.RpcClientProtocol,
  never,
  RpcSerialization.RpcSerialization
> =>
  Layer.effect(Runners.RpcClientProtocol)(
    Effect.gen(function*() {
      const serialization = yield* RpcSerialization.RpcSerialization
      return {
        codecFor: serialization.codecFor,
        make: Effect.fnUntraced(function*(address) {
          const socket = tls
            ? yield* NodeSocket.makeTls({ ...tlsClientOptions(tls), host: address.host, port: address.port, openTimeout: 1000 })
            : yield* NodeSocket.makeNet({ openTimeout: 1000, timeout: 5500, host: address.host, port: address.port })
          return yield* RpcClient.makeProtocolSocket().pipe(
            Effect.provideService(Socket, socket),
            Effect.provideService(RpcSerialization.RpcSerialization, serialization)
          )
        }, Effect.orDie)
      }
    })
  )

/**
 * The socket server a runner listens on, plain or mutual TLS. Each accepted connection is logged
 * (debug) with the peer's address, so that a refused message can be matched to where it came from.
 */
export const socketServer = (
  listen: { readonly host: string; readonly port: number },
  tls: TlsFiles | undefined
): Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError> =>
  Layer.effect(SocketServer.SocketServer)(
    Effect.gen(function*() {
      const server = tls
        ? yield* NodeSocketServer.makeTls({
          host: listen.host,
          port: listen.port,
          cert: tls.cert,
          key: tls.key,
          ca: tls.ca,
          // Mutual TLS: no client certificate signed by our CA, no connection.
          requestCert: true,
          rejectUnauthorized: true
        })
        : yield* NodeSocketServer.make({ host: listen.host, port: listen.port })
      return {
        ...server,
        run: (handler) =>
          server.run((socket) =>
            Effect.flatMap(Effect.serviceOption(NodeSocket.NetSocket), (conn) => {
              const peer = conn._tag === "Some" ? `${conn.value.remoteAddress}:${conn.value.remotePort}` : "unknown"
              return Effect.andThen(
                Effect.logDebug(`distmt runner: connection from ${peer}${tls ? " (TLS client certificate verified)" : ""}`),
                handler(socket)
              )
            })
          )
      } satisfies SocketServer.SocketServer["Service"]
    })
  )

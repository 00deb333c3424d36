/**
 * Whether this runner reaches the other runners of its cluster. A runner whose transport cannot talk
 * with its peers' (TLS on one side and not the other, certificates from another CA) is refused at
 * admission (peers.ts, with `transportMismatches` below); one whose peers cannot reach it otherwise
 * (an advertised address they cannot reach, a firewall, a runner of a distmt from before that check)
 * is admitted, prints "ready" and idles; worse, if it holds Effect's health-check singleton it marks
 * the genuine runners unhealthy. A warning read from the runner's own health flag was tried and
 * reverted: which runner holds that singleton decides who is marked, so the wrong runner warned.
 *
 * This check is symmetric instead: every runner, every PEER_CHECK_SECONDS, sends Effect Cluster's
 * own runner `Ping` (the message of its health check) to each other runner that PostgreSQL lists as
 * up, over its OWN transport (transport.ts), and warns, naming the peer, when two checks in a row
 * got no answer; so each side of a mismatch names the other, whoever holds the singleton. The
 * likely cause comes from plain probes of the peer's port (TCP, a TLS hello, a TLS handshake with
 * this runner's certificate), made only after a ping failed. It says when the peer answers again.
 * It sends nothing to entities and changes nothing: a failure here only ever prints. A runner with
 * `--advertise` also pings itself at the address it advertises (`watchPeers`).
 */
import { Console, Duration, Effect, Layer, Option } from "effect"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as Runners from "effect/cluster/Runners"
import * as RpcClient from "effect/rpc/RpcClient"
import * as net from "node:net"
import * as tls from "node:tls"
import { runnersUp } from "./database.ts"
import { serialization } from "./layers.ts"
import { clientProtocol, type TlsFiles } from "./transport.ts"

/** Seconds between two rounds of pings to the other runners. */
export const PEER_CHECK_SECONDS = 10

/** Generous: a loaded 2-core machine can take seconds to answer; a missed answer only counts after two. */
const PING_TIMEOUT = Duration.seconds(15)
const PROBE_MS = 10_000

/** Consecutive failed checks before a peer is named: one slow answer under load is no reason. */
const FAILURES_TO_WARN = 2

const hostPort = (address: string) => {
  const i = address.lastIndexOf(":")
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(address.slice(i + 1)) }
}

/** One runner `Ping` to `address` over this runner's transport: whether it was answered in time. */
const pings = (address: string) =>
  Effect.scoped(Effect.gen(function*() {
    const { host, port } = hostPort(address)
    const protocol = yield* (yield* Runners.RpcClientProtocol).make(RunnerAddress.make(host, port))
    const client = yield* Effect.provideService(Runners.makeRpcClient, RpcClient.Protocol, protocol)
    yield* client.Ping()
  })).pipe(
    Effect.timeoutOption(PING_TIMEOUT),
    Effect.map(Option.isSome),
    Effect.catchCause(() => Effect.succeed(false))
  )

type Outcome = { readonly ok: true } | { readonly ok: false; readonly code: string }

/** A probe that got no answer at all (its timeout), or was cut short by the runner stopping. */
const noAnswer = (o: Outcome): boolean => !o.ok && (o.code === "timeout" || o.code === "aborted")

/**
 * Runs `connect` until its socket connects (or, with `settle`, stays up that long after), fails or
 * times out; or until `signal` aborts (the runner stops): then the socket and the timers go at once,
 * since they would otherwise keep the stopping process alive for up to PROBE_MS.
 */
const probe = (connect: () => net.Socket, event: "connect" | "secureConnect", signal: AbortSignal | undefined, settleMs = 0) =>
  new Promise<Outcome>((resolve) => {
    if (signal?.aborted) return resolve({ ok: false, code: "aborted" })
    const socket = connect()
    let done = false
    let settle: NodeJS.Timeout | undefined
    const finish = (outcome: Outcome) => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearTimeout(settle)
      signal?.removeEventListener("abort", aborted)
      socket.destroy()
      resolve(outcome)
    }
    const aborted = () => finish({ ok: false, code: "aborted" })
    signal?.addEventListener("abort", aborted)
    const timer = setTimeout(() => finish({ ok: false, code: "timeout" }), PROBE_MS)
    socket.on("error", (e: NodeJS.ErrnoException) => finish({ ok: false, code: e.code ?? e.message }))
    socket.on("close", () => finish({ ok: false, code: "closed" }))
    // With TLS 1.3 the server refuses a client certificate only after the client's handshake is
    // done: its alert arrives as an error shortly after secureConnect.
    socket.on(event, () => {
      if (settleMs === 0) finish({ ok: true })
      else settle = setTimeout(() => finish({ ok: true }), settleMs)
    })
  })

const CA_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE"
])

const SAME_TLS = "give every runner the same --tls-cert/--tls-key/--tls-ca flags, from one CA, or none"

/**
 * Why a peer did not answer: `transport` when the two runners' transports cannot talk (TLS on one
 * side only, a certificate the other side's CA did not sign, a certificate that does not name the
 * peer or has expired), which no wait mends; otherwise a peer that is gone, cut off or busy.
 */
export interface Diagnosis {
  readonly cause: string
  readonly transport: boolean
}

const reachCause = (cause: string): Diagnosis => ({ cause, transport: false })
const transportCause = (cause: string): Diagnosis => ({ cause, transport: true })

/** A port that takes connections and then says nothing within PROBE_MS. */
const silent = (address: string): Diagnosis =>
  reachCause(
    `${address} takes connections but answers nothing within ${PROBE_MS / 1000} s: the runner is overloaded or stopped ` +
      "(SIGSTOP), or another program listens there"
  )

/**
 * The likely reason why `address` did not answer, from probes of its port with this runner's
 * settings; with `signal` aborted, the probe under way ends at once (what it returns then is moot).
 */
export const diagnose = async (address: string, mine: TlsFiles | undefined, signal?: AbortSignal): Promise<Diagnosis> => {
  const { host, port } = hostPort(address)
  const tcp = await probe(() => net.connect({ host, port }), "connect", signal)
  if (!tcp.ok) {
    return reachCause(
      tcp.code === "ECONNREFUSED"
        ? `nothing listens at ${address} as seen from here (connection refused): its --advertise address is wrong, or it has just stopped`
        : `no connection to ${address} (${tcp.code}): a firewall between the two, or an --advertise address this machine cannot reach`
    )
  }
  // Does its port speak TLS at all? A TLS server answers a hello (and may then refuse us, by an alert);
  // a runner without TLS closes the connection on it at once. No answer at all tells nothing of its
  // transport (a runner too busy to answer, or stopped with SIGSTOP): not a cause to refuse a start for.
  const hello = await probe(() => tls.connect({ host, port, rejectUnauthorized: false }), "secureConnect", signal)
  if (noAnswer(hello)) return silent(address)
  const speaksTls = hello.ok || /ALERT/.test(hello.code)
  if (mine === undefined) {
    return speaksTls
      ? transportCause(`it uses mutual TLS and this runner does not; ${SAME_TLS}`)
      : reachCause("its port takes connections but it does not answer a runner's ping: the runner is overloaded, or another program listens there")
  }
  if (!speaksTls) return transportCause(`this runner uses mutual TLS and it does not (its port answers no TLS handshake); ${SAME_TLS}`)
  const handshake = await probe(
    () => tls.connect({ host, port, cert: mine.cert, key: mine.key, ca: mine.ca, rejectUnauthorized: true }),
    "secureConnect",
    signal,
    2000
  )
  if (noAnswer(handshake)) return silent(address)
  if (handshake.ok) {
    return reachCause("the TLS handshake succeeds but it does not answer a runner's ping: the runner is overloaded, or another program listens there")
  }
  if (CA_CODES.has(handshake.code)) return transportCause(`its certificate is not from this runner's CA (--tls-ca); ${SAME_TLS}`)
  if (/ALERT/.test(handshake.code)) return transportCause(`it refuses this runner's certificate (not from its CA, --tls-ca); ${SAME_TLS}`)
  if (handshake.code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return transportCause(`its certificate does not name ${host} (subjectAltName): make each runner's certificate for the address it advertises`)
  }
  if (handshake.code === "CERT_HAS_EXPIRED" || handshake.code === "CERT_NOT_YET_VALID") {
    return transportCause("its certificate has expired or is not valid yet")
  }
  return transportCause(`the TLS handshake with it fails (${handshake.code})`)
}

/** The runner `Ping` and, when it fails, its diagnosis: over this runner's transport (`tls`). */
const pingOrDiagnose = (peer: string, tls: TlsFiles | undefined) =>
  Effect.gen(function*() {
    if (yield* pings(peer)) return undefined
    return yield* Effect.promise((signal) => diagnose(peer, tls, signal))
  })

/**
 * The runners among `peers` that this runner's transport cannot talk with, each with the cause:
 * one runner `Ping` to each at once (answered in milliseconds when all is well), a diagnosis of
 * those that do not answer, and only the transport causes kept (a peer gone, cut off or busy is
 * left to `watchPeers`). The admission (peers.ts) refuses a runner for which this is not empty.
 */
export const transportMismatches = (peers: ReadonlyArray<string>, tls: TlsFiles | undefined) =>
  Effect.forEach(peers, (peer) => Effect.map(pingOrDiagnose(peer, tls), (d) => d?.transport ? [{ peer, cause: d.cause }] : []), {
    concurrency: "unbounded"
  }).pipe(
    Effect.map((found) => found.flat()),
    Effect.provide(clientProtocol(tls).pipe(Layer.provide(serialization)))
  )

/**
 * Checks, for ever, that this runner (at `address`) reaches the other runners of `clusterName`
 * that are up, and prints a line when one stops or starts answering. Needs the cluster's database.
 *
 * With `listen` (an `--advertise` address apart from the one it listens on), it also pings itself
 * at the address it advertises, where the others send: a wrong `--advertise` (a typo, a port not
 * forwarded) otherwise leaves it "ready" and idle, the health check giving it no shard, and only
 * its peers' logs say why. Seen from this machine only: behind a NAT that does not loop back, the
 * others may reach it where it cannot, so this only ever prints.
 */
export const watchPeers = (options: {
  readonly clusterName: string
  readonly address: string
  readonly listen?: string | undefined
  readonly tls: TlsFiles | undefined
}) =>
  Effect.gen(function*() {
    // Per address pinged (the peers, and this runner's own with `listen`): misses in a row, and
    // whether its warning is out.
    const failures = new Map<string, number>()
    const warned = new Set<string>()
    /** Pings `target`; after FAILURES_TO_WARN misses in a row prints `warn` once, and `back` when it answers again. */
    const check = (target: string, lines: { readonly warn: (n: number, cause: string) => string; readonly back: string }) =>
      Effect.gen(function*() {
        if (yield* pings(target)) {
          failures.delete(target)
          if (warned.delete(target)) yield* Console.error(lines.back)
          return
        }
        const n = (failures.get(target) ?? 0) + 1
        failures.set(target, n)
        if (n < FAILURES_TO_WARN || warned.has(target)) return
        warned.add(target)
        const { cause } = yield* Effect.promise((signal) => diagnose(target, options.tls, signal))
        yield* Console.error(lines.warn(n, cause))
      })
    const peerLines = (peer: string) => ({
      warn: (n: number, cause: string) =>
        `distmt runner: WARNING this runner cannot reach the runner at ${peer} of cluster "${options.clusterName}" ` +
        `(no answer to ${n} runner pings, ${PEER_CHECK_SECONDS} s apart): ${cause}. ` +
        "The health check may mark one of the two unhealthy, which then gets no shard (docs/cluster.md, \"Runners that cannot reach each other\")",
      back: `distmt runner: this runner reaches the runner at ${peer} again`
    })
    const selfLines = (listen: string) => ({
      warn: (n: number, cause: string) =>
        `distmt runner: WARNING this runner does not answer a runner ping at the address it advertises, ${options.address} ` +
        `(no answer to ${n} runner pings from this machine, ${PEER_CHECK_SECONDS} s apart; it listens on ${listen}): ${cause}. ` +
        "The other runners send there: check --advertise (docs/cluster.md, \"Runners that cannot reach each other\")",
      back: `distmt runner: this runner answers at the address it advertises, ${options.address}, again`
    })
    while (true) {
      // A database hiccup skips a round: this check must never stop the runner.
      const up = yield* Effect.option(runnersUp(options.clusterName))
      if (Option.isSome(up)) {
        const peers = up.value.filter((a) => a !== options.address)
        for (const gone of [...failures.keys(), ...warned].filter((a) => a !== options.address && !peers.includes(a))) {
          failures.delete(gone)
          warned.delete(gone)
        }
        yield* Effect.forEach(peers, (peer) => check(peer, peerLines(peer)), { concurrency: "unbounded", discard: true })
      }
      if (options.listen !== undefined) yield* check(options.address, selfLines(options.listen))
      yield* Effect.sleep(Duration.seconds(PEER_CHECK_SECONDS))
    }
  }).pipe(Effect.provide(clientProtocol(options.tls).pipe(Layer.provide(serialization))))

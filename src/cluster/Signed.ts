/**
 * Secure exchange: every request to a distmt entity carries an HMAC-SHA256 signature made with the
 * cluster's shared secret, and the receiving entity refuses any request whose signature does not
 * verify, before its handler runs.
 *
 * Why an Rpc middleware and not only TLS: a persisted message is written to PostgreSQL by the
 * sender and read back by the owner, never crossing a runner's socket; the envelope's headers are
 * stored with it, so a signature in the headers covers both paths (docs/cluster.md, security model).
 *
 * What is signed (version 1), one field per line:
 *   "distmt-v1", the rpc tag, the request id (a cluster-wide snowflake, the same on both ends and in
 *   the cluster_messages row), the sender's clock in ms, a random nonce, the sender's self-description
 *   and the payload encoded by its Schema to canonical JSON (object keys sorted).
 * Not signed: the target entity id (the client middleware does not see it). A captured volatile
 * message could thus be replayed to another entity; the receiver refuses a nonce it has seen for a
 * different entity or request, and any volatile message older than FRESHNESS_MS. Persisted messages
 * are exempt from the age check (they may legitimately wait in the table, and are redelivered after
 * a take-over): the database is trusted (docs/cluster.md, "Security model").
 *
 * A refused request fails with `AuthError` (a typed failure the caller sees); it never dies: a defect
 * in the middleware makes the entity restart and replay the request forever.
 */
import { Context, Effect, Layer, Option, Schedule, Schema } from "effect"
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import * as Headers from "effect/http/Headers"
import type * as Rpc from "effect/rpc/Rpc"
import * as RpcMiddleware from "effect/rpc/RpcMiddleware"
import { createHmac, createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from "node:crypto"
import * as os from "node:os"

/** The reply to a refused request. */
export class AuthError extends Schema.TaggedError<AuthError>()("AuthError", {
  message: Schema.String
}) {}

/**
 * The middleware's tag. `requiredForClient`: every client of an entity that uses it must provide
 * `Signed.client(...)`, so that no distmt process can forget to sign.
 */
export class Signed extends RpcMiddleware.Service<Signed>()("distmt/cluster/Signed", {
  error: AuthError,
  requiredForClient: true
}) {}

/** Header names (lower case: Effect's Headers are case-insensitive and stored lower-cased). */
export const HEADER = {
  signature: "x-distmt-signature",
  time: "x-distmt-time",
  nonce: "x-distmt-nonce",
  from: "x-distmt-from"
} as const

/** How old (or how far in the future, for clock skew) a volatile message may be. */
export const FRESHNESS_MS = 120_000

/** Stable JSON: object keys sorted, so that both ends hash the same bytes for the same value. */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`
}

/** The payload as canonical JSON through the rpc's own Schema (bigints, dates… become JSON). */
const encodePayload = (rpc: Rpc.AnyWithProps, payload: unknown): string | undefined => {
  const exit = Schema.encodeExit(Schema.toCodecJson(rpc.payloadSchema as Schema.Codec<unknown, unknown>))(payload)
  return exit._tag === "Success" ? canonicalJson(exit.value) : undefined
}

/**
 * The secret as a key object, made once per secret: `createHmac` given the bytes prepares a key
 * object at every call, which was most of a signature's time (`npx tsx bench/sign.ts`: 17 µs a
 * signature against 6) and about a tenth of a busy runner's main thread on the quick E6 spec.
 */
const keys = new WeakMap<Buffer, KeyObject>()
const keyOf = (secret: Buffer): KeyObject => {
  let key = keys.get(secret)
  if (key === undefined) keys.set(secret, key = createSecretKey(secret))
  return key
}

const signatureOf = (
  secret: Buffer,
  fields: { tag: string; requestId: string; time: string; nonce: string; from: string; payload: string }
): string =>
  createHmac("sha256", keyOf(secret))
    .update(["distmt-v1", fields.tag, fields.requestId, fields.time, fields.nonce, fields.from, fields.payload].join("\n"))
    .digest("base64url")

/** Who this process says it is (signed, so it cannot be altered in transit; useful in refusal logs). */
export const selfDescription = (runnerAddress?: string): string =>
  `${runnerAddress ?? "client"}@${os.hostname()} pid ${process.pid}`

/**
 * The signature headers of one request, or `undefined` if its payload does not match its own Schema
 * (a bug of the caller). `time` is the sender's clock (a parameter for the tests).
 */
export const signatureHeaders = (
  secret: Buffer,
  request: { readonly rpc: Rpc.AnyWithProps; readonly requestId: string; readonly payload: unknown; readonly from: string },
  time: number = Date.now()
): Record<string, string> | undefined => {
  const payload = encodePayload(request.rpc, request.payload)
  if (payload === undefined) return undefined
  const nonce = randomBytes(12).toString("base64url")
  const fields = { tag: request.rpc._tag, requestId: request.requestId, time: String(time), nonce, from: request.from, payload }
  return {
    [HEADER.time]: fields.time,
    [HEADER.nonce]: nonce,
    [HEADER.from]: request.from,
    [HEADER.signature]: signatureOf(secret, fields)
  }
}

/**
 * The client half: signs every outgoing request. `secret` undefined (an `--insecure` process) sends
 * requests unsigned, which a runner with a secret refuses.
 */
export const client = (secret: Buffer | undefined, from: string) =>
  RpcMiddleware.layerClient(Signed, ({ next, request, rpc }) => {
    if (secret === undefined) return next(request)
    const signed = signatureHeaders(secret, { rpc, requestId: String(request.id), payload: request.payload, from })
    if (signed === undefined) return Effect.die(new Error(`distmt: cannot encode the payload of ${rpc._tag} to sign it`))
    return next({ ...request, headers: Headers.setAll(request.headers, signed) })
  })

/** What the server half needs to know about one incoming request (split out to be testable). */
export interface Incoming {
  readonly rpc: Rpc.AnyWithProps
  readonly requestId: string
  readonly headers: Headers.Headers
  /** The decoded payload of the request. */
  readonly payload: unknown
  /** The target entity, as "Type/id" (from the cluster envelope), if known. */
  readonly address: string
  readonly persisted: boolean
}

/**
 * Checks one request; `undefined` when it is genuine, else why it is refused. `prune` forgets the
 * nonces older than FRESHNESS_MS (each check does too), and `remembered` counts those kept.
 */
export const makeVerifier = (secret: Buffer, now: () => number = Date.now) => {
  // nonce → "address|requestId" of the first request seen with it, for FRESHNESS_MS.
  const seen = new Map<string, { key: string; time: number }>()
  const forget = (t: number) => {
    for (const [nonce, entry] of seen) {
      if (t - entry.time <= FRESHNESS_MS) break // insertion order is time order
      seen.delete(nonce)
    }
  }
  const check = (m: Incoming): string | undefined => {
    const signature = Headers.get(m.headers, HEADER.signature)
    const time = Headers.get(m.headers, HEADER.time)
    const nonce = Headers.get(m.headers, HEADER.nonce)
    const from = Headers.get(m.headers, HEADER.from)
    if (Option.isNone(signature) || Option.isNone(time) || Option.isNone(nonce) || Option.isNone(from)) {
      return "unsigned (no distmt signature headers: the sender has no cluster secret)"
    }
    const payload = encodePayload(m.rpc, m.payload)
    if (payload === undefined) return "payload does not match its schema"
    const expected = Buffer.from(signatureOf(secret, {
      tag: m.rpc._tag,
      requestId: m.requestId,
      time: time.value,
      nonce: nonce.value,
      from: from.value,
      payload
    }))
    const given = Buffer.from(signature.value)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return "bad signature (wrong secret, or the message was altered)"
    }
    if (m.persisted) return undefined
    const t = now()
    const sent = Number(time.value)
    if (!Number.isFinite(sent) || Math.abs(t - sent) > FRESHNESS_MS) {
      return `stale: sent ${Math.round((t - sent) / 1000)} s ago (more than ${FRESHNESS_MS / 1000} s; replayed, or clocks apart)`
    }
    forget(t)
    const key = `${m.address}|${m.requestId}`
    const previous = seen.get(nonce.value)
    if (previous !== undefined && previous.key !== key) return "replayed (nonce already used by another request)"
    if (previous === undefined) seen.set(nonce.value, { key, time: t })
    return undefined
  }
  return Object.assign(check, { prune: () => forget(now()), remembered: () => seen.size })
}

/**
 * How often the server half forgets old nonces besides at each check. Without it, a runner that
 * fell idle kept the last FRESHNESS_MS of its traffic's nonces until its next message (heap
 * snapshots six minutes after the quick E6 spec's last run: 39,000 to 53,000 entries, 20 to 30 MB
 * above the runner's 46 MB of heap; with the timer, none).
 */
const PRUNE_EVERY = `${FRESHNESS_MS / 4} millis` as const

/** Forgets `verify`'s old nonces every PRUNE_EVERY, for as long as it runs. */
export const pruning = (verify: ReturnType<typeof makeVerifier>) => Effect.repeat(Effect.sync(verify.prune), Schedule.spaced(PRUNE_EVERY))

/**
 * The server half, run by the entity before its handler. `secret` undefined (`--insecure`) admits
 * everything. A refusal is logged (warning) with the target, the rpc, the request id, the path it
 * came by and the sender's claimed identity, and the request fails with `AuthError`.
 */
export const server = (secret: Buffer | undefined) =>
  Layer.effect(Signed)(Effect.gen(function*() {
    const verify = secret === undefined ? undefined : makeVerifier(secret)
    if (verify !== undefined) yield* Effect.forkScoped(pruning(verify))
    return Signed.of((effect, options) => {
      if (verify === undefined) return effect
      // Inside an entity the "payload" is the whole cluster envelope (Entity.Request), whose own
      // `payload` is the rpc's; elsewhere (plain RpcServer) it is the rpc's payload itself.
      const envelope = options.payload instanceof Entity.Request ? options.payload : undefined
      const incoming: Incoming = {
        rpc: options.rpc,
        requestId: String(options.requestId),
        headers: options.headers,
        payload: envelope ? envelope.payload : options.payload,
        address: envelope ? `${envelope.address.entityType}/${envelope.address.entityId}` : "?",
        persisted: Context.get(options.rpc.annotations, ClusterSchema.Persisted)
      }
      let reason: string | undefined
      try {
        reason = verify(incoming)
      } catch (e) {
        reason = `could not be checked (${e instanceof Error ? e.message : String(e)})`
      }
      if (reason === undefined) return effect
      const from = Option.getOrElse(Headers.get(options.headers, HEADER.from), () => "(no sender header)")
      return Effect.andThen(
        Effect.logWarning(
          `distmt: REFUSED ${incoming.rpc._tag} to ${incoming.address} (request ${incoming.requestId}, ` +
            `${incoming.persisted ? "persisted, via PostgreSQL" : "volatile, via a runner socket"}) ` +
            `from ${from}: ${reason}`
        ),
        Effect.fail(new AuthError({ message: reason }))
      )
    })
  }))

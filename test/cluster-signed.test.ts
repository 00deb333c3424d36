/**
 * The message signature of the cluster (src/cluster/Signed.ts), without processes or a database:
 * what the receiving entity accepts and what it refuses (test/cluster-infra.test.ts checks the same
 * through real runners and PostgreSQL); the checks of --db and of the secret made before any
 * connection; and the verifier that a runner's secret is compared with at start-up
 * (test/cluster-peers.test.ts checks that with real runners).
 */
import * as Headers from "effect/http/Headers"
import type * as Rpc from "effect/rpc/Rpc"
import { Effect, Exit, Fiber, Option } from "effect"
import * as TestClock from "effect/testing/TestClock"
import { createHmac } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parseDbUrl } from "../src/cluster/database.ts"
import { compareWith, referenceOf, verifierOf } from "../src/cluster/peers.ts"
import { loadSecret } from "../src/cluster/secret.ts"
import { PingPersistedRpc, PingRpc } from "../src/cluster/Ping.ts"
import { canonicalJson, FRESHNESS_MS, HEADER, type Incoming, makeVerifier, pruning, signatureHeaders } from "../src/cluster/Signed.ts"

const secret = Buffer.from("a secret of the cluster, 32 chars")
const volatile = PingRpc as unknown as Rpc.AnyWithProps
const persisted = PingPersistedRpc as unknown as Rpc.AnyWithProps
const T0 = 1_800_000_000_000

/** A request as the receiving entity sees it, signed by `key` at `time`. */
const signed = (options: { key?: Buffer; rpc?: Rpc.AnyWithProps; text?: string; time?: number; address?: string; requestId?: string } = {}): Incoming => {
  const rpc = options.rpc ?? volatile
  const requestId = options.requestId ?? "1001"
  const payload = { text: options.text ?? "hello" }
  const headers = signatureHeaders(options.key ?? secret, { rpc, requestId, payload, from: "127.0.0.1:1@test pid 1" }, options.time ?? T0)!
  return {
    rpc,
    requestId,
    headers: Headers.fromInput(headers),
    payload,
    address: options.address ?? "Ping/a",
    persisted: rpc === persisted
  }
}

describe("the HMAC signature of cluster messages", () => {
  it("accepts a genuine request, and the same envelope delivered again (a retry or a replay after a restart)", () => {
    const verify = makeVerifier(secret, () => T0 + 1000)
    const m = signed()
    expect(verify(m)).toBeUndefined()
    expect(verify(m)).toBeUndefined()
  })

  it("signs with HMAC-SHA256 of the version-1 fields under the secret (docs/cluster.md), the same for every secret in turn", () => {
    const other = Buffer.from("another secret, also 32 chars..")
    for (const key of [secret, other, secret]) {
      const m = signed({ key })
      const fields = ["distmt-v1", "Ping", "1001", String(T0), Headers.get(m.headers, HEADER.nonce).pipe(Option.getOrThrow),
        "127.0.0.1:1@test pid 1", canonicalJson({ text: "hello" })]
      const expected = createHmac("sha256", key).update(fields.join("\n")).digest("base64url")
      expect(Headers.get(m.headers, HEADER.signature).pipe(Option.getOrThrow)).toBe(expected)
    }
  })

  it("refuses a request signed with another secret", () => {
    const verify = makeVerifier(secret, () => T0)
    expect(verify(signed({ key: Buffer.from("another secret, also 32 chars..") }))).toMatch(/^bad signature/)
  })

  it("refuses a request whose payload, tag or id was altered after signing", () => {
    const verify = makeVerifier(secret, () => T0)
    const m = signed()
    expect(verify({ ...m, payload: { text: "hellO" } })).toMatch(/^bad signature/)
    expect(verify({ ...m, requestId: "1002" })).toMatch(/^bad signature/)
    expect(verify({ ...m, rpc: persisted, persisted: true })).toMatch(/^bad signature/)
  })

  it("refuses an unsigned request, or one whose signature header was removed", () => {
    const verify = makeVerifier(secret, () => T0)
    const m = signed()
    expect(verify({ ...m, headers: Headers.empty })).toMatch(/^unsigned/)
    expect(verify({ ...m, headers: Headers.remove(m.headers, HEADER.signature) })).toMatch(/^unsigned/)
  })

  it("refuses a stale volatile request but not a persisted one (which may wait in PostgreSQL)", () => {
    const verify = makeVerifier(secret, () => T0 + FRESHNESS_MS + 1)
    expect(verify(signed())).toMatch(/^stale/)
    expect(verify(signed({ rpc: persisted }))).toBeUndefined()
    expect(makeVerifier(secret, () => T0 + FRESHNESS_MS - 1)(signed())).toBeUndefined()
  })

  it("forgets the nonces of requests older than the freshness window, every quarter of it, with no request coming", async () => {
    let t = T0
    const verify = makeVerifier(secret, () => t)
    expect(verify(signed({ requestId: "1" }))).toBeUndefined()
    t += 1000
    expect(verify(signed({ requestId: "2", time: t }))).toBeUndefined()
    expect(verify.remembered()).toBe(2)
    await Effect.runPromise(Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(pruning(verify))
      t += FRESHNESS_MS // the first is now older than the window, the second just inside it
      yield* TestClock.adjust(`${FRESHNESS_MS / 4} millis`)
      expect(verify.remembered()).toBe(1)
      t += 1001
      yield* TestClock.adjust(`${FRESHNESS_MS / 4} millis`)
      expect(verify.remembered()).toBe(0)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(TestClock.layer())))
  })

  it("refuses a captured volatile request replayed to another entity", () => {
    const verify = makeVerifier(secret, () => T0)
    const m = signed({ address: "Ping/a" })
    expect(verify(m)).toBeUndefined()
    expect(verify({ ...m, address: "Ping/b" })).toMatch(/^replayed/)
  })

  it("signs the same bytes whatever the order of an object's keys", () => {
    expect(canonicalJson({ b: 1, a: [true, null, { d: "x", c: 2 }] })).toBe(canonicalJson({ a: [true, null, { c: 2, d: "x" }], b: 1 }))
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}')
  })
})

describe("the checks before any connection", () => {
  const failure = <A>(effect: Effect.Effect<A, { readonly message: string }>) => {
    const exit = Effect.runSyncExit(effect)
    return Exit.isFailure(exit) ? String((exit.cause.reasons[0] as { error?: { message: string } }).error?.message) : undefined
  }

  it("refuses a --db that is missing or not a postgres:// URL, in one line", () => {
    expect(failure(parseDbUrl(undefined))).toMatch(/^no database: give --db postgres:\/\/USER:PASSWORD@HOST:5432\/DATABASE/)
    expect(failure(parseDbUrl("mysql://u@127.0.0.1/x"))).toMatch(/^--db must be a postgres:\/\/ URL/)
    expect(failure(parseDbUrl("postgres://u:secret@127.0.0.1"))).toBe(
      "--db postgres://u:***@127.0.0.1: name a host and a database, as in postgres://USER:PASSWORD@127.0.0.1:5432/distmt"
    )
    expect(failure(parseDbUrl("postgres://u:p@127.0.0.1:5432/db"))).toBeUndefined()
  })

  it("refuses a secret shorter than 16 characters, and no secret without --insecure", () => {
    const saved = process.env.DISTMT_CLUSTER_SECRET
    try {
      process.env.DISTMT_CLUSTER_SECRET = "too-short"
      expect(failure(loadSecret({ insecure: false }))).toMatch(/is 9 characters; use at least 16/)
      process.env.DISTMT_CLUSTER_SECRET = "x".repeat(16)
      expect(failure(loadSecret({ insecure: false }))).toBeUndefined()
      expect(Effect.runSync(loadSecret({ insecure: true })).key).toBeUndefined() // --insecure overrides
    } finally {
      if (saved === undefined) delete process.env.DISTMT_CLUSTER_SECRET
      else process.env.DISTMT_CLUSTER_SECRET = saved
    }
  })

  it("refuses a secret file that every user can read or write, naming it, its mode and the fix; 600 and 640 are taken", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-secret-"))
    const file = path.join(dir, "cluster.secret")
    try {
      fs.writeFileSync(file, "x".repeat(32) + "\n")
      fs.chmodSync(file, 0o644)
      expect(failure(loadSecret({ secretFile: file, insecure: false }))).toBe(
        `the cluster secret file ${file} is readable by every user of this machine (mode 644): anyone here could sign messages ` +
          `to the cluster; \`chmod 600 ${file}\`, then start again`
      )
      fs.chmodSync(file, 0o602)
      expect(failure(loadSecret({ secretFile: file, insecure: false }))).toMatch(/is writable by every user of this machine \(mode 602\)/)
      fs.chmodSync(file, 0o600)
      expect(Effect.runSync(loadSecret({ secretFile: file, insecure: false })).key).toEqual(Buffer.from("x".repeat(32)))
      fs.chmodSync(file, 0o640) // a group of the cluster's operators may share it
      expect(failure(loadSecret({ secretFile: file, insecure: false }))).toBeUndefined()
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("the verifier of a cluster's secret (peers.ts), stored instead of the secret", () => {
  const other = Buffer.from("another secret, also 32 chars..")

  it("matches the same secret only, for the same cluster name and salt", () => {
    const reference = referenceOf(secret, "c1")
    expect(compareWith(reference, secret, "c1")).toBe("same")
    expect(compareWith(reference, other, "c1")).toBe("another secret")
    expect(compareWith(reference, secret, "c2")).toBe("another secret") // bound to the name
    expect(referenceOf(secret, "c1").verifier).not.toEqual(reference.verifier) // a fresh salt each time
    expect(verifierOf(secret, "c1", Buffer.from(reference.salt!))).toEqual(reference.verifier)
    // Read back from PostgreSQL, bytea is a Uint8Array, not a Buffer.
    expect(compareWith({ salt: new Uint8Array(reference.salt!), verifier: new Uint8Array(reference.verifier!) }, secret, "c1")).toBe("same")
  })

  it("tells --insecure from a secret, both ways", () => {
    const insecure = referenceOf(undefined, "c1")
    expect(insecure).toEqual({ salt: null, verifier: null })
    expect(compareWith(insecure, undefined, "c1")).toBe("same")
    expect(compareWith(insecure, secret, "c1")).toBe("they are insecure")
    expect(compareWith(referenceOf(secret, "c1"), undefined, "c1")).toBe("they have a secret")
  })
})

/**
 * The cost of signing one cluster message (src/cluster/Signed.ts), side by side in one process:
 * `signatureHeaders` as distmt signs (the secret's key object made once), against the same HMAC
 * with the secret given as bytes at every call, as it was signed before; the same fields, the payload
 * encoded the same way.
 *
 *   npx tsx bench/sign.ts [ROUNDS=5]
 */
import { Schema } from "effect"
import type * as Rpc from "effect/rpc/Rpc"
import { createHmac, randomBytes } from "node:crypto"
import { PingRpc } from "../src/cluster/Ping.ts"
import { canonicalJson, signatureHeaders } from "../src/cluster/Signed.ts"
import { median } from "./ab.ts"

const rounds = Number(process.argv[2] ?? 5)
const secret = randomBytes(32)
const rpc = PingRpc as unknown as Rpc.AnyWithProps
const payload = { text: "x".repeat(300) }
const from = "127.0.0.1:47300@host pid 1"
const N = 50_000
const timed = (f: () => unknown): number => {
  const t = performance.now()
  for (let i = 0; i < N; i++) f()
  return ((performance.now() - t) * 1000) / N
}
const sides = {
  "distmt (key object once)": () => signatureHeaders(secret, { rpc, requestId: "1", payload, from }),
  "secret as bytes each call": () => {
    const nonce = randomBytes(12).toString("base64url")
    const encoded = canonicalJson(Schema.encodeSync(Schema.toCodecJson(rpc.payloadSchema as Schema.Codec<unknown, unknown>))(payload))
    const text = ["distmt-v1", "Ping", "1", String(Date.now()), nonce, from, encoded].join("\n")
    return createHmac("sha256", secret).update(text).digest("base64url")
  }
}
const times: Record<string, Array<number>> = { "distmt (key object once)": [], "secret as bytes each call": [] }
for (let r = 0; r < rounds; r++) for (const [name, f] of Object.entries(sides)) times[name].push(timed(f))
for (const [name, t] of Object.entries(times)) console.log(`${name.padEnd(28)} ${median(t).toFixed(2)} µs per signature`)
console.log(`ratio ${(median(times["secret as bytes each call"]) / median(times["distmt (key object once)"])).toFixed(2)}×`)

/**
 * PROTOCOL_VERSION (src/coordinator/protocol.ts) must be raised with any change to the messages of
 * the cluster's entities, or runners and submitters of two distmts fail to decode each other's
 * messages without a word (docs/cluster.md, "Versions"). Nothing in the code can see that a change
 * was made; this test can: it records, per version, a fingerprint of every entity's messages as
 * they go over the wire (each request's payload, reply and error, as JSON Schema of their encoded
 * form), and fails when the messages change and the version does not. (An upgrade of effect that
 * writes the same messages' JSON Schema otherwise changes the fingerprint too: then compare the wire
 * forms, and record the new fingerprint for the same version if they are the same.)
 */
import { Schema } from "effect"
import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"
import { Agent } from "../src/cluster/AgentEntity.ts"
import { DeepUnit } from "../src/cluster/DeepUnitEntity.ts"
import { Ping } from "../src/cluster/Ping.ts"
import { Server } from "../src/cluster/ServerEntity.ts"
import { PROTOCOL_VERSION } from "../src/coordinator/protocol.ts"

/** The fingerprint of each version's messages, as this test computes it. */
const FINGERPRINTS: Record<number, string> = {
  1: "d5f7e10a3456c5c4691b62a412b07d59"
}

interface WireRpc {
  readonly _tag: string
  readonly payloadSchema: Schema.Top
  readonly successSchema: Schema.Top
  readonly errorSchema: Schema.Top
}

/** Every entity's requests, by entity type and request tag, each as JSON Schema of its wire form. */
const messages = (): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const entity of [Agent, DeepUnit, Ping, Server]) {
    for (const rpc of entity.protocol.requests.values() as Iterable<WireRpc>) {
      out[`${entity.type}.${rpc._tag}`] = {
        payload: Schema.toJsonSchemaDocument(rpc.payloadSchema),
        success: Schema.toJsonSchemaDocument(rpc.successSchema),
        error: Schema.toJsonSchemaDocument(rpc.errorSchema)
      }
    }
  }
  return out
}

const fingerprint = (m: Record<string, unknown>): string => createHash("sha256").update(JSON.stringify(m)).digest("hex").slice(0, 32)

describe("the protocol's version", () => {
  it("is raised with any change to the entities' messages (a new version records the new fingerprint here)", () => {
    const now = fingerprint(messages())
    expect(
      FINGERPRINTS[PROTOCOL_VERSION],
      `the cluster's messages are not those of protocol version ${PROTOCOL_VERSION}: if they changed, raise PROTOCOL_VERSION ` +
        `in src/coordinator/protocol.ts and record ${now} for it in this test`
    ).toBe(now)
  })

  it("covers every entity's requests, and a changed field changes the fingerprint", () => {
    const m = messages()
    expect(Object.keys(m)).toEqual(expect.arrayContaining(["DistmtServer.Publish", "DistmtServer.Abandon", "DistmtAgent.Run", "DistmtDeepUnit.RunUnit", "Ping.Ping"]))
    // One field retyped in one request, as a change to the protocol would: another fingerprint.
    const changed = { ...m, "DistmtServer.Abandon": { ...(m["DistmtServer.Abandon"] as object), payload: Schema.toJsonSchemaDocument(Schema.Struct({ task: Schema.String })) } }
    expect(fingerprint(changed)).not.toBe(fingerprint(m))
  })

  it("each recorded version has messages of its own", () => {
    expect(new Set(Object.values(FINGERPRINTS)).size).toBe(Object.keys(FINGERPRINTS).length)
  })
})

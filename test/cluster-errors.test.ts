/**
 * How an agent's entity treats a defect of its program (src/cluster/AgentEntity.ts): the cluster
 * moving (a shard handed to another runner on SIGTERM, a runner gone) or the database failing is
 * transient, for the cluster to restart the entity and the submitting process to send `Run` again;
 * anything else fails the run for good, with a message that says what happened even when the
 * defect has none (the cluster's errors carry only a tag and fields). Seen: a runner's SIGTERM
 * mid-run failed the whole run, with "failed on its runner: " and nothing after it.
 */
import { describe, expect, it } from "vitest"
import { EntityNotAssignedToRunner, MalformedMessage, RunnerUnavailable } from "effect/cluster/ClusterError"
import * as EntityAddress from "effect/cluster/EntityAddress"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import * as ShardId from "effect/cluster/ShardId"
import { describeDefect, transient } from "../src/cluster/AgentEntity.ts"
import { Replaced } from "../src/cluster/agentState.ts"

describe("an agent's defect", () => {
  const address = EntityAddress.make({ shardId: ShardId.make("default", 7), entityType: "DistmtServer" as never, entityId: "run.4.1" as never })

  it("is transient when the cluster moves or the database fails, final otherwise", () => {
    expect(transient(new EntityNotAssignedToRunner({ address }))).toBe(true)
    expect(transient(new RunnerUnavailable({ address: RunnerAddress.make("127.0.0.1", 34431) }))).toBe(true)
    expect(transient({ _tag: "SqlError", message: "connection lost" })).toBe(true)
    expect(transient(new Replaced("attempt 1 was replaced"))).toBe(true)
    expect(transient(new MalformedMessage({ cause: "bad frame" }))).toBe(false)
    expect(transient(new Error("no model of run r in distmt_models"))).toBe(false)
  })

  it("is told in words: its message, or its tag and fields when it has none", () => {
    expect(describeDefect(new Error("no model of run r"))).toBe("no model of run r")
    const text = describeDefect(new EntityNotAssignedToRunner({ address }))
    expect(text).toMatch(/^EntityNotAssignedToRunner \{.*"entityType":"DistmtServer".*"entityId":"run\.4\.1"/)
    expect(describeDefect("plain")).toBe("plain")
  })
})

/**
 * The server's traffic accounting (docs/algorithm.md §3, "Accounting"), request by request: every
 * request and its reply are two messages, and their bytes follow the sizes of src/coordinator/
 * Coordinator.ts (ids and floats 8 bytes each: a header is 8, an interval 16, a certificate 24, a
 * policy its float64 arrays). Each kind of reply is checked on its own, so that a wrong size in any
 * one of them shows. Found by the mutation audit: the reply "being learned" (task and epoch, 16
 * bytes) could be counted as 8 without any test noticing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type InProcessCoordinator, make, type Traffic } from "../src/coordinator/Coordinator.ts"
import { type Policy, policyBytes } from "../src/learner/Lsvi.ts"
import { TRANSITION_BYTES, WIDTH } from "../src/learner/Transitions.ts"

const HEADER = 8
const INTERVAL = 16
const CERTIFICATE = 24

/** A policy of H = 1, d = 2, one action: 2 + 4 floats, 48 bytes. */
const policy: Policy = { horizon: 1, dim: 2, actions: 1, beta: 1, w: new Float64Array(2), LambdaInv: new Float64Array(4) }
const certificate = { lower: 0.4, upper: 0.5, width: 0.1 }

/** The change of the policy traffic and of the experience traffic that `effect` causes. */
const delta = <A>(c: InProcessCoordinator, effect: Effect.Effect<A>) =>
  Effect.gen(function*() {
    const before: Traffic = yield* c.traffic
    const value = yield* effect
    const after: Traffic = yield* c.traffic
    return {
      value,
      messages: after.messages - before.messages,
      bytes: after.bytes - before.bytes,
      experience: {
        messages: after.experience.messages - before.experience.messages,
        pushed: after.experience.pushed - before.experience.pushed,
        pulled: after.experience.pulled - before.experience.pulled,
        bytes: after.experience.bytes - before.experience.bytes
      }
    }
  })

describe("traffic accounting, request by request (§3)", () => {
  it.effect("identify, awaitPolicy, abandon, claim, publish, fetchAll and exchange each count two messages and their bytes", () =>
    Effect.gen(function*() {
      const c = yield* make
      const P = policyBytes(policy)
      expect(P).toBe(48)
      const noExperience = { messages: 0, pushed: 0, pulled: 0, bytes: 0 }

      // Registered: request header + interval; reply the task id.
      const registered = yield* delta(c, c.identify(0, { lower: 0, upper: 1 }))
      expect(registered).toMatchObject({ value: { _tag: "Registered", task: 0 }, messages: 2, bytes: HEADER + INTERVAL + HEADER })
      expect(registered.experience).toEqual(noExperience)

      // Learning: the reply is the task id and its epoch.
      const learning = yield* delta(c, c.identify(1, { lower: 0.5, upper: 1.5 }))
      expect(learning).toMatchObject({ value: { _tag: "Learning", task: 0, epoch: 0 }, messages: 2, bytes: HEADER + INTERVAL + 2 * HEADER })

      // The owner fails and gives the task back: request the task id, reply an acknowledgement.
      const abandoned = yield* delta(c, c.abandon(0, 0))
      expect(abandoned).toMatchObject({ messages: 2, bytes: HEADER + HEADER })
      // A waiter of epoch 0 hears "re-opened": request task and epoch, reply a header.
      const reopened = yield* delta(c, c.awaitPolicy(1, 0, 0))
      expect(reopened).toMatchObject({ value: { _tag: "Reopened" }, messages: 2, bytes: 2 * HEADER + HEADER })

      // Claimed: request the task id, reply a header.
      const claimed = yield* delta(c, c.claim(1, 0))
      expect(claimed).toMatchObject({ value: { _tag: "Claimed", task: 0 }, messages: 2, bytes: HEADER + HEADER })

      // A claim of a task being learned is answered like identify's "Learning".
      const claimLearning = yield* delta(c, c.claim(2, 0))
      expect(claimLearning).toMatchObject({ value: { _tag: "Learning", task: 0, epoch: 1 }, messages: 2, bytes: HEADER + 2 * HEADER })

      // Publish: request header, policy and certificate; reply an acknowledgement.
      const published = yield* delta(c, c.publish(1, 0, policy, certificate, true))
      expect(published).toMatchObject({ messages: 2, bytes: HEADER + P + CERTIFICATE + HEADER })

      // A waiter of epoch 1 gets the policy and its certificate.
      const released = yield* delta(c, c.awaitPolicy(2, 0, 1))
      expect(released).toMatchObject({ value: { _tag: "Published", policy }, messages: 2, bytes: 2 * HEADER + P + CERTIFICATE })

      // Solved: identify's and claim's replies carry the policy and its certificate.
      const solved = yield* delta(c, c.identify(3, { lower: 0.45, upper: 0.6 }))
      expect(solved).toMatchObject({ value: { _tag: "Solved", task: 0 }, messages: 2, bytes: HEADER + INTERVAL + P + CERTIFICATE })
      const claimSolved = yield* delta(c, c.claim(3, 0))
      expect(claimSolved).toMatchObject({ value: { _tag: "Solved", task: 0 }, messages: 2, bytes: HEADER + P + CERTIFICATE })

      // fetchAll: request a header; reply a header (the count), then per policy its task id, policy, certificate.
      yield* c.identify(4, { lower: 5, upper: 6 }) // a second task, not published: not in the reply
      const fetched = yield* delta(c, c.fetchAll(0))
      expect(fetched.value).toHaveLength(1)
      expect(fetched).toMatchObject({ messages: 2, bytes: HEADER + HEADER + (HEADER + P + CERTIFICATE) })

      // An exchange with a solved task is policy traffic: request 3 headers and the pushed floats.
      const pushed = new Float64Array(2 * WIDTH)
      const exchangeSolved = yield* delta(c, c.exchange(4, 0, pushed, 0))
      expect(exchangeSolved).toMatchObject({ value: { _tag: "Solved" }, messages: 2, bytes: 3 * HEADER + 8 * pushed.length + P + CERTIFICATE })
      expect(exchangeSolved.experience).toEqual(noExperience)

      // An exchange with a task being learned is experience traffic, never policy traffic.
      const pooled = yield* delta(c, c.exchange(4, 1, pushed, 0))
      expect(pooled).toMatchObject({ value: { _tag: "Pooled", cursor: 1 }, messages: 0, bytes: 0 })
      expect(pooled.experience).toEqual({ messages: 2, pushed: 2, pulled: 0, bytes: 3 * HEADER + 8 * pushed.length + 2 * HEADER })
      const pulling = yield* delta(c, c.exchange(5, 1, new Float64Array(0), 0))
      expect(pulling.experience).toEqual({ messages: 2, pushed: 0, pulled: 2, bytes: 3 * HEADER + 2 * HEADER + 2 * TRANSITION_BYTES })
    }))
})

/**
 * An agent on the cluster waiting for its server's answer to `identify` can be interrupted
 * (src/cluster/agentRun.ts `onCluster`). In one process that request runs uninterruptibly
 * (src/agent/programs.ts `ask`); on the cluster, after a database outage the answer may never come,
 * and an agent that cannot be interrupted held its runner's shards for ever. No database needed: the
 * server here is the in-process coordinator with an `identify` that never answers.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { local, watching } from "../src/agent/Learning.ts"
import { distmtAgentOn } from "../src/agent/programs.ts"
import { onCluster } from "../src/cluster/agentRun.ts"
import { type CoordinatorShape, make as makeCoordinator } from "../src/coordinator/Coordinator.ts"
import { makeInstance } from "../src/env/Instance.ts"
import * as Rng from "../src/rng/Rng.ts"
import { agentConfig, lsviConfig } from "../src/run/runExperiment.ts"
import { chain } from "./chain.ts"

/**
 * Starts agent 0 on `server`, whose `identify` does not answer until the test is over, and interrupts
 * the agent once it asks: "stopped", or "still waiting" a second later.
 */
const interruptWhileAsking = (adapt: (server: CoordinatorShape) => CoordinatorShape) =>
  Effect.gen(function*() {
    const c = chain("agent-interrupt")
    const inner = yield* makeCoordinator
    const asked = yield* Deferred.make<void>()
    const testOver = yield* Deferred.make<void>()
    const silent: CoordinatorShape = {
      ...inner,
      identify: () => Effect.andThen(Deferred.succeed(asked, undefined), Effect.andThen(Deferred.await(testOver), Effect.die("the test is over")))
    }
    const open = () => local(lsviConfig(c), makeInstance(c.tasks[0], c.features, Rng.make(1, 0)), watching(c.states))
    // Detached: an agent that cannot be interrupted must not hold the test's scope.
    const fiber = yield* Effect.forkDetach(distmtAgentOn(adapt(silent), 0, [open], agentConfig(c)))
    yield* Deferred.await(asked)
    const ended = yield* Fiber.interrupt(fiber).pipe(
      Effect.as("stopped" as const),
      Effect.timeoutOrElse({ duration: "1 second", orElse: () => Effect.succeed("still waiting" as const) })
    )
    yield* Deferred.succeed(testOver, undefined)
    yield* Fiber.await(fiber)
    return ended
  })

describe("an agent waiting for its server's answer", () => {
  it.live("on the cluster: stops when interrupted", () =>
    Effect.gen(function*() {
      expect(yield* interruptWhileAsking(onCluster)).toBe("stopped")
    }), 30_000)

  it.live("in one process: waits for the answer (the owner's guard is installed with it), which is why the cluster's agents need their own", () =>
    Effect.gen(function*() {
      expect(yield* interruptWhileAsking((server) => server)).toBe("still waiting")
    }), 30_000)
})

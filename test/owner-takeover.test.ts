/**
 * Owner failure, twice (docs/algorithm.md §3: "a task must never stay 'being learned' forever"): the
 * agent that took a task over by `claim` is an owner like the founder, so if it fails too, the task
 * is re-opened again and the last agent learns and publishes it. And an instance that claimed a task
 * did not register it (`registered` feeds the identification check, src/run/evaluate.ts). Under
 * experience sharing, a contributor that learned on the pool but holds another's publication says
 * "downloaded" (§3 step 4). Found by the mutation audit: the guard that re-opens a claimed task on
 * interrupt, the `registered` flag of a claimant and the source of a fetched policy could each be
 * broken with the whole suite still passing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { local, watching } from "../src/agent/Learning.ts"
import { type AgentConfig, distmtAgent, distmtAgentOn } from "../src/agent/programs.ts"
import { Coordinator, type CoordinatorShape, layer as coordinatorLayer, make as makeCoordinator } from "../src/coordinator/Coordinator.ts"
import { makeInstance } from "../src/env/Instance.ts"
import { Contexts } from "../src/index.ts"
import * as Rng from "../src/rng/Rng.ts"
import { chain } from "./chain.ts"

const c = chain("takeover", { agents: 3, contexts: Contexts.list([{ goal: 2, reward: 1.0, slip: 0.1 }]) })
/** A schedule of `k` episodes: no width target. */
const schedule = (k: number) => ({ untilWidth: -Infinity, maxEpisodes: k })
const config: AgentConfig = { identify: schedule(20), learn: schedule(2_000), solo: schedule(2_000), horizon: c.horizon, sharing: "policy", adaptive: false }
const lsvi = { horizon: c.horizon, dim: c.features.dim, actions: c.actions, beta: c.beta, lambda: 1 }
const open = (i: number) => () => local(lsvi, makeInstance(c.tasks[0], c.features, Rng.make(1, i)), watching(c.states))

describe("owner failure twice (§3)", () => {
  it.live("the founder fails, then the agent that claimed the task fails: the third agent takes it over and publishes", () =>
    Effect.gen(function*() {
      const server = yield* Coordinator
      const agent = (i: number) =>
        distmtAgent(i, [open(i)], config)
      const fibers = yield* Effect.forEach([0, 1, 2], (i) => Effect.forkChild(agent(i)))
      /** Waits until an agent not in `gone` owns the task and is learning it; interrupts it. */
      const killOwner = (gone: ReadonlyArray<number>) =>
        Effect.gen(function*() {
          for (;;) {
            yield* Effect.yieldNow
            const registry = yield* server.registry
            const owner = registry[0]?.owner
            if (registry[0]?.status === "learning" && owner !== undefined && !gone.includes(owner)) {
              yield* Fiber.interrupt(fibers[owner])
              return owner
            }
          }
        })
      const founder = yield* killOwner([])
      expect((yield* server.registry)[0].founder).toBe(founder)
      const claimant = yield* killOwner([founder])
      const last = [0, 1, 2].find((i) => i !== founder && i !== claimant)!
      // Without a second re-opening the last agent would wait forever: bound the wait.
      const result = yield* Fiber.join(fibers[last]).pipe(
        Effect.timeoutOrElse({ duration: "20 seconds", orElse: () => Effect.die(new Error("the task stayed 'being learned' after its claimant failed")) })
      )
      const registry = yield* server.registry
      expect(registry).toHaveLength(1)
      expect(registry[0]).toMatchObject({ status: "solved", publisher: last, founder })
      const outcome = result.outcomes[0]
      expect(outcome).toMatchObject({ role: "owner", entry: 0, source: "learned" })
      // It claimed the task: the founder registered it, not this instance.
      expect(outcome.registered).toBe(false)
      expect(outcome.policy).toBe(registry[0].policy)
    }).pipe(Effect.provide(Layer.fresh(coordinatorLayer))))

  it.effect("an instance whose identify finds the task open claims it: it owns it, but did not register it", () =>
    Effect.gen(function*() {
      const server = yield* makeCoordinator
      // Agent 9 registered a task whose interval holds every value, and failed before anyone matched it.
      expect((yield* server.identify(9, { lower: 0, upper: c.horizon }))._tag).toBe("Registered")
      yield* server.abandon(9, 0)
      const { outcomes } = yield* distmtAgentOn(server, 1, [open(1)], config)
      expect(outcomes[0]).toMatchObject({ role: "owner", entry: 0, registered: false })
      expect((yield* server.registry)[0]).toMatchObject({ status: "solved", founder: 9, publisher: 1 })
    }))
})

describe("where a held policy comes from (§3 step 4)", () => {
  it.effect("experience sharing: every contributor holds the first publication, 'learned' only by its publisher", () =>
    Effect.gen(function*() {
      const inner = yield* makeCoordinator
      // Each exchange lets the other fibers run, so that the three agents pool at the same time.
      const server: CoordinatorShape = { ...inner, exchange: (...args) => Effect.andThen(Effect.yieldNow, inner.exchange(...args)) }
      const pooled: AgentConfig = { ...config, sharing: "experience", learn: schedule(100) }
      const results = yield* Effect.all(
        [0, 1, 2].map((i) =>
          distmtAgentOn(server, i, [() => local(lsvi, makeInstance(c.tasks[0], c.features, Rng.make(2, i)), watching(c.states), true)], pooled)
        ),
        { concurrency: "unbounded" }
      )
      const registry = yield* inner.registry
      expect(registry).toHaveLength(1)
      const { policy, publisher } = registry[0]
      const outcomes = results.map((r) => r.outcomes[0])
      expect(outcomes.map((o) => o.role).sort()).toEqual(["contributor", "contributor", "owner"])
      outcomes.forEach((o, agent) => {
        expect(o.policy).toBe(policy)
        expect(o.source).toBe(agent === publisher ? "learned" : "downloaded")
      })
      // Not vacuous: the agents that did not publish learned on the pool, yet hold another's policy.
      expect(outcomes.filter((o) => o.source === "downloaded")).toHaveLength(2)
    }))
})

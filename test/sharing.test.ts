/**
 * Experience sharing, every agent holding every task, and capped identification, on whole runs
 * (docs/algorithm.md §3):
 * - with `sharing: "experience"`, agents that meet a task at overlapping times learn it from the
 *   pooled data: every policy ε-optimal, fewer episodes per agent than policy sharing;
 * - at the end every DistMT-LSVI and oracle agent holds a checked policy of every task that appeared;
 * - an identification budget too small to reach c_Sep/2 leaves instances unidentified (learned alone,
 *   counted, warned about), never misidentified by a wide interval;
 * - an owner's failure under experience sharing: the task goes on with its other contributors.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { local, watching } from "../src/agent/Learning.ts"
import { type AgentConfig, distmtAgent } from "../src/agent/programs.ts"
import { Coordinator, type CoordinatorShape, make as makeCoordinator } from "../src/coordinator/Coordinator.ts"
import { makeInstance } from "../src/env/Instance.ts"
import { Assignment, Contexts, Env, Experiment, Lsvi, Stopping } from "../src/index.ts"
import { capWarnings, summarize } from "../src/report/summary.ts"
import * as Rng from "../src/rng/Rng.ts"
import { agentConfig, runAlgorithm } from "../src/run/runExperiment.ts"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"

const compiled = (input: unknown) => Effect.runSync(Effect.flatMap(decode(input, "test"), (e) => compile(e, "test")))

const chain = (over: Record<string, unknown> = {}) =>
  compiled({
    ...Experiment.make({
      name: "sharing",
      environment: Env.linearChain({ length: 3, horizon: 3 }),
      contexts: Contexts.list([
        { goal: 2, reward: 0.2, slip: 0.1 },
        { goal: 1, reward: 1.0, slip: 0.1 },
        { goal: 2, reward: 0.9, slip: 0.2 }
      ]),
      agents: 6,
      assignment: Assignment.stream(),
      epsilon: 0.3,
      cSep: 0.25,
      delta: 0.05,
      learner: Lsvi.ucb({ beta: 1.5 }),
      stopping: Stopping.adaptive({ maxEpisodes: 20_000 })
    }),
    ...over
  })

describe("experience sharing (§3 step 3)", () => {
  it.effect("agents that meet a task at overlapping times learn it from the pool: all ε-optimal, fewer episodes than policy sharing", () =>
    Effect.gen(function*() {
      // ε below c_Sep/2, so that learning goes on after identification.
      const experience = yield* runAlgorithm(chain({ sharing: "experience", epsilon: 0.06 }), "distmt", 1)
      const policy = yield* runAlgorithm(chain({ sharing: "policy", epsilon: 0.06 }), "distmt", 1)
      const se = summarize([experience], true).distmt!
      const sp = summarize([policy], true).distmt!
      expect(se.successRate).toBe(1)
      expect(se.identificationAccuracy).toBe(1)
      expect(experience.rows.some((r) => r.role === "contributor")).toBe(true)
      expect(se.transitionsPulled).toBeGreaterThan(0)
      expect(sp.transitionsPulled).toBe(0)
      // Identification is the same phase in both; the learning is what pooling shortens.
      expect(se.meanLearningEpisodesPerAgent).toBeLessThan(sp.meanLearningEpisodesPerAgent)
      expect(se.meanEpisodesPerAgent).toBeLessThan(sp.meanEpisodesPerAgent)
    }))

  it.live("an owner that fails mid-learning: the task goes on with its other contributors and is published", () =>
    Effect.gen(function*() {
      const c = chain({ sharing: "experience", epsilon: 0.1, contexts: Contexts.list([{ goal: 2, reward: 1.0, slip: 0.1 }]), agents: 3 })
      const config: AgentConfig = { ...agentConfig(c), identify: { untilWidth: -Infinity, maxEpisodes: 20 }, adaptive: false }
      const lsvi = { horizon: c.horizon, dim: c.features.dim, actions: c.actions, beta: c.beta, lambda: 1 }
      const inner = yield* makeCoordinator
      // The server as the agents see it, except that the task's owner dies at its 30th exchange.
      let exchanges = 0
      const server: CoordinatorShape = {
        ...inner,
        exchange: (agent, task, pushed, cursor) =>
          Effect.flatMap(inner.registry, (registry) =>
            registry[task].owner === agent && ++exchanges === 30
              ? Effect.interrupt
              : inner.exchange(agent, task, pushed, cursor))
      }
      const agent = (i: number) =>
        distmtAgent(i, [() => local(lsvi, makeInstance(c.tasks[0], c.features, Rng.make(1, i)), watching(c.states), true)], config).pipe(
          Effect.provideService(Coordinator, server),
          Effect.exit
        )
      const exits = yield* Effect.forEach([0, 1, 2], agent, { concurrency: "unbounded" }).pipe(
        Effect.timeoutOrElse({ duration: "60 seconds", orElse: () => Effect.die(new Error("the task stalled after its owner failed")) })
      )
      const registry = yield* inner.registry
      const founder = registry[0].founder
      expect(Exit.hasInterrupts(exits[founder])).toBe(true)
      expect(registry).toHaveLength(1)
      expect(registry[0].status).toBe("solved")
      expect(registry[0].publisher).not.toBe(founder)
      for (const [i, e] of exits.entries()) {
        if (i === founder) continue
        if (!Exit.isSuccess(e)) throw new Error(`agent ${i} failed`)
        // A survivor that identified after the take-over claimed the re-opened task: an owner, also pooling.
        expect(["owner", "contributor"]).toContain(e.value.outcomes[0].role)
        expect(e.value.outcomes[0].policy).toBe(registry[0].policy)
      }
    }))
})

describe("every agent holds every task (§3 step 4)", () => {
  for (const sharing of ["policy", "experience"] as const) {
    it.effect(`${sharing} sharing, partition with N > M: one checked policy per (agent, task), fetched where not faced`, () =>
      Effect.gen(function*() {
        const c = chain({ sharing, assignment: Assignment.partition(), agents: 4 })
        for (const algorithm of ["distmt", "oracle"] as const) {
          const run = yield* runAlgorithm(c, algorithm, 2)
          for (let agent = 0; agent < 4; agent++) {
            const mine = run.rows.filter((r) => r.agent === agent)
            expect(mine.map((r) => r.task).sort()).toEqual([0, 1, 2])
            expect(mine.filter((r) => r.source === "fetched")).toHaveLength(2)
          }
          expect(run.rows.every((r) => r.success && r.source !== "missing")).toBe(true)
          // A fetched row holds the very policy its task's instances ended with.
          for (const f of run.rows.filter((r) => r.source === "fetched")) {
            const faced = run.rows.find((r) => r.slot !== undefined && r.task === f.task)!
            expect(Array.from(f.actions)).toEqual(Array.from(faced.actions))
          }
        }
      }))
  }

  it.effect("downloaded rows carry the publisher's own reachedTarget", () =>
    Effect.gen(function*() {
      // A cap so low that owners stop before ε: their downloaders must say so too.
      const c = chain({ stopping: Stopping.schedule({ k1: 300, k2: 5 }), assignment: Assignment.partition(), agents: 6 })
      const run = yield* runAlgorithm(c, "distmt", 0)
      const downloaded = run.rows.filter((r) => r.source === "downloaded")
      expect(downloaded.length).toBeGreaterThan(0)
      expect(downloaded.every((r) => r.reachedTarget === false)).toBe(true)
    }))
})

describe("capped identification (§3)", () => {
  it.effect("an identification budget below what c_Sep/2 needs: instances are unidentified, learned alone, never misidentified", () =>
    Effect.gen(function*() {
      // cSep/2 is out of reach in 30 episodes; learning then goes on to ε within the same cap.
      const c = chain({ stopping: Stopping.adaptive({ maxEpisodes: 30 }), epsilon: 3, assignment: Assignment.partition(), agents: 4 })
      const run = yield* runAlgorithm(c, "distmt", 0)
      const instances = run.rows.filter((r) => r.slot !== undefined)
      expect(instances.every((r) => r.role === "unidentified")).toBe(true)
      expect(instances.every((r) => r.identificationCorrect === undefined && r.entry === undefined)).toBe(true)
      expect(run.registered).toBe(0)
      const s = summarize([run], true).distmt!
      expect(s.unidentifiedRate).toBe(1)
      expect(s.identificationAccuracy).toBeNull()
      const warnings = capWarnings([run], c.spec.stopping, c.spec.cSep)
      expect(warnings[0]).toMatch(/4 of 4 instances reached the identification cap \(stopping.maxEpisodes = 30\)/)
      expect(warnings[0]).toMatch(/raise stopping.maxEpisodes/)
      // Nothing was published, so the tasks an agent did not face are missing: counted as failures.
      expect(run.rows.filter((r) => r.source === "missing").length).toBeGreaterThan(0)
      expect(s.successRate).toBeLessThan(1)
    }))

  it.effect("under the schedule rule the interval is used as it is (as in the paper)", () =>
    Effect.gen(function*() {
      const c = chain({ stopping: Stopping.schedule({ k1: 30, k2: 30 }), assignment: Assignment.partition(), agents: 4 })
      const run = yield* runAlgorithm(c, "distmt", 0)
      expect(run.rows.some((r) => r.role === "unidentified")).toBe(false)
      expect(run.registered).toBeGreaterThan(0)
      expect(capWarnings([run], c.spec.stopping, c.spec.cSep)).toEqual([])
    }))
})

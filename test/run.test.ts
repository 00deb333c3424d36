/**
 * The run: assignment of instances (docs/algorithm.md §4), reproducibility, hidden identity, and the
 * agents' programs when an owner fails (§3: a task must not stay "being learned" forever).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { local, watching } from "../src/agent/Learning.ts"
import { distmtAgent, type AgentConfig } from "../src/agent/programs.ts"
import { Coordinator, layer as coordinatorLayer, make as makeCoordinator } from "../src/coordinator/Coordinator.ts"
import { makeInstance } from "../src/env/Instance.ts"
import * as Rng from "../src/rng/Rng.ts"
import { assign } from "../src/run/assignment.ts"
import { runAlgorithm } from "../src/run/runExperiment.ts"
import { sequenced } from "../src/run/sequenced.ts"
import { VirtualTime } from "../src/run/VirtualTime.ts"
import { compileDeep } from "../src/deep/distmt/compile.ts"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { Assignment, Contexts, Env, Experiment, Lsvi, Stopping, validate } from "../src/index.ts"

const root = path.resolve(import.meta.dirname, "..")

const smallChain = (agents: number) =>
  Experiment.make({
    name: "small",
    environment: Env.linearChain({ length: 3, horizon: 3 }),
    contexts: Contexts.list([
      { goal: 2, reward: 0.2, slip: 0.1 },
      { goal: 1, reward: 1.0, slip: 0.1 }
    ]),
    agents,
    epsilon: 0.3,
    cSep: 0.5,
    delta: 0.05,
    learner: Lsvi.ucb({ beta: 1.5 }),
    stopping: Stopping.adaptive({ maxEpisodes: 20_000 }),
    baselines: ["independent", "oracle"]
  })

const compiled = (input: unknown) =>
  Effect.runSync(Effect.flatMap(decode(input, "test"), (e) => compile(e, "test")))

describe("assignment (docs/algorithm.md §4)", () => {
  it("partition deals tasks round-robin, and agent i gets task i mod M when N > M", () => {
    expect(assign(Assignment.partition(), 5, 2, 0)).toEqual([[0], [1], [0], [1], [0]])
    expect(assign(Assignment.partition(), 2, 5, 0)).toEqual([[0, 2, 4], [1, 3]])
    expect(assign(Assignment.partition(), 3, 3, 0)).toEqual([[0], [1], [2]])
  })

  it("stream gives every agent all M tasks in its own seeded order", () => {
    const a = assign(Assignment.stream(), 4, 6, 7)
    for (const tasks of a) expect([...tasks].sort()).toEqual([0, 1, 2, 3, 4, 5])
    expect(assign(Assignment.stream(), 4, 6, 7)).toEqual(a)
    expect(new Set(a.map((t) => t.join()))).not.toHaveProperty("size", 1)
  })

  it("random(k) gives every agent k tasks drawn from 0..M-1", () => {
    const a = assign(Assignment.random(5), 3, 4, 1)
    for (const tasks of a) {
      expect(tasks).toHaveLength(5)
      for (const t of tasks) expect(t >= 0 && t < 4).toBe(true)
    }
  })
})

describe("runs", () => {
  const c = compiled(smallChain(4))

  it.effect("are reproducible from the seed, and differ across seeds", () =>
    Effect.gen(function*() {
      const rows = (seed: number) =>
        Effect.map(runAlgorithm(c, "distmt", seed), (run) =>
          run.rows.map((r) => [r.agent, r.task, r.identificationEpisodes, r.learningEpisodes, r.gap]))
      const first = yield* rows(3)
      expect(yield* rows(3)).toEqual(first)
      expect(yield* rows(4)).not.toEqual(first)
    }))

  it.effect("evaluate every agent's final policy exactly and count the server's traffic", () =>
    Effect.gen(function*() {
    const run = yield* runAlgorithm(c, "distmt", 0)
    // Four instances, and each agent holds the one task it did not face, fetched at the end (§3 step 4).
    expect(run.rows.filter((r) => r.slot !== undefined)).toHaveLength(4)
    expect(run.rows.filter((r) => r.source === "fetched")).toHaveLength(4)
    for (const r of run.rows) {
      expect(r.gap).toBeCloseTo(r.vStar - r.vPi, 12)
      expect(r.success).toBe(r.gap <= 0.3)
    }
    expect(run.traffic.messages).toBeGreaterThan(0)
    expect(run.registered).toBe(2)
    // Under partition with N = 4, M = 2, two agents meet each task: one owns it, one downloads it.
    expect(run.rows.filter((r) => r.role === "owner")).toHaveLength(2)
    expect(run.rows.filter((r) => r.role === "downloaded")).toHaveLength(2)
    }))

  it.effect("independent learns all M tasks per agent without a server; oracle needs no identification", () =>
    Effect.gen(function*() {
    const ind = yield* runAlgorithm(c, "independent", 0)
    expect(ind.rows).toHaveLength(4 * 2)
    expect(ind.traffic.messages).toBe(0)
    expect(ind.rows.every((r) => r.identificationCorrect === undefined && r.identificationEpisodes === 0)).toBe(true)
    const oracle = yield* runAlgorithm(c, "oracle", 0)
    const instances = oracle.rows.filter((r) => r.slot !== undefined)
    expect(instances.every((r) => r.identificationEpisodes === 0 && r.identificationCorrect === true)).toBe(true)
    }))
})

describe("hidden identity", () => {
  it("an instance offers only reset, step, φ and sizes: nothing names its context", () => {
    const c = compiled(smallChain(1))
    const instance = makeInstance(c.tasks[1], c.features, Rng.make(0))
    expect(Object.keys(instance).sort()).toEqual(["actions", "dim", "features", "horizon", "reset", "step"])
    expect(JSON.stringify(instance)).not.toMatch(/goal|reward|slip|context/)
  })
})

describe("owner failure (docs/algorithm.md §3)", () => {
  // With the coordinator as is, and as agents see it in a run: in virtual-time order, where a
  // waiter is blocked until the task's publication or re-opening releases it (src/run/VirtualTime.ts).
  const servers = {
    "the coordinator": () => ({ layer: Layer.fresh(coordinatorLayer), advance: (_agent: number, _n: number) => {}, retire: (_agent: number) => {} }),
    "the coordinator in virtual time": () => {
      const time = new VirtualTime(3)
      return {
        layer: Layer.effect(Coordinator, Effect.map(makeCoordinator, (inner) => sequenced(inner, time))),
        advance: time.advance,
        retire: time.retire
      }
    }
  }
  for (const [name, makeServer] of Object.entries(servers)) {
  const { layer, advance, retire } = makeServer()
  it.live(`${name}: when the owner's fiber is interrupted mid-learning, a waiting agent takes the task over and publishes`, () =>
    Effect.gen(function*() {
      const c = compiled({ ...smallChain(3), contexts: Contexts.list([{ goal: 2, reward: 1.0, slip: 0.1 }]) })
      const config: AgentConfig = {
        identify: { untilWidth: -Infinity, maxEpisodes: 20 },
        learn: { untilWidth: -Infinity, maxEpisodes: 2_000 },
        solo: { untilWidth: -Infinity, maxEpisodes: 2_000 },
        horizon: c.horizon,
        sharing: "policy",
        adaptive: false
      }
      const lsvi = { horizon: c.horizon, dim: c.features.dim, actions: c.actions, beta: c.beta, lambda: 1 }
      const server = yield* Coordinator
      const agent = (i: number) =>
        distmtAgent(i, [() => local(lsvi, makeInstance(c.tasks[0], c.features, Rng.make(1, i)), watching(c.states, (n) => advance(i, n)))], config).pipe(
          Effect.ensuring(Effect.sync(() => retire(i)))
        )
      const fibers = yield* Effect.forEach([0, 1, 2], (i) => Effect.forkChild(agent(i)))
      // Wait until someone owns the task and the others are waiting, then kill the owner.
      let owner: number | undefined
      while (owner === undefined) {
        yield* Effect.yieldNow
        const registry = yield* server.registry
        if (registry.length === 1 && registry[0].status === "learning") owner = registry[0].owner
      }
      yield* Fiber.interrupt(fibers[owner!])
      const survivors = [0, 1, 2].filter((i) => i !== owner)
      // Without the take-over the survivors would wait forever: bound the wait so the test fails fast.
      const outcomes = yield* Effect.forEach(survivors, (i) => Fiber.join(fibers[i])).pipe(
        Effect.timeoutOrElse({ duration: "20 seconds", orElse: () => Effect.die(new Error("a waiter blocked forever after the owner failed")) })
      )
      const registry = yield* server.registry
      expect(registry).toHaveLength(1)
      expect(registry[0].status).toBe("solved")
      expect(registry[0].publisher).not.toBe(owner)
      expect(survivors).toContain(registry[0].publisher)
      const roles = outcomes.map((o) => o.outcomes[0].role).sort()
      expect(roles).toEqual(["downloaded", "owner"])
      // Both survivors end with the server's published policy.
      for (const o of outcomes) expect(o.outcomes[0].policy).toBe(registry[0].policy)
    }).pipe(Effect.provide(layer)))
  }
})

describe("shipped specs and examples", () => {
  const files = ["specs", "examples"].flatMap((d) =>
    fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith(".spec.ts")).map((f) => path.join(d, f))
  )

  it("exist", () => expect(files.length).toBeGreaterThanOrEqual(3))

  for (const file of files) {
    it(`${file} decodes and compiles`, async () => {
      const mod = await import(pathToFileURL(path.join(root, file)).href)
      const spec = await Effect.runPromise(decode(mod.default, file))
      // A games spec compiles for the deep stage (src/deep/distmt/compile.ts), the others for the linear one.
      const tasks = spec.environment._tag === "MinAtar" ? compileDeep(spec).tasks : (await Effect.runPromise(compile(spec, file))).tasks
      expect(tasks.length).toBeGreaterThan(0)
    })
  }

  // `distmt run <spec> --quick` runs the variant as written (no sweep): it must compile too, not
  // only the points of its sweep (E1's and E2's did not: ten tasks spaced by 0.4).
  for (const file of files) {
    it(`${file}: its quick variant as written validates (what run --quick runs)`, async () => {
      const v = await validate(path.join(root, file))
      expect(v.name.length).toBeGreaterThan(0)
    })
  }
})

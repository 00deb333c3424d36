/**
 * The deep stage inside the DistMT protocol (docs/algorithm.md, "The deep stage"; docs/deep.md,
 * "DistMT with deep learners"): the pieces (experience packing, the identification box, the
 * server's box rule) and small whole runs with the ONNX engine.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { make as makeCoordinator } from "../src/coordinator/Coordinator.ts"
import { compileDeep } from "../src/deep/distmt/compile.ts"
import { ExperienceLog, forEachTransition, transitionWidth } from "../src/deep/distmt/experience.ts"
import { deepTable, summarize } from "../src/deep/distmt/files.ts"
import { deepSizes } from "../src/deep/distmt/policy.ts"
import { type DeepRun, runDeepAlgorithm, unitFinisher } from "../src/deep/distmt/run.ts"
import { EpisodeStatistic, normalQuantile, statisticSeparation } from "../src/deep/distmt/statistic.ts"
import { makeGame } from "../src/env/minatar/index.ts"
import * as Rng from "../src/rng/Rng.ts"
import { decode } from "../src/spec/schema.ts"
import { Contexts, Dqn, Env, Experiment, Stopping } from "../src/spec/Spec.ts"

const spec = (over: Record<string, unknown> = {}) =>
  Effect.runSync(decode({
    ...Experiment.make({
      name: "deep-test",
      environment: Env.minatar({ game: ["breakout", "space_invaders"], maxFrames: 500 }),
      contexts: Contexts.list([{ game: 0 }, { game: 0, brickRows: 1 }, { game: 1 }, { game: 1, alienRows: 1 }]),
      agents: 8,
      epsilon: 1,
      cSep: 0.1,
      delta: 0.05,
      sharing: "experience",
      stopping: Stopping.adaptive({ maxEpisodes: 300 }),
      learner: Dqn.learner({
        framesPerAgent: 2_000,
        returnTarget: 1,
        evaluationEpisodes: 3,
        evaluationFrames: 200,
        dqn: { hidden: 16, trainEvery: 4, replayStart: 500, epsilonFrames: 1_000, replayCapacity: 4_000 }
      })
    }),
    ...over
  }, "test"))

describe("experience packing", () => {
  it("a transition comes back bit for bit, whatever the channels", () =>
    fc.assert(fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 5 }), fc.double({ min: -5, max: 5, noNaN: true }), fc.boolean(), fc.integer(), (channels, action, reward, done, seed) => {
      const rng = Rng.make(seed)
      const obs = Float32Array.from({ length: channels * 100 }, () => (rng.next() < 0.3 ? 1 : 0))
      const nextObs = Float32Array.from({ length: channels * 100 }, () => (rng.next() < 0.3 ? 1 : 0))
      const log = new ExperienceLog(channels)
      log.push({ obs, action, reward, done, nextObs })
      log.push({ obs: nextObs, action: 5 - action, reward: -reward, done: !done, nextObs: obs })
      const packed = log.toArray()
      expect(packed.length).toBe(2 * transitionWidth(channels))
      expect(deepSizes(channels).transitions(packed)).toBe(2)
      const back: Array<[number, number, boolean, Array<number>, Array<number>]> = []
      forEachTransition(packed, channels, (t) => back.push([t.action, t.reward, t.done, [...t.obs], [...t.nextObs]]))
      expect(back).toEqual([[action, reward, done, [...obs], [...nextObs]], [5 - action, -reward, !done, [...nextObs], [...obs]]])
    })))
})

describe("the identification box (src/deep/distmt/statistic.ts)", () => {
  it("Φ⁻¹ matches known quantiles", () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5)
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9)
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5)
  })

  it("is infinitely wide before enough episodes, then narrows and holds the long-run means", () => {
    const game = makeGame("breakout", {})
    const rng = Rng.make(3)
    const stat = new EpisodeStatistic(4, 0.05)
    const obs = new Float32Array(400)
    const play = (episodes: number) => {
      for (let e = 0; e < episodes; e++) {
        game.reset(rng)
        for (;;) {
          const { done } = game.step(rng.int(6), rng)
          game.observe(obs)
          stat.frame(obs)
          if (done) break
        }
        stat.endEpisode()
      }
    }
    play(10)
    expect(stat.certificate().width).toBe(Infinity)
    play(100)
    const early = stat.certificate().width
    play(900)
    const late = stat.certificate()
    expect(late.width).toBeLessThan(early)
    // The paddle is one cell of a hundred in every frame: its interval holds 0.01 exactly.
    expect(late.lower).toBeLessThanOrEqual(0.01)
    expect(late.upper).toBeGreaterThanOrEqual(0.01)
  })

  it("the family's separation is the smallest largest-coordinate gap: brick rows 1 and 3 differ by 0.2 in the brick channel", () => {
    const c = compileDeep(spec({ contexts: Contexts.list([{ game: 0 }, { game: 0, brickRows: 1 }]) }))
    const sep = statisticSeparation(c.tasks, c.channels, 50)
    expect(sep.pair).toEqual([0, 1])
    expect(sep.value).toBeGreaterThan(0.15)
    expect(sep.value).toBeLessThan(0.21)
  })
})

describe("the server's box rule (docs/algorithm.md, The deep stage)", () => {
  it.effect("boxes match only when every coordinate overlaps, and narrow coordinate by coordinate", () =>
    Effect.gen(function*() {
      const server = yield* makeCoordinator
      const a = yield* server.identify(0, { lower: 0, upper: 1, more: { lower: [0, 5], upper: [1, 6] } })
      // Overlaps in the first two coordinates, not the third: a new task.
      const b = yield* server.identify(1, { lower: 0.5, upper: 1.5, more: { lower: [0.5, 7], upper: [1.5, 8] } })
      // Overlaps the first box everywhere: matched, and the first box narrows.
      const c = yield* server.identify(2, { lower: 0.5, upper: 2, more: { lower: [0.2, 5.5], upper: [0.8, 9] } })
      expect([a._tag, b._tag, c._tag]).toEqual(["Registered", "Registered", "Learning"])
      expect(c.task).toBe(a.task)
      const registry = yield* server.registry
      expect(registry[a.task].interval).toEqual({ lower: 0.5, upper: 1, more: { lower: [0.2, 5.5], upper: [0.8, 6] } })
    }))
})

describe("a deep run's units as they finish", () => {
  it("onRun runs one unit at a time, with the units so far in their order, however many finish together", async () => {
    // Units finishing at once on several workers: each onRun takes a while (it writes files); a
    // second one must wait, and no write may hold fewer units than the one before it.
    const all = [0, 1].flatMap((seed) => (["distmt", "independent", "oracle"] as const).map((algorithm) => ({ algorithm, seed })))
    const unit = (i: number) => ({ ...all[i] }) as unknown as DeepRun
    const seen: Array<Array<string>> = []
    let active = 0, overlapped = false
    const onRun = (runs: ReadonlyArray<DeepRun>) =>
      Effect.gen(function*() {
        if (active > 0) overlapped = true
        active += 1
        seen.push(runs.map((r) => `${r.algorithm}/${r.seed}`))
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
        active -= 1
      })
    const { runs, finished } = await Effect.runPromise(unitFinisher(all, [unit(4)], onRun))
    await Effect.runPromise(Effect.all([5, 0, 3, 1, 2].map((i) => finished(unit(i))), { concurrency: "unbounded" }))
    expect(overlapped).toBe(false)
    expect(seen.map((s) => s.length)).toEqual([2, 3, 4, 5, 6])
    const name = (i: number) => `${all[i].algorithm}/${all[i].seed}`
    for (const s of seen) expect(s).toEqual(all.map((_, i) => name(i)).filter((n) => s.includes(n)))
    expect(runs.map((r) => `${r.algorithm}/${r.seed}`)).toEqual(all.map((_, i) => name(i)))
  })
})

describe("DistMT with DQN learners, whole runs", () => {
  const c = compileDeep(spec())
  const distmt = Effect.runPromise(runDeepAlgorithm(c, "distmt", 0))

  it("identifies every instance correctly, pools experience, and every agent holds a policy of every task", async () => {
    const run = await distmt
    const own = run.rows.filter((r) => r.slot !== undefined)
    expect(own).toHaveLength(8)
    // Partition: agents i and i + 4 share a task, so each task is registered once and matched once.
    expect(run.registered).toBe(4)
    expect(own.filter((r) => r.role === "unidentified")).toHaveLength(0)
    expect(own.every((r) => r.identificationCorrect === true)).toBe(true)
    expect(own.every((r) => r.identificationEpisodes >= 30)).toBe(true)
    expect(run.traffic.experience.pushed).toBeGreaterThan(0)
    expect(run.traffic.experience.pulled).toBeGreaterThan(0)
    // Policies are the network's weights, 4 bytes a parameter, counted in the traffic.
    expect(run.traffic.bytes).toBeGreaterThan(8 * 4 * 1_000)
    expect(run.rows).toHaveLength(8 * 4)
    expect(run.rows.every((r) => r.source !== "missing" && r.evaluated !== undefined)).toBe(true)
    expect(run.frames.every((f) => f > 1_900 && f <= 2_000)).toBe(true)
  })

  it("rows with no policy (missing) are failures, are left out of the mean return, and the table says how many", async () => {
    const run = await distmt
    // Two of its rows as a run where no policy of those tasks was ever published would leave them.
    const rows = run.rows.map((r, i) => (i < 2 ? { ...r, source: "missing" as const, evaluated: undefined, success: false } : r))
    const missing: DeepRun = { ...run, rows }
    const s = summarize([missing], "distmt")
    expect(s.missing).toBe(2)
    const held = rows.slice(2).map((r) => r.evaluated!.mean)
    expect(s.meanReturn).toBeCloseTo(held.reduce((a, b) => a + b, 0) / held.length, 12)
    const table = deepTable({ compiled: c, runs: [missing], random: c.tasks.map(() => ({ mean: 0 })) as never, separation: { value: 1, pair: undefined } })
    expect(table).toContain(`distmt: 2 of ${rows.length} (agent, task) rows hold no policy (missing): failures in success, not in the return`)
    expect(deepTable({ compiled: c, runs: [run], random: c.tasks.map(() => ({ mean: 0 })) as never, separation: { value: 1, pair: undefined } })).not.toContain("missing")
    // Under SimNet the occupancy statistic's separation is not what identifies: the footer says which does.
    const simnet = { ...c, settings: { ...c.settings, identification: "simnet" as const } }
    const footer = deepTable({ compiled: simnet, runs: [run], random: c.tasks.map(() => ({ mean: 0 })) as never, separation: { value: 1, pair: undefined } })
    expect(footer).toMatch(/identification: SimNet/)
    expect(footer).not.toMatch(/measured separation/)
  })

  it("is a function of its seed: the same run twice gives the same rows", async () => {
    const again = await Effect.runPromise(runDeepAlgorithm(c, "distmt", 0))
    const key = (rows: ReadonlyArray<{ readonly agent: number; readonly task: number; readonly evaluated: unknown; readonly entry: unknown; readonly learningEpisodes: number }>) =>
      rows.map((r) => [r.agent, r.task, r.entry, r.learningEpisodes, r.evaluated])
    expect(key(again.rows)).toEqual(key((await distmt).rows))
  })

  it("a c_Sep far below the separation leaves instances unidentified at their cap, never misidentified", async () => {
    const tight = compileDeep(spec({ cSep: 0.0001, stopping: Stopping.adaptive({ maxEpisodes: 40 }) }))
    const run = await Effect.runPromise(runDeepAlgorithm(tight, "distmt", 0))
    const own = run.rows.filter((r) => r.slot !== undefined)
    expect(own.every((r) => r.role === "unidentified" && r.identificationEpisodes <= 40)).toBe(true)
    expect(run.registered).toBe(0)
    // Every one of the 8 instances: a rate of 1, as the linear stage counts it (not 8, the count per seed it was).
    expect(summarize([run], "distmt").unidentifiedRate).toBe(1)
  })

  it("with SimNet the server identifies from the instances' features: one entry per task, every instance right, the features counted", async () => {
    const simnet = compileDeep(spec({ learner: Dqn.learner({ ...c.settings, framesPerAgent: 900, identification: "simnet", identificationFrames: 800 }) }))
    const run = await Effect.runPromise(runDeepAlgorithm(simnet, "distmt", 0))
    const own = run.rows.filter((r) => r.slot !== undefined)
    expect(run.registered).toBe(4)
    expect(own.every((r) => r.identificationCorrect === true)).toBe(true)
    // Each request carries 800 transitions × 103 float32 features.
    expect(run.traffic.bytes).toBeGreaterThan(8 * 800 * 103 * 4)
  })

  it("a lifelong agent keeps one network: it holds its last network for every task, and what it had at each switch is evaluated apart", async () => {
    const lifelong = compileDeep(spec({ agents: 2, learner: Dqn.learner({ ...c.settings, lifelong: true, dqn: { ...c.settings.dqn, ewcLambda: 100, fisherSamples: 64 } }) }))
    const run = await Effect.runPromise(runDeepAlgorithm(lifelong, "independent", 0))
    expect(run.rows).toHaveLength(2 * 4)
    for (const r of run.rows) {
      expect(r.evaluatedWhenLearned).toBeDefined()
      // The last task's network is the one held at the end: the same weights, the same episodes.
      if (r.slot === 3) expect(r.evaluatedWhenLearned).toEqual(r.evaluated)
    }
    // Earlier tasks are held by a network trained on later ones since: not the one they were learned with.
    expect(run.rows.some((r) => r.slot! < 3 && r.evaluatedWhenLearned!.mean !== r.evaluated!.mean)).toBe(true)
  })

  it("independent faces every task with the same frames per agent, split among them", async () => {
    const run = await Effect.runPromise(runDeepAlgorithm(c, "independent", 0))
    expect(run.rows).toHaveLength(8 * 4)
    expect(run.rows.every((r) => r.role === "solo")).toBe(true)
    expect(run.traffic.messages + run.traffic.experience.messages).toBe(0)
    expect(run.frames.every((f) => f > 1_900 && f <= 2_000)).toBe(true)
  })
}, 240_000)

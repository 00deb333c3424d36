/**
 * Forgetting on a stream of tasks (src/deep/forgetting.ts): the return matrix's shape, its
 * determinism from the seed, the forgetting measure, and that EWC holds the consolidated weights:
 * across a switch the weights that mattered for the old task move less with λ > 0 than with λ = 0.
 */
import { describe, expect, it } from "vitest"
import { dqnConfig } from "../src/deep/config.ts"
import { commaEntries } from "../src/cli/commaEntries.ts"
import { checkStream, estimate, forgettingOf, parseTasks, runStream, type StreamTask, summarise } from "../src/deep/forgetting.ts"
import type { Params } from "../src/deep/network.ts"

const tiny = (lambda: number) =>
  dqnConfig({
    hidden: 16, convChannels: 4, batchSize: 16, replayStart: 200, replayCapacity: 2_000, epsilonFrames: 500,
    trainEvery: 2, learningRate: 1e-3, targetUpdateEvery: 100, fisherSamples: 300, ewcLambda: lambda
  })

const stream: ReadonlyArray<StreamTask> = [
  { game: "breakout", context: {} },
  { game: "breakout", context: { paddleWidth: 3, ballSpeed: 0.5 } },
  { game: "asterix", context: {} }
]

const run = (lambda: number, tasks = stream, frames = 1_500) =>
  runStream({ tasks, framesPerTask: frames, config: tiny(lambda), engine: "onnx", seed: 3, evalEpisodes: 5, evalMaxFrames: 300, keepParams: true })

describe("forgetting", () => {
  it("the return matrix is lower-triangular, one estimate per task seen, and the same from the same seed", async () => {
    const a = await run(0)
    const b = await run(0)
    expect(a.returns.map((r) => r.length)).toEqual([1, 2, 3])
    expect(a.episodeReturns.every((row) => row.every((eps) => eps.length === 5))).toBe(true)
    expect(a.returns.flat().every((e) => Number.isFinite(e.mean) && e.n === 5)).toBe(true)
    expect(a.forgetting).toHaveLength(2)
    expect(a.consolidations).toHaveLength(2)
    expect(a.log.map((l) => l.updates)).toEqual([651, 651, 651])
    expect(b.episodeReturns).toEqual(a.episodeReturns)
    expect(b.forgetting).toEqual(a.forgetting)
    expect(b.log.map((l) => l.trainReturn)).toEqual(a.log.map((l) => l.trainReturn))
    expect(b.params).toEqual(a.params)
    // The summary of one seed keeps its means.
    const s = summarise([a])
    expect(s.returns.map((r) => r.map((e) => e.mean))).toEqual(a.returns.map((r) => r.map((e) => e.mean)))
  })

  it("with λ > 0 the weights that mattered for the old task move less across a switch than with λ = 0", async () => {
    const two = stream.filter((t) => t.game === "breakout" && Object.keys(t.context).length === 0).concat([{ game: "asterix", context: {} }])
    const plain = await run(0, two, 2_000)
    const ewc = await run(10_000, two, 2_000)
    // The first task is the same in both runs (λ acts only after the switch), and so is its consolidation.
    expect(ewc.params?.[0]).toEqual(plain.params?.[0])
    const c = plain.consolidations[0]
    expect(ewc.consolidations[0].fisher).toEqual(c.fisher)
    expect(ewc.consolidations[0].anchor).toEqual(c.anchor)
    // Fisher-weighted squared move of the weights during the second task, with the first task's Fisher.
    const moved = (p: Params) => {
      let s = 0
      for (let i = 0; i < 6; i++) for (let j = 0; j < p[i].length; j++) s += c.fisher[i][j] * (p[i][j] - c.anchor[i][j]) ** 2
      return s
    }
    const mPlain = moved(plain.params![1]), mEwc = moved(ewc.params![1])
    expect(mPlain).toBeGreaterThan(0)
    expect(mEwc).toBeLessThan(0.25 * mPlain)
    // The run's own drift figure says the same.
    expect(ewc.log[1].drift!.fisherWeighted).toBeLessThan(0.25 * plain.log[1].drift!.fisherWeighted)
  })

  it("forgetting is the drop from the best earlier return (and from the return just after learning)", () => {
    const R = [[4], [1, 6], [3, 2, 5]]
    expect(forgettingOf(R)).toEqual({ max: [1, 4], fromLearned: [1, 4] })
    expect(forgettingOf([[2], [5, 1], [3, 0, 7]])).toEqual({ max: [2, 1], fromLearned: [-1, 1] })
    expect(forgettingOf([[2]])).toEqual({ max: [], fromLearned: [] })
    const e = estimate([1, 2, 3])
    expect(e.mean).toBe(2)
    expect(e.ci).toBeCloseTo(4.303 / Math.sqrt(3), 6)
  })

  it("parses a stream and refuses tasks one network cannot share", () => {
    expect(parseTasks("breakout,breakout:paddleWidth=2:ballSpeed=0.5,asterix")).toEqual([
      { game: "breakout", context: {} },
      { game: "breakout", context: { paddleWidth: 2, ballSpeed: 0.5 } },
      { game: "asterix", context: {} }
    ])
    expect(() => parseTasks("pong")).toThrow(/unknown game "pong"/)
    expect(() => parseTasks("breakout:paddleWidth")).toThrow('"breakout:paddleWidth": paddleWidth needs a number, got ""; a task is game:field=value:field=value')
    // One syntax with bench simnet --task (src/env/minatar/taskText.ts): its fields are checked here as there.
    expect(() => parseTasks("breakout:speed=2")).toThrow(/"breakout:speed=2": breakout has no parameter "speed"; expected one of /)
    expect(() => parseTasks("breakout:paddleWidth=9")).toThrow(/"breakout:paddleWidth=9": invalid breakout context .*paddleWidth/)
    // bench simnet's older commas between fields split the task in two here: the error says how to write it.
    expect(() => parseTasks("breakout:paddleWidth=3,ballSpeed=0.5")).toThrow(
      '"ballSpeed=0.5": unknown game "ballSpeed=0.5"; expected one of breakout, space_invaders, freeway, asterix, seaquest; a task is game:field=value:field=value, fields after colons'
    )
    // An empty task between commas was dropped in silence: the stream ran without it.
    expect(() => parseTasks("breakout,,asterix")).toThrow('entry 2 of "breakout,,asterix" is empty: give a value between each two commas')
    expect(() => parseTasks("breakout,")).toThrow(/entry 2 of "breakout," is empty/)
    expect(parseTasks(" ")).toEqual([])
    expect(commaEntries(" 0, 10 ")).toEqual(["0", "10"])
    expect(() => commaEntries("0,,1")).toThrow(/entry 2 of "0,,1" is empty/)
    expect(() => checkStream([{ game: "breakout", context: {} }, { game: "freeway", context: {} }])).toThrow(/one channel count/)
    expect(() => checkStream([{ game: "breakout", context: { paddleWidth: 9 } as never }])).toThrow(/paddleWidth/)
  })
})

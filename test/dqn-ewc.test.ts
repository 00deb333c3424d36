/**
 * EWC (src/deep/ewc.ts): the penalty's gradient against finite differences, and its effect: after
 * consolidating task A, training on task B moves the weights that mattered most for A less than
 * the same training without the penalty, and A is forgotten less.
 */
import { describe, expect, it } from "vitest"
import { DqnAgent } from "../src/deep/agent.ts"
import { dqnConfig } from "../src/deep/config.ts"
import { addEwcGradient } from "../src/deep/engine.ts"
import { ewcPenalty } from "../src/deep/ewc.ts"
import { cloneParams, initParams, type NetShape, type Params, zerosLike } from "../src/deep/network.ts"
import { makeTdWorkspace, tdLossAndGrad } from "../src/deep/reference.ts"
import { makeBatch } from "../src/deep/replay.ts"
import * as Rng from "../src/rng/Rng.ts"

const shape: NetShape = { channels: 2, convChannels: 4, hidden: 16, actions: 3 }

describe("EWC", () => {
  it("the penalty's gradient λF(θ − θ*) matches finite differences of λ/2 Σ F (θ − θ*)²", () => {
    const p = initParams(shape, Rng.make(1))
    const anchor = initParams(shape, Rng.make(2))
    const weight = initParams(shape, Rng.make(3)).map((t) => t.map((x) => 100 * x * x)) as unknown as Params
    const g = zerosLike(shape)
    addEwcGradient(g, p, weight, anchor)
    const h = 1e-3
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < p[i].length; j += 7) {
        const q = cloneParams(p)
        q[i][j] = p[i][j] + h
        const up = ewcPenalty(weight, q, anchor)
        q[i][j] = p[i][j] - h
        const fd = (up - ewcPenalty(weight, q, anchor)) / (2 * h)
        expect(Math.abs(fd - g[i][j])).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)))
      }
    }
    expect(ewcPenalty(weight, anchor, anchor)).toBe(0)
  })

  // Two one-step tasks on the same observations: A pays for action 0, B for action 1.
  const fill = (agent: DqnAgent, task: number, n: number, seed: number) => {
    const rng = Rng.make(seed)
    const size = shape.channels * 100
    for (let k = 0; k < n; k++) {
      const obs = Float32Array.from({ length: size }, () => (rng.next() < 0.15 ? 1 : 0))
      const action = rng.int(shape.actions)
      agent.observe({ obs, action, reward: action === task ? 1 : 0, done: true, nextObs: obs })
    }
  }

  const taskLoss = (p: Params, task: number): number => {
    const b = makeBatch(200, shape.channels * 100)
    const rng = Rng.make(99)
    for (let k = 0; k < 200; k++) {
      for (let j = 0; j < 200; j++) b.obs[k * 200 + j] = rng.next() < 0.15 ? 1 : 0
      b.actions[k] = rng.int(shape.actions)
      b.rewards[k] = b.actions[k] === task ? 1 : 0
    }
    b.nextObs.set(b.obs)
    return tdLossAndGrad(shape, p, p, b, zerosLike(shape), makeTdWorkspace(shape, 200))
  }

  const run = async (lambda: number) => {
    const config = dqnConfig({
      hidden: 16, convChannels: 4, batchSize: 16, learningRate: 3e-3, replayStart: 0, ewcLambda: lambda, fisherSamples: 200, replayCapacity: 1000
    })
    // The ONNX engine with its EWC graph (the TypeScript engine's EWC gradient is the same, test/dqn-engine.test.ts).
    const agent = await DqnAgent.create({ config, channels: shape.channels, actions: shape.actions, engine: "onnx", seed: 7 })
    fill(agent, 0, 1000, 11)
    for (let k = 0; k < 150; k++) await agent.train()
    const c = await agent.consolidate()
    const afterA = agent.engine.params()
    agent.clearReplay()
    fill(agent, 1, 1000, 12)
    for (let k = 0; k < 150; k++) await agent.train()
    await agent.dispose()
    return { fisher: c.fisher, anchor: c.anchor, afterA, afterB: agent.engine.params() }
  }

  it("after consolidation, training on a second task moves high-Fisher weights less and forgets the first task less", async () => {
    const plain = await run(0)
    const ewc = await run(20_000)
    // Task A's phase is identical in both runs (λ acts only after consolidate).
    expect(ewc.afterA[2]).toEqual(plain.afterA[2])
    // The 5% of weights with the highest Fisher information.
    const all = plain.fisher.flatMap((t, i) => Array.from(t, (f, j) => ({ f, i, j })))
    all.sort((a, b) => b.f - a.f)
    const top = all.slice(0, Math.ceil(all.length * 0.05))
    expect(top[0].f).toBeGreaterThan(0)
    const moved = (r: typeof plain) => top.reduce((s, { i, j }) => s + Math.abs(r.afterB[i][j] - r.anchor[i][j]), 0) / top.length
    const mPlain = moved(plain), mEwc = moved(ewc)
    expect(mPlain).toBeGreaterThan(0)
    expect(mEwc).toBeLessThan(0.5 * mPlain)
    // Task A's TD loss after learning B: lower with EWC.
    expect(taskLoss(ewc.afterB, 0)).toBeLessThan(taskLoss(plain.afterB, 0))
  })
})

/**
 * The DQN agent and its loop (src/deep/agent.ts, loop.ts, replay.ts, config.ts): the replay
 * buffer's circular storage, the ε schedule, determinism from the seed, and learning on a stand-in
 * game whose optimal policy is known (one-step: the lit column names the paying action).
 */
import { describe, expect, it } from "vitest"
import { dqnConfig, epsilonAt, MINATAR_DEFAULTS } from "../src/deep/config.ts"
import { type DqnGame, runDqn } from "../src/deep/loop.ts"
import { makeBatch, Replay } from "../src/deep/replay.ts"
import * as Rng from "../src/rng/Rng.ts"

/** One frame per episode: a pixel lights column t of row 0; action t pays 1, any other 0. */
class ColumnBandit implements DqnGame {
  readonly channels = 1
  readonly actions = 3
  private target = 0
  reset(rng: Rng.Rng): void {
    this.target = rng.int(this.actions)
  }
  step(action: number): { reward: number; done: boolean } {
    return { reward: action === this.target ? 1 : 0, done: true }
  }
  observe(out: Float32Array): void {
    out.fill(0, 0, 100)
    out[3 * this.target + 1] = 1
  }
}

const small = { hidden: 32, convChannels: 8 }

describe("replay buffer", () => {
  it("keeps the last `capacity` transitions and samples only those", () => {
    const r = new Replay(3, 2)
    for (let k = 0; k < 5; k++) {
      r.add({ obs: Float32Array.of(k % 2, 1), action: k, reward: k, done: k === 4, nextObs: Float32Array.of((k + 1) % 2, 0) })
    }
    expect(r.size).toBe(3)
    const b = makeBatch(64, 2)
    r.sample(Rng.make(1), 0.9, b)
    const rewards = new Set(b.rewards)
    expect([...rewards].sort()).toEqual([2, 3, 4]) // 64 draws from 3 reach all of them
    for (let i = 0; i < 64; i++) {
      expect(b.actions[i]).toBe(b.rewards[i])
      expect(b.discount[i]).toBeCloseTo(b.rewards[i] === 4 ? 0 : 0.9, 6) // the last one ended its episode
      // each observation and next observation is its own transition's, entry by entry
      expect([b.obs[2 * i], b.obs[2 * i + 1]]).toEqual([b.rewards[i] % 2, 1])
      expect([b.nextObs[2 * i], b.nextObs[2 * i + 1]]).toEqual([(b.rewards[i] + 1) % 2, 0])
    }
    r.clear()
    expect(r.size).toBe(0)
  })
})

describe("ε schedule", () => {
  it("is 1 during the warm-up, falls linearly to 0.1 over 100k frames, then stays", () => {
    const c = MINATAR_DEFAULTS
    expect(epsilonAt(c, 0)).toBe(1)
    expect(epsilonAt(c, c.replayStart - 1)).toBe(1)
    expect(epsilonAt(c, c.replayStart + 50_000)).toBeCloseTo(0.55, 10)
    expect(epsilonAt(c, c.replayStart + 100_000)).toBeCloseTo(0.1, 10)
    expect(epsilonAt(c, 10_000_000)).toBeCloseTo(0.1, 10)
  })
})

describe("DQN loop", () => {
  const config = dqnConfig({ ...small, replayStart: 100, epsilonFrames: 400, targetUpdateEvery: 50, learningRate: 1e-3 })

  it("is deterministic from its seed (weights, exploration, replay sampling, game)", async () => {
    const go = async (seed: number) => {
      const r = await runDqn({ game: new ColumnBandit(), config: { ...config, replayStart: 50 }, engine: "onnx", seed, frames: 300 })
      const params = r.agent.engine.params()
      await r.agent.dispose()
      return { returns: r.episodes.map((e) => e.return), w: params[2], updates: r.updates }
    }
    const a = await go(5), b = await go(5), c = await go(6)
    expect(a.updates).toBe(251) // one per frame from the 50th stored transition on
    expect(b.returns).toEqual(a.returns)
    expect(b.w).toEqual(a.w)
    expect(c.w).not.toEqual(a.w)
  })

  it("learns the stand-in game: the greedy policy picks the paying action", async () => {
    const r = await runDqn({ game: new ColumnBandit(), config: { ...config, epsilonEnd: 0.05 }, engine: "onnx", seed: 1, frames: 2500 })
    const game = new ColumnBandit()
    const rng = Rng.make(77)
    const obs = new Float32Array(100)
    let right = 0
    for (let k = 0; k < 60; k++) {
      game.reset(rng)
      game.observe(obs)
      if (game.step(await r.agent.greedy(obs)).reward === 1) right++
    }
    await r.agent.dispose()
    // A random policy is right a third of the time.
    expect(right).toBeGreaterThanOrEqual(57)
    // The last 500 training episodes (ε ≈ 0.05) are mostly paid.
    const tail = r.episodes.slice(-500)
    expect(tail.reduce((s, e) => s + e.return, 0) / tail.length).toBeGreaterThan(0.85)
  })
})

/**
 * Ground truth for the deep stage (docs/algorithm.md §5, infinite-state environments: Monte-Carlo
 * estimates with confidence intervals). The run, never the agents, plays every held policy greedily
 * on fresh seeded episodes of its true task, and measures what the identification statistic's
 * expectations are per task (so the spec's c_Sep can be compared with the family's separation).
 */
import { makeGame } from "../../env/minatar/index.ts"
import type { MinAtarTask } from "../../env/minatar/spec.ts"
import * as Rng from "../../rng/Rng.ts"
import { dqnConfig } from "../config.ts"
import type { Engine } from "../engine.ts"
import { makeEngine } from "../makeEngine.ts"
import { initParams, type NetShape } from "../network.ts"
import type { NetworkPolicy } from "./policy.ts"
import { type Estimate, estimate } from "./statistic.ts"

/** Stream label of the evaluation episodes: apart from every stream the agents draw from. */
const EVALUATION = 0x6576616c

/**
 * Plays `episodes` episodes of `task` with the greedy action of `engine`'s network (padded to
 * `channels` channels), all at once as one batch per frame, each capped at `maxFrames` frames.
 * The episodes are seeded by (seed, task) alone, so every policy meets the same ones.
 */
const greedyReturns = async (engine: Engine, channels: number, task: MinAtarTask, taskId: number, seed: number, episodes: number, maxFrames: number): Promise<Array<number>> => {
  const games = Array.from({ length: episodes }, () => makeGame(task.game, task.params as never))
  const rngs = games.map((_, e) => Rng.make(seed, EVALUATION, taskId, e))
  const size = channels * 100
  const obs = new Float32Array(episodes * size)
  const returns = new Array<number>(episodes).fill(0)
  const live = games.map((g, e) => {
    g.reset(rngs[e])
    return true
  })
  const view = (e: number) => obs.subarray(e * size, (e + 1) * size)
  for (let frame = 0; frame < maxFrames && live.some((x) => x); frame++) {
    games.forEach((g, e) => live[e] && g.observe(view(e)))
    const q = await engine.qValues(obs, episodes)
    games.forEach((g, e) => {
      if (!live[e]) return
      let best = 0
      for (let a = 1; a < 6; a++) if (q[e * 6 + a] > q[e * 6 + best]) best = a
      const { reward, done } = g.step(best, rngs[e])
      returns[e] += reward
      if (done) live[e] = false
    })
  }
  return returns
}

/** Evaluates policies on their true tasks, one engine for all (its weights replaced per policy). */
export class Evaluator {
  private engine: Engine | undefined
  private readonly cache = new Map<NetworkPolicy, Map<number, Estimate>>()

  constructor(
    readonly shape: NetShape,
    readonly engineName: "onnx" | "ts",
    readonly tasks: ReadonlyArray<MinAtarTask>,
    readonly seed: number,
    readonly episodes: number,
    readonly maxFrames: number,
    readonly delta: number
  ) {}

  /** The greedy return of `policy` on task `task`, computed once per (policy, task). */
  async evaluate(policy: NetworkPolicy, task: number): Promise<Estimate> {
    const known = this.cache.get(policy)?.get(task)
    if (known !== undefined) return known
    this.engine ??= await makeEngine(this.engineName, this.shape, dqnConfig({ hidden: this.shape.hidden, convChannels: this.shape.convChannels }), initParams(this.shape, Rng.make(0)))
    this.engine.setParams(policy.params)
    const r = estimate(await greedyReturns(this.engine, this.shape.channels, this.tasks[task], task, this.seed, this.episodes, this.maxFrames), this.delta)
    if (!this.cache.has(policy)) this.cache.set(policy, new Map())
    this.cache.get(policy)!.set(task, r)
    return r
  }

  async dispose(): Promise<void> {
    await this.engine?.dispose()
  }
}

/** The uniformly random policy's return on a task (the floor a learned policy is read against). */
export const randomReturn = (task: MinAtarTask, taskId: number, episodes: number, maxFrames: number, delta: number): Estimate => {
  const game = makeGame(task.game, task.params as never)
  const rng = Rng.make(EVALUATION, taskId, 1)
  const xs: Array<number> = []
  for (let e = 0; e < episodes; e++) {
    game.reset(rng)
    let ret = 0
    for (let f = 0; f < maxFrames; f++) {
      const { reward, done } = game.step(rng.int(6), rng)
      ret += reward
      if (done) break
    }
    xs.push(ret)
  }
  return estimate(xs, delta)
}

/**
 * The DQN agent: ε-greedy acting with a batch-1 forward pass, a replay buffer, one training step
 * every `trainEvery` frames once the replay holds `replayStart` transitions, the target network
 * copied every `targetUpdateEvery` updates, and optional EWC (`consolidate()` at a task switch).
 *
 * All randomness comes from the agent's own stream (exploration and replay sampling) and the one
 * passed to `act`, so a run is a function of its seeds.
 */
import type { Rng } from "../rng/Rng.ts"
import * as RngLib from "../rng/Rng.ts"
import { type DqnConfig, epsilonAt } from "./config.ts"
import type { Engine, EngineName } from "./engine.ts"
import { type Consolidation, consolidateWith, estimateFisher } from "./ewc.ts"
import { makeEngine } from "./makeEngine.ts"
import { initParams, inputSize, type NetShape } from "./network.ts"
import type { Batch } from "./reference.ts"
import { makeBatch, Replay, type Transition } from "./replay.ts"

export interface AgentOptions {
  readonly config: DqnConfig
  /** Observation channels and actions of the game. */
  readonly channels: number
  readonly actions: number
  readonly engine: EngineName
  /** Seeds the initial weights and the replay sampling. */
  readonly seed: number
}

export class DqnAgent {
  /** Frames observed so far. */
  frames = 0
  /** The frame at which the current task began (`beginTask`): ε and the first update count from it. */
  private taskStart = 0
  /** Training steps taken so far. */
  updates = 0
  /** The loss of the last training step. */
  lastLoss = Number.NaN
  private consolidation: Consolidation | undefined
  private readonly batch: Batch

  private constructor(
    readonly config: DqnConfig,
    readonly shape: NetShape,
    readonly engine: Engine,
    private readonly replay: Replay,
    private readonly rng: Rng
  ) {
    this.batch = makeBatch(config.batchSize, inputSize(shape))
  }

  static async create(o: AgentOptions): Promise<DqnAgent> {
    const shape: NetShape = { channels: o.channels, convChannels: o.config.convChannels, hidden: o.config.hidden, actions: o.actions }
    const engine = await makeEngine(o.engine, shape, o.config, initParams(shape, RngLib.make(o.seed, 1)))
    return new DqnAgent(o.config, shape, engine, new Replay(o.config.replayCapacity, inputSize(shape)), RngLib.make(o.seed, 2))
  }

  /** ε at the current frame of the task. */
  get epsilon(): number {
    return epsilonAt(this.config, this.frames - this.taskStart)
  }

  /** The greedy action (ties to the lowest index). */
  async greedy(obs: Float32Array): Promise<number> {
    const q = await this.engine.qValues(obs, 1)
    let best = 0
    for (let a = 1; a < this.shape.actions; a++) if (q[a] > q[best]) best = a
    return best
  }

  /** ε-greedy; during the random warm-up no forward pass is run at all. */
  act(obs: Float32Array, rng: Rng): Promise<number> | number {
    const eps = this.epsilon
    if (eps >= 1 || rng.next() < eps) return rng.int(this.shape.actions)
    return this.greedy(obs)
  }

  /** Stores a transition and counts the frame. */
  observe(t: Transition): void {
    this.replay.add(t)
    this.frames++
  }

  /**
   * Stores a transition another agent gathered on the same task (experience sharing, §3 step 3):
   * it joins the replay, but is not a frame of this agent's, so it moves neither ε nor the updates.
   */
  absorb(t: Transition): void {
    this.replay.add(t)
  }

  /** Whether a training step is due at this frame (counted from the task's start). */
  get dueForUpdate(): boolean {
    const f = this.frames - this.taskStart
    return f >= this.config.replayStart && this.replay.size >= this.config.batchSize && f % this.config.trainEvery === 0
  }

  /** One training step on a sampled batch; copies the target network when its period comes. */
  async train(): Promise<number> {
    this.replay.sample(this.rng, this.config.gamma, this.batch)
    this.lastLoss = await this.engine.trainStep(this.batch)
    this.updates++
    if (this.updates % this.config.targetUpdateEvery === 0) this.engine.syncTarget()
    return this.lastLoss
  }

  /**
   * A task switch: estimates the Fisher diagonal on this task's replay, anchors the current weights
   * and turns the penalty on (λ_EWC from the config), then empties nothing: the caller decides
   * whether the next task starts with a fresh replay (`clearReplay`).
   */
  async consolidate(): Promise<Consolidation> {
    const fisher = estimateFisher(this.shape, this.engine.params(), this.replay, this.config.fisherSamples, this.config.gamma, this.rng)
    this.consolidation = consolidateWith(this.consolidation, fisher, this.engine.params(), this.config.ewcLambda)
    await this.engine.setEwc(this.config.ewcLambda > 0 ? { weight: this.consolidation.weight, anchor: this.consolidation.anchor } : undefined)
    return this.consolidation
  }

  /** Forgets the stored transitions (a new task's replay). */
  clearReplay(): void {
    this.replay.clear()
  }

  /**
   * A new task of a stream (src/deep/forgetting.ts): a fresh replay, and the ε schedule and the
   * first training step counted again from here. The network, Adam's moments, the target network
   * and any consolidation carry over.
   */
  beginTask(): void {
    this.replay.clear()
    this.taskStart = this.frames
  }

  dispose(): Promise<void> {
    return this.engine.dispose()
  }
}

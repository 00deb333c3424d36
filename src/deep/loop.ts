/**
 * The end-to-end DQN loop on one game: observe, act ε-greedily, step the game, store the
 * transition, and train once every `trainEvery` frames, for a number of frames. Reports the
 * return of every finished episode. Deterministic from the seed (weights, exploration, replay
 * sampling and the game each draw from their own stream).
 */
import * as Rng from "../rng/Rng.ts"
import { DqnAgent } from "./agent.ts"
import type { DqnConfig } from "./config.ts"
import type { EngineName } from "./engine.ts"
import type { Transition } from "./replay.ts"

/** What the loop needs of a game (src/env/minatar/Game.ts's MinAtarGame has it). */
export interface DqnGame {
  readonly channels: number
  readonly actions: number
  reset(rng: Rng.Rng): void
  step(action: number, rng: Rng.Rng): { readonly reward: number; readonly done: boolean }
  observe(out: Float32Array): void
}

/**
 * A game played frame by frame, the part every deep frame loop shares (runDqn below, a deep run's
 * instance in distmt/learning.ts, the benchmark's random play in bench.ts): two observation
 * buffers, the next state becoming the current one each frame with no copy; the return of the
 * episode so far; a new episode, from the same stream, at each end. The caller chooses the action
 * and uses the transition (replay, training, logs) between `step` and `advance`.
 */
export class Playthrough {
  obs: Float32Array
  private next: Float32Array
  private ret = 0

  /** `size`: the observation's length, more than the game's own for a network of more channels (the rest stays 0). */
  constructor(readonly game: DqnGame, readonly rng: Rng.Rng, size = game.channels * 100) {
    this.obs = new Float32Array(size)
    this.next = new Float32Array(size)
    game.reset(rng)
    game.observe(this.obs)
  }

  /** Plays one frame: its transition, whose observations are read before `advance`. */
  step(action: number): Transition {
    const { reward, done } = this.game.step(action, this.rng)
    this.game.observe(this.next)
    this.ret += reward
    return { obs: this.obs, action, reward, done, nextObs: this.next }
  }

  /** Ends the frame: the next state becomes the current one; at an episode's end, a new episode and the ended one's return. */
  advance(done: boolean): number | undefined {
    const swap = this.obs
    this.obs = this.next
    this.next = swap
    if (!done) return undefined
    const ret = this.ret
    this.ret = 0
    this.game.reset(this.rng)
    this.game.observe(this.obs)
    return ret
  }
}

export interface Episode {
  /** The frame count when the episode ended. */
  readonly frame: number
  readonly return: number
}

export interface LoopResult {
  readonly episodes: ReadonlyArray<Episode>
  readonly frames: number
  readonly updates: number
  readonly seconds: number
  /** Seconds spent in training steps (the rest is acting, the game and the replay). */
  readonly trainSeconds: number
  /** CPU seconds of the whole process during the loop (user + system, all its threads): on a
   * shared machine rates per CPU-second are steadier than rates per wall-clock second. */
  readonly cpuSeconds: number
}

export interface LoopOptions {
  readonly game: DqnGame
  readonly config: DqnConfig
  readonly engine: EngineName
  readonly seed: number
  readonly frames: number
  /** Called after every finished episode. */
  readonly onEpisode?: (e: Episode, agent: DqnAgent) => void
  /** Called after every frame, with the frames of this call so far. */
  readonly onFrame?: (frames: number, agent: DqnAgent) => void
  /** Keys after the seed of the game's and the exploration's random streams (a task's index in a stream). */
  readonly stream?: ReadonlyArray<number>
  /** An existing agent to continue (a task stream); by default a new one from the seed. */
  readonly agent?: DqnAgent
}

export const runDqn = async (o: LoopOptions): Promise<LoopResult & { readonly agent: DqnAgent }> => {
  const { game, config } = o
  const agent = o.agent ?? await DqnAgent.create({ config, channels: game.channels, actions: game.actions, engine: o.engine, seed: o.seed })
  const play = new Playthrough(game, Rng.make(o.seed, 3, ...(o.stream ?? [])))
  const actRng = Rng.make(o.seed, 4, ...(o.stream ?? []))
  const episodes: Array<Episode> = []
  const start = performance.now()
  const cpu0 = process.cpuUsage()
  let trainMs = 0
  const startUpdates = agent.updates
  for (let f = 0; f < o.frames; f++) {
    const chosen = agent.act(play.obs, actRng)
    const t = play.step(typeof chosen === "number" ? chosen : await chosen)
    agent.observe(t)
    if (agent.dueForUpdate) {
      const t0 = performance.now()
      await agent.train()
      trainMs += performance.now() - t0
    }
    const ret = play.advance(t.done)
    if (ret !== undefined) {
      const e = { frame: agent.frames, return: ret }
      episodes.push(e)
      o.onEpisode?.(e, agent)
    }
    o.onFrame?.(f + 1, agent)
  }
  const cpu = process.cpuUsage(cpu0)
  return {
    agent,
    episodes,
    frames: o.frames,
    updates: agent.updates - startUpdates,
    seconds: (performance.now() - start) / 1000,
    trainSeconds: trainMs / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6
  }
}

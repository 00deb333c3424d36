/**
 * The interface every MinAtar-style game implements (docs/deep.md, "Games"), and what the games share:
 * the action set, the observation layout, sticky actions and the frame limit.
 *
 * The games are written from the published descriptions of MinAtar (Young & Tian 2019,
 * arXiv:1903.03176), not from its code: rules and timings are our own where the descriptions are silent.
 *
 * Why a mutable object and not an Effect or an immutable state: a DQN loop steps a game millions of
 * times, so `step` must not allocate. All randomness comes from the `Rng` passed in, so a game
 * replays exactly from a seed.
 */
import type { Rng } from "../../rng/Rng.ts"

/** The grid is GRID × GRID cells; y = 0 is the top row, x = 0 the left column. */
export const GRID = 10
export const CELLS = GRID * GRID

/**
 * MinAtar's six actions. Every game keeps the full set (an action a game does not use is a no-op), so
 * one network with one output per action fits every game.
 */
export const Action = { noop: 0, left: 1, up: 2, right: 3, down: 4, fire: 5 } as const
export const ACTIONS = 6

export type GameName = "breakout" | "space_invaders" | "freeway" | "asterix" | "seaquest"
export const GAME_NAMES: ReadonlyArray<GameName> = ["breakout", "space_invaders", "freeway", "asterix", "seaquest"]

/** What `step` returns. The record is reused by the next `step` (no allocation): read it before stepping again. */
export interface StepResult {
  reward: number
  done: boolean
}

export interface MinAtarGame {
  readonly name: GameName
  /** Number of binary channels C of the observation. */
  readonly channels: number
  /** What each channel shows, e.g. ["paddle", "ball", "trail", "brick"]. */
  readonly channelNames: ReadonlyArray<string>
  /** Always 6 (`Action`). */
  readonly actions: number
  /** Frames stepped since the last `reset`. */
  readonly frame: number
  /** A new episode; all randomness comes from `rng`. */
  reset(rng: Rng): void
  /**
   * One frame: with probability `sticky` the previous action is repeated instead of `action`; then the
   * game advances. Returns the reward and whether the episode ended (the game's own end, or `maxFrames`).
   * Stepping a finished episode returns reward 0 and done until the next `reset`.
   */
  step(action: number, rng: Rng): StepResult
  /** Writes the observation into out[(c*10 + y)*10 + x] (channel-major C×10×10), values 0/1. `out.length` ≥ C·100. */
  observe(out: Float32Array): void
}

/** Parameters every game reads. */
export interface CommonParams {
  /** Probability of repeating the previous action instead of the chosen one (MinAtar: 0.1). */
  readonly sticky: number
  /** End the episode after this many frames; 0 = only the game's own end. */
  readonly maxFrames: number
}

/**
 * The shared part of every game: sticky actions, the frame counter and limit, the reused step result.
 * A game implements `start` (a new episode) and `advance` (one frame with the effective action).
 */
export abstract class GridGame implements MinAtarGame {
  abstract readonly name: GameName
  abstract readonly channels: number
  abstract readonly channelNames: ReadonlyArray<string>
  readonly actions = ACTIONS
  frame = 0
  /** Set by `advance` when the game itself ends (ball lost, player hit, ...). */
  protected over = false
  private last: number = Action.noop
  private readonly result: StepResult = { reward: 0, done: false }

  constructor(private readonly common: CommonParams) {}

  protected abstract start(rng: Rng): void
  /** One frame with the action actually taken; returns the reward. */
  protected abstract advance(action: number, rng: Rng): number
  /** Paints the current state into `out`, which is already zeroed. */
  protected abstract paint(out: Float32Array): void

  reset(rng: Rng): void {
    this.frame = 0
    this.over = false
    this.last = Action.noop
    this.start(rng)
  }

  step(action: number, rng: Rng): StepResult {
    if (!(action >= 0 && action < ACTIONS && Number.isInteger(action))) {
      throw new RangeError(`${this.name}: expected an action in 0..${ACTIONS - 1}, got ${action}`)
    }
    const r = this.result
    if (this.finished()) {
      r.reward = 0
      r.done = true
      return r
    }
    // Sticky actions (Machado et al. 2018, used by MinAtar): the environment, not the agent, repeats.
    // No draw when sticky = 0, so such a game consumes randomness only for its own events.
    const a = this.common.sticky > 0 && rng.next() < this.common.sticky ? this.last : action
    this.last = a
    this.frame++
    r.reward = this.advance(a, rng)
    r.done = this.finished()
    return r
  }

  observe(out: Float32Array): void {
    out.fill(0, 0, this.channels * CELLS)
    this.paint(out)
  }

  private finished(): boolean {
    return this.over || (this.common.maxFrames > 0 && this.frame >= this.common.maxFrames)
  }
}

/** Sets cell (x, y) of channel c, ignoring cells outside the grid (e.g. a trail behind the edge). */
export const mark = (out: Float32Array, c: number, x: number, y: number): void => {
  if (x >= 0 && x < GRID && y >= 0 && y < GRID) out[(c * GRID + y) * GRID + x] = 1
}

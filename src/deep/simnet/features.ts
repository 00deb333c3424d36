/**
 * SimNet's input: a fixed-length, game-agnostic description of one transition (obs, action, reward,
 * next obs, done), and the random-policy exploration that records it (docs/deep.md, "SimNet").
 *
 * Why hand-crafted features rather than a per-game convolution: the games differ in channel count
 * (Breakout 4, Space Invaders 6, Seaquest 10), and what a context changes is the *dynamics* (how far
 * and how often things move, how many there are, how often reward comes). Per-channel occupancy,
 * change, motion and position summarise exactly that, in one layout for every game (channels padded
 * to MAX_CHANNELS), so one small network serves every game and trains in milliseconds. The game is an
 * observable fact (its channel count already tells it), so a one-hot of the game is part of the input.
 *
 * Why record features and not observations: SimNet never needs the raw grid again, and a transition's
 * features are ~100 floats against 2·C·100 for the two observations.
 */
import { type GameContext, type GameName, GAME_NAMES, makeGame, type MinAtarGame } from "../../env/minatar/index.ts"
import * as Rng from "../../rng/Rng.ts"

/** The most channels of any game (Seaquest); other games' missing channels are zeros. */
export const MAX_CHANNELS = 10
/** Features per channel (see `transitionFeatures`). */
export const PER_CHANNEL = 9
/** Length of one transition's feature vector. */
export const FEATURES = MAX_CHANNELS * PER_CHANNEL + 6 + 2 + GAME_NAMES.length

const G = 10
const CELLS = 100

/** Count and centroid (x, y) of channel c of obs; centroid 0 when the channel is empty. */
const moments = (obs: Float32Array, c: number, out: Float64Array): void => {
  let n = 0
  let sx = 0
  let sy = 0
  const base = c * CELLS
  for (let y = 0; y < G; y++) {
    for (let x = 0; x < G; x++) {
      if (obs[base + y * G + x] !== 0) {
        n++
        sx += x
        sy += y
      }
    }
  }
  out[0] = n
  out[1] = n > 0 ? sx / n : 0
  out[2] = n > 0 ? sy / n : 0
}

const m0 = new Float64Array(3)
const m1 = new Float64Array(3)

/**
 * Writes the features of one transition into out[offset .. offset + FEATURES). Per channel c (scaled
 * to roughly [−1, 1]): occupancy, cells changed, cells appeared, whether anything changed, centroid
 * motion dx, dy and |dx|, |dy| (a random policy is symmetric, so only the magnitudes survive
 * averaging: they carry speeds), and the row of the centroid (e.g. how far down the aliens are).
 * Then the action one-hot, the reward, done, and the game one-hot.
 */
export const transitionFeatures = (
  gameIndex: number,
  channels: number,
  obs: Float32Array,
  action: number,
  reward: number,
  next: Float32Array,
  done: boolean,
  out: Float32Array,
  offset: number
): void => {
  out.fill(0, offset, offset + FEATURES)
  for (let c = 0; c < channels && c < MAX_CHANNELS; c++) {
    moments(obs, c, m0)
    moments(next, c, m1)
    let changed = 0
    let appeared = 0
    const base = c * CELLS
    for (let i = 0; i < CELLS; i++) {
      const d = next[base + i] - obs[base + i]
      if (d !== 0) changed++
      if (d > 0) appeared++
    }
    const moved = m0[0] > 0 && m1[0] > 0
    const dx = moved ? m1[1] - m0[1] : 0
    const dy = moved ? m1[2] - m0[2] : 0
    const o = offset + c * PER_CHANNEL
    out[o] = m0[0] / 10
    out[o + 1] = changed / 10
    out[o + 2] = appeared / 10
    out[o + 3] = changed > 0 ? 1 : 0
    out[o + 4] = dx / 2
    out[o + 5] = dy / 2
    out[o + 6] = Math.abs(dx) / 2
    out[o + 7] = Math.abs(dy) / 2
    out[o + 8] = m0[0] > 0 ? m0[2] / 9 : 0
  }
  const t = offset + MAX_CHANNELS * PER_CHANNEL
  out[t + action] = 1
  out[t + 6] = reward
  out[t + 7] = done ? 1 : 0
  out[t + 8 + gameIndex] = 1
}

/** A task: a game and its context (what the spec's hidden tasks are). */
export interface SimTask {
  readonly game: GameName
  readonly context: GameContext
  /** A short name for tables, e.g. "breakout paddleSpeed=2". */
  readonly label: string
}

/**
 * One instance explored by a uniformly random policy: its transitions' features in time order, and
 * its finished episodes' returns (the Monte-Carlo statistic's data). `explore` continues the same
 * stream, so a statistic that needs more frames than SimNet can ask for them.
 */
export class Explorer {
  readonly game: MinAtarGame
  readonly gameIndex: number
  private readonly rng: Rng.Rng
  private obs: Float32Array
  private next: Float32Array
  private data: Float32Array
  private episodeReturn = 0
  /** Transitions recorded. */
  frames = 0
  /** Frames stepped (recorded or not). */
  steps = 0
  private recording = true
  /** Returns of the episodes finished so far. */
  readonly returns: Array<number> = []

  constructor(readonly task: SimTask, seed: number, stream: number) {
    this.game = makeGame(task.game, task.context)
    this.gameIndex = GAME_NAMES.indexOf(task.game)
    this.rng = Rng.make(seed, 0x5e7, stream)
    this.obs = new Float32Array(this.game.channels * CELLS)
    this.next = new Float32Array(this.game.channels * CELLS)
    this.data = new Float32Array(FEATURES * 1024)
    this.game.reset(this.rng)
    this.game.observe(this.obs)
  }

  /**
   * Steps `frames` more frames with uniformly random actions, recording every transition. With
   * `record = false` only the returns are kept (the Monte-Carlo statistic's extra frames, which SimNet
   * never reads): no observation, no features, so those frames cost a step each.
   */
  explore(frames: number, record = true): this {
    if (!record) {
      this.recording = false
      for (let i = 0; i < frames; i++) {
        const { reward, done } = this.game.step(this.rng.int(6), this.rng)
        this.count(reward, done)
      }
      return this
    }
    if (!this.recording) throw new Error("Explorer: cannot record again after explore(_, false)")
    const need = (this.frames + frames) * FEATURES
    if (need > this.data.length) {
      const grown = new Float32Array(Math.max(need, 2 * this.data.length))
      grown.set(this.data.subarray(0, this.frames * FEATURES))
      this.data = grown
    }
    for (let i = 0; i < frames; i++) {
      const a = this.rng.int(6)
      const { reward, done } = this.game.step(a, this.rng)
      this.game.observe(this.next)
      transitionFeatures(this.gameIndex, this.game.channels, this.obs, a, reward, this.next, done, this.data, this.frames * FEATURES)
      this.frames++
      if (this.count(reward, done)) this.game.observe(this.obs)
      else {
        const t = this.obs
        this.obs = this.next
        this.next = t
      }
    }
    return this
  }

  /** Counts a stepped frame and its reward; at an episode's end keeps its return and resets the game (true). */
  private count(reward: number, done: boolean): boolean {
    this.steps++
    this.episodeReturn += reward
    if (!done) return false
    this.returns.push(this.episodeReturn)
    this.episodeReturn = 0
    this.game.reset(this.rng)
    return true
  }

  /** The recorded features, FEATURES floats per transition, in time order (a view, not a copy). */
  features(): Float32Array {
    return this.data.subarray(0, this.frames * FEATURES)
  }
}

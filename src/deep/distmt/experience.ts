/**
 * The deep stage's transitions as the unit of experience sharing (docs/algorithm.md §3 step 3):
 * (action, reward, done, observation, next observation), packed in a `Float64Array` so that a
 * batch goes through the server's pools exactly as the linear stage's (h, s, a, r, s') do.
 *
 * Observations are C×10×10 grids of 0/1, so they travel as bits: 50 to a float64 word, held as a
 * whole number below 2^50 (exact in a double, and immune to NaN canonicalisation, which bit
 * patterns stored as doubles would not be). C is the spec's widest game's channel count, so every
 * transition of a run has the same width whatever game it comes from.
 */
import type { Transition } from "../replay.ts"

const BITS = 50
const CELLS = 100

/** Float64 words per observation of `channels` channels. */
export const obsWords = (channels: number): number => Math.ceil((channels * CELLS) / BITS)

/** Numbers per packed transition: action, reward, done, and the two observations. */
export const transitionWidth = (channels: number): number => 3 + 2 * obsWords(channels)

const packObs = (obs: Float32Array, out: Float64Array, at: number, words: number): void => {
  for (let w = 0; w < words; w++) {
    let value = 0
    let bit = 1
    const from = w * BITS
    const to = Math.min(from + BITS, obs.length)
    for (let i = from; i < to; i++) {
      if (obs[i] !== 0) value += bit
      bit *= 2
    }
    out[at + w] = value
  }
}

const unpackObs = (data: Float64Array, at: number, words: number, out: Float32Array): void => {
  for (let w = 0; w < words; w++) {
    let value = data[at + w]
    const from = w * BITS
    const to = Math.min(from + BITS, out.length)
    for (let i = from; i < to; i++) {
      const bit = value % 2
      out[i] = bit
      value = (value - bit) / 2
    }
  }
}

/** An append-only record of packed transitions that grows by doubling. */
export class ExperienceLog {
  private data: Float64Array
  private size = 0
  readonly width: number
  private readonly words: number

  constructor(readonly channels: number) {
    this.words = obsWords(channels)
    this.width = transitionWidth(channels)
    this.data = new Float64Array(64 * this.width)
  }

  get length(): number {
    return this.size / this.width
  }

  push(t: Transition): void {
    if (this.size + this.width > this.data.length) {
      const grown = new Float64Array(this.data.length * 2)
      grown.set(this.data.subarray(0, this.size))
      this.data = grown
    }
    const d = this.data, i = this.size
    d[i] = t.action
    d[i + 1] = t.reward
    d[i + 2] = t.done ? 1 : 0
    packObs(t.obs, d, i + 3, this.words)
    packObs(t.nextObs, d, i + 3 + this.words, this.words)
    this.size += this.width
  }

  /** A copy of what was recorded. */
  toArray(): Float64Array {
    return this.data.slice(0, this.size)
  }

  clear(): void {
    this.size = 0
  }
}

/** Calls `each` with every transition of a packed batch (its observation buffers are reused). */
export const forEachTransition = (batch: Float64Array, channels: number, each: (t: Transition) => void): void => {
  const words = obsWords(channels)
  const width = transitionWidth(channels)
  const obs = new Float32Array(channels * CELLS)
  const nextObs = new Float32Array(channels * CELLS)
  for (let i = 0; i + width <= batch.length; i += width) {
    unpackObs(batch, i + 3, words, obs)
    unpackObs(batch, i + 3 + words, words, nextObs)
    each({ action: batch[i], reward: batch[i + 1], done: batch[i + 2] === 1, obs, nextObs })
  }
}

/**
 * A small seeded pseudo-random source (xoshiro128**), so that every run is reproducible from its
 * seed and independent streams can be split off without sharing state between fibers.
 *
 * Why not `Math.random` or Effect's `Random`: the environment simulator runs inside tight loops
 * where an Effect per draw would cost more than the draw, and results must be bit-identical across
 * machines for a given seed.
 */
export interface Rng {
  /** A uniform number in [0, 1). */
  readonly next: () => number
  /** A uniform integer in [0, n). */
  readonly int: (n: number) => number
  /** A new, independent stream derived from this one and a label. */
  readonly split: (label: number) => Rng
  /** The generator's state: `fromState(rng.state())` continues the same stream (a run's numeric
   * work may move between threads, src/run/threads/). */
  readonly state: () => Uint32Array
}

const mix32 = (x: number): number => {
  // splitmix32: spreads a seed over all bits, so nearby seeds give unrelated streams.
  x = (x + 0x9e3779b9) | 0
  let z = x
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/**
 * A non-negative integer (up to 2⁵³) as one mixed 32-bit word: its low word mixed, then its high
 * word, if any, mixed in. Below 2³² that is the low word's mix alone, as it always was (so every
 * stream of such a seed is what it was); above, `2³² + 1` no longer gives the stream of `1`, as it
 * did when only the low word was read (a spec's seed 4294967297 ran seed 1, recorded as given).
 */
const mixWords = (x: number): number => {
  const low = mix32(x >>> 0)
  const high = x >= 4294967296 ? Math.floor(x / 4294967296) : 0
  return high === 0 ? low : mix32(low ^ mix32(high >>> 0))
}

/** Creates a stream from a non-negative integer seed (and labels, for independent sub-streams). */
export const make = (seed: number, ...labels: ReadonlyArray<number>): Rng => {
  let h = mixWords(seed)
  for (const l of labels) h = mix32(h ^ mixWords(l))
  const a = mix32(h)
  const b = mix32(a)
  const c = mix32(b)
  const d = mix32(c)
  return fromState(Uint32Array.of((a | b | c | d) === 0 ? 1 : a, b, c, d))
}

/** Continues the stream whose `state()` was taken (the four words of xoshiro128**). */
export const fromState = (state: Uint32Array): Rng => {
  let a = state[0] | 0
  let b = state[1] | 0
  let c = state[2] | 0
  let d = state[3] | 0
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0
    const t = b << 9
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    d = rotl(d, 11)
    return result
  }
  const next = () => nextU32() / 4294967296
  return {
    next,
    int: (n) => Math.floor(next() * n),
    split: (label) => make(nextU32(), label),
    state: () => Uint32Array.of(a, b, c, d)
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))

/** Samples an index from a discrete distribution given as weights summing to 1. */
export const categorical = (rng: Rng, p: ArrayLike<number>, offset = 0, length = p.length): number => {
  const u = rng.next()
  let acc = 0
  for (let i = 0; i < length; i++) {
    acc += p[offset + i]
    if (u < acc) return i
  }
  // Rounding can leave the total a hair under 1: fall back to the last index with mass.
  for (let i = length - 1; i >= 0; i--) if (p[offset + i] > 0) return i
  return length - 1
}

/** A Fisher–Yates shuffle of 0..n-1. */
export const permutation = (rng: Rng, n: number): Array<number> => {
  const out = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const t = out[i]
    out[i] = out[j]
    out[j] = t
  }
  return out
}

/**
 * Every seed a spec may hold gives its own stream (src/rng/Rng.ts `make`): seeds of 2³² and above
 * read only their low word before, so `seed: 4294967297` ran the stream of seed 1 while its results
 * recorded 4294967297. Below 2³² every stream is what it was (the runs' results do not change).
 * And a spec's runs get distinct seeds: `seed: 2⁵³ − 1, seeds: 3` ran seed 2⁵³ twice, as two seeds.
 */
import { Effect } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Rng from "../src/rng/Rng.ts"
import { seedsOf } from "../src/run/sweepPlan.ts"
import { decode } from "../src/spec/schema.ts"
import tiny from "./fixtures/tiny.spec.ts"

const draws = (rng: Rng.Rng, n = 4): Array<number> => Array.from({ length: n }, () => rng.next())

// The stream of `make` as it was, for seeds and labels below 2³² (splitmix32 over the low word).
const mix32 = (x: number): number => {
  x = (x + 0x9e3779b9) | 0
  let z = x
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}
const before = (seed: number, ...labels: Array<number>): Rng.Rng => {
  let h = mix32(seed >>> 0)
  for (const l of labels) h = mix32(h ^ mix32(l >>> 0))
  const a = mix32(h)
  const b = mix32(a)
  const c = mix32(b)
  const d = mix32(c)
  return Rng.fromState(Uint32Array.of((a | b | c | d) === 0 ? 1 : a, b, c, d))
}

const WORD = 2 ** 32

describe("seeds beyond 32 bits", () => {
  it("a seed of 2³² or more gives another stream than its low word", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: WORD - 1 }), fc.integer({ min: 1, max: 2 ** 21 - 1 }), (low, high) => {
      expect(draws(Rng.make(low + high * WORD))).not.toEqual(draws(Rng.make(low)))
      expect(draws(Rng.make(3, low + high * WORD))).not.toEqual(draws(Rng.make(3, low)))
    }))
  })

  it("below 2³² a seed's streams are what they were", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: WORD - 1 }), fc.array(fc.integer({ min: -(2 ** 31), max: WORD - 1 }), { maxLength: 3 }), (seed, labels) => {
      expect(draws(Rng.make(seed, ...labels))).toEqual(draws(before(seed, ...labels)))
    }))
  })
})

describe("the seeds of a spec's runs", () => {
  it("are distinct whole numbers: a seed whose last run (seed + seeds − 1) would pass 2⁵³ − 1 is refused at seed", async () => {
    const last = Number.MAX_SAFE_INTEGER - 2
    const fits = await Effect.runPromise(decode({ ...tiny, seed: last, seeds: 3 }, "tiny"))
    expect(new Set(seedsOf(fits)).size).toBe(3)
    for (const seed of [last + 1, Number.MAX_SAFE_INTEGER]) {
      const e = await Effect.runPromise(Effect.flip(decode({ ...tiny, seed, seeds: 3 }, "tiny")))
      expect(e.issues).toEqual([{
        path: "seed",
        message: "expected at most 9,007,199,254,740,989 with seeds = 3: run r uses seed + r, and above 9,007,199,254,740,991 (2⁵³ − 1) two runs would get the same seed",
        actual: String(seed)
      }])
    }
  })
})

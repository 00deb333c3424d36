import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Rng from "../src/rng/Rng.ts"

describe("Rng", () => {
  it("is reproducible from its seed", () => {
    const a = Rng.make(7, 1)
    const b = Rng.make(7, 1)
    const xs = Array.from({ length: 5 }, () => a.next())
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs)
    expect(Rng.make(8, 1).next()).not.toBe(xs[0])
  })
  it.effect("runs effects", () => Effect.sync(() => expect(Rng.make(1).int(10)).toBeLessThan(10)))
})

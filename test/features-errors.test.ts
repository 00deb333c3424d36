/**
 * A feature map wrong on many (s, a) pairs: its first problems are listed, and a last line counts
 * the rest. The check stopped after ten without saying so, so a map wrong on 400 pairs read as
 * wrong on the ten shown (states 0 to 4), as the tables' check already says "more problems".
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { Env, Features } from "../src/spec/Spec.ts"
import { formatIssue } from "../src/spec/SpecError.ts"
import tiny from "./fixtures/tiny.spec.ts"

/** The lines validate prints for the tiny spec on a chain of `length` states with this feature map. */
const printed = (length: number, map: (s: number, a: number) => ReadonlyArray<number>) =>
  Effect.runPromise(
    Effect.suspend(() => decode({ ...tiny, environment: Env.linearChain({ length, horizon: 2 }), features: Features.custom(3, map) }, "tiny")).pipe(
      Effect.flatMap((s) => compile(s, "tiny")),
      Effect.map(() => ["valid"]),
      Effect.catch((e) => Effect.succeed(e.issues.map(formatIssue)))
    )
  )

describe("a feature map's problems", () => {
  it("past the first ten, are counted on one last line", async () => {
    const lines = await printed(200, () => [1, 1, 0])
    expect(lines).toHaveLength(11)
    expect(lines[0]).toBe("features.map(0, 0): expected ‖φ(s,a)‖₂ ≤ 1, got norm 1.4142135623730951")
    expect(lines[9]).toMatch(/^features\.map\(4, 1\): /)
    expect(lines[10]).toBe("features.map: 390 more (s, a) pairs with problems, not listed: fix the ones above first")
  })

  it("count only the pairs that have one, and need no last line when ten or fewer", async () => {
    const bad = (s: number) => s % 50 === 0 // states 0, 50, 100, 150: 8 pairs
    expect(await printed(200, (s) => (bad(s) ? [1, 1, 0] : [0, 0, 1]))).toHaveLength(8)
    const more = await printed(200, (s) => (s % 10 === 0 ? [1, 1, 0] : [0, 0, 1])) // 20 states, 40 pairs
    expect(more.at(-1)).toBe("features.map: 30 more (s, a) pairs with problems, not listed: fix the ones above first")
  })
})

/**
 * A spec's baselines each run once per seed. A baseline listed twice ran twice, as if it were two
 * seeds: `baselines: ["oracle", "oracle"]` with 1 seed wrote every oracle row of results.csv twice
 * and oracle's summary said `seeds: 2`. It is refused at the repeated entry.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { decode } from "../src/spec/schema.ts"
import tiny from "./fixtures/tiny.spec.ts"

describe("baselines", () => {
  it("are refused at a repeated entry, naming the first", async () => {
    const e = await Effect.runPromise(Effect.flip(decode({ ...tiny, baselines: ["oracle", "independent", "oracle"] }, "tiny")))
    expect(e.issues).toEqual([{ path: "baselines[2]", message: "expected distinct baselines: the same as baselines[0]", actual: `"oracle"` }])
  })

  it("each listed once decode, in the order written", async () => {
    const s = await Effect.runPromise(decode({ ...tiny, baselines: ["oracle", "independent"] }, "tiny"))
    expect(s.baselines).toEqual(["oracle", "independent"])
  })
})

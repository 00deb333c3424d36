/**
 * The library API's options (docs/api.md) given as a script in plain JavaScript or a notebook may
 * give them, where no type checker stands between the user and the call.
 */
import { describe, expect, it } from "vitest"
import tiny from "./fixtures/tiny.spec.ts"
import { run } from "../src/index.ts"

describe("run()'s quick option", () => {
  // docs/api.md lists `quick` among run()'s options, but run() never passed it on: the full spec
  // ran, silently, where the quick variant was asked for.
  const withQuick = { ...tiny, name: "tiny-quick", quick: { seeds: 2, epsilon: 0.25 } }

  it("runs the quick variant, merged over the spec", async () => {
    const r = await run(withQuick, { quick: true })
    expect([r.spec.seeds, r.spec.epsilon, r.runs.length]).toEqual([2, 0.25, 2])
    const full = await run(withQuick)
    expect([full.spec.seeds, full.spec.epsilon, full.runs.length]).toEqual([1, 0.3, 1])
  })

  it("is refused on a spec without a quick variant, as --quick is", async () => {
    const e = await run(tiny, { quick: true }).catch((e: unknown) => e)
    expect(e).toMatchObject({ _tag: "SpecError" })
    expect((e as Error).message).toMatch(/quick: expected a quick variant for --quick \(missing\)/)
  })
})

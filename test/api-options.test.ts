/**
 * The library API's options (docs/api.md) given as a script in plain JavaScript or a notebook may
 * give them, where no type checker stands between the user and the call.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { decode } from "../src/spec/schema.ts"
import type { SpecError } from "../src/spec/SpecError.ts"
import tiny from "./fixtures/tiny.spec.ts"
import { run, runDeep, sweep, validate } from "../src/index.ts"

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

  it("is refused on a spec without a quick variant, as --quick is, in the API's words", async () => {
    // It said "--quick", an option an API caller does not have.
    const e = await run(tiny, { quick: true }).catch((e: unknown) => e)
    expect(e).toMatchObject({ _tag: "SpecError" })
    expect((e as SpecError).issues).toEqual([{
      path: "quick",
      message: "expected a quick variant for quick: true (missing): add `quick: { ... }` with the fields to make smaller " +
        "(docs/spec-reference.md, \"The quick variant\"), or run the spec as written, without quick: true"
    }])
    // The command line keeps its flag.
    const cli = await Effect.runPromise(Effect.flip(decode(tiny, "tiny", { quick: true })))
    expect(cli.issues[0].message).toMatch(/^expected a quick variant for --quick \(missing\): .*, without --quick$/)
  })
})

describe("options that a call does not have, or of the wrong kind", () => {
  // A misspelt option was ignored in silence (the run went on with the default), and a value of the
  // wrong kind failed with a bare TypeError, or (quick: "yes") was taken for false.
  const refusal = (p: Promise<unknown>) => p.then(() => "ran", (e: unknown) => e)
  const bad = (options: unknown) => options as never

  it("a name the call does not have is an OverrideError naming it, with the likely one", async () => {
    expect(await refusal(run(tiny, bad({ thread: 2 })))).toMatchObject({
      _tag: "OverrideError",
      message: "options.thread: run() has no such option (did you mean threads?); its options are out, set, seeds, quick, threads, fresh, force, onProgress, signal"
    })
    expect(await refusal(runDeep("specs/minatar.spec.ts", bad({ seed: 5 })))).toMatchObject({ message: expect.stringMatching(/^options\.seed: runDeep\(\) has no such option \(did you mean seeds\?\)/) })
    expect(await refusal(sweep(tiny, bad({ out: "runs/x" })))).toMatchObject({ message: expect.stringMatching(/^options\.out: sweep\(\) has no such option; its options are set, seeds, quick, sample,/) })
    expect(await refusal(validate(tiny, bad({ sample: { count: 2, seed: 0 } })))).toMatchObject({ message: "options.sample: validate() has no such option; its options are set, seeds, signal" })
  })

  it("a value of the wrong kind is an OverrideError saying what was expected; nothing runs or is written", async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-api-options-")), "run")
    for (const [options, message] of [
      [{ out: 3 }, "options.out: expected a folder's path (a non-empty string), got 3"],
      [{ out: " " }, "options.out: expected a folder's path (a non-empty string), got \" \""],
      [{ out, set: null }, "options.set: expected an object of field paths and values, e.g. { epsilon: 0.05 }, got null"],
      [{ out, set: [["epsilon", 0.2]] }, "options.set: expected an object of field paths and values, e.g. { epsilon: 0.05 }, got [[\"epsilon\",0.2]]"],
      [{ out, quick: "yes" }, "options.quick: expected true or false, got \"yes\""],
      [{ out, fresh: 1 }, "options.fresh: expected true or false, got 1"],
      [{ out, onProgress: 3 }, "options.onProgress: expected a function, got 3"],
      [{ out, signal: {} }, "options.signal: expected an AbortSignal, got {}"],
      [null, "options: expected an object of run() options, or none, got null"],
      [3, "options: expected an object of run() options, or none, got 3"]
    ] as const) {
      expect(await refusal(run(tiny, bad(options)))).toMatchObject({ _tag: "OverrideError", message })
    }
    expect(fs.existsSync(out)).toBe(false)
  })

  it("an option given as undefined is no option, as when it is left out", async () => {
    const r = await run(tiny, bad({ out: undefined, threads: undefined, onProgress: undefined }))
    expect(r.dir).toBeUndefined()
  })
})

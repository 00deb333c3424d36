/**
 * Loads a spec module (`specs/*.spec.ts`) and turns every way it can go wrong into a one-line,
 * structured error: a missing file, a module that does not load, a module without a spec.
 * `.ts` files load through tsx, which the `distmt` command registers before it starts.
 */
import { Data, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { decode, type DecodeOptions } from "../spec/schema.ts"
import { LOADED_BY_DISTMT } from "../spec/selfRun.ts"
import type { Experiment } from "../spec/Spec.ts"
import type { SpecError } from "../spec/SpecError.ts"

export class SpecLoadError extends Data.TaggedError("SpecLoadError")<{ readonly source: string; readonly reason: string }> {
  override get message(): string {
    return `Cannot load spec ${this.source}: ${this.reason}`
  }
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0]

/**
 * Imports the module at `file` and decodes its default export (or its export named `spec`); with
 * `{ quick: true }`, its `quick` variant merged over it.
 */
export const loadSpec = (file: string, options: DecodeOptions = {}): Effect.Effect<Experiment, SpecLoadError | SpecError> =>
  Effect.gen(function*() {
    const absolute = path.resolve(file)
    if (!fs.existsSync(absolute)) return yield* new SpecLoadError({ source: file, reason: "no such file" })
    if (fs.statSync(absolute).isDirectory()) return yield* new SpecLoadError({ source: file, reason: "is a directory, expected a .spec.ts file" })
    // A spec imported by distmt itself must not also run itself as if executed directly (selfRun.ts).
    Reflect.set(globalThis, LOADED_BY_DISTMT, true)
    const mod = yield* Effect.tryPromise({
      try: () => import(pathToFileURL(absolute).href) as Promise<Record<string, unknown>>,
      catch: (e) => new SpecLoadError({ source: file, reason: `the module failed to load: ${firstLine(e)}` })
    })
    const candidate = mod.default ?? mod.spec
    if (candidate === undefined) {
      return yield* new SpecLoadError({
        source: file,
        reason: "the module exports no spec (expected `export default Experiment.make({ ... })`)"
      })
    }
    return yield* decode(candidate, file, options)
  })

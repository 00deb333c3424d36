/**
 * The library API's options, checked as a spec's fields are (docs/api.md): a name the call does not
 * have is an error, never ignored, and so is a value of the wrong kind. A misspelt option
 * (`thread: 2`, `seed: 5` for `seeds`) was ignored in silence and the call went on with the
 * default; `out: 3`, `onProgress: 3` or `signal: {}` failed with a bare TypeError, and `quick: "yes"`
 * was taken for false. TypeScript catches all of these; a script in plain JavaScript or a notebook
 * does not. `threads`, `seeds` and `sample` are checked where they are read (overrides.ts, the
 * spec's Schema, sweepSample.ts), with their ranges.
 */
import { Effect } from "effect"
import { closestField } from "../spec/contextReads.ts"
import { OverrideError } from "../spec/overrides.ts"
import { isPlainObject } from "../spec/paths.ts"
import { show } from "../spec/SpecError.ts"

type Kind = { readonly expected: string; readonly is: (value: unknown) => boolean }

const anything: Kind = { expected: "", is: () => true }
const boolean: Kind = { expected: "true or false", is: (v) => typeof v === "boolean" }

/** Every option of the API, with the kind its value must be. */
const KINDS = {
  // An empty path was an OutDirError labelled with the path itself: ": expected a folder, got an empty path".
  out: { expected: "a folder's path (a non-empty string)", is: (v) => typeof v === "string" && v.trim() !== "" },
  set: { expected: "an object of field paths and values, e.g. { epsilon: 0.05 }", is: isPlainObject },
  seeds: anything,
  quick: boolean,
  threads: anything,
  fresh: boolean,
  force: boolean,
  sample: anything,
  onProgress: { expected: "a function", is: (v) => typeof v === "function" },
  signal: { expected: "an AbortSignal", is: (v) => v instanceof AbortSignal }
} satisfies Record<string, Kind>

export type OptionName = keyof typeof KINDS

/** Each call's options (docs/api.md); `signal` is the Promise form's, and the Effect form ignores it. */
export const CALL_OPTIONS: Record<"run" | "runDeep" | "sweep" | "validate", ReadonlyArray<OptionName>> = {
  run: ["out", "set", "seeds", "quick", "threads", "fresh", "force", "onProgress", "signal"],
  runDeep: ["out", "set", "seeds", "quick", "threads", "fresh", "force", "onProgress", "signal"],
  sweep: ["set", "seeds", "quick", "sample", "threads", "force", "onProgress", "signal"],
  validate: ["set", "seeds", "signal"]
}

/** Fails with an OverrideError naming the first option that `call` does not have, or whose value is of the wrong kind. */
export const checkOptions = (call: keyof typeof CALL_OPTIONS, options: unknown): Effect.Effect<void, OverrideError> => {
  if (options === undefined) return Effect.void
  if (!isPlainObject(options)) {
    return Effect.fail(new OverrideError({ origin: "options", reason: `expected an object of ${call}() options, or none, got ${show(options)}` }))
  }
  const names = CALL_OPTIONS[call]
  for (const [name, value] of Object.entries(options)) {
    if (!(names as ReadonlyArray<string>).includes(name)) {
      const guess = closestField(name, names)
      return Effect.fail(new OverrideError({
        origin: `options.${name}`,
        reason: `${call}() has no such option${guess === undefined ? "" : ` (did you mean ${guess}?)`}; its options are ${names.join(", ")}`
      }))
    }
    const kind: Kind = KINDS[name as OptionName]
    if (value !== undefined && !kind.is(value)) {
      return Effect.fail(new OverrideError({ origin: `options.${name}`, reason: `expected ${kind.expected}, got ${show(value)}` }))
    }
  }
  return Effect.void
}

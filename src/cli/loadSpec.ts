/**
 * Loads a spec module (`specs/*.spec.ts`) and turns every way it can go wrong into a one-line,
 * structured error: a missing file, a module that does not load (a syntax error with its file,
 * line and column), a module without a spec, an export that is not plain data (snapshot.ts).
 * `.ts` files load through tsx, which the `distmt` command registers before it starts.
 *
 * The commands do not call this first: they check the spec in a child process with a time limit
 * (specCheck.ts), and only a spec that passed is loaded here, in the main process.
 */
import { Data, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { isMainThread } from "node:worker_threads"
import { mark, Step } from "../spec/activity.ts"
import { applyOverrides, type Override, type OverrideError, withOverrideOrigins } from "../spec/overrides.ts"
import { resolveDistmtAnywhere } from "../spec/resolveSelf.mjs"
import { decode, type DecodeOptions } from "../spec/schema.ts"
import { LOADED_BY_DISTMT, stackFiles } from "../spec/selfRun.ts"
import { snapshotSpec } from "../spec/snapshot.ts"
import type { Experiment } from "../spec/Spec.ts"
import { SpecError } from "../spec/SpecError.ts"

export class SpecLoadError extends Data.TaggedError("SpecLoadError")<{ readonly source: string; readonly reason: string }> {
  override get message(): string {
    return `Cannot load spec ${this.source}: ${this.reason}`
  }
}

const text = (e: unknown): string => {
  try {
    return e instanceof Error ? e.message : String(e)
  } catch {
    return "an unprintable error"
  }
}

/**
 * Why a module failed to load, in one line. tsx reports a syntax error as "Transform failed with 1
 * error:" followed by esbuild's `file:line:column: ERROR: message` (column from 0): keep that part.
 */
export const loadFailure = (e: unknown, source: string): string => {
  const message = text(e)
  const located = /^(.*?):(\d+):(\d+): ERROR: (.*)$/m.exec(message)
  if (located !== null) {
    const [, , line, column, what] = located
    return `syntax error at ${source}:${line}:${Number(column) + 1}: ${what}${CJS_AWAIT.test(what) ? CJS_AWAIT_HINT : ""}`
  }
  return `the module failed to load: ${message.split("\n")[0]}`
}

/**
 * A spec outside this package, in a folder whose package.json does not say "type": "module", is
 * compiled as CommonJS by Node's rules, where a top-level await is esbuild's syntax error; the
 * same spec loads as a module in such a folder, or as a `.mts` file (docs/guide.md, section 1).
 */
const CJS_AWAIT = /^Top-level await is currently not supported with the "cjs" output format/
const CJS_AWAIT_HINT =
  ` (the file is compiled as CommonJS, since the nearest package.json above it does not say "type": "module"; add one that does, or name the file .spec.mts)`

const guarded = new Set<string>()
let guarding = true

/** The spec-check process (specCheckChild.ts) reports a spec's exit to the tool instead of guarding it. */
export const unguardExit = (): void => {
  guarding = false
}

/**
 * In the main process, a spec's call of `process.exit` (a timer set by its top-level code can fire
 * in the middle of a run, after the spec check has passed) ends the command with one line and exit
 * code 1, never with the spec's code: `process.exit(0)` must not pass for success. Calls from
 * anywhere else (the runtime's own exit) go through unchanged.
 */
const guardExit = (absolute: string, file: string): void => {
  if (!guarding || !isMainThread || guarded.has(absolute)) return
  guarded.add(absolute)
  const exit = process.exit.bind(process)
  const real = (p: string) => {
    try {
      return fs.realpathSync(p)
    } catch {
      return p
    }
  }
  const target = real(absolute)
  process.exit = ((code?: number | string | null) => {
    const fromSpec = stackFiles(new Error().stack ?? "").some((f) => real(f) === target)
    if (!fromSpec) return exit(code)
    process.stderr.write(`Spec ${file} called process.exit(${code ?? ""}); a spec must not end the process\n`)
    return exit(1)
  }) as typeof process.exit
}

/**
 * Whether a module's text could export a spec (its default export, or its export named `spec`):
 * some form of either must be written in it. Importing a module runs it, so a script given where a
 * spec belongs (`validate examples/api.ts`) ran whole, writing its files, before "exports no spec";
 * a file that fails this is refused unimported. Only evaluating a module tells what it exports, so
 * the test is lenient and errs towards importing: any `default` (an export `default`, `{ x as
 * default }`, `{ default } from`), `export *`, `export` followed anywhere by the word `spec`, or
 * CommonJS's `exports` and TypeScript's `export =` let the file through, comments and strings
 * included. A file let through that exports no spec is still run, and refused after.
 */
const mayExportSpec = (source: string): boolean => {
  if (/\bdefault\b|\bexport\s*[*=]|\bexports\b/.test(source)) return true
  // After the first `export` (a regular expression from every `export` on would be quadratic).
  const first = /\bexport\b/.exec(source)
  return first !== null && /\bspec\b/.test(source.slice(first.index))
}

export interface LoadOptions extends DecodeOptions {
  /** `--set path=value` and `--seeds N` (src/spec/overrides.ts), applied before decoding. */
  readonly overrides?: ReadonlyArray<Override>
}

/**
 * A spec's plain copy (snapshotSpec) with the overrides applied, decoded: the part of loading that a
 * spec given as a value (the library API) shares with a spec module.
 */
export const decodeWithOverrides = (raw: unknown, source: string, options: LoadOptions = {}): Effect.Effect<Experiment, SpecError | OverrideError> =>
  Effect.gen(function*() {
    const overrides = options.overrides ?? []
    const input = yield* applyOverrides(raw, overrides, options.quick === true, options.remedies?.quick)
    return yield* decode(input, source, options).pipe(Effect.mapError((e) => withOverrideOrigins(e, overrides)))
  })

/**
 * Imports the module at `file` and decodes its default export (or its export named `spec`); with
 * `{ quick: true }`, its `quick` variant merged over it; with `overrides`, those applied first.
 */
export const loadSpec = (file: string, options: LoadOptions = {}): Effect.Effect<Experiment, SpecLoadError | SpecError | OverrideError> =>
  Effect.gen(function*() {
    const absolute = path.resolve(file)
    if (!fs.existsSync(absolute)) return yield* new SpecLoadError({ source: file, reason: "no such file" })
    if (fs.statSync(absolute).isDirectory()) return yield* new SpecLoadError({ source: file, reason: "is a directory, expected a .spec.ts file" })
    const sourceText = yield* Effect.try({
      try: () => fs.readFileSync(absolute, "utf8"),
      catch: (e) => new SpecLoadError({ source: file, reason: `cannot read it: ${text(e)}` })
    })
    if (!mayExportSpec(sourceText)) {
      return yield* new SpecLoadError({
        source: file,
        reason: "it has no default export, so it is not a spec and was not run (a spec file ends with `export default Experiment.make({ ... })`)"
      })
    }
    // A spec imported by distmt itself must not also run itself as if executed directly (selfRun.ts).
    Reflect.set(globalThis, LOADED_BY_DISTMT, true)
    guardExit(absolute, file)
    mark(Step.load)
    // A script calling the library API has no `distmt` command to register this: without it, a
    // spec outside this package (not beside an installed distmt) fails on its `import … from
    // "distmt"`, where `distmt run` loads it (docs/guide.md). Registering twice is a no-op.
    resolveDistmtAnywhere()
    const mod = yield* Effect.tryPromise({
      try: () => import(pathToFileURL(absolute).href) as Promise<Record<string, unknown>>,
      catch: (e) => new SpecLoadError({ source: file, reason: loadFailure(e, file) })
    })
    mark(Step.read)
    let candidate: unknown
    try {
      candidate = mod.default ?? mod.spec
    } catch (e) {
      return yield* new SpecLoadError({ source: file, reason: `reading the module's export threw: ${text(e)}` })
    }
    if (candidate === undefined) {
      return yield* new SpecLoadError({
        source: file,
        reason: "the module exports no spec (expected `export default Experiment.make({ ... })`)"
      })
    }
    const copy = snapshotSpec(candidate)
    if (copy.issues.length > 0) return yield* new SpecError({ source: file, issues: copy.issues })
    mark(Step.decode)
    const decoded = yield* decodeWithOverrides(copy.value, file, options)
    mark(Step.idle)
    return decoded
  })

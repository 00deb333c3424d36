/**
 * Overrides of a spec's fields from outside the spec file: `--set path=value` and `--seeds N` on
 * the command line, `set` and `seeds` in the library API (docs/guide.md, "Overrides").
 *
 * They are applied to the spec's raw value (what the module exports) before it is decoded, so the
 * same Schema checks them and the same path-named errors come out, each saying which override it
 * came from. A malformed override (no `=`, an empty or unreadable path, a field the spec has no
 * place for) is one line naming it.
 */
import { Data, Effect, Result, Schema, SchemaIssue } from "effect"
import { type FieldPath, getAt, isPlainObject, parseFieldPath } from "./paths.ts"
import { decode, ExperimentInput, MAX_THREADS, Threads } from "./schema.ts"
import { formatPath, show, SpecError } from "./SpecError.ts"

export interface Override {
  /** The field's path as written: `epsilon`, `learner.lambda`, `contexts.items[1].goal`. */
  readonly path: string
  readonly value: unknown
  /** Where it came from, for messages: `--set epsilon=0.05`, `--seeds 5`, `set["epsilon"]`. */
  readonly origin: string
}

export class OverrideError extends Data.TaggedError("OverrideError")<{ readonly origin: string; readonly reason: string }> {
  override get message(): string {
    return `${this.origin}: ${this.reason}`
  }
}

const PATH_HINT = "e.g. epsilon, learner.lambda, stopping.maxEpisodes or contexts.items[1].goal"

/** A value as typed on the command line: JSON when it parses (`0.05`, `true`, `{"_tag":"Stream"}`), else the text itself (`experience`). */
const parseValue = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** One `--set path=value`. */
export const parseSetFlag = (text: string): Effect.Effect<Override, OverrideError> => {
  const origin = `--set ${text}`
  const eq = text.indexOf("=")
  if (eq < 0) return Effect.fail(new OverrideError({ origin, reason: `expected path=value, e.g. --set epsilon=0.05` }))
  const path = text.slice(0, eq).trim()
  if (path === "") return Effect.fail(new OverrideError({ origin, reason: `expected a field path before "=", ${PATH_HINT}` }))
  return Effect.succeed({ path, value: parseValue(text.slice(eq + 1)), origin })
}

/** The overrides of the command line: every `--set`, in order, then `--seeds N` (shorthand for `--set seeds=N`). */
export const parseOverrideFlags = (sets: ReadonlyArray<string>, seeds: string | undefined) =>
  Effect.gen(function*() {
    const out: Array<Override> = []
    for (const s of sets) out.push(yield* parseSetFlag(s))
    if (seeds !== undefined) out.push({ path: "seeds", value: parseValue(seeds), origin: `--seeds ${seeds}` })
    return out
  })

/**
 * The API's `threads` option, checked as the spec's `threads` field is (the CLI checks `--threads`
 * the same way): it is not an override, since the results do not depend on it, but 0, 2.5 or NaN
 * must not run, nor be recorded in summary.json.
 */
export const threadsOption = (value: number | "auto" | undefined): Effect.Effect<number | "auto" | undefined, OverrideError> =>
  value === undefined || Schema.is(Threads)(value)
    ? Effect.succeed(value)
    : Effect.fail(new OverrideError({
      origin: "threads",
      reason: `expected a whole number of threads from 1 to ${MAX_THREADS}, or "auto" (one per core); got ${show(value)}`
    }))

/** The overrides of the API's options: `set` in its key order, then `seeds`. */
export const overridesOfOptions = (set: Readonly<Record<string, unknown>> | undefined, seeds: number | undefined): ReadonlyArray<Override> => [
  ...Object.entries(set ?? {}).map(([path, value]) => ({ path, value, origin: `set[${JSON.stringify(path)}]` })),
  ...(seeds === undefined ? [] : [{ path: "seeds", value: seeds, origin: "seeds" }])
]

/** What summary.json and a sweep's manifest record: path → value, the last override of a path winning. */
export const overridesRecord = (overrides: ReadonlyArray<Override>): Record<string, unknown> =>
  Object.fromEntries(overrides.map((o) => [o.path, o.value]))

/** setField's way out: thrown from deep in the path, and turned into the Effect's failure by applyOverrides. */
const fail = (o: Override, reason: string): never => {
  throw new OverrideError({ origin: o.origin, reason })
}

/**
 * `node` with `o.value` at `path` (from step `i`), copied along the path. A field the spec left
 * out is taken at its default (`defaults`, the decoded spec), so that `learner.lambda` can be set
 * in a spec that never wrote a learner; a new last field is added and the Schema decides whether
 * it exists. Throws an OverrideError for a path that cannot be followed.
 */
const setField = (node: unknown, path: FieldPath, i: number, o: Override, defaults: unknown): unknown => {
  if (i === path.length) return o.value
  const key = path[i]
  const here = formatPath(path.slice(0, i))
  const next = formatPath(path.slice(0, i + 1))
  if (Array.isArray(node)) {
    if (typeof key !== "number") return fail(o, `${here} is a list; expected an index, e.g. ${here}[0]`)
    if (key >= node.length) return fail(o, `${here} has ${node.length} entr${node.length === 1 ? "y" : "ies"}; there is no ${next}`)
    const copy = [...node]
    copy[key] = setField(node[key], path, i + 1, o, defaults)
    return copy
  }
  if (!isPlainObject(node)) return fail(o, `${here} is ${show(node)}, which has no fields; there is no ${next}`)
  if (typeof key === "number") return fail(o, `${here} is not a list; there is no ${next}`)
  let child: unknown = undefined
  if (Object.hasOwn(node, key)) child = node[key]
  else {
    const d = getAt(defaults, path.slice(0, i + 1))
    if (d.found) child = d.value
    else if (i < path.length - 1) return fail(o, `the spec has no field ${next}`)
  }
  // A computed key defines an own field, even one named __proto__ (which the Schema then refuses).
  return { ...node, [key]: setField(child, path, i + 1, o, defaults) }
}

/** setField as an Effect: its OverrideError a failure; anything else it throws is a bug, a defect. */
const setFieldEffect = (node: unknown, path: FieldPath, o: Override, defaults: unknown): Effect.Effect<unknown, OverrideError> =>
  Effect.try({
    try: () => setField(node, path, 0, o, defaults),
    catch: (e) => {
      if (e instanceof OverrideError) return e
      throw e
    }
  })

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** The paths the Schema finds fault with, with unknown fields refused or ignored. */
const faultPaths = (input: unknown, onExcessProperty: "error" | "ignore"): ReadonlySet<string> => {
  const r = Schema.decodeUnknownResult(ExperimentInput)(input, { errors: "all", onExcessProperty })
  if (Result.isSuccess(r)) return new Set()
  return new Set(formatter(r.failure.issue).issues.map((i) => formatPath((i.path ?? []).map((p) => (typeof p === "object" ? p.key : p)))))
}

/**
 * Whether the field an override added is one the spec has no place for: the Schema refuses it
 * as an unknown field, and would accept the spec without it. Decided by the Schema itself (with
 * unknown fields refused, then ignored), not by the wording of its message.
 */
const unknownFields = (spec: Record<string, unknown>, added: ReadonlyArray<Override>): ReadonlyArray<Override> => {
  if (added.length === 0) return []
  const { quick: _quick, ...written } = spec
  const strict = faultPaths(written, "error")
  const loose = faultPaths(written, "ignore")
  return added.filter((o) => {
    const at = formatPath(parseFieldPath(o.path) ?? [])
    return strict.has(at) && !loose.has(at)
  })
}

/**
 * Whether the spec's `quick` variant, merged over the spec (paths.ts `deepMerge`), replaces the value
 * at `path`: it sets that very field, or a field on the way that replaces rather than merges (a
 * list, a value that is not an object, a builder of another kind), as `contexts.items` in a variant
 * that lists its own contexts replaces the spec's.
 */
const quickReplaces = (spec: unknown, quick: unknown, path: FieldPath): boolean => {
  for (let i = 1; i <= path.length; i++) {
    const q = getAt(quick, path.slice(0, i))
    if (!q.found) return false
    if (i === path.length) return true
    const base = getAt(spec, path.slice(0, i)).value
    if (!isPlainObject(base) || !isPlainObject(q.value)) return true
    if ("_tag" in q.value && q.value._tag !== base._tag) return true
  }
  return false
}

/**
 * The raw spec with every override applied, or the first malformed one as a one-line error. An
 * override of a field that the spec's `quick` variant replaces is applied there too (quickReplaces),
 * so that `sweep --quick --set seeds=2` runs 2 seeds whatever the variant says, and `--quick --set
 * contexts.items[0].goal=2` changes the variant's own first context. With `quick`, an override that
 * cannot be applied to the variant (an index beyond its list) is an error rather than dropped.
 */
export const applyOverrides = (raw: unknown, overrides: ReadonlyArray<Override>, quick = false, quickName = "--quick"): Effect.Effect<unknown, OverrideError> =>
  Effect.gen(function*() {
    if (overrides.length === 0 || !isPlainObject(raw)) return raw // decode says what a non-object is
    // The spec as written, decoded with its defaults: where a field it leaves out starts from.
    const decoded = yield* Effect.result(decode(raw, ""))
    const defaults = Result.isSuccess(decoded) ? decoded.success : undefined
    let spec: Record<string, unknown> = raw
    const added: Array<Override> = []
    for (const o of overrides) {
      const path = parseFieldPath(o.path)
      if (path === undefined) return yield* new OverrideError({ origin: o.origin, reason: `${JSON.stringify(o.path)} is not a field path; ${PATH_HINT}` })
      if (!getAt(spec, path).found && !getAt(defaults, path).found) added.push(o)
      spec = (yield* setFieldEffect(spec, path, o, defaults)) as Record<string, unknown>
      // The fields on the way to `path` are copied, not changed in kind: the spec after the override will do.
      if (isPlainObject(spec.quick) && path[0] !== "quick" && quickReplaces(spec, spec.quick, path)) {
        const inQuick = yield* Effect.result(setFieldEffect(spec.quick, path, o, undefined))
        if (Result.isSuccess(inQuick)) spec = { ...spec, quick: inQuick.success }
        else if (quick) return yield* new OverrideError({ origin: o.origin, reason: `${inQuick.failure.reason} in the quick variant (${quickName}), whose value there replaces the spec's` })
      }
    }
    const unknown = unknownFields(spec, added)[0]
    if (unknown !== undefined) {
      return yield* new OverrideError({ origin: unknown.origin, reason: `the spec has no field ${unknown.path} (docs/spec-reference.md lists them)` })
    }
    return spec
  })

/** Whether an issue at `issuePath` is about the field at `path` or inside it. */
const within = (issuePath: string, path: string): boolean =>
  issuePath === path || issuePath.startsWith(`${path}.`) || issuePath.startsWith(`${path}[`)

/**
 * The error with each issue at an overridden field (or inside it) saying which override it came
 * from: `epsilon: expected a value greater than 0, got -1 (from --set epsilon=-1)`. Idempotent.
 */
export const withOverrideOrigins = (e: SpecError, overrides: ReadonlyArray<Override>): SpecError => {
  if (overrides.length === 0) return e
  const issues = e.issues.map((i) => {
    // The variant's issue at `quick.epsilon` comes from `--set epsilon=…` (applied to the variant too) or `--set quick.epsilon=…`.
    const paths = [...new Set([i.path, i.path.replace(/^quick\./, "")])]
    // An override of the issue's field or of a field inside it (`environment.horizon` for an issue at `environment`).
    const o = [...overrides].reverse().find((o) => {
      const at = formatPath(parseFieldPath(o.path) ?? [o.path])
      return paths.some((p) => within(p, at) || (p !== "(spec)" && within(at, p)))
    })
    const note = o === undefined ? "" : ` (from ${o.origin})`
    if (note === "" || i.message.endsWith(note) || i.actual?.endsWith(note) === true) return i
    // At the end of the line: after the value found when there is one (`got -1 (from --set epsilon=-1)`).
    return i.actual === undefined ? { ...i, message: `${i.message}${note}` } : { ...i, actual: `${i.actual}${note}` }
  })
  return new SpecError({ source: e.source, issues })
}

/**
 * A sweep replaces its axes' fields at every point: an override of an axis (or of a field inside
 * one) would never be used, so it is refused rather than ignored.
 */
export const sweepAxisOverride = (axes: ReadonlyArray<string>, overrides: ReadonlyArray<Override>): OverrideError | undefined => {
  for (const o of overrides) {
    const at = formatPath(parseFieldPath(o.path) ?? [o.path])
    const axis = axes.find((a) => {
      const ax = formatPath(parseFieldPath(a) ?? [a])
      return within(at, ax) || within(ax, at)
    })
    if (axis !== undefined) {
      return new OverrideError({ origin: o.origin, reason: `${axis} is a sweep axis of this spec, set at every point; change the axis's values in the spec instead` })
    }
  }
  return undefined
}

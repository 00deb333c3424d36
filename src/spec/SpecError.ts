/**
 * The one error a bad spec produces: every problem found, each with the path of the bad field
 * (`contexts.items[2].slip`), what was expected, and the value that was given.
 */
import { Data } from "effect"

export interface SpecIssue {
  /** Dotted path of the bad field, e.g. `learner.beta` or `contexts.items[2].slip`. */
  readonly path: string
  /** What was expected there. */
  readonly message: string
  /** The value found, rendered briefly; absent for a missing field. */
  readonly actual?: string
  /**
   * In how many of the spec's contexts the same problem was found, when more than one: the issue
   * is then reported once, at `environment.build(context *)` or `environment.build(contexts 0, 3)`.
   */
  readonly inContexts?: { readonly count: number; readonly of: number }
}

export class SpecError extends Data.TaggedError("SpecError")<{
  readonly source: string
  readonly issues: ReadonlyArray<SpecIssue>
}> {
  override get message(): string {
    return formatSpecError(this)
  }
}

/** `a.b[2].c` from a property path. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, k) => (typeof k === "number" ? `${acc}[${k}]` : acc === "" ? String(k) : `${acc}.${String(k)}`),
    ""
  ) || "(spec)"

/** A short, one-line rendering of a value for an error message. */
export const show = (u: unknown): string => {
  if (typeof u === "function") return "a function"
  if (typeof u === "number") return String(u) // NaN, Infinity and -0 stay readable
  if (u === undefined) return "undefined"
  if (u instanceof Described) return u.text
  if (Array.isArray(u) && u.every((x) => typeof x === "number")) return clip(`[${u.map(String).join(", ")}]`)
  try {
    return clip(JSON.stringify(u))
  } catch {
    // JSON.stringify throws on a BigInt or a cycle; String() on an object without a usable toString.
    try {
      return String(u)
    } catch {
      return Object.prototype.toString.call(u)
    }
  }
}

const clip = (s: string): string => (s.length > 60 ? `${s.slice(0, 57)}...` : s)

/** A description of a value, shown as is (e.g. "length 2", "norm 1.3") rather than as a JSON string. */
export class Described {
  constructor(readonly text: string) {}
}

/** One issue as a line: `path: message, got value (in 3 of 12 contexts)`. */
export const formatIssue = (i: SpecIssue): string =>
  `${i.path}: ${i.message}${i.actual === undefined ? "" : `, got ${i.actual}`}` +
  (i.inContexts === undefined ? "" : ` (in ${i.inContexts.count} of ${i.inContexts.of} contexts)`)

export const formatSpecError = (e: SpecError): string =>
  `Invalid spec ${e.source}:\n${e.issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`

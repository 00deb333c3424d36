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
  if (typeof u === "number") return Number.isNaN(u) ? "NaN" : String(u)
  if (u === undefined) return "undefined"
  try {
    const s = JSON.stringify(u)
    return s.length > 60 ? `${s.slice(0, 57)}...` : s
  } catch {
    return String(u)
  }
}

export const formatSpecError = (e: SpecError): string => {
  const lines = e.issues.map((i) => `  ${i.path}: ${i.message}${i.actual === undefined ? "" : `, got ${i.actual}`}`)
  return `Invalid spec ${e.source}:\n${lines.join("\n")}`
}

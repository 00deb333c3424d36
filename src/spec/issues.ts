/**
 * The collector of compile's issues: one issue per distinct problem. The same problem found in
 * several contexts (a bad entry of the tables that `build` returns for each of them, an axis value
 * of `Contexts.grid` that every combination shares) is a single issue, not a line per context:
 *
 *   environment.build(context *).reward[3][1]: expected a finite number, got NaN (in 12 of 12 contexts)
 *   environment.build(contexts 0, 4, 9).transition[2][0]: expected probabilities summing to 1, got sum 0.9 (in 3 of 12 contexts)
 *
 * A problem of one context only keeps its exact path, `environment.build(context 4)...`.
 */
import { show, type SpecIssue } from "./SpecError.ts"

/** How many context numbers a grouped issue lists before "…". */
const LISTED_CONTEXTS = 5
/** How many distinct values a grouped issue shows before "…". */
const SHOWN_VALUES = 3

/** A problem found in one or more contexts' tables, with the contexts and the values found there. */
interface InContexts {
  /** The path inside the context's tables: `.reward[3][1]`, or "" for the call itself. */
  readonly at: string
  readonly message: string
  /** A Set: a problem of every context of 10⁶ must not cost a scan of the others per context. */
  readonly contexts: Set<number>
  /** The distinct values found, in the order first seen: only as many as are shown, and one more for "…". */
  readonly values: Array<string>
}

export class Issues {
  /** The number of contexts compile checks: the "12" of "in 3 of 12 contexts" (0: count the ones seen). */
  contexts = 0
  private readonly entries: Array<SpecIssue | InContexts> = []
  private readonly seen = new Map<string, SpecIssue | InContexts>()
  private found = 0

  /** How many problems were found so far, duplicates included: compare before and after a step. */
  get size(): number {
    return this.found
  }

  /** An issue at an exact path; the same issue again (same path, message and value) is kept once. */
  add(path: string, message: string, actual?: unknown): void {
    this.push(actual === undefined ? { path, message } : { path, message, actual: show(actual) })
  }

  push(issue: SpecIssue): void {
    this.found++
    const key = `exact\u0000${issue.path}\u0000${issue.message}\u0000${issue.actual ?? ""}`
    if (this.seen.has(key)) return
    this.seen.set(key, issue)
    this.entries.push(issue)
  }

  /**
   * A problem of context `context`'s tables, at `at` inside them (`.reward[3][1]`; "" for the
   * `build` call itself). Grouped with the same problem (same place, same message) of other contexts.
   */
  inContext(context: number, at: string, message: string, actual?: unknown): void {
    this.found++
    const key = `context\u0000${at}\u0000${message}`
    let entry = this.seen.get(key) as InContexts | undefined
    if (entry === undefined) {
      entry = { at, message, contexts: new Set(), values: [] }
      this.seen.set(key, entry)
      this.entries.push(entry)
    }
    entry.contexts.add(context)
    if (actual === undefined || entry.values.length > SHOWN_VALUES) return
    const value = show(actual)
    if (!entry.values.includes(value)) entry.values.push(value)
  }

  /** The issues, in the order first found. */
  get list(): Array<SpecIssue> {
    return this.entries.map((e) => ("path" in e ? e : this.render(e)))
  }

  private render(e: InContexts): SpecIssue {
    const contexts = [...e.contexts]
    const count = contexts.length
    const of = contexts.reduce((m, c) => Math.max(m, c + 1), this.contexts)
    const label = count === 1
      ? `context ${contexts[0]}`
      : count === of
      ? "context *"
      : `contexts ${contexts.slice(0, LISTED_CONTEXTS).join(", ")}${count > LISTED_CONTEXTS ? ", …" : ""}`
    const shown = e.values.slice(0, SHOWN_VALUES).join(", ") + (e.values.length > SHOWN_VALUES ? ", …" : "")
    return {
      path: `environment.build(${label})${e.at}`,
      message: e.message,
      ...(e.values.length === 0 ? {} : { actual: shown }),
      ...(count === 1 ? {} : { inContexts: { count, of } })
    }
  }
}

/**
 * Which fields a user's `environment.build(context)` reads that the context does not have: `build`
 * is given a Proxy of the context that records them, so that a typo (`ctx.rigth`) is reported as
 * "undefined context field `rigth`" instead of as the NaN or missing entries it leads to
 * (docs/spec-reference.md, "Fields that build reads").
 *
 * Not recorded, because JavaScript or common tools look them up on any object without the spec
 * asking for a field: symbols (`${ctx}`, iteration, inspection), names that every object inherits
 * (`toString`, `hasOwnProperty`, `constructor`, …), `then` (probed by `await` and
 * `Promise.resolve`) and `toJSON` (probed by `JSON.stringify`), and the probes of test tools'
 * printers. A field tested first with `"x" in ctx`, `Object.hasOwn(ctx, "x")` or
 * `ctx.hasOwnProperty("x")` is optional by the spec's own say, and its reads are not recorded either.
 */
import type { Context } from "./Spec.ts"

/** Names looked up on any object by the language or common tools, never meant as a context field. */
const PROBED: ReadonlySet<string> = new Set(["then", "toJSON", "$$typeof", "asymmetricMatch", "nodeType", "@@__IMMUTABLE_ITERABLE__@@"])

export interface WatchedContext {
  /** What `build` is given: the context, unchanged for every read, write and listing. */
  readonly proxy: Context
  /** The fields read that the context does not have, in the order first read. */
  readonly absent: ReadonlySet<string>
}

export const watchReads = (context: Context): WatchedContext => {
  const absent = new Set<string>()
  const tested = new Set<string>()
  const proxy = new Proxy(context, {
    get(target, key, receiver) {
      if (typeof key === "string" && !Object.hasOwn(target, key) && !(key in Object.prototype) && !PROBED.has(key) && !tested.has(key)) {
        absent.add(key)
      }
      return Reflect.get(target, key, receiver)
    },
    // `"x" in ctx`; `Object.hasOwn` and `hasOwnProperty` ask for the field's descriptor.
    has(target, key) {
      if (typeof key === "string") tested.add(key)
      return Reflect.has(target, key)
    },
    getOwnPropertyDescriptor(target, key) {
      if (typeof key === "string") tested.add(key)
      return Reflect.getOwnPropertyDescriptor(target, key)
    }
  })
  return { proxy, absent }
}

/**
 * The field of `known` that `name` is most likely a typo of, if any: at most two edits apart, and
 * at most one edit per two letters, so that a short name is not matched with any other.
 */
export const closestField = (name: string, known: Iterable<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Math.min(2, Math.floor(name.length / 2)) + 1
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase())
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

/**
 * Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`: a swap counts as one,
 * as in `rigth` → `right`.
 */
const editDistance = (a: string, b: string): number => {
  const d: Array<Array<number>> = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

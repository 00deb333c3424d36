/**
 * A safe copy of a spec module's export before it is decoded. The export is user code: a field may
 * be a getter that throws, a Proxy, a cycle, a Promise or a BigInt. The schema decoder reads fields
 * as it goes and turns a throwing getter into an internal defect, so every field is read here
 * once, each read guarded, and every such value becomes an issue naming its field. What comes out
 * is plain data (objects, arrays, numbers, strings, booleans, functions) that the decoder can read
 * without running any user code but the functions themselves.
 */
import { formatPath, show, type SpecIssue } from "./SpecError.ts"

/** Deeper than this is not a spec a person wrote. */
const MAX_DEPTH = 64

const describeError = (e: unknown): string => {
  try {
    return e instanceof Error ? e.message : String(e)
  } catch {
    return "an unprintable value"
  }
}

const isThenable = (u: object): boolean => {
  try {
    return typeof (u as { then?: unknown }).then === "function"
  } catch {
    return false
  }
}

/** Copies `value`; on any issue, the copy is not to be used. */
export const snapshotSpec = (value: unknown): { readonly value: unknown; readonly issues: ReadonlyArray<SpecIssue> } => {
  const issues: Array<SpecIssue> = []
  // The objects on the path from the root to the current one, with their paths: a cycle returns to one of them.
  const ancestors = new Map<object, ReadonlyArray<PropertyKey>>()
  const copy = (u: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
    const at = formatPath(path)
    if (typeof u === "bigint") {
      const message = path.length === 0
        ? "expected a spec (export default Experiment.make({ ... })), not a BigInt"
        : "expected a number, not a BigInt (write it without the n)"
      issues.push({ path: at, message, actual: `${u}n` })
      return undefined
    }
    if (u === null || typeof u !== "object") return u // primitives and functions are used as they are
    if (isThenable(u)) {
      issues.push({
        path: at,
        message: "expected a value, not a Promise: a spec is plain data (export Experiment.make({ ... }), not the result of an async function)",
        actual: "a Promise"
      })
      return undefined
    }
    const earlier = ancestors.get(u)
    if (earlier !== undefined) {
      issues.push({ path: at, message: `expected plain data, not a cycle: this value contains itself (it is ${formatPath(earlier)})` })
      return undefined
    }
    if (path.length > MAX_DEPTH) {
      issues.push({ path: at, message: `expected plain data nested at most ${MAX_DEPTH} levels deep` })
      return undefined
    }
    let keys: ReadonlyArray<string>
    try {
      if (Array.isArray(u)) keys = Array.from({ length: u.length }, (_, i) => String(i))
      else keys = Object.keys(u)
    } catch (e) {
      issues.push({ path: at, message: `expected plain data, but listing its fields threw: ${describeError(e)}` })
      return undefined
    }
    ancestors.set(u, path)
    const isArray = Array.isArray(u)
    const out: Record<string, unknown> | Array<unknown> = isArray ? new Array(keys.length) : {}
    for (const k of keys) {
      const key = isArray ? Number(k) : k
      let v: unknown
      try {
        v = (u as Record<string, unknown>)[k]
      } catch (e) {
        issues.push({ path: formatPath([...path, key]), message: `expected a value, but reading this field threw: ${describeError(e)}` })
        continue
      }
      const c = copy(v, [...path, key])
      // defineProperty: a field named __proto__ must stay a field (the schema refuses it by name).
      Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true })
    }
    ancestors.delete(u)
    return out
  }
  const result = copy(value, [])
  return { value: result, issues }
}


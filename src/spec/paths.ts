/**
 * Field paths inside a spec (`stopping.k1`, `contexts.items[2].reward`) and the deep merge of a
 * `quick` variant over a spec: the small amount of plumbing that sweeps and `--quick` share.
 */

export type FieldPath = ReadonlyArray<string | number>

/** `a.b[2].c` or `a.b.2.c` → ["a", "b", 2, "c"]; undefined when it is not a well-formed path. */
export const parseFieldPath = (key: string): FieldPath | undefined => {
  if (key.length === 0) return undefined
  const out: Array<string | number> = []
  for (const part of key.split(".")) {
    const m = /^([A-Za-z_$][A-Za-z0-9_$]*)?((?:\[\d+\])*)$/.exec(part)
    if (m !== null && (m[1] !== undefined || m[2] !== "")) {
      if (m[1] !== undefined) out.push(m[1])
      for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]))
    } else if (/^\d+$/.test(part)) out.push(Number(part))
    else return undefined
  }
  return out
}

export const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  u !== null && typeof u === "object" && !Array.isArray(u) && (Object.getPrototypeOf(u) === Object.prototype || Object.getPrototypeOf(u) === null)

/** The value at `path`, if every step of it exists (own properties only). */
export const getAt = (root: unknown, path: FieldPath): { readonly found: boolean; readonly value: unknown } => {
  let cur: unknown = root
  for (const k of path) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur as object, k)) return { found: false, value: undefined }
    cur = (cur as Record<PropertyKey, unknown>)[k]
  }
  return { found: true, value: cur }
}

/** A copy of `root` with `value` at `path` (which must exist); the rest is shared, not copied. */
export const setAt = (root: unknown, path: FieldPath, value: unknown): unknown => {
  if (path.length === 0) return value
  const [k, ...rest] = path
  const parent = root as Record<PropertyKey, unknown> | Array<unknown>
  const child = setAt((parent as Record<PropertyKey, unknown>)[k], rest, value)
  if (Array.isArray(parent)) {
    const copy = [...parent]
    copy[k as number] = child
    return copy
  }
  return { ...parent, [k]: child }
}

/**
 * `over` merged over `base` (the `quick` variant over a spec). Plain objects merge key by key,
 * unless both carry a `_tag` and the tags differ (another builder: it replaces the whole value).
 * Arrays, numbers, strings and functions replace.
 */
export const deepMerge = (base: unknown, over: unknown): unknown => {
  if (!isPlainObject(base) || !isPlainObject(over)) return over
  if ("_tag" in over && over._tag !== base._tag) return over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    // defineProperty, not assignment: a "__proto__" key stays a field (and is then refused by the schema).
    Object.defineProperty(out, k, { value: Object.hasOwn(base, k) ? deepMerge(base[k], v) : v, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * A lossless JSON encoding of plain data, for the unit files of a resumable run (runFolder.ts):
 * what JSON alone would lose is tagged. A run's fields are plain objects, arrays, numbers,
 * strings, booleans, `undefined` and typed arrays (a policy's action table); any field added to
 * AlgorithmRun later (a learning curve: an array of plain objects of numbers and strings)
 * round-trips without a change here.
 *
 * Tagged values are objects whose only key besides its payload is `$`:
 *   NaN, Infinity, -Infinity, -0   {"$": "NaN"}, {"$": "Infinity"}, {"$": "-Infinity"}, {"$": "-0"}
 *   undefined                      {"$": "undefined"} (a field present with the value undefined stays so)
 *   a typed array                  {"$": "Int32Array", "data": [...]} (its elements encoded as numbers)
 *   an object with a `$` key       {"$": "object", "value": {...}} (so that it is never read as a tag)
 * Anything else (a Map, a class instance, a function, a BigInt) is a programming error: it throws.
 */

const TYPED = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array
} as const

type TypedName = keyof typeof TYPED

const NUMBERS: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY, "-0": -0 }

const encodeNumber = (x: number): unknown => {
  if (Number.isNaN(x)) return { $: "NaN" }
  if (x === Number.POSITIVE_INFINITY) return { $: "Infinity" }
  if (x === Number.NEGATIVE_INFINITY) return { $: "-Infinity" }
  if (Object.is(x, -0)) return { $: "-0" }
  return x
}

const isPlain = (u: object): boolean => {
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** `value` as JSON-safe data that `decodeLossless` turns back into an equal value. */
export const encodeLossless = (value: unknown): unknown => {
  if (value === undefined) return { $: "undefined" }
  if (value === null || typeof value === "string" || typeof value === "boolean") return value
  if (typeof value === "number") return encodeNumber(value)
  if (Array.isArray(value)) return value.map(encodeLossless)
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name
    if (!(name in TYPED)) throw new Error(`encodeLossless: unsupported binary value ${name}`)
    return { $: name, data: Array.from(value as unknown as ArrayLike<number>, encodeNumber) }
  }
  if (typeof value === "object" && isPlain(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      // defineProperty: a field named __proto__ stays a field.
      Object.defineProperty(out, k, { value: encodeLossless(v), enumerable: true, writable: true, configurable: true })
    }
    return Object.hasOwn(out, "$") ? { $: "object", value: out } : out
  }
  throw new Error(`encodeLossless: unsupported value of type ${typeof value === "object" ? value.constructor?.name ?? "object" : typeof value}`)
}

const numberText = (x: number): string =>
  Number.isNaN(x)
    ? `{"$":"NaN"}`
    : x === Number.POSITIVE_INFINITY
    ? `{"$":"Infinity"}`
    : x === Number.NEGATIVE_INFINITY
    ? `{"$":"-Infinity"}`
    : Object.is(x, -0)
    ? `{"$":"-0"}`
    : String(x) // JSON's text of a finite number

/**
 * `JSON.stringify(encodeLossless(value))`, the same text, written directly rather than through the
 * encoded copy (a unit file of a thousand agents is 10 MB: the copy took most of the time).
 */
export const losslessText = (value: unknown): string => {
  if (value === undefined) return `{"$":"undefined"}`
  if (value === null) return "null"
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "boolean") return value ? "true" : "false"
  if (typeof value === "number") return numberText(value)
  if (Array.isArray(value)) {
    let out = "["
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ","
      out += i in value ? losslessText(value[i]) : "null" // a hole: JSON writes it as null
    }
    return out + "]"
  }
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name
    if (!(name in TYPED)) throw new Error(`encodeLossless: unsupported binary value ${name}`)
    const data = value as unknown as ArrayLike<number>
    let out = `{"$":${JSON.stringify(name)},"data":[`
    for (let i = 0; i < data.length; i++) out += (i > 0 ? "," : "") + numberText(data[i])
    return out + "]}"
  }
  if (typeof value === "object" && isPlain(value)) {
    let out = "{"
    let first = true
    for (const [k, v] of Object.entries(value)) {
      out += `${first ? "" : ","}${JSON.stringify(k)}:${losslessText(v)}`
      first = false
    }
    out += "}"
    return Object.hasOwn(value, "$") ? `{"$":"object","value":${out}}` : out
  }
  return JSON.stringify(encodeLossless(value)) // throws, naming what is unsupported
}

/**
 * `JSON.stringify(encodeLossless(value))`, the same text, in pieces: the plain objects and arrays of
 * the first `depth` levels are written member by member, and each member below them is encoded and
 * stringified alone. A unit file holds a whole run, and a run of 10,000 agents holds 100,000 rows
 * and 280,000 curve points: encoded at once, the run was held three times (the run, its encoded
 * copy, the text); in pieces, only the run and the piece being written (runFolder.ts writeUnit).
 */
export function* encodedPieces(value: unknown, depth: number): Generator<string> {
  if (depth > 0 && Array.isArray(value)) {
    yield "["
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ","
      // A hole: encodeLossless's map keeps it, and JSON writes it as null.
      if (i in value) yield* encodedPieces(value[i], depth - 1)
      else yield "null"
    }
    yield "]"
    return
  }
  // An object with a `$` key is wrapped by encodeLossless (a tag of its own): written whole.
  if (depth > 0 && value !== null && typeof value === "object" && !ArrayBuffer.isView(value) && isPlain(value) && !Object.hasOwn(value, "$")) {
    yield "{"
    let first = true
    for (const [k, v] of Object.entries(value)) {
      yield `${first ? "" : ","}${JSON.stringify(k)}:`
      first = false
      yield* encodedPieces(v, depth - 1)
    }
    yield "}"
    return
  }
  yield losslessText(value)
}

const decodeObject = (o: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) {
    Object.defineProperty(out, k, { value: decodeLossless(v), enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** The value `encodeLossless` encoded. Throws on a tag it does not know (a file that is not its output). */
export const decodeLossless = (json: unknown): unknown => {
  if (json === null || typeof json !== "object") return json
  if (Array.isArray(json)) return json.map(decodeLossless)
  const o = json as Record<string, unknown>
  if (!Object.hasOwn(o, "$")) return decodeObject(o)
  const tag = o.$
  if (tag === "undefined") return undefined
  if (typeof tag === "string" && tag in NUMBERS) return NUMBERS[tag]
  if (tag === "object" && o.value !== null && typeof o.value === "object") return decodeObject(o.value as Record<string, unknown>)
  if (typeof tag === "string" && Object.hasOwn(TYPED, tag) && Array.isArray(o.data)) {
    return TYPED[tag as TypedName].from(o.data.map((x) => decodeLossless(x) as number))
  }
  throw new Error(`decodeLossless: unknown tag ${JSON.stringify(tag)}`)
}

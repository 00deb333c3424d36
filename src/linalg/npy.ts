/**
 * NumPy `.npy` files (format version 1.0), float64 little-endian, C order: what `distmt bench lsvi
 * --dump` writes so that any outside tool can recompute the backup.
 *
 * Written by hand: the format is a 10-byte preamble and a Python-literal header
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), and the arrays are
 * streamed from the learner's memory piece by piece, which no npm package does without a copy.
 *
 *   "\x93NUMPY" 0x01 0x00  <header length: uint16 LE>  "{'descr': '<f8', 'fortran_order': False, 'shape': (H, K, d), }"
 *   padded with spaces and a final "\n" so that the data start on a multiple of 64 bytes.
 */
import * as fs from "node:fs"
import * as os from "node:os"

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // \x93NUMPY

/** The header bytes of a float64 array of this shape. */
export const npyHeader = (shape: ReadonlyArray<number>): Uint8Array => {
  for (const n of shape) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`npy: bad dimension ${n} in shape [${shape.join(", ")}]`)
  }
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`
  let dict = `{'descr': '<f8', 'fortran_order': False, 'shape': ${dims}, }`
  const unpadded = 10 + dict.length + 1
  dict += " ".repeat((64 - (unpadded % 64)) % 64) + "\n"
  if (dict.length > 65535) throw new RangeError("npy: header too long for format 1.0")
  const out = new Uint8Array(10 + dict.length)
  out.set(MAGIC, 0)
  out[6] = 1
  out[7] = 0
  out[8] = dict.length & 0xff
  out[9] = dict.length >> 8
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i)
  return out
}

const bytesOf = (a: Float64Array): Uint8Array => {
  if (os.endianness() === "LE") return new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
  const out = new Uint8Array(a.byteLength)
  const view = new DataView(out.buffer)
  for (let i = 0; i < a.length; i++) view.setFloat64(8 * i, a[i], true)
  return out
}

/**
 * Writes a float64 array of `shape` to `file`, its values given as consecutive pieces in C order
 * (their lengths must add up to the product of the shape).
 */
export const writeNpy = (file: string, shape: ReadonlyArray<number>, pieces: Iterable<Float64Array>): void => {
  const expected = shape.reduce((p, n) => p * n, 1)
  const fd = fs.openSync(file, "w")
  try {
    fs.writeSync(fd, npyHeader(shape))
    let written = 0
    for (const piece of pieces) {
      written += piece.length
      if (written > expected) break
      const bytes = bytesOf(piece)
      let off = 0
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off)
    }
    if (written !== expected) {
      throw new RangeError(`npy: ${file}: shape [${shape.join(", ")}] needs ${expected} values, got ${written}`)
    }
  } finally {
    fs.closeSync(fd)
  }
}

/** Reads a float64 little-endian C-order `.npy` file (the kind `writeNpy` writes). */
export const readNpy = (file: string): { readonly shape: ReadonlyArray<number>; readonly data: Float64Array } => {
  const buf = fs.readFileSync(file)
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC[i]) throw new Error(`npy: ${file}: not a .npy file`)
  }
  if (buf[6] !== 1) throw new Error(`npy: ${file}: format version ${buf[6]}.${buf[7]} (only 1.0 is read)`)
  const len = buf[8] | (buf[9] << 8)
  const header = buf.subarray(10, 10 + len).toString("latin1")
  if (!/'descr':\s*'<f8'/.test(header)) throw new Error(`npy: ${file}: not little-endian float64: ${header.trim()}`)
  if (!/'fortran_order':\s*False/.test(header)) throw new Error(`npy: ${file}: Fortran order is not read`)
  const m = /'shape':\s*\(([^)]*)\)/.exec(header)
  if (m === null) throw new Error(`npy: ${file}: no shape in header`)
  const shape = m[1].split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(Number)
  const count = shape.reduce((p, n) => p * n, 1)
  const start = 10 + len
  if (buf.length - start !== 8 * count) throw new Error(`npy: ${file}: ${buf.length - start} data bytes for ${count} values`)
  const data = new Float64Array(count)
  const view = new DataView(buf.buffer, buf.byteOffset + start, 8 * count)
  for (let i = 0; i < count; i++) data[i] = view.getFloat64(8 * i, true)
  return { shape, data }
}

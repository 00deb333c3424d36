/**
 * Phase 1 of the step kernel alone ($rowsQuad of lsviSweep.wat; of lsvi.wat before 2026-12-01), from
 * memory and in cache, beside a plain sum of the same rows (the floor), for one or more versions of
 * it in one process, alternating (docs/performance.md, "Why the panels and the ring"):
 *
 *   git show REV:src/linalg/wasm/lsvi.wat > /tmp/old.wat      # or REV:src/linalg/wasm/lsviSweep.wat
 *   node bench/lsvi_phase1.mjs /tmp/old.wat src/linalg/wasm/lsviSweep.wat [--chunks N]
 *
 * d = 32, 240 chunks of 1,024 rows (61 MB: beyond a 32 MiB last-level cache; --chunks 2400 gives
 * 610 MB, beyond a 260 MiB one) with each chunk's forms after its rows, as in Store.ts; "in cache"
 * is one chunk (256 KiB) 50 times. Random rows: phase 1 does the
 * same work whatever their layout. Prints ns per row (medians of 27 rounds) and, for each version
 * after the first, whether its forms and values equal the first version's (a version that reads
 * the rows in another layout, panels against rows, combines other entries and differs).
 */
import { readFileSync } from "node:fs"
import { compileWat } from "../tools/wat.mjs"

const files = process.argv.slice(2)
const at = files.indexOf("--chunks")
const chunks = at < 0 ? 240 : Number(files.splice(at, 2)[1])
if (files.length === 0 || !(chunks >= 1)) throw new Error("usage: node bench/lsvi_phase1.mjs A.wat [B.wat …] [--chunks N]")
const d = 32, dp = 32, R = 1024
const chunkBytes = R * dp * 8 + R * 8
const val = chunks * chunkBytes, u = val + R * 24, w = u + dp * 8, c = w + dp * 8, tmp = c + 1024
const memory = new WebAssembly.Memory({ initial: Math.ceil((tmp + 16384) / 65536) })
// The plain sum is the floor's own (lsviFull.wat's sweep: two streams side by side); the imports
// it does not call are stubs.
const fullText = readFileSync(new URL("../src/linalg/wasm/lsviFull.wat", import.meta.url), "utf8")
const stub = () => { throw new Error("not used by sweep") }
const { sweep: sum } = new WebAssembly.Instance(new WebAssembly.Module(await compileWat(fullText)), {
  env: { memory, panelRow: stub, gather: stub }
}).exports
const kernels = []
for (const file of files) {
  // $rowsQuad was internal to lsvi.wat: export it there; a version without the scratch argument
  // ignores the last one.
  const source = readFileSync(file, "utf8")
  const text = source.includes('(export "rowsQuad")') ? source : source.replace("(func $rowsQuad", '(func $rowsQuad (export "rowsQuad")')
  const imports = { env: { memory, gather: () => { throw new Error("gather") } } }
  kernels.push(new WebAssembly.Instance(new WebAssembly.Module(await compileWat(text)), imports).exports.rowsQuad)
}
const f = new Float64Array(memory.buffer)
for (let i = 0; i < val / 8; i++) f[i] = Math.random() - 0.5
for (let i = 0; i < dp; i++) {
  f[u / 8 + i] = (Math.random() - 0.5) * 1e-3
  f[w / 8 + i] = Math.random()
}
f[c / 8] = 1e-3
const formsOf = (k) => k * chunkBytes + R * dp * 8
const resetForms = () => { for (let k = 0; k < chunks; k++) f.fill(1e6, formsOf(k) / 8, formsOf(k) / 8 + R) }
const fromMemory = (rowsQuad) => { for (let k = 0; k < chunks; k++) rowsQuad(k * chunkBytes, formsOf(k), R, d, dp, u, c, w, 1, 19, val, tmp) }
const inCache = (rowsQuad) => { for (let i = 0; i < 50; i++) rowsQuad(0, formsOf(0), R, d, dp, u, c, w, 1, 19, val, tmp) }
const ns = (ms, rows) => (ms * 1e6) / rows
const res = kernels.map(() => ({ memory: [], cache: [], sum: [] }))
for (let round = 0; round < 30; round++) {
  kernels.forEach((rowsQuad, i) => {
    resetForms()
    let t = performance.now()
    fromMemory(rowsQuad)
    res[i].memory.push(ns(performance.now() - t, chunks * R))
    t = performance.now()
    for (let k = 0; k < chunks; k++) sum(k * chunkBytes, R * dp)
    res[i].sum.push(ns(performance.now() - t, chunks * R))
    t = performance.now()
    inCache(rowsQuad)
    res[i].cache.push(ns(performance.now() - t, 50 * R))
  })
}
const outputs = kernels.map((rowsQuad) => {
  resetForms()
  fromMemory(rowsQuad)
  return [...f.subarray(formsOf(5) / 8, formsOf(5) / 8 + R), ...f.subarray(val / 8, val / 8 + R)]
})
const median = (xs) => [...xs.slice(3)].sort((a, b) => a - b)[(xs.length - 3) >> 1].toFixed(2)
files.forEach((file, i) => {
  const same = i === 0 ? "" : outputs[i].every((v, j) => v === outputs[0][j])
    ? "  same numbers as the first"
    : "  other numbers than the first (expected only if its rows have another layout)"
  console.log(`${file}: in cache ${median(res[i].cache)}  from memory ${median(res[i].memory)}  plain sum ${median(res[i].sum)} ns/row${same}`)
})

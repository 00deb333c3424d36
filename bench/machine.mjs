/**
 * Three facts about the machine that bound the per-episode update (docs/performance.md, "What bounds
 * the update here"): the clock the core runs WebAssembly at, how many f64x2 fused multiply-adds it
 * starts per nanosecond, and how fast one core reads memory as 1 to 8 streams side by side.
 *
 *   npx node bench/machine.mjs [MIB=640] [CHUNK_KIB=256]
 *
 * The clock: a chain of dependent fused multiply-adds (f64x2.relaxed_madd), each waiting for the
 * last, at 4 cycles each (their latency on recent Intel and AMD cores; a core where it differs
 * reads off by that factor). The reads: plain sums of MIB of float64 values, CHUNK_KIB at a time
 * as the learner's chunks are read, each chunk split into S equal parts read side by side, 64
 * bytes of each per iteration (S = 2 is the floor's `sweep` in lsviFull.wat). MIB beyond the
 * last-level cache gives memory's speed, a few tens of MiB that cache's. GB/s are medians of 13
 * rounds after 2, the stream counts in turn in every round.
 */
import { compileWat } from "../tools/wat.mjs"

const instance = async (text, imports = {}) =>
  new WebAssembly.Instance(new WebAssembly.Module(await compileWat(text)), imports).exports

const step = "(local.set $x (f64x2.relaxed_madd (local.get $x) (f64x2.splat (f64.const 0.9999999)) (f64x2.splat (f64.const 1e-9))))"
const { chain } = await instance(`(module (func (export "chain") (param $n i32) (result f64) (local $x v128)
  (local.set $x (f64x2.splat (f64.const 1)))
  (block $done (loop $next (br_if $done (i32.eqz (local.get $n)))
    ${step} ${step} ${step} ${step}
    (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $next)))
  (f64x2.extract_lane 0 (local.get $x))))`)
chain(1_000_000)
const clocks = [0, 1, 2].map(() => {
  const t = performance.now()
  chain(50_000_000)
  return (50_000_000 * 4 * 4) / ((performance.now() - t) * 1e6)
})
console.log(`clock (4-cycle multiply-add chain): ${clocks.map((g) => g.toFixed(2)).join(", ")} GHz`)

// The throughput: ten independent chains side by side, more than latency × issue rate on any
// current core, so that only how many multiply-adds the core starts per cycle bounds them.
const chains = Array.from({ length: 10 }, (_, i) => i)
const { wide } = await instance(`(module (func (export "wide") (param $n i32) (result f64)
  ${chains.map((i) => `(local $x${i} v128)`).join(" ")}
  (block $done (loop $next (br_if $done (i32.eqz (local.get $n)))
    ${chains.map((i) => step.replaceAll("$x", `$x${i}`)).join(" ")}
    (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $next)))
  (f64x2.extract_lane 0 ${chains.map((i) => `(local.get $x${i})`).reduce((a, b) => `(f64x2.add ${a} ${b})`)})))`)
wide(1_000_000)
const perNs = [0, 1, 2].map(() => {
  const t = performance.now()
  wide(20_000_000)
  return (20_000_000 * 10) / ((performance.now() - t) * 1e6)
})
console.log(`f64x2 multiply-adds per ns (10 independent chains): ${perNs.map((r) => r.toFixed(2)).join(", ")}`)

/** Σ of n values at x as S streams, part s from value s·k·8 on (k = ⌊n/8S⌋; the last n mod 8S are left out). */
const sumText = (S) => {
  const each = (f) => Array.from({ length: S }, (_, s) => f(s)).join("\n")
  return `(module (import "env" "memory" (memory 1))
  (func (export "sum") (param $x i32) (param $n i32) (result f64) (local $k i32) (local $part i32)
    ${each((s) => `(local $p${s} i32) (local $a${s} v128) (local $b${s} v128)`)}
    (local.set $k (i32.div_u (local.get $n) (i32.const ${8 * S})))
    (local.set $part (i32.shl (local.get $k) (i32.const 6)))
    ${each((s) => `(local.set $p${s} (i32.add (local.get $x) (i32.mul (local.get $part) (i32.const ${s}))))`)}
    (block $done (loop $next (br_if $done (i32.eqz (local.get $k)))
      ${each((s) => `(local.set $a${s} (f64x2.add (local.get $a${s}) (f64x2.add (v128.load (local.get $p${s})) (v128.load offset=16 (local.get $p${s})))))
      (local.set $b${s} (f64x2.add (local.get $b${s}) (f64x2.add (v128.load offset=32 (local.get $p${s})) (v128.load offset=48 (local.get $p${s})))))
      (local.set $p${s} (i32.add (local.get $p${s}) (i32.const 64)))`)}
      (local.set $k (i32.sub (local.get $k) (i32.const 1))) (br $next)))
    ${each((s) => `(local.set $a0 (f64x2.add (local.get $a0) (local.get $b${s})))`)}
    ${each((s) => (s === 0 ? "" : `(local.set $a0 (f64x2.add (local.get $a0) (local.get $a${s})))`))}
    (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0)))))`
}
const [mib = 640, chunkKib = 256] = process.argv.slice(2).map(Number)
if (!(mib >= 1 && chunkKib >= 4)) throw new Error("usage: npx node bench/machine.mjs [MIB >= 1] [CHUNK_KIB >= 4]")
const bytes = mib * 1048576, chunk = chunkKib * 1024
const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) })
new Float64Array(memory.buffer).fill(1)
const streams = [1, 2, 3, 4, 6, 8]
const sums = await Promise.all(streams.map(async (S) => (await instance(sumText(S), { env: { memory } })).sum))
const rates = streams.map(() => [])
for (let round = 0; round < 15; round++) {
  sums.forEach((sum, i) => {
    const t = performance.now()
    for (let at = 0; at + chunk <= bytes; at += chunk) sum(at, chunk / 8)
    rates[i].push(bytes / ((performance.now() - t) * 1e6))
  })
}
const median = (xs) => xs.slice(2).sort((a, b) => a - b)[(xs.length - 2) >> 1]
console.log(`plain sums of ${mib} MiB in chunks of ${chunkKib} KiB, GB/s:`)
streams.forEach((S, i) => console.log(`  ${S} stream${S === 1 ? " " : "s"}  ${median(rates[i]).toFixed(1)}`))

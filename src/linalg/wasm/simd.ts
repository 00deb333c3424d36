/**
 * The SIMD kernels of lsvi.wat (the per-episode step, with phase 1's sweep in lsviSweep.wat and
 * phase 3's sums in lsviRhs.wat) and lsviFull.wat (the backup from scratch), loaded from the bytes
 * embedded in lsviWasm.ts, lsviSweepWasm.ts, lsviRhsWasm.ts and lsviFullWasm.ts.
 *
 * The modules are compiled once per process (1 to 4 KiB each); each learner instantiates them over its
 * own `WebAssembly.Memory`, where it keeps its stored features, so the kernels read them in place.
 * Where WebAssembly SIMD is missing, `simdAvailable()` is false and callers use the TypeScript loops
 * of the same kernels (src/learner/incremental/kernelsJs.ts, `kernel: "js"`).
 */
import { lsviFullWasmBase64, lsviFullWasmPlainBase64 } from "./lsviFullWasm.ts"
import { lsviRhsWasmBase64 } from "./lsviRhsWasm.ts"
import { lsviSweepWasmBase64, lsviSweepWasmPlainBase64 } from "./lsviSweepWasm.ts"
import { lsviWasmBase64 } from "./lsviWasm.ts"

/** The exports of lsvi.wat, lsviRhs.wat and lsviFull.wat; pointers are byte offsets into the learner's memory. */
export interface SimdKernels {
  /** One step of the backward pass over one chunk (lsvi.wat's `step`, and kernelsJs.ts's stepJs). */
  readonly step: (
    next: number,
    q: number,
    taken: number,
    qt: number,
    takenAction: number,
    phi: number,
    phiPanels: number,
    n: number,
    fresh0: number,
    A: number,
    d: number,
    dp: number,
    w: number,
    wl: number,
    B: number,
    u: number,
    c: number,
    m: number,
    beta: number,
    cap: number,
    twin: number,
    rhs: number,
    rhsl: number,
    val: number,
    tmp: number
  ) => void
  /** L += Σ φφᵀ over n rows, upper part (rows i, i+1 from column i rounded down to 8; the caller mirrors it). */
  readonly gram: (phi: number, n: number, d: number, dp: number, L: number) => void
  /** q_r = ‖R x_r‖² for the n rows of the panels at x, with U = Rᵀ upper triangular (d rows of stride d rounded up to 8); tmp: 2·dp scratch. */
  readonly forms: (x: number, n: number, d: number, dp: number, U: number, q: number, tmp: number) => void
  /** y[0..dp) += Σ_t v_t x_t over n rows x_t of stride dp (v: n float64 values). */
  readonly gemvT: (y: number, v: number, x: number, n: number, dp: number) => void
  /** Σ of n float64 values (n even): one read of each, for the memory floor of the bench. */
  readonly sweep: (x: number, n: number) => number
}

const bytesOf = (base64: string): Uint8Array => Uint8Array.from(Buffer.from(base64, "base64"))

/** The modules' bytes, with fused multiply-adds (exported for the test that checks them against the sources). */
export const lsviWasmBytes = (): Uint8Array => bytesOf(lsviWasmBase64)
export const lsviSweepWasmBytes = (): Uint8Array => bytesOf(lsviSweepWasmBase64)
export const lsviRhsWasmBytes = (): Uint8Array => bytesOf(lsviRhsWasmBase64)
export const lsviFullWasmBytes = (): Uint8Array => bytesOf(lsviFullWasmBase64)
/** The builds without fused multiply-adds of the modules that have them (the same test). */
export const lsviSweepWasmPlainBytes = (): Uint8Array => bytesOf(lsviSweepWasmPlainBase64)
export const lsviFullWasmPlainBytes = (): Uint8Array => bytesOf(lsviFullWasmPlainBase64)

interface Modules {
  readonly step: WebAssembly.Module
  readonly sweep: WebAssembly.Module
  readonly rhs: WebAssembly.Module
  readonly full: WebAssembly.Module
}

/**
 * The two builds of the same sources (tools/build-wasm.mjs): "fma" with fused multiply-adds
 * (relaxed SIMD), "plain" with each written as a multiply and an add, for runtimes without relaxed
 * SIMD. Both give the same numbers to about 1e-15; the tests check both.
 */
export type SimdBuild = "fma" | "plain"

const sources: Record<SimdBuild, readonly [string, string, string, string]> = {
  fma: [lsviWasmBase64, lsviSweepWasmBase64, lsviRhsWasmBase64, lsviFullWasmBase64],
  plain: [lsviWasmBase64, lsviSweepWasmPlainBase64, lsviRhsWasmBase64, lsviFullWasmPlainBase64]
}

const compiled = new Map<SimdBuild, Modules | null>()

/** A build's modules, compiled once per process; null where this runtime does not accept them. */
const modulesOf = (build: SimdBuild): Modules | null => {
  let modules = compiled.get(build)
  if (modules === undefined) {
    const [step, sweep, rhs, full] = sources[build].map(bytesOf)
    const module = (b: Uint8Array) => new WebAssembly.Module(b)
    modules = [step, sweep, rhs, full].every((b) => WebAssembly.validate(b))
      ? { step: module(step), sweep: module(sweep), rhs: module(rhs), full: module(full) }
      : null
    compiled.set(build, modules)
  }
  return modules
}

/** The build this runtime runs by default: with fused multiply-adds where it accepts them, else without; null without SIMD. */
const defaultBuild = (): SimdBuild | null => (modulesOf("fma") !== null ? "fma" : modulesOf("plain") !== null ? "plain" : null)

/** Whether this runtime runs the SIMD kernels (WebAssembly with 128-bit SIMD). */
export const simdAvailable = (): boolean => defaultBuild() !== null

/**
 * The kernels bound to `memory`, of `build` (the runtime's default without it). Throws if this
 * runtime does not run that build (check `simdAvailable`).
 */
export const instantiate = (memory: WebAssembly.Memory, build: SimdBuild | null = defaultBuild()): SimdKernels => {
  const modules = build === null ? null : modulesOf(build)
  if (modules === null) throw new Error(`WebAssembly SIMD${build === "fma" ? " with relaxed SIMD" : ""} is not available in this runtime`)
  const sweep = new WebAssembly.Instance(modules.sweep, { env: { memory } }).exports
  const rhs = new WebAssembly.Instance(modules.rhs, { env: { memory } }).exports
  const step = new WebAssembly.Instance(modules.step, {
    env: { memory, rowsQuad: sweep.rowsQuad, gemvT: rhs.gemvT, gemvTPanels: rhs.gemvTPanels }
  }).exports
  const full = new WebAssembly.Instance(modules.full, { env: { memory, panelRow: step.panelRow, gather: step.gather } }).exports
  return { ...rhs, ...step, ...full } as unknown as SimdKernels
}

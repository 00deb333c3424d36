/**
 * The SIMD kernels of lsvi.wat, loaded from the bytes embedded in lsviWasm.ts.
 *
 * The module is compiled once per process (it is 1 KiB); each learner instantiates it over its own
 * `WebAssembly.Memory`, where it keeps its stored features, so the kernels read them in place.
 * Where WebAssembly SIMD is missing, `simdAvailable()` is false and callers use the TypeScript loops
 * of the same kernels (src/learner/incremental/kernelsJs.ts, `kernel: "js"`).
 */
import { lsviWasmBase64, lsviWasmPlainBase64 } from "./lsviWasm.ts"

/** The exports of lsvi.wat; pointers are byte offsets into the learner's memory. */
export interface SimdKernels {
  readonly step: (
    next: number,
    q: number,
    phi: number,
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

/** The module's bytes, with fused multiply-adds (exported for the test that checks them against lsvi.wat). */
export const lsviWasmBytes = (): Uint8Array => Uint8Array.from(Buffer.from(lsviWasmBase64, "base64"))

/** The same module without relaxed SIMD, for runtimes that have 128-bit SIMD but not relaxed SIMD. */
export const lsviWasmPlainBytes = (): Uint8Array => Uint8Array.from(Buffer.from(lsviWasmPlainBase64, "base64"))

let compiled: WebAssembly.Module | null | undefined = undefined

const moduleOnce = (): WebAssembly.Module | null => {
  if (compiled === undefined) {
    compiled = null
    for (const bytes of [lsviWasmBytes(), lsviWasmPlainBytes()]) {
      if (WebAssembly.validate(bytes)) {
        compiled = new WebAssembly.Module(bytes)
        break
      }
    }
  }
  return compiled
}

/** Whether this runtime runs the SIMD kernels (WebAssembly with 128-bit SIMD). */
export const simdAvailable = (): boolean => moduleOnce() !== null

/** The kernels bound to `memory`. Throws if WebAssembly SIMD is unavailable (check `simdAvailable`). */
export const instantiate = (memory: WebAssembly.Memory): SimdKernels => {
  const mod = moduleOnce()
  if (mod === null) throw new Error("WebAssembly SIMD is not available in this runtime")
  const instance = new WebAssembly.Instance(mod, { env: { memory } })
  return instance.exports as unknown as SimdKernels
}

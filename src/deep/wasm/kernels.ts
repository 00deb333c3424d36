/**
 * The DQN engine's WebAssembly kernels (dqn.wat), loaded from the bytes embedded in dqnWasm.ts, and
 * the memory they work in: every parameter set the engine keeps (online, target, Adam's two
 * moments, the gradient, EWC's λF and anchor θ*) as one flat float32 region, each parameter tensor
 * starting on a 16-byte boundary, then the acting pass's input and activations. onnxruntime reads
 * and writes the same memory through typed-array views, so nothing is copied between the graph and
 * the optimiser.
 */
import { type NetShape, paramDims, type Params } from "../network.ts"
import { dqnWasmBase64 } from "./dqnWasm.ts"

export interface DqnKernels {
  readonly adam: (
    w: number, g: number, m: number, v: number, n: number,
    b1: number, nb1: number, b2: number, nb2: number, step: number, invSqrtBc2: number, eps: number,
    ewc: number, lf: number, anchor: number
  ) => void
  readonly act: (
    w1: number, b1: number, w2: number, b2: number, w3: number, b3: number,
    x: number, h1: number, h2: number, q: number,
    C: number, K: number, H: number, A: number
  ) => void
}

/** The module's bytes (exported for the test that checks them against dqn.wat). */
export const dqnWasmBytes = (): Uint8Array => Uint8Array.from(Buffer.from(dqnWasmBase64, "base64"))

let compiled: WebAssembly.Module | undefined

/** The regions of the engine's memory, in order. */
export const REGIONS = ["online", "target", "m", "v", "grad", "lf", "anchor"] as const
export type Region = (typeof REGIONS)[number]

/** A parameter set laid out in the engine's memory: six views over one region. */
export interface Layout {
  /** Float32 entries per region: the parameters, each rounded up to a multiple of 4. */
  readonly size: number
  /** Byte offset of a region. */
  readonly at: (r: Region) => number
  /** The six parameter tensors of a region, as views into the memory. */
  readonly views: (r: Region) => Params
  /** Byte offsets of the six parameter tensors within a region. */
  readonly starts: ReadonlyArray<number>
  /** The acting pass's observation [C,10,10] (a view) and the byte offsets of h1, h2 and q. */
  readonly acting: { readonly x: Float32Array; readonly xAt: number; readonly h1: number; readonly h2: number; readonly q: number }
  /** The acting pass's Q-values (a view of q). */
  readonly q: Float32Array
}

const round4 = (n: number) => Math.ceil(n / 4) * 4

/** Allocates the memory for a network of shape `s` and instantiates the kernels over it. */
export const instantiate = (s: NetShape): { readonly kernels: DqnKernels; readonly layout: Layout } => {
  const sizes = paramDims(s).map((d) => d.reduce((a, b) => a * b, 1))
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, n) => a + round4(n), 0))
  const size = starts[5] + round4(sizes[5])
  // After the regions: x [C·100], h1 [K·64], h2 [H], q [A], each from a 16-byte boundary.
  const scratch = [s.channels * 100, s.convChannels * 64, s.hidden, s.actions].map(round4)
  const scratchAt = scratch.map((_, i) => (REGIONS.length * size + scratch.slice(0, i).reduce((a, n) => a + n, 0)) * 4)
  const bytes = scratchAt[3] + scratch[3] * 4
  // Fixed size: growing a memory detaches its buffer, and onnxruntime holds views into it.
  const pages = Math.ceil(bytes / 65536)
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages })
  compiled ??= new WebAssembly.Module(dqnWasmBytes())
  const kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as DqnKernels
  const at = (r: Region) => REGIONS.indexOf(r) * size * 4
  const views = (r: Region): Params =>
    sizes.map((n, i) => new Float32Array(memory.buffer, at(r) + starts[i] * 4, n)) as unknown as Params
  const acting = { x: new Float32Array(memory.buffer, scratchAt[0], s.channels * 100), xAt: scratchAt[0], h1: scratchAt[1], h2: scratchAt[2], q: scratchAt[3] }
  const q = new Float32Array(memory.buffer, scratchAt[3], s.actions)
  return { kernels, layout: { size, at, views, starts: starts.map((n) => n * 4), acting, q } }
}

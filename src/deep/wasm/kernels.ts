/**
 * The DQN engine's WebAssembly kernels (conv.wat: the training step's convolution; step.wat: its
 * dense weight gradient and Adam; dqn.wat: acting), loaded from the bytes embedded in convWasm.ts,
 * stepWasm.ts and dqnWasm.ts, all instantiated over one memory, and
 * the memory they work in: every parameter set the engine keeps (online, target, Adam's two
 * moments, the gradient, EWC's λF and anchor θ*) as one flat float32 region, each parameter tensor
 * starting on a 16-byte boundary, then the acting pass's input and activations, then the training
 * step's areas (Training). onnxruntime reads
 * and writes the same memory through typed-array views, so nothing is copied between the graph and
 * the optimiser.
 */
import { type NetShape, paramDims, type Params } from "../network.ts"
import { convWasmBase64 } from "./convWasm.ts"
import { dqnWasmBase64 } from "./dqnWasm.ts"
import { stepWasmBase64, stepWasmPlainBase64 } from "./stepWasm.ts"

export interface DqnKernels {
  readonly adam: (
    w: number, g: number, m: number, v: number, n: number,
    b1: number, nb1: number, b2: number, nb2: number, step: number, invSqrtBc2: number, eps: number,
    ewc: number, lf: number, anchor: number
  ) => void
  /** g = dzᵀ x: g [H, F], dz [B, H], x [B, F] (F a multiple of 8), with B·F floats of scratch at `panel`. */
  readonly denseWeightGrad: (dz: number, x: number, g: number, B: number, H: number, F: number, panel: number) => void
  /**
   * denseWeightGrad's g taken at once by `adam` on the weights w [H, F] (m, v, lf, anchor: the same
   * tensor in the other regions), four rows at a time through 4·F floats of scratch at `rows`.
   */
  readonly denseWeightGradAdam: (
    dz: number, x: number, B: number, H: number, F: number, panel: number, rows: number,
    w: number, m: number, v: number,
    b1: number, nb1: number, b2: number, nb2: number, step: number, invSqrtBc2: number, eps: number,
    ewc: number, lf: number, anchor: number
  ) => void
  /**
   * h1 [n, K, 8, 8] = ReLU(conv3×3(obs) + b1) for n observations [n, C, 10, 10], and where `mask` ≠ 0
   * ReLU's derivative 1[h1 > 0] there, and where `patches` ≠ 0 the observations' 3×3 patches
   * [n·64, C·9], with (C·9 + 64)·K4 floats of scratch.
   */
  readonly convForward: (
    w1: number, b1: number, obs: number, n: number, C: number, K: number, h1: number, mask: number, scratch: number, patches: number
  ) => void
  readonly act: (
    w1: number, b1: number, w2: number, b2: number, w3: number, b3: number,
    x: number, h1: number, h2: number, q: number,
    C: number, K: number, H: number, A: number
  ) => void
}

const bytesOf = (base64: string): Uint8Array => Uint8Array.from(Buffer.from(base64, "base64"))

/** dqn.wat's bytes (exported, like the others, for the test that checks them against the source). */
export const dqnWasmBytes = (): Uint8Array => bytesOf(dqnWasmBase64)

/** conv.wat's bytes. */
export const convWasmBytes = (): Uint8Array => bytesOf(convWasmBase64)

/** step.wat's bytes, with fused multiply-adds (relaxed SIMD). */
export const stepWasmBytes = (): Uint8Array => bytesOf(stepWasmBase64)

/** step.wat without relaxed SIMD, for runtimes that have 128-bit SIMD but not relaxed SIMD. */
export const stepWasmPlainBytes = (): Uint8Array => bytesOf(stepWasmPlainBase64)

let compiled: { readonly dqn: WebAssembly.Module; readonly conv: WebAssembly.Module; readonly step: WebAssembly.Module } | undefined

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
  readonly acting: { readonly x: Float32Array; readonly h1: number; readonly h2: number; readonly q: number }
  /** The acting pass's Q-values (a view of q). */
  readonly q: Float32Array
  /** The training step's areas (Training). */
  readonly training: Training
}

/**
 * What a training step keeps in the memory, as views (a kernel takes a view's `byteOffset`): the
 * batch's observations and next observations [B, C, 10, 10], copied in; the online and target
 * networks' convolution outputs h1 and h1n [B, K·64], h1's ReLU mask and the observations' patches
 * [B·64, C·9] (convForward), which the graph reads; the graph's dz2 [B, H]; then the byte offsets
 * of the scratch of convForward (C·9·K4 + 64·K4 floats), of denseWeightGrad's panels (B·K·64
 * floats) and of denseWeightGradAdam's rows (4·K·64 floats).
 */
export interface Training {
  readonly obs: Float32Array
  readonly nextObs: Float32Array
  readonly h1: Float32Array
  readonly h1Mask: Float32Array
  readonly h1n: Float32Array
  readonly patches: Float32Array
  readonly dz2: Float32Array
  readonly convScratchAt: number
  readonly panelAt: number
  readonly rowsAt: number
}

const round4 = (n: number) => Math.ceil(n / 4) * 4

/** Allocates the memory for a network of shape `s` trained on batches of `batch` and instantiates the kernels over it. */
export const instantiate = (s: NetShape, batch: number): { readonly kernels: DqnKernels; readonly layout: Layout } => {
  const sizes = paramDims(s).map((d) => d.reduce((a, b) => a * b, 1))
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, n) => a + round4(n), 0))
  const size = starts[5] + round4(sizes[5])
  // After the regions, each area from a 16-byte boundary: the acting pass's x [C·100], h1 [K·64],
  // h2 [H], q [A]; then the training step's (Training).
  const I = s.channels * 100, F = s.convChannels * 64, K4 = round4(s.convChannels)
  const areas = {
    x: I, actH1: F, h2: s.hidden, q: s.actions,
    obs: batch * I, nextObs: batch * I, h1: batch * F, h1Mask: batch * F, h1n: batch * F,
    patches: batch * 64 * s.channels * 9, dz2: batch * s.hidden,
    convScratch: (s.channels * 9 + 64) * K4, panel: batch * F, rows: 4 * F
  }
  const offsets: Record<string, number> = {}
  let end = REGIONS.length * size * 4
  for (const [name, n] of Object.entries(areas)) {
    offsets[name] = end
    end += round4(n) * 4
  }
  // Fixed size: growing a memory detaches its buffer, and onnxruntime holds views into it.
  const pages = Math.ceil(end / 65536)
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages })
  compiled ??= {
    dqn: new WebAssembly.Module(dqnWasmBytes()),
    conv: new WebAssembly.Module(convWasmBytes()),
    step: new WebAssembly.Module([stepWasmBytes(), stepWasmPlainBytes()].find((b) => WebAssembly.validate(b)) ?? stepWasmPlainBytes())
  }
  const imports = { env: { memory } }
  const kernels = {
    ...new WebAssembly.Instance(compiled.dqn, imports).exports,
    ...new WebAssembly.Instance(compiled.conv, imports).exports,
    ...new WebAssembly.Instance(compiled.step, imports).exports
  } as unknown as DqnKernels
  const at = (r: Region) => REGIONS.indexOf(r) * size * 4
  const views = (r: Region): Params =>
    sizes.map((n, i) => new Float32Array(memory.buffer, at(r) + starts[i] * 4, n)) as unknown as Params
  const view = (name: keyof typeof areas) => new Float32Array(memory.buffer, offsets[name], areas[name])
  const acting = { x: view("x"), h1: offsets.actH1, h2: offsets.h2, q: offsets.q }
  const q = view("q")
  const training: Training = {
    obs: view("obs"), nextObs: view("nextObs"), h1: view("h1"), h1Mask: view("h1Mask"), h1n: view("h1n"),
    patches: view("patches"), dz2: view("dz2"),
    convScratchAt: offsets.convScratch, panelAt: offsets.panel, rowsAt: offsets.rows
  }
  return { kernels, layout: { size, at, views, starts: starts.map((n) => n * 4), acting, q, training } }
}

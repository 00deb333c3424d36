/**
 * The MinAtar Q-network's shape and parameters: input C×10×10 → 3×3 convolution (16 channels, no
 * padding, stride 1) → ReLU → flatten (16·8·8 = 1024, channel-major as PyTorch's `view`) → dense
 * 128 → ReLU → one output per action.
 *
 * Parameters are six Float32Arrays in PyTorch's layouts (conv weight [K,C,3,3], linear weights
 * [out,in]) so that every engine (the TypeScript reference, the ONNX graph, PyTorch in the bench)
 * reads the same numbers.
 */
import type { Rng } from "../rng/Rng.ts"

export const SIDE = 10
export const KERNEL = 3
export const CONV_SIDE = SIDE - KERNEL + 1 // 8

export interface NetShape {
  readonly channels: number
  readonly convChannels: number
  readonly hidden: number
  readonly actions: number
}

/** w1 [K,C,3,3], b1 [K], w2 [H, K·64], b2 [H], w3 [A,H], b3 [A]. */
export type Params = readonly [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array]

export const PARAM_NAMES = ["w1", "b1", "w2", "b2", "w3", "b3"] as const

export const inputSize = (s: NetShape): number => s.channels * SIDE * SIDE
export const flatSize = (s: NetShape): number => s.convChannels * CONV_SIDE * CONV_SIDE

/** The dimensions of each parameter tensor, in PARAM_NAMES order. */
export const paramDims = (s: NetShape): ReadonlyArray<ReadonlyArray<number>> => [
  [s.convChannels, s.channels, KERNEL, KERNEL],
  [s.convChannels],
  [s.hidden, flatSize(s)],
  [s.hidden],
  [s.actions, s.hidden],
  [s.actions]
]

const sizeOf = (dims: ReadonlyArray<number>): number => dims.reduce((a, b) => a * b, 1)

export const zerosLike = (s: NetShape): Params => paramDims(s).map((d) => new Float32Array(sizeOf(d))) as unknown as Params

export const cloneParams = (p: Params): Params => p.map((t) => t.slice()) as unknown as Params

export const copyParams = (from: Params, to: Params): void => {
  for (let i = 0; i < 6; i++) to[i].set(from[i])
}

export const paramCount = (s: NetShape): number => paramDims(s).reduce((a, d) => a + sizeOf(d), 0)

/**
 * PyTorch's default initialisation of Conv2d and Linear (Kaiming-uniform with a = √5, which is
 * U(−1/√fan_in, 1/√fan_in) for weights, and the same bound for biases), drawn from `rng`, so a
 * seed gives the same network in every engine.
 */
export const initParams = (s: NetShape, rng: Rng): Params => {
  const p = zerosLike(s)
  const fanIn = [s.channels * KERNEL * KERNEL, s.channels * KERNEL * KERNEL, flatSize(s), flatSize(s), s.hidden, s.hidden]
  for (let i = 0; i < 6; i++) {
    const bound = 1 / Math.sqrt(fanIn[i])
    const t = p[i]
    for (let j = 0; j < t.length; j++) t[j] = (2 * rng.next() - 1) * bound
  }
  return p
}

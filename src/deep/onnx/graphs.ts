/**
 * The DQN's ONNX graphs, built in code: the acting forward pass, and the training step's gradient
 * (target forward, online forward, Huber TD loss, hand-derived backward pass) as one graph.
 * onnxruntime has no training API in Node, so the backward pass is written out here op by op; it
 * mirrors src/deep/reference.ts line for line and test/dqn-engine.test.ts checks the two agree.
 *
 * Opset 17: ReduceMax/ReduceMean take `axes` as an attribute, ReduceSum as an input.
 */
import { CONV_SIDE, type NetShape, PARAM_NAMES, SIDE, paramDims } from "../network.ts"
import { FLOAT, type Graph, type Node, type Tensor, type ValueInfo } from "./proto.ts"

export const OPSET = 17

class Builder {
  readonly nodes: Array<Node> = []
  readonly initializers: Array<Tensor> = []
  private count = 0

  /** Adds a node with one output and returns that output's name. */
  op(op: string, inputs: ReadonlyArray<string>, attributes?: Node["attributes"], name?: string): string {
    const out = name ?? `${op.toLowerCase()}_${this.count++}`
    this.nodes.push({ op, inputs, outputs: [out], ...(attributes === undefined ? {} : { attributes }) })
    return out
  }

  float(value: number, name = `c${this.count++}`): string {
    this.initializers.push({ name, dims: [], data: Float32Array.of(value) })
    return name
  }

  ints(values: ReadonlyArray<number>, name = `i${this.count++}`): string {
    this.initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) })
    return name
  }
}

const prefixed = (prefix: string): ReadonlyArray<string> => PARAM_NAMES.map((n) => `${prefix}${n}`)

const floats = (name: string, dims: ReadonlyArray<number | string>): ValueInfo => ({ name, type: FLOAT, dims })

const paramInfos = (s: NetShape, prefix: string): Array<ValueInfo> =>
  paramDims(s).map((d, i) => floats(`${prefix}${PARAM_NAMES[i]}`, d))

/** The dense layers' parameters w2, b2, w3, b3: what the gradient graph reads of a network. */
const denseInfos = (s: NetShape, prefix: string): Array<ValueInfo> => paramInfos(s, prefix).filter((_, i) => i >= 2)

interface Forward {
  readonly h1: string
  readonly h2: string
  readonly q: string
}

/** conv → ReLU → flatten → dense → ReLU → dense, with the parameters named by `p`. */
const forward = (g: Builder, x: string, p: ReadonlyArray<string>, qName?: string): Forward => {
  const h1 = g.op("Flatten", [g.op("Relu", [g.op("Conv", [x, p[0], p[1]], { kernel_shape: [3, 3] })])], { axis: 1 })
  return dense(g, h1, p, qName)
}

/** The two dense layers after the convolution's flattened output h1. */
const dense = (g: Builder, h1: string, p: ReadonlyArray<string>, qName?: string): Forward => {
  const h2 = g.op("Relu", [g.op("Gemm", [h1, p[2], p[3]], { transB: 1 })])
  const q = g.op("Gemm", [h2, p[4], p[5]], { transB: 1 }, qName)
  return { h1, h2, q }
}

/** The acting graph: obs [N,C,10,10] and the parameters → q [N,A]. */
export const forwardGraph = (s: NetShape): Graph => {
  const g = new Builder()
  forward(g, "obs", PARAM_NAMES, "q")
  return {
    name: "dqn_forward",
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [floats("obs", ["N", s.channels, SIDE, SIDE]), ...paramInfos(s, "")],
    outputs: [floats("q", ["N", s.actions])]
  }
}

/**
 * The gradient of the training step's loss, from the dense layers on. Inputs:
 * - h1, h1_next [B,K·64]: the online network's convolution output on the observations and the
 *   target network's on the next observations, and h1_mask (1 where h1 > 0, else 0: ReLU's
 *   derivative), all computed by the engine (wasm/step.wat `convForward`);
 * - patches [B·64, C·9]: the observations' 3×3 patches (im2col; `convForward` writes them), for
 *   the filter gradient;
 * - onehot [B,A] (the actions taken); reward, discount [B,1] (discount = γ, or 0 at the end of an
 *   episode);
 * - the online dense parameters w2, b2, w3, b3 and the target's target_w2 … target_b3.
 * Outputs: loss (the mean Huber TD loss), grad_<p> for every parameter but w2, and dz2 [B,H], from
 * which the engine forms w2's gradient dz2ᵀ·h1 (src/deep/wasm/step.wat: `denseWeightGrad`, or inside
 * Adam's step, `denseWeightGradAdam`). Adam and the EWC term run outside the graph, in WebAssembly
 * (step.wat `adam`): as graph ops they were a dozen passes over the dense layer per step.
 *
 * What stays in the graph are the products with the 128×1024 dense layer, where onnxruntime's
 * 256-bit kernels beat WebAssembly's 128-bit ones. Its outputs are all small: onnxruntime-node
 * returns each output in a fresh buffer, and V8 counts those against its heap (onnxEngine.ts).
 */
export const gradientGraph = (s: NetShape, batch: number): Graph => {
  const g = new Builder()
  const B = batch, K = s.convChannels
  const p = PARAM_NAMES as ReadonlyArray<string>

  // Target: r + discount · max_a' Q_target(s', a'); no gradient flows through it.
  const tq = dense(g, "h1_next", prefixed("target_")).q
  const best = g.op("ReduceMax", [tq], { axes: [1], keepdims: 1 })
  const y = g.op("Add", ["reward", g.op("Mul", ["discount", best])])

  // Online Q(s, a) and the TD error δ.
  const on = dense(g, "h1", p)
  const qa = g.op("ReduceSum", [g.op("Mul", [on.q, "onehot"]), g.ints([1])], { keepdims: 1 })
  const delta = g.op("Sub", [qa, y])
  // Huber(δ) = c·(δ − c/2) with c = clip(δ, −1, 1): δ²/2 inside [−1, 1], |δ| − 1/2 outside;
  // its derivative is c.
  const c = g.op("Clip", [delta, g.float(-1), g.float(1)])
  const huber = g.op("Mul", [c, g.op("Sub", [delta, g.op("Mul", [c, g.float(0.5)])])])
  g.op("ReduceMean", [huber], { keepdims: 0 }, "loss")

  // Backward, as reference.ts: dq = onehot · c / B. ReLU's derivative is 1 where its output is
  // positive, which is Sign(h) since h ≥ 0: one op instead of Greater and Cast.
  const dq = g.op("Mul", ["onehot", g.op("Mul", [c, g.float(1 / B)])])
  const reluGrad = (d: string, h: string, name?: string) => g.op("Mul", [d, g.op("Sign", [h])], undefined, name)
  g.op("Gemm", [dq, on.h2], { transA: 1 }, "grad_w3")
  g.op("ReduceSum", [dq, g.ints([0])], { keepdims: 0 }, "grad_b3")
  // w2's gradient dz2ᵀ·h1 is formed by the engine from dz2 (a 512 KiB output, made anew each
  // step, kept V8's collector busy).
  const dz2 = reluGrad(g.op("MatMul", [dq, p[4]]), on.h2, "dz2")
  g.op("ReduceSum", [dz2, g.ints([0])], { keepdims: 0 }, "grad_b2")
  // Back through the convolution: dz1 by output position [B·64, K], as the patches' rows.
  const P = CONV_SIDE * CONV_SIDE
  const dh1 = g.op("Mul", [g.op("MatMul", [dz2, p[2]]), "h1_mask"])
  const dz1 = g.op("Reshape", [g.op("Transpose", [g.op("Reshape", [dh1, g.ints([B, K, P])])], { perm: [0, 2, 1] }), g.ints([B * P, K])])
  g.op("Reshape", [g.op("Gemm", [dz1, "patches"], { transA: 1 }), g.ints([K, s.channels, 3, 3])], undefined, "grad_w1")
  g.op("ReduceSum", [dz1, g.ints([0])], { keepdims: 0 }, "grad_b1")

  return {
    name: "dqn_gradient",
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [
      floats("h1", [B, K * P]),
      floats("h1_mask", [B, K * P]),
      floats("h1_next", [B, K * P]),
      floats("patches", [B * P, s.channels * 9]),
      floats("onehot", [B, s.actions]),
      floats("reward", [B, 1]),
      floats("discount", [B, 1]),
      ...denseInfos(s, ""),
      ...denseInfos(s, "target_")
    ],
    outputs: [floats("loss", []), ...paramInfos(s, "grad_").filter((v) => v.name !== "grad_w2"), floats("dz2", [B, s.hidden])]
  }
}

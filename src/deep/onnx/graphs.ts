/**
 * The DQN's ONNX graphs, built in code: the acting forward pass, and the whole training step
 * (target forward, online forward, Huber TD loss, hand-derived backward pass, optional EWC term,
 * Adam) as one graph whose weights and Adam moments are inputs and outputs. onnxruntime has no
 * training API in Node, so the backward pass is written out here op by op; it mirrors
 * src/deep/reference.ts line for line and test/dqn-engine.test.ts checks the two agree.
 *
 * Opset 17: ReduceMax/ReduceMean take `axes` as an attribute, ReduceSum as an input.
 */
import { CONV_SIDE, type NetShape, PARAM_NAMES, SIDE, paramDims } from "../network.ts"
import { FLOAT, type Graph, INT64, type Node, type Tensor, type ValueInfo } from "./proto.ts"

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

interface Forward {
  readonly z1: string
  readonly z2: string
  readonly h1: string
  readonly h2: string
  readonly q: string
}

/** conv → ReLU → flatten → dense → ReLU → dense, with the parameters named by `p`. */
const forward = (g: Builder, x: string, p: ReadonlyArray<string>, qName?: string): Forward => {
  const z1 = g.op("Conv", [x, p[0], p[1]], { kernel_shape: [3, 3] })
  const h1 = g.op("Flatten", [g.op("Relu", [z1])], { axis: 1 })
  const z2 = g.op("Gemm", [h1, p[2], p[3]], { transB: 1 })
  const h2 = g.op("Relu", [z2])
  const q = g.op("Gemm", [h2, p[4], p[5]], { transB: 1 }, qName)
  return { z1, z2, h1, h2, q }
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

export interface TrainGraphOptions {
  readonly batch: number
  readonly adamBeta1: number
  readonly adamBeta2: number
  readonly adamEpsilon: number
  /** Adds inputs ewc_<p> (λ·F) and anchor_<p> (θ*) and the gradient term λ·F·(θ − θ*). */
  readonly ewc: boolean
}

/**
 * The training step. Inputs: obs, next_obs [B,C,10,10]; onehot [B,A] (the actions taken); reward,
 * discount [B,1] (discount = γ, or 0 at the end of an episode); the online parameters <p>, the
 * target parameters target_<p>, Adam's moments m_<p>, v_<p>; step_size = lr/(1−β₁ᵗ) and
 * inv_sqrt_bc2 = 1/√(1−β₂ᵗ) (shape [1]); with EWC also ewc_<p> and anchor_<p>.
 * Outputs: loss (the mean Huber TD loss before the step), new_<p>, new_m_<p>, new_v_<p>, and the
 * gradients grad_<p> (TD plus EWC; fetched only by tests).
 */
export const trainGraph = (s: NetShape, o: TrainGraphOptions): Graph => {
  const g = new Builder()
  const B = o.batch, K = s.convChannels
  const p = PARAM_NAMES as ReadonlyArray<string>
  const zero = g.float(0)

  // Target: r + discount · max_a' Q_target(s', a'); no gradient flows through it.
  const tq = forward(g, "next_obs", prefixed("target_")).q
  const best = g.op("ReduceMax", [tq], { axes: [1], keepdims: 1 })
  const y = g.op("Add", ["reward", g.op("Mul", ["discount", best])])

  // Online Q(s, a) and the TD error δ.
  const on = forward(g, "obs", p)
  const qa = g.op("ReduceSum", [g.op("Mul", [on.q, "onehot"]), g.ints([1])], { keepdims: 1 })
  const delta = g.op("Sub", [qa, y])
  // Huber(δ) = c·(δ − c/2) with c = clip(δ, −1, 1): δ²/2 inside [−1, 1], |δ| − 1/2 outside;
  // its derivative is c.
  const c = g.op("Clip", [delta, g.float(-1), g.float(1)])
  const huber = g.op("Mul", [c, g.op("Sub", [delta, g.op("Mul", [c, g.float(0.5)])])])
  g.op("ReduceMean", [huber], { keepdims: 0 }, "loss")

  // Backward, as reference.ts: dq = onehot · c / B.
  const dq = g.op("Mul", ["onehot", g.op("Mul", [c, g.float(1 / B)])])
  const reluGrad = (d: string, z: string) => g.op("Mul", [d, g.op("Cast", [g.op("Greater", [z, zero])], { to: FLOAT })])
  const grads: Array<string> = new Array(6)
  grads[4] = g.op("Gemm", [dq, on.h2], { transA: 1 })
  grads[5] = g.op("ReduceSum", [dq, g.ints([0])], { keepdims: 0 })
  const dz2 = reluGrad(g.op("MatMul", [dq, p[4]]), on.z2)
  grads[2] = g.op("Gemm", [dz2, on.h1], { transA: 1 })
  grads[3] = g.op("ReduceSum", [dz2, g.ints([0])], { keepdims: 0 })
  const dh1 = g.op("Reshape", [g.op("MatMul", [dz2, p[2]]), g.ints([-1, K, CONV_SIDE, CONV_SIDE])])
  const dz1 = reluGrad(dh1, on.z1)
  // The filter gradient is itself a convolution: the input with batch and channels swapped,
  // convolved with dz1 (batch and channels swapped) as the kernel, gives [C,K,3,3].
  const swap = { perm: [1, 0, 2, 3] }
  const dw1 = g.op("Conv", [g.op("Transpose", ["obs"], swap), g.op("Transpose", [dz1], swap)], { kernel_shape: [CONV_SIDE, CONV_SIDE] })
  grads[0] = g.op("Transpose", [dw1], swap)
  grads[1] = g.op("ReduceSum", [dz1, g.ints([0, 2, 3])], { keepdims: 0 })

  // Adam, PyTorch's formula; with EWC the penalty's gradient λF(θ − θ*) joins the TD gradient.
  const b1 = g.float(o.adamBeta1), nb1 = g.float(1 - o.adamBeta1)
  const b2 = g.float(o.adamBeta2), nb2 = g.float(1 - o.adamBeta2)
  const eps = g.float(o.adamEpsilon)
  for (let i = 0; i < 6; i++) {
    const name = p[i]
    const grad = o.ewc
      ? g.op("Add", [grads[i], g.op("Mul", [`ewc_${name}`, g.op("Sub", [name, `anchor_${name}`])])], undefined, `grad_${name}`)
      : g.op("Identity", [grads[i]], undefined, `grad_${name}`)
    const m = g.op("Add", [g.op("Mul", [b1, `m_${name}`]), g.op("Mul", [nb1, grad])], undefined, `new_m_${name}`)
    const v = g.op("Add", [g.op("Mul", [b2, `v_${name}`]), g.op("Mul", [nb2, g.op("Mul", [grad, grad])])], undefined, `new_v_${name}`)
    const denom = g.op("Add", [g.op("Mul", [g.op("Sqrt", [v]), "inv_sqrt_bc2"]), eps])
    g.op("Sub", [name, g.op("Div", [g.op("Mul", ["step_size", m]), denom])], undefined, `new_${name}`)
  }

  const obs = [B, s.channels, SIDE, SIDE]
  return {
    name: "dqn_train_step",
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [
      floats("obs", obs),
      floats("next_obs", obs),
      floats("onehot", [B, s.actions]),
      floats("reward", [B, 1]),
      floats("discount", [B, 1]),
      ...paramInfos(s, ""),
      ...paramInfos(s, "target_"),
      ...paramInfos(s, "m_"),
      ...paramInfos(s, "v_"),
      floats("step_size", [1]),
      floats("inv_sqrt_bc2", [1]),
      ...(o.ewc ? [...paramInfos(s, "ewc_"), ...paramInfos(s, "anchor_")] : [])
    ],
    outputs: [
      floats("loss", []),
      ...paramInfos(s, "new_"),
      ...paramInfos(s, "new_m_"),
      ...paramInfos(s, "new_v_"),
      ...paramInfos(s, "grad_")
    ]
  }
}

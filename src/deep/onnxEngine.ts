/**
 * The fast engine: onnxruntime-node runs the dense layers' part of the training step (both
 * networks' forward passes, the loss and most of the backward pass) as one graph (onnx/graphs.ts)
 * on one intra-op thread, and WebAssembly the rest: the convolutions with the patches
 * (wasm/conv.wat), w2's gradient and Adam with the EWC term (wasm/step.wat; w2's gradient is
 * taken by Adam as it is formed, four rows at a time, and never stored whole).
 * Chosen by measurement (docs/deep.md, "Engine and speed"): several times the TypeScript
 * reference's training steps per second, and faster than PyTorch on CPU with the same thread count.
 *
 * The weights, the target weights, Adam's moments and the gradient live in the kernels' memory
 * (wasm/kernels.ts); onnxruntime reads the weights and writes the gradient through views of it,
 * so a step copies no parameters.
 *
 * The split keeps the graph's outputs small: the convolution runs from the observations' lit cells
 * (`convForward`, for both networks) and w2's gradient dz2ᵀ·h1 is formed from the graph's dz2
 * (`denseWeightGradAdam`). onnxruntime-node returns every output of a run in a buffer of its own, made
 * anew each step, and V8 counts those buffers against its heap. With the 512 KiB weight gradient
 * among the outputs it marked the whole heap about every hundred steps, on four helper threads: a
 * quarter of the step's CPU time (docs/deep.md, "How a step runs").
 */
import type * as Ort from "onnxruntime-node"
import type { DqnConfig } from "./config.ts"
import { addEwcGradient, type Engine } from "./engine.ts"
import { cloneParams, copyParams, type NetShape, PARAM_NAMES, type Params, inputSize, paramDims } from "./network.ts"
import { onnxCall } from "./onnx/calls.ts"
import { forwardGraph, gradientGraph, OPSET } from "./onnx/graphs.ts"
import { encodeModel } from "./onnx/proto.ts"
import { adamFactors, type AdamState, type Batch } from "./reference.ts"
import { type DqnKernels, instantiate, type Layout } from "./wasm/kernels.ts"

type Named = Record<string, Ort.Tensor>

/** The dense layers' parameters: what the gradient graph reads of each network (onnx/graphs.ts). */
const DENSE = ["w2", "b2", "w3", "b3"]

/** Loaded on first use, so commands that never train (and the reference engine) don't load the native library. */
let ortModule: typeof Ort | undefined
const loadOrt = async (): Promise<typeof Ort> => (ortModule ??= (await import("onnxruntime-node")) as typeof Ort)

const SESSION_OPTIONS: Ort.InferenceSession.SessionOptions = {
  // One thread per engine: measured faster than two on this network (docs/deep.md, "The choice"); parallelism
  // comes from running engines in several processes or workers.
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
  extra: { session: { set_denormal_as_zero: "1" } }
}

export class OnnxEngine implements Engine {
  readonly name = "onnx" as const
  private readonly online: Params
  private readonly target: Params
  private readonly grad: Params
  private readonly lf: Params
  private readonly anchor: Params
  private t = 0
  private ewc = false
  /** Tensors over the online weights (the batched forward graph's feeds). */
  private readonly weights: Named
  /** The gradient graph's feeds: tensors over fixed areas of the kernels' memory and the engine's arrays. */
  private readonly feeds: Named
  /** The gradient graph's outputs, written into the kernels' memory. */
  private readonly fetches: Named & { loss: Ort.Tensor }
  private readonly onehot: Float32Array
  private readonly reward: Float32Array
  private readonly discount: Float32Array

  private constructor(
    private readonly ort: typeof Ort,
    readonly shape: NetShape,
    private readonly config: DqnConfig,
    private readonly gradientSession: Ort.InferenceSession,
    private readonly actSession: Ort.InferenceSession,
    private readonly kernels: DqnKernels,
    private readonly layout: Layout,
    initial: Params
  ) {
    this.online = layout.views("online")
    this.target = layout.views("target")
    this.grad = layout.views("grad")
    this.lf = layout.views("lf")
    this.anchor = layout.views("anchor")
    copyParams(initial, this.online)
    copyParams(initial, this.target)
    this.weights = this.named("", this.online)
    const B = config.batchSize, A = shape.actions, C = shape.channels, T = layout.training, F = T.h1.length / B
    this.onehot = new Float32Array(B * A)
    this.reward = new Float32Array(B)
    this.discount = new Float32Array(B)
    const tensor = (data: Float32Array, dims: Array<number>) => new ort.Tensor("float32", data, dims)
    this.feeds = {
      h1: tensor(T.h1, [B, F]),
      h1_mask: tensor(T.h1Mask, [B, F]),
      h1_next: tensor(T.h1n, [B, F]),
      patches: tensor(T.patches, [B * 64, C * 9]),
      onehot: tensor(this.onehot, [B, A]),
      reward: tensor(this.reward, [B, 1]),
      discount: tensor(this.discount, [B, 1]),
      ...this.named("", this.online, DENSE),
      ...this.named("target_", this.target, DENSE)
    }
    this.fetches = {
      loss: tensor(new Float32Array(1), []),
      ...this.named("grad_", this.grad, PARAM_NAMES.filter((n) => n !== "w2")), // w2's: formed after the graph
      dz2: tensor(T.dz2, [B, shape.hidden])
    }
  }

  /** Builds the graphs, opens the two sessions (gradient and acting forward pass) and the kernels' memory. */
  static async create(shape: NetShape, config: DqnConfig, initial: Params): Promise<OnnxEngine> {
    const ort = await loadOrt()
    const gradient = await onnxCall(() => ort.InferenceSession.create(encodeModel(gradientGraph(shape, config.batchSize), OPSET), SESSION_OPTIONS))
    const act = await onnxCall(() => ort.InferenceSession.create(encodeModel(forwardGraph(shape), OPSET), SESSION_OPTIONS))
    const { kernels, layout } = instantiate(shape, config.batchSize)
    return new OnnxEngine(ort, shape, config, gradient, act, kernels, layout, initial)
  }

  /** Tensors over the parameters of `p` named in `names` (all by default), as `prefix` + name. */
  private named(prefix: string, p: Params, names: ReadonlyArray<string> = PARAM_NAMES): Named {
    const dims = paramDims(this.shape)
    return Object.fromEntries(
      PARAM_NAMES.flatMap((n, i) => (names.includes(n) ? [[prefix + n, new this.ort.Tensor("float32", p[i], dims[i] as Array<number>)]] : []))
    )
  }

  async qValues(obs: Float32Array, n: number): Promise<Float32Array> {
    const I = inputSize(this.shape)
    if (n === 1 && this.shape.hidden % 4 === 0) {
      // Acting: one observation through the WebAssembly pass (its dense loops take H in fours).
      const L = this.layout, a = L.acting, w = L.at("online"), S = this.shape
      a.x.set(obs.subarray(0, I))
      this.kernels.act(
        w + L.starts[0], w + L.starts[1], w + L.starts[2], w + L.starts[3], w + L.starts[4], w + L.starts[5],
        a.x.byteOffset, a.h1, a.h2, a.q, S.channels, S.convChannels, S.hidden, S.actions
      )
      return L.q
    }
    const x = new this.ort.Tensor("float32", obs.length === n * I ? obs : obs.subarray(0, n * I), [n, this.shape.channels, 10, 10])
    const w = this.weights
    const out = await onnxCall(() => this.actSession.run({ obs: x, w1: w.w1, b1: w.b1, w2: w.w2, b2: w.b2, w3: w.w3, b3: w.b3 }))
    return out.q.data as Float32Array
  }

  /**
   * The batch's TD gradient into `this.grad`, and its loss: both networks' convolutions in
   * WebAssembly (from the lit cells), the rest of the forward and backward passes in the graph.
   * w2's gradient, dz2ᵀ·h1 from the graph's dz2, is formed after it: here only when `withW2`;
   * the training step forms it inside its Adam step instead.
   */
  private async tdGradient(batch: Batch, withW2: boolean): Promise<number> {
    const B = this.config.batchSize, S = this.shape, A = S.actions, C = S.channels, CK = S.convChannels
    if (batch.size !== B) throw new Error(`onnx engine: the graph is built for batch ${B}, got ${batch.size}`)
    const L = this.layout, T = L.training, K = this.kernels
    T.obs.set(batch.obs.subarray(0, B * C * 100))
    T.nextObs.set(batch.nextObs.subarray(0, B * C * 100))
    const online = L.at("online"), target = L.at("target")
    K.convForward(online + L.starts[0], online + L.starts[1], T.obs.byteOffset, B, C, CK, T.h1.byteOffset, T.h1Mask.byteOffset, T.convScratchAt, T.patches.byteOffset)
    K.convForward(target + L.starts[0], target + L.starts[1], T.nextObs.byteOffset, B, C, CK, T.h1n.byteOffset, 0, T.convScratchAt, 0)
    this.onehot.fill(0)
    for (let b = 0; b < B; b++) this.onehot[b * A + batch.actions[b]] = 1
    this.reward.set(batch.rewards.subarray(0, B))
    this.discount.set(batch.discount.subarray(0, B))
    const out = await onnxCall(() => this.gradientSession.run(this.feeds, this.fetches))
    if (withW2) K.denseWeightGrad(T.dz2.byteOffset, T.h1.byteOffset, L.at("grad") + L.starts[2], B, S.hidden, T.h1.length / B, T.panelAt)
    return (out.loss.data as Float32Array)[0]
  }

  /**
   * One Adam step (with the EWC term): Adam over the parameters before w2 and after it, and w2's
   * gradient formed and taken by Adam in one pass (`denseWeightGradAdam`): the same numbers as
   * forming all gradients, then one Adam pass over every parameter.
   */
  async trainStep(batch: Batch): Promise<number> {
    const loss = await this.tdGradient(batch, false)
    this.t += 1
    const c = this.config, { stepSize, invSqrtBc2 } = adamFactors(c, this.t), L = this.layout, T = L.training, K = this.kernels
    const factors = [c.adamBeta1, 1 - c.adamBeta1, c.adamBeta2, 1 - c.adamBeta2, stepSize, invSqrtBc2, c.adamEpsilon] as const
    const ewc = this.ewc ? 1 : 0
    const adamOver = (from: number, to: number) =>
      K.adam(L.at("online") + from, L.at("grad") + from, L.at("m") + from, L.at("v") + from, (to - from) / 4, ...factors, ewc, L.at("lf") + from, L.at("anchor") + from)
    const w2 = L.starts[2]
    adamOver(0, w2)
    adamOver(L.starts[3], L.size * 4)
    const B = c.batchSize
    K.denseWeightGradAdam(
      T.dz2.byteOffset, T.h1.byteOffset, B, this.shape.hidden, T.h1.length / B, T.panelAt, T.rowsAt,
      L.at("online") + w2, L.at("m") + w2, L.at("v") + w2, ...factors, ewc, L.at("lf") + w2, L.at("anchor") + w2
    )
    return loss
  }

  async gradients(batch: Batch): Promise<Params> {
    await this.tdGradient(batch, true)
    const g = cloneParams(this.grad)
    if (this.ewc) addEwcGradient(g, this.online, this.lf, this.anchor)
    return g
  }

  syncTarget(): void {
    copyParams(this.online, this.target)
  }

  params(): Params {
    return cloneParams(this.online)
  }

  setParams(p: Params): void {
    copyParams(p, this.online)
    copyParams(p, this.target)
  }

  setEwc(ewc: { readonly weight: Params; readonly anchor: Params } | undefined): Promise<void> {
    this.ewc = ewc !== undefined
    if (ewc !== undefined) {
      copyParams(ewc.weight, this.lf)
      copyParams(ewc.anchor, this.anchor)
    }
    return Promise.resolve()
  }

  adamState(): AdamState {
    return { m: cloneParams(this.layout.views("m")), v: cloneParams(this.layout.views("v")), t: this.t }
  }

  async dispose(): Promise<void> {
    for (const s of [this.gradientSession, this.actSession]) await s.release()
  }
}

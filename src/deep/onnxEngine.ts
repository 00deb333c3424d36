/**
 * The fast engine: onnxruntime-node running the whole training step as one graph (onnx/graphs.ts)
 * on one intra-op thread. Chosen by measurement (docs/deep.md, "Engine and speed"): several times
 * the TypeScript reference's training steps per second, and faster than PyTorch on CPU with the
 * same thread count.
 *
 * The weights, the target weights and Adam's moments live in onnxruntime tensors: each step feeds
 * them in and adopts the step's outputs as the new state, so nothing is copied on the JS side.
 */
import type * as Ort from "onnxruntime-node"
import type { DqnConfig } from "./config.ts"
import { type Engine } from "./engine.ts"
import { type NetShape, PARAM_NAMES, type Params, inputSize, paramDims } from "./network.ts"
import { forwardGraph, OPSET, trainGraph } from "./onnx/graphs.ts"
import { encodeModel } from "./onnx/proto.ts"
import { adamFactors, type AdamState, type Batch } from "./reference.ts"

type Tensors = Array<Ort.Tensor>

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
  // Adam's moments of weights whose gradient has become zero (dead ReLUs, channels never lit) decay
  // geometrically into denormal floats, which x86 computes very slowly: flush them to zero.
  extra: { session: { set_denormal_as_zero: "1" } }
}

export class OnnxEngine implements Engine {
  readonly name = "onnx" as const
  private online: Tensors
  private target: Tensors
  private m: Tensors
  private v: Tensors
  private t = 0
  private ewc: { readonly weight: Tensors; readonly anchor: Tensors } | undefined
  private ewcSession: Ort.InferenceSession | undefined
  private readonly scalars: { readonly stepSize: Ort.Tensor; readonly invSqrtBc2: Ort.Tensor }
  private readonly onehot: Float32Array
  private readonly outputNames: ReadonlyArray<string>

  private constructor(
    private readonly ort: typeof Ort,
    readonly shape: NetShape,
    private readonly config: DqnConfig,
    private readonly trainSession: Ort.InferenceSession,
    private readonly actSession: Ort.InferenceSession,
    initial: Params
  ) {
    this.online = this.tensors(initial)
    this.target = this.tensors(initial)
    const zeros = paramDims(shape).map((d) => new Float32Array(d.reduce((a, b) => a * b, 1)))
    this.m = this.tensors(zeros)
    this.v = this.tensors(zeros)
    this.scalars = { stepSize: new ort.Tensor("float32", new Float32Array(1), [1]), invSqrtBc2: new ort.Tensor("float32", new Float32Array(1), [1]) }
    this.onehot = new Float32Array(config.batchSize * shape.actions)
    this.outputNames = ["loss", ...["new_", "new_m_", "new_v_"].flatMap((pre) => PARAM_NAMES.map((n) => pre + n))]
  }

  /** Builds the graphs and opens the two sessions (training step and acting forward pass). */
  static async create(shape: NetShape, config: DqnConfig, initial: Params): Promise<OnnxEngine> {
    const ort = await loadOrt()
    const train = await ort.InferenceSession.create(encodeModel(trainGraph(shape, { ...config, batch: config.batchSize, ewc: false }), OPSET), SESSION_OPTIONS)
    const act = await ort.InferenceSession.create(encodeModel(forwardGraph(shape), OPSET), SESSION_OPTIONS)
    return new OnnxEngine(ort, shape, config, train, act, initial)
  }

  private tensors(p: ReadonlyArray<Float32Array>): Tensors {
    const dims = paramDims(this.shape)
    return p.map((t, i) => new this.ort.Tensor("float32", t.slice(), dims[i] as Array<number>))
  }

  private named(prefix: string, ts: Tensors): Record<string, Ort.Tensor> {
    return Object.fromEntries(PARAM_NAMES.map((n, i) => [prefix + n, ts[i]]))
  }

  async qValues(obs: Float32Array, n: number): Promise<Float32Array> {
    const I = inputSize(this.shape)
    const x = new this.ort.Tensor("float32", obs.length === n * I ? obs : obs.subarray(0, n * I), [n, this.shape.channels, 10, 10])
    const out = await this.actSession.run({ obs: x, ...this.named("", this.online) })
    return out.q.data as Float32Array
  }

  private feeds(batch: Batch, t: number): Record<string, Ort.Tensor> {
    const B = this.config.batchSize, A = this.shape.actions, C = this.shape.channels
    if (batch.size !== B) throw new Error(`onnx engine: the graph is built for batch ${B}, got ${batch.size}`)
    this.onehot.fill(0)
    for (let b = 0; b < B; b++) this.onehot[b * A + batch.actions[b]] = 1
    const { stepSize, invSqrtBc2 } = adamFactors(this.config, t)
    ;(this.scalars.stepSize.data as Float32Array)[0] = stepSize
    ;(this.scalars.invSqrtBc2.data as Float32Array)[0] = invSqrtBc2
    const T = this.ort.Tensor
    return {
      obs: new T("float32", batch.obs.subarray(0, B * C * 100), [B, C, 10, 10]),
      next_obs: new T("float32", batch.nextObs.subarray(0, B * C * 100), [B, C, 10, 10]),
      onehot: new T("float32", this.onehot, [B, A]),
      reward: new T("float32", batch.rewards.subarray(0, B), [B, 1]),
      discount: new T("float32", batch.discount.subarray(0, B), [B, 1]),
      ...this.named("", this.online),
      ...this.named("target_", this.target),
      ...this.named("m_", this.m),
      ...this.named("v_", this.v),
      step_size: this.scalars.stepSize,
      inv_sqrt_bc2: this.scalars.invSqrtBc2,
      ...(this.ewc === undefined ? {} : { ...this.named("ewc_", this.ewc.weight), ...this.named("anchor_", this.ewc.anchor) })
    }
  }

  private session(): Ort.InferenceSession {
    return this.ewc === undefined ? this.trainSession : (this.ewcSession as Ort.InferenceSession)
  }

  async trainStep(batch: Batch): Promise<number> {
    const out = await this.session().run(this.feeds(batch, this.t + 1), this.outputNames as Array<string>)
    this.t += 1
    const take = (prefix: string) => PARAM_NAMES.map((n) => out[prefix + n])
    this.online = take("new_")
    this.m = take("new_m_")
    this.v = take("new_v_")
    return (out.loss.data as Float32Array)[0]
  }

  async gradients(batch: Batch): Promise<Params> {
    const out = await this.session().run(this.feeds(batch, this.t + 1), PARAM_NAMES.map((n) => `grad_${n}`))
    return PARAM_NAMES.map((n) => (out[`grad_${n}`].data as Float32Array).slice()) as unknown as Params
  }

  syncTarget(): void {
    // Tensors are never written in place (each step makes new ones), so sharing them is a copy.
    this.target = this.online.slice()
  }

  params(): Params {
    return this.online.map((t) => (t.data as Float32Array).slice()) as unknown as Params
  }

  setParams(p: Params): void {
    this.online = this.tensors(p)
    this.target = this.online.slice()
  }

  async setEwc(ewc: { readonly weight: Params; readonly anchor: Params } | undefined): Promise<void> {
    // The EWC variant of the graph has two more inputs per parameter; it is built on first use.
    if (ewc !== undefined) {
      this.ewcSession ??= await this.ort.InferenceSession.create(
        encodeModel(trainGraph(this.shape, { ...this.config, batch: this.config.batchSize, ewc: true }), OPSET),
        SESSION_OPTIONS
      )
    }
    this.ewc = ewc === undefined ? undefined : { weight: this.tensors(ewc.weight), anchor: this.tensors(ewc.anchor) }
  }

  adamState(): AdamState {
    const copy = (ts: Tensors) => ts.map((t) => (t.data as Float32Array).slice()) as unknown as Params
    return { m: copy(this.m), v: copy(this.v), t: this.t }
  }

  async dispose(): Promise<void> {
    for (const s of [this.trainSession, this.actSession, this.ewcSession]) if (s !== undefined) await s.release()
  }
}

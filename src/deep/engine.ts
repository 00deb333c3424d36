/**
 * What the DQN agent needs from a numeric engine, and the engine made of the TypeScript reference.
 * The fast engine (onnxEngine.ts) implements the same interface; which one runs is a field of the
 * agent's options, and the benchmark times both (docs/deep.md, "Engine and speed").
 *
 * The interface is asynchronous because onnxruntime-node's `run` is; the reference resolves at once.
 */
import type { DqnConfig } from "./config.ts"
import { type NetShape, type Params, cloneParams, copyParams, inputSize, zerosLike } from "./network.ts"
import {
  type Activations,
  type AdamState,
  adamStep,
  type Batch,
  forward,
  makeActivations,
  makeTdWorkspace,
  type TdWorkspace,
  tdLossAndGrad
} from "./reference.ts"

export type EngineName = "onnx" | "ts"

export interface Engine {
  readonly name: EngineName
  readonly shape: NetShape
  /** Q-values [n,A] of n observations; the returned array may be reused by the next call. */
  qValues(obs: Float32Array, n: number): Promise<Float32Array>
  /** One Adam step on the batch's TD loss (plus the EWC penalty when set); the loss before the step. */
  trainStep(batch: Batch): Promise<number>
  /** The gradient a training step would use at the current parameters, without stepping (tests, Fisher). */
  gradients(batch: Batch): Promise<Params>
  /** Copies the online network into the target network. */
  syncTarget(): void
  /** The online parameters (a copy). */
  params(): Params
  /** Replaces the online parameters (and the target's), keeping Adam's moments. */
  setParams(p: Params): void
  /** The EWC term's weights λ·F and anchor θ*, or undefined to remove it. */
  setEwc(ewc: { readonly weight: Params; readonly anchor: Params } | undefined): Promise<void>
  /** Adam's moments and step count (a copy), so engines can be compared after a step. */
  adamState(): AdamState
  dispose(): Promise<void>
}

/** Adds the EWC penalty's gradient λF(θ − θ*) to `g`. */
export const addEwcGradient = (g: Params, p: Params, weight: Params, anchor: Params): void => {
  for (let i = 0; i < 6; i++) {
    const gi = g[i], pi = p[i], w = weight[i], a = anchor[i]
    for (let j = 0; j < gi.length; j++) gi[j] += w[j] * (pi[j] - a[j])
  }
}

/** The reference as an engine. */
export class TsEngine implements Engine {
  readonly name = "ts" as const
  private readonly online: Params
  private readonly target: Params
  private readonly grads: Params
  private readonly adam: AdamState
  private readonly ws: TdWorkspace
  private acting: Activations
  private ewc: { readonly weight: Params; readonly anchor: Params } | undefined

  constructor(readonly shape: NetShape, private readonly config: DqnConfig, initial: Params) {
    this.online = cloneParams(initial)
    this.target = cloneParams(initial)
    this.grads = zerosLike(shape)
    this.adam = { m: zerosLike(shape), v: zerosLike(shape), t: 0 }
    this.ws = makeTdWorkspace(shape, config.batchSize)
    this.acting = makeActivations(shape, 1)
  }

  qValues(obs: Float32Array, n: number): Promise<Float32Array> {
    if (n > this.acting.capacity) this.acting = makeActivations(this.shape, n)
    if (obs.length < n * inputSize(this.shape)) return Promise.reject(new Error("qValues: obs too short"))
    return Promise.resolve(forward(this.shape, this.online, obs, n, this.acting).subarray(0, n * this.shape.actions))
  }

  private gradientsInPlace(batch: Batch): number {
    const loss = tdLossAndGrad(this.shape, this.online, this.target, batch, this.grads, this.ws)
    if (this.ewc !== undefined) addEwcGradient(this.grads, this.online, this.ewc.weight, this.ewc.anchor)
    return loss
  }

  trainStep(batch: Batch): Promise<number> {
    const loss = this.gradientsInPlace(batch)
    adamStep(this.config, this.online, this.grads, this.adam)
    return Promise.resolve(loss)
  }

  gradients(batch: Batch): Promise<Params> {
    this.gradientsInPlace(batch)
    return Promise.resolve(cloneParams(this.grads))
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
    this.ewc = ewc === undefined ? undefined : { weight: cloneParams(ewc.weight), anchor: cloneParams(ewc.anchor) }
    return Promise.resolve()
  }

  adamState(): AdamState {
    return { m: cloneParams(this.adam.m), v: cloneParams(this.adam.v), t: this.adam.t }
  }

  dispose(): Promise<void> {
    return Promise.resolve()
  }
}

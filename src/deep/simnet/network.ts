/**
 * SimNet's network: transition features (features.ts) → standardise → tanh layer (H) → linear (k).
 * An instance's embedding is this map mean-pooled over its transitions (box.ts adds the intervals).
 *
 * Why so small and in plain loops: the input is ~100 summary features, not pixels, so one hidden layer
 * of 32 is enough to form the interactions that matter (e.g. "a cannon shot appeared *and* the action
 * was fire" measures the shot cooldown), and a forward pass over 5,000 transitions is ~16M
 * multiply-adds: milliseconds in TypeScript, no engine needed. Float64 throughout, so the gradient
 * check against finite differences is tight.
 *
 * Why tanh and mean pooling: a bounded unit keeps one odd transition from dominating a mean, and the
 * mean of a fixed map of i.i.d.-ish transitions is what a confidence interval can be put on.
 */
import * as Rng from "../../rng/Rng.ts"
import { FEATURES } from "./features.ts"

export interface SimNet {
  /** Input dimension (FEATURES). */
  readonly inputs: number
  readonly hidden: number
  /** Embedding dimension k. */
  readonly k: number
  /** Per-feature shift and scale (standardisation fitted to the training pools; 0 and 1 before training). */
  readonly shift: Float64Array
  readonly scale: Float64Array
  /** W1 (hidden × inputs), b1 (hidden), W2 (k × hidden), b2 (k), in this order. */
  readonly params: Float64Array
}

export interface SimNetShape {
  readonly hidden?: number
  readonly k?: number
}

export const paramCount = (inputs: number, hidden: number, k: number): number => hidden * inputs + hidden + k * hidden + k

/** A network with Glorot-uniform weights from `seed` and zero biases. */
export const initSimNet = (seed: number, shape: SimNetShape = {}, inputs = FEATURES): SimNet => {
  const hidden = shape.hidden ?? 32
  const k = shape.k ?? 12
  const params = new Float64Array(paramCount(inputs, hidden, k))
  const rng = Rng.make(seed, 0x51a)
  const a1 = Math.sqrt(6 / (inputs + hidden))
  for (let i = 0; i < hidden * inputs; i++) params[i] = (2 * rng.next() - 1) * a1
  const o2 = hidden * inputs + hidden
  const a2 = Math.sqrt(6 / (hidden + k))
  for (let i = 0; i < k * hidden; i++) params[o2 + i] = (2 * rng.next() - 1) * a2
  return { inputs, hidden, k, shift: new Float64Array(inputs), scale: new Float64Array(inputs).fill(1), params }
}

/** A deep copy (training returns a new network; the registry's boxes stay tied to the one that made them). */
export const cloneSimNet = (net: SimNet): SimNet => ({
  ...net,
  shift: Float64Array.from(net.shift),
  scale: Float64Array.from(net.scale),
  params: Float64Array.from(net.params)
})

/**
 * Forward pass of transitions [from, to) of `x` (FEATURES floats each). Writes each transition's hidden
 * activations into `h` ((to − from) × hidden) when given, and adds the outputs' sum into `sum` (k).
 * `perTransition`, when given, receives each output ((to − from) × k).
 */
export const forward = (
  net: SimNet,
  x: ArrayLike<number>,
  from: number,
  to: number,
  sum: Float64Array,
  h?: Float64Array,
  perTransition?: Float64Array
): void => {
  const { inputs: D, hidden: H, k, params: p } = net
  const o2 = H * D + H
  const o3 = o2 + k * H
  // Standardisation folded into the first layer (W·diag(scale), b − W·diag(scale)·shift), so the
  // loop reads raw features and skips their many zeros (padded channels, one-hots, empty counts).
  const { w, b } = folded(net)
  const hid = new Float64Array(H)
  const nz = new Int32Array(D)
  for (let t = from; t < to; t++) {
    const base = t * D
    let m = 0
    for (let j = 0; j < D; j++) if (x[base + j] !== 0) nz[m++] = j
    for (let u = 0; u < H; u++) {
      let a = b[u]
      const row = u * D
      for (let q = 0; q < m; q++) {
        const j = nz[q]
        a += w[row + j] * x[base + j]
      }
      hid[u] = Math.tanh(a)
    }
    if (h !== undefined) h.set(hid, (t - from) * H)
    for (let i = 0; i < k; i++) {
      let z = p[o3 + i]
      const row = o2 + i * H
      for (let u = 0; u < H; u++) z += p[row + u] * hid[u]
      sum[i] += z
      if (perTransition !== undefined) perTransition[(t - from) * k + i] = z
    }
  }
}

/** The first layer with the standardisation folded in. */
const folded = (net: SimNet): { w: Float64Array; b: Float64Array } => {
  const { inputs: D, hidden: H, params: p, shift, scale } = net
  const w = new Float64Array(H * D)
  const b = new Float64Array(H)
  for (let u = 0; u < H; u++) {
    let bu = p[H * D + u]
    for (let j = 0; j < D; j++) {
      const v = p[u * D + j] * scale[j]
      w[u * D + j] = v
      bu -= v * shift[j]
    }
    b[u] = bu
  }
  return { w, b }
}

/** The embedding of every transition: n × k values (what box.ts turns into a box). */
export const embedTransitions = (net: SimNet, x: ArrayLike<number>, n: number): Float64Array => {
  const out = new Float64Array(n * net.k)
  forward(net, x, 0, n, new Float64Array(net.k), undefined, out)
  return out
}

/**
 * Backward pass of a pooled window: given g = dL/d(mean of outputs over [from, to)) and the hidden
 * activations `h` that `forward` stored for that window, adds dL/dparams into `grad`.
 */
export const backwardPooled = (
  net: SimNet,
  x: ArrayLike<number>,
  from: number,
  to: number,
  h: Float64Array,
  g: Float64Array,
  grad: Float64Array
): void => {
  const { inputs: D, hidden: H, k, params: p, shift, scale } = net
  const o1 = H * D
  const o2 = o1 + H
  const o3 = o2 + k * H
  const n = to - from
  // dL/dz_t = g / n for every t: the output layer's gradient needs only the mean hidden activation.
  const hMean = new Float64Array(H)
  for (let t = 0; t < n; t++) for (let u = 0; u < H; u++) hMean[u] += h[t * H + u]
  for (let i = 0; i < k; i++) {
    grad[o3 + i] += g[i]
    for (let u = 0; u < H; u++) grad[o2 + i * H + u] += g[i] * hMean[u] / n
  }
  // dL/dh_t = W2ᵀ g / n, the same for every t; the tanh derivative differs.
  const dh = new Float64Array(H)
  for (let u = 0; u < H; u++) {
    let s = 0
    for (let i = 0; i < k; i++) s += p[o2 + i * H + u] * g[i]
    dh[u] = s / n
  }
  // dL/dW1[u][j] = Σ_t da_t[u]·(x_tj − shift_j)·scale_j = scale_j·(Σ_t da_t[u]·x_tj − shift_j·Σ_t da_t[u]):
  // the sum over t reads only the raw features' non-zeros.
  const acc = new Float64Array(H * D)
  const daSum = new Float64Array(H)
  const da = new Float64Array(H)
  const nz = new Int32Array(D)
  for (let t = 0; t < n; t++) {
    const base = (from + t) * D
    let m = 0
    for (let j = 0; j < D; j++) if (x[base + j] !== 0) nz[m++] = j
    for (let u = 0; u < H; u++) {
      const hv = h[t * H + u]
      da[u] = dh[u] * (1 - hv * hv)
      daSum[u] += da[u]
    }
    for (let u = 0; u < H; u++) {
      const d = da[u]
      const row = u * D
      for (let q = 0; q < m; q++) {
        const j = nz[q]
        acc[row + j] += d * x[base + j]
      }
    }
  }
  for (let u = 0; u < H; u++) {
    grad[o1 + u] += daSum[u]
    const row = u * D
    for (let j = 0; j < D; j++) grad[row + j] += scale[j] * (acc[row + j] - shift[j] * daSum[u])
  }
}

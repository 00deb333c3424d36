/**
 * The plain TypeScript reference of the MinAtar network: forward, backward, the DQN Huber TD loss
 * and Adam, as Float32Array loops. It is the definition every faster engine is tested against
 * (test/dqn-reference.test.ts checks its own gradients by finite differences), and the fallback
 * engine when no other runs.
 *
 * Written for clarity first, but with loops ordered so the innermost one walks contiguous memory.
 */
import { CONV_SIDE, type NetShape, type Params, SIDE, flatSize, inputSize } from "./network.ts"

const CONV_AREA = CONV_SIDE * CONV_SIDE // 64
const AREA = SIDE * SIDE // 100

/** What the forward pass keeps for the backward pass; sized for up to `capacity` rows. */
export interface Activations {
  readonly capacity: number
  batch: number
  input: Float32Array
  /** Pre-activations of the convolution [B,K,8,8] and of the dense layer [B,H]. */
  readonly z1: Float32Array
  readonly z2: Float32Array
  /** Q-values [B,A]. */
  readonly q: Float32Array
}

export const makeActivations = (s: NetShape, capacity: number): Activations => ({
  capacity,
  batch: 0,
  input: new Float32Array(0),
  z1: new Float32Array(capacity * flatSize(s)),
  z2: new Float32Array(capacity * s.hidden),
  q: new Float32Array(capacity * s.actions)
})

/** Q-values of `batch` observations (each C×10×10 in `input`) into `act.q`; keeps what backward needs. */
export const forward = (s: NetShape, p: Params, input: Float32Array, batch: number, act: Activations): Float32Array => {
  if (batch > act.capacity) throw new Error(`forward: batch ${batch} > capacity ${act.capacity}`)
  const [w1, b1, w2, b2, w3, b3] = p
  const C = s.channels, K = s.convChannels, H = s.hidden, A = s.actions, F = flatSize(s), I = inputSize(s)
  act.batch = batch
  act.input = input
  const { z1, z2, q } = act
  for (let b = 0; b < batch; b++) {
    const x = b * I
    // Convolution, one output channel at a time: z[y,x] += w · in[c, y+i, x+j].
    for (let k = 0; k < K; k++) {
      const zo = b * F + k * CONV_AREA
      z1.fill(b1[k], zo, zo + CONV_AREA)
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 3; j++) {
            const w = w1[((k * C + c) * 3 + i) * 3 + j]
            if (w === 0) continue
            const io = x + c * AREA + i * SIDE + j
            for (let yy = 0; yy < CONV_SIDE; yy++) {
              const zr = zo + yy * CONV_SIDE
              const ir = io + yy * SIDE
              for (let xx = 0; xx < CONV_SIDE; xx++) z1[zr + xx] += w * input[ir + xx]
            }
          }
        }
      }
    }
    // Dense layer on the rectified convolution output.
    const fo = b * F
    for (let h = 0; h < H; h++) {
      const wo = h * F
      let acc = b2[h]
      for (let f = 0; f < F; f++) {
        const v = z1[fo + f]
        if (v > 0) acc += w2[wo + f] * v
      }
      z2[b * H + h] = acc
    }
    // Output layer on the rectified hidden units.
    for (let a = 0; a < A; a++) {
      let acc = b3[a]
      for (let h = 0; h < H; h++) {
        const v = z2[b * H + h]
        if (v > 0) acc += w3[a * H + h] * v
      }
      q[b * A + a] = acc
    }
  }
  return q
}

/** Scratch space of the backward pass. */
export interface BackwardScratch {
  readonly dz1: Float32Array
  readonly dz2: Float32Array
}

export const makeBackwardScratch = (s: NetShape, capacity: number): BackwardScratch => ({
  dz1: new Float32Array(capacity * flatSize(s)),
  dz2: new Float32Array(capacity * s.hidden)
})

/** Gradients of a loss whose gradient with respect to the Q-values [B,A] is `dq`, into `g` (overwritten). */
export const backward = (s: NetShape, p: Params, act: Activations, dq: Float32Array, g: Params, scratch: BackwardScratch): void => {
  const [, , w2, , w3] = p
  const [gw1, gb1, gw2, gb2, gw3, gb3] = g
  for (const t of g) t.fill(0)
  const C = s.channels, K = s.convChannels, H = s.hidden, A = s.actions, F = flatSize(s), I = inputSize(s)
  const { z1, z2, input, batch } = act
  const { dz1, dz2 } = scratch
  for (let b = 0; b < batch; b++) {
    // Output layer: dW3 = dq ⊗ relu(z2), dh2 = W3ᵀ dq, then through the ReLU.
    const ho = b * H
    for (let h = 0; h < H; h++) dz2[ho + h] = 0
    for (let a = 0; a < A; a++) {
      const d = dq[b * A + a]
      if (d === 0) continue
      gb3[a] += d
      for (let h = 0; h < H; h++) {
        const v = z2[ho + h]
        if (v > 0) {
          gw3[a * H + h] += d * v
          dz2[ho + h] += d * w3[a * H + h]
        }
      }
    }
    // Dense layer: dW2 = dz2 ⊗ relu(z1), dh1 = W2ᵀ dz2, then through the ReLU.
    const fo = b * F
    dz1.fill(0, fo, fo + F)
    for (let h = 0; h < H; h++) {
      const d = z2[ho + h] > 0 ? dz2[ho + h] : 0
      dz2[ho + h] = d
      if (d === 0) continue
      gb2[h] += d
      const wo = h * F
      for (let f = 0; f < F; f++) {
        const v = z1[fo + f]
        if (v > 0) {
          gw2[wo + f] += d * v
          dz1[fo + f] += d * w2[wo + f]
        }
      }
    }
    for (let f = 0; f < F; f++) if (!(z1[fo + f] > 0)) dz1[fo + f] = 0
    // Convolution: dW1[k,c,i,j] = Σ_yx dz1[k,y,x] · in[c,y+i,x+j]; no input gradient is needed.
    const x = b * I
    for (let k = 0; k < K; k++) {
      const zo = fo + k * CONV_AREA
      let db = 0
      for (let t = 0; t < CONV_AREA; t++) db += dz1[zo + t]
      gb1[k] += db
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 3; j++) {
            const io = x + c * AREA + i * SIDE + j
            let acc = 0
            for (let yy = 0; yy < CONV_SIDE; yy++) {
              const zr = zo + yy * CONV_SIDE
              const ir = io + yy * SIDE
              for (let xx = 0; xx < CONV_SIDE; xx++) acc += dz1[zr + xx] * input[ir + xx]
            }
            gw1[((k * C + c) * 3 + i) * 3 + j] += acc
          }
        }
      }
    }
  }
}

/** A batch of transitions, each observation C×10×10. `discount[b]` is γ, or 0 when the episode ended. */
export interface Batch {
  readonly size: number
  readonly obs: Float32Array
  readonly actions: Int32Array
  readonly rewards: Float32Array
  readonly discount: Float32Array
  readonly nextObs: Float32Array
}

/** The Huber loss's value and its derivative (the TD error clipped to [−1, 1]). */
export const huber = (delta: number): number => (Math.abs(delta) < 1 ? 0.5 * delta * delta : Math.abs(delta) - 0.5)

/** Workspace of `tdLossAndGrad`. */
export interface TdWorkspace {
  readonly online: Activations
  readonly target: Activations
  readonly scratch: BackwardScratch
  readonly dq: Float32Array
}

export const makeTdWorkspace = (s: NetShape, capacity: number): TdWorkspace => ({
  online: makeActivations(s, capacity),
  target: makeActivations(s, capacity),
  scratch: makeBackwardScratch(s, capacity),
  dq: new Float32Array(capacity * s.actions)
})

/**
 * DQN's loss, mean over the batch of Huber(Q(s,a) − (r + discount · max_a' Q_target(s',a'))), and
 * its gradient with respect to the online parameters into `g`. Returns the loss.
 */
export const tdLossAndGrad = (s: NetShape, online: Params, target: Params, batch: Batch, g: Params, ws: TdWorkspace): number => {
  const B = batch.size, A = s.actions
  const qn = forward(s, target, batch.nextObs, B, ws.target)
  const q = forward(s, online, batch.obs, B, ws.online)
  const dq = ws.dq
  dq.fill(0, 0, B * A)
  let loss = 0
  for (let b = 0; b < B; b++) {
    let best = -Infinity
    for (let a = 0; a < A; a++) best = Math.max(best, qn[b * A + a])
    const y = batch.rewards[b] + batch.discount[b] * best
    const a = batch.actions[b]
    const delta = q[b * A + a] - y
    loss += huber(delta)
    dq[b * A + a] = Math.max(-1, Math.min(1, delta)) / B
  }
  backward(s, online, ws.online, dq, g, ws.scratch)
  return loss / B
}

/** Adam's moments and step count. */
export interface AdamState {
  readonly m: Params
  readonly v: Params
  t: number
}

export interface AdamSettings {
  readonly learningRate: number
  readonly adamBeta1: number
  readonly adamBeta2: number
  readonly adamEpsilon: number
}

/** Adam's bias-corrected step size and 1/√(1 − β₂ᵗ) at step t (PyTorch's formula), shared by every engine. */
export const adamFactors = (c: AdamSettings, t: number): { readonly stepSize: number; readonly invSqrtBc2: number } => ({
  stepSize: c.learningRate / (1 - c.adamBeta1 ** t),
  invSqrtBc2: 1 / Math.sqrt(1 - c.adamBeta2 ** t)
})

/** One Adam step as PyTorch's: θ −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε). */
export const adamStep = (c: AdamSettings, p: Params, g: Params, st: AdamState): void => {
  st.t += 1
  const { stepSize, invSqrtBc2 } = adamFactors(c, st.t)
  const b1 = c.adamBeta1, b2 = c.adamBeta2, eps = c.adamEpsilon
  for (let i = 0; i < 6; i++) {
    const w = p[i], gi = g[i], m = st.m[i], v = st.v[i]
    for (let j = 0; j < w.length; j++) {
      const gj = gi[j]
      const mj = b1 * m[j] + (1 - b1) * gj
      const vj = b2 * v[j] + (1 - b2) * gj * gj
      m[j] = mj
      v[j] = vj
      w[j] -= (stepSize * mj) / (Math.sqrt(vj) * invSqrtBc2 + eps)
    }
  }
}

/**
 * Training SimNet from the experience agents share: the transitions of the tasks already registered,
 * labelled by registry entry (never by hidden identity), with a prototypical-network objective
 * (Snell, Swersky & Zemel 2017, "Prototypical Networks for Few-shot Learning").
 *
 * Why prototypical and not a softmax classifier: the registry grows, and the question SimNet must
 * answer is about tasks it has never seen ("is this instance a new task?"). A classifier head learns
 * M fixed directions; the prototypical loss instead trains the *metric* the match rule uses: a window
 * of an entry's transitions, mean-pooled, must be nearer to another window of the same entry than to
 * any other entry's window. Windows are pooled exactly as an instance's embedding is (network.ts), so
 * what is trained is what is compared, on fewer transitions (harder, hence a margin at test time).
 *
 * Deterministic: windows are drawn from `Rng.make(seed, …)`, and sums run in a fixed order.
 */
import * as Rng from "../../rng/Rng.ts"
import { FEATURES } from "./features.ts"
import { backwardPooled, cloneSimNet, forward, type SimNet } from "./network.ts"

/** One entry's shared experience: the transitions of each of its instances (features, time order). */
export interface LabelledPool {
  readonly segments: ReadonlyArray<Float32Array>
}

export interface TrainOptions {
  readonly seed: number
  /** Adam steps (default 120). */
  readonly steps?: number
  /** Transitions per pooled window (default 128). */
  readonly window?: number
  /** Query windows per entry per step (default 2; one prototype window each). */
  readonly queries?: number
  readonly learningRate?: number
  readonly weightDecay?: number
  /** Refit the input standardisation to these pools first (default true). */
  readonly fitInputs?: boolean
  /** Entries drawn per step (default all): keeps a step's cost fixed as the registry and background grow. */
  readonly classesPerStep?: number
  /** Test hook, a planted bug: the query windows' labels are permuted at random at every step. */
  readonly shuffleLabels?: boolean
}

export interface TrainResult {
  readonly net: SimNet
  /** The loss at each step. */
  readonly losses: ReadonlyArray<number>
}

/** A window of transitions [from, to) of one segment. */
export interface Window {
  readonly x: Float32Array
  readonly from: number
  readonly to: number
}

/** Sets shift/scale to the pools' per-feature mean and 1/max(sd, 0.05) (the floor keeps constant features finite). */
export const fitStandardisation = (net: SimNet, pools: ReadonlyArray<LabelledPool>): SimNet => {
  const out = cloneSimNet(net)
  const D = net.inputs
  const s = new Float64Array(D)
  const s2 = new Float64Array(D)
  let n = 0
  for (const pool of pools) {
    for (const x of pool.segments) {
      const m = x.length / D
      for (let t = 0; t < m; t++) {
        for (let j = 0; j < D; j++) {
          const v = x[t * D + j]
          s[j] += v
          s2[j] += v * v
        }
      }
      n += m
    }
  }
  for (let j = 0; j < D; j++) {
    const mean = n > 0 ? s[j] / n : 0
    const sd = n > 1 ? Math.sqrt(Math.max(0, s2[j] / n - mean * mean)) : 1
    out.shift[j] = mean
    out.scale[j] = 1 / Math.max(sd, 0.05)
  }
  return out
}

/**
 * The prototypical loss of one step: entry c's prototype is the pooled embedding of `prototypes[c]`;
 * each query window (`queries[q]` of entry `queryLabels[q]`) is scored by −‖query − prototype‖² against
 * every prototype, and the loss is the mean cross-entropy of the right entry. Adds dL/dparams into
 * `grad` when given. Exported for the gradient check.
 */
export const protoLoss = (
  net: SimNet,
  prototypes: ReadonlyArray<Window>,
  queries: ReadonlyArray<Window>,
  queryLabels: ReadonlyArray<number>,
  grad?: Float64Array
): number => {
  const { k, hidden: H } = net
  const M = prototypes.length
  const embed = (w: Window) => {
    const h = new Float64Array((w.to - w.from) * H)
    const z = new Float64Array(k)
    forward(net, w.x, w.from, w.to, z, h)
    for (let i = 0; i < k; i++) z[i] /= w.to - w.from
    return { z, h }
  }
  const P = prototypes.map(embed)
  const Q = queries.map(embed)
  const gP = P.map(() => new Float64Array(k))
  let loss = 0
  const logits = new Float64Array(M)
  for (let q = 0; q < Q.length; q++) {
    const zq = Q[q].z
    let max = -Infinity
    for (let c = 0; c < M; c++) {
      let d = 0
      for (let i = 0; i < k; i++) d += (zq[i] - P[c].z[i]) ** 2
      logits[c] = -d
      max = Math.max(max, logits[c])
    }
    let sum = 0
    for (let c = 0; c < M; c++) sum += Math.exp(logits[c] - max)
    const y = queryLabels[q]
    loss += -(logits[y] - max - Math.log(sum)) / Q.length
    if (grad === undefined) continue
    const gq = new Float64Array(k)
    for (let c = 0; c < M; c++) {
      // dL/dlogit_c = (softmax_c − [c = y]) / |Q|; dlogit_c/dzq = −2(zq − p_c), dlogit_c/dp_c = 2(zq − p_c).
      const dl = (Math.exp(logits[c] - max) / sum - (c === y ? 1 : 0)) / Q.length
      for (let i = 0; i < k; i++) {
        const diff = zq[i] - P[c].z[i]
        gq[i] += -2 * diff * dl
        gP[c][i] += 2 * diff * dl
      }
    }
    backwardPooled(net, queries[q].x, queries[q].from, queries[q].to, Q[q].h, gq, grad)
  }
  if (grad !== undefined) for (let c = 0; c < M; c++) backwardPooled(net, prototypes[c].x, prototypes[c].from, prototypes[c].to, P[c].h, gP[c], grad)
  return loss
}

/** A random window of `len` transitions from one of the pool's segments, avoiding `avoid` if it can. */
const drawWindow = (rng: Rng.Rng, pool: LabelledPool, len: number, avoid?: { readonly seg: number; readonly from: number }): Window & { seg: number } => {
  const segs = pool.segments
  for (let attempt = 0; ; attempt++) {
    // Prefer another instance than the prototype's: what the network should learn is the task, not the instance.
    const seg = segs.length > 1 && avoid !== undefined ? (avoid.seg + 1 + rng.int(segs.length - 1)) % segs.length : rng.int(segs.length)
    const x = segs[seg]
    const n = x.length / FEATURES
    const w = Math.min(len, n)
    const from = rng.int(n - w + 1)
    const clash = avoid !== undefined && seg === avoid.seg && Math.abs(from - avoid.from) < w
    if (!clash || attempt >= 8) return { x, from, to: from + w, seg }
  }
}

/** `count` distinct indices of 0..n−1 in increasing order (all of them when count ≥ n). */
const drawClasses = (rng: Rng.Rng, n: number, count: number): Array<number> => {
  const all = Array.from({ length: n }, (_, i) => i)
  if (count >= n) return all
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i)
    const t = all[i]
    all[i] = all[j]
    all[j] = t
  }
  return all.slice(0, Math.max(2, count)).sort((a, b) => a - b)
}

/**
 * Trains a copy of `net` on the entries' pools (pool index = label). Needs at least two pools with
 * transitions; with fewer the network is returned unchanged (there is nothing to contrast).
 */
export const trainSimNet = (net: SimNet, pools: ReadonlyArray<LabelledPool>, options: TrainOptions): TrainResult => {
  const usable = pools.filter((p) => p.segments.some((s) => s.length >= FEATURES))
  if (usable.length < 2) return { net: cloneSimNet(net), losses: [] }
  const pls = usable.map((p) => ({ segments: p.segments.filter((s) => s.length >= FEATURES) }))
  const steps = options.steps ?? 120
  const window = options.window ?? 128
  const nq = options.queries ?? 2
  const lr = options.learningRate ?? 3e-3
  const wd = options.weightDecay ?? 1e-4
  const out = options.fitInputs ?? true ? fitStandardisation(net, pls) : cloneSimNet(net)
  const rng = Rng.make(options.seed, 0x7a1)
  const p = out.params
  const m1 = new Float64Array(p.length)
  const m2 = new Float64Array(p.length)
  const grad = new Float64Array(p.length)
  const losses: Array<number> = []
  for (let step = 1; step <= steps; step++) {
    const prototypes: Array<Window> = []
    const queries: Array<Window> = []
    const labels: Array<number> = []
    const classes = drawClasses(rng, pls.length, options.classesPerStep ?? pls.length)
    for (let c = 0; c < classes.length; c++) {
      const pool = pls[classes[c]]
      const proto = drawWindow(rng, pool, window)
      prototypes.push(proto)
      for (let q = 0; q < nq; q++) {
        queries.push(drawWindow(rng, pool, window, proto))
        labels.push(c)
      }
    }
    if (options.shuffleLabels === true) {
      for (let i = labels.length - 1; i > 0; i--) {
        const j = rng.int(i + 1)
        const t = labels[i]
        labels[i] = labels[j]
        labels[j] = t
      }
    }
    grad.fill(0)
    losses.push(protoLoss(out, prototypes, queries, labels, grad))
    // Adam with L2 weight decay (keeps the free scale of the embedding from drifting up for ever).
    const b1 = 1 - 0.9 ** step
    const b2 = 1 - 0.999 ** step
    for (let i = 0; i < p.length; i++) {
      const g = grad[i] + wd * p[i]
      m1[i] = 0.9 * m1[i] + 0.1 * g
      m2[i] = 0.999 * m2[i] + 0.001 * g * g
      p[i] -= (lr * (m1[i] / b1)) / (Math.sqrt(m2[i] / b2) + 1e-8)
    }
  }
  return { net: out, losses }
}

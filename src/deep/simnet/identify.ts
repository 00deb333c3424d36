/**
 * The match rule with SimNet: an instance's experience becomes a box (network.ts then box.ts), and the
 * server matches it to a registered entry whose box overlaps it, or registers it (docs/algorithm.md §3,
 * with the return interval replaced by a k-dimensional box).
 *
 * Why keep "overlap ⇒ same task" rather than a distance threshold: it needs no threshold tuned to the
 * network's scale (the intervals carry the scale), it is the rule the server already implements, and
 * it has the same guarantee: if each box contains its task's mean embedding (probability ≥ 1 − δ per
 * box, box.ts) then two instances of one task always overlap, and instances of two tasks whose mean
 * embeddings differ by more than the sum of the half-widths in some coordinate never do.
 */
import { batchMeansBox, type Box, overlaps, separation } from "./box.ts"
import { FEATURES } from "./features.ts"
import { embedTransitions, type SimNet } from "./network.ts"

export interface EmbedOptions {
  /** Contiguous blocks for the batch-means interval (default 16). */
  readonly blocks?: number
  /** Probability that a box misses its mean in some coordinate (default 0.05; split over the coordinates, box.ts). */
  readonly delta?: number
  /**
   * Append the raw input features' means to the k learned coordinates (default true): the box then has
   * k + FEATURES coordinates. A network trained on the registered entries has no reason to keep the
   * directions that tell a task it has never seen from them; the inputs' means keep them.
   */
  readonly withInputs?: boolean
}

/** The box of an instance's experience (features in time order, FEATURES floats per transition). */
export const embedExperience = (net: SimNet, features: Float32Array, options: EmbedOptions = {}): Box => {
  const n = features.length / FEATURES
  const z = embedTransitions(net, features, n)
  const blocks = Math.min(options.blocks ?? 16, n)
  const delta = options.delta ?? 0.05
  if (options.withInputs === false) return batchMeansBox(z, n, net.k, blocks, delta)
  // δ split in halves between the k learned coordinates and the inputs' means, not evenly over all
  // k + FEATURES: an even split would widen the few learned coordinates, which concentrate the
  // signal, by the Bonferroni factor of ~100 input coordinates (measured: it undid their gain).
  const x = new Float64Array(n * FEATURES)
  for (let i = 0; i < x.length; i++) x[i] = features[i]
  return concat(batchMeansBox(z, n, net.k, blocks, delta / 2), batchMeansBox(x, n, FEATURES, blocks, delta / 2))
}

const concat = (a: Box, b: Box): Box => {
  const join = (u: Float64Array, v: Float64Array) => {
    const out = new Float64Array(u.length + v.length)
    out.set(u)
    out.set(v, u.length)
    return out
  }
  return { mean: join(a.mean, b.mean), lo: join(a.lo, b.lo), hi: join(a.hi, b.hi) }
}

export type Decision = { readonly kind: "match"; readonly entry: number } | { readonly kind: "new" }

/**
 * The server's answer for `box`: the registered entry whose box overlaps it (the nearest in
 * half-widths, `separation`, if several do), or "new".
 */
export const matchBox = (entries: ReadonlyArray<Box>, box: Box): Decision => {
  let best = -1
  let bestSep = Infinity
  for (let j = 0; j < entries.length; j++) {
    if (!overlaps(entries[j], box)) continue
    const s = separation(entries[j], box)
    if (s < bestSep) {
      best = j
      bestSep = s
    }
  }
  return best < 0 ? { kind: "new" } : { kind: "match", entry: best }
}

/** Embeds an instance's experience and matches it against the registry's boxes. */
export const identifyExperience = (
  net: SimNet,
  entries: ReadonlyArray<Box>,
  features: Float32Array,
  options: EmbedOptions = {}
): { readonly decision: Decision; readonly box: Box } => {
  const box = embedExperience(net, features, options)
  return { decision: matchBox(entries, box), box }
}

/**
 * Task families with a controlled separation (docs/algorithm.md §1, separability; §7 E4): `count`
 * contexts whose exact V*_1(s0) are `lowest`, `lowest + spacing`, …, `lowest + (count−1)·spacing`.
 *
 * Each task m extends a base context with one numeric field (`vary`) and solves for the value of
 * that field that gives the target V*, by bisection on exact V* (src/env/solve.ts). V* of a finite
 * MDP is continuous in its rewards and transition probabilities, so when the target lies between
 * V* at the two ends of the interval, bisection ends on a value whose V* is the target to within
 * rounding. The result is checked against the target rather than trusted.
 */

/** Targets are raised by this much per step, so that the family's actual separation is at least `spacing`. */
export const SPACING_MARGIN = 1e-9

/** Bisection stops when the field's interval is this narrow (relative). */
const FIELD_TOLERANCE = 1e-14
/** V* of a solved task lies in [target, target + SOLVE_TOLERANCE]: below the margin, so the gaps stay ≥ spacing. */
export const SOLVE_TOLERANCE = SPACING_MARGIN / 4

export interface SeparatedFamily {
  readonly count: number
  readonly spacing: number
  readonly lowest: number
  readonly vary: string
  readonly within: readonly [number, number]
  readonly bases: ReadonlyArray<Readonly<Record<string, number>>>
}

export type SolveResult =
  | { readonly _tag: "Solved"; readonly contexts: ReadonlyArray<Readonly<Record<string, number>>> }
  | {
    readonly _tag: "Unreachable"
    readonly task: number
    readonly target: number
    readonly base: Readonly<Record<string, number>>
    /** V*(s0) at the two ends of `within`. */
    readonly range: readonly [number, number]
  }
  | { readonly _tag: "Failed"; readonly task: number; readonly reason: string }

/** The target V*(s0) of task m. */
export const target = (f: SeparatedFamily, m: number): number => f.lowest + m * (f.spacing + SPACING_MARGIN)

/**
 * Solves every task's field value. `startValue(context)` is the exact V*_1(s0) of a context, or a
 * string saying why that context is not valid (it throws only on a bug).
 */
export const solveSeparated = (
  f: SeparatedFamily,
  startValue: (context: Readonly<Record<string, number>>) => number | string
): SolveResult => {
  const contexts: Array<Readonly<Record<string, number>>> = []
  const [low, high] = f.within
  for (let m = 0; m < f.count; m++) {
    const base = f.bases[m % f.bases.length]
    const at = (x: number) => ({ ...base, [f.vary]: x })
    const t = target(f, m)
    const vLow = startValue(at(low))
    const vHigh = startValue(at(high))
    if (typeof vLow === "string") return { _tag: "Failed", task: m, reason: vLow }
    if (typeof vHigh === "string") return { _tag: "Failed", task: m, reason: vHigh }
    if (!(Math.min(vLow, vHigh) <= t && t <= Math.max(vLow, vHigh))) return { _tag: "Unreachable", task: m, target: t, base, range: [vLow, vHigh] }
    // V* may rise or fall with the field (a reward raises it, a slip or a cost lowers it): bisect
    // between the end where V* is below the target (`below`) and the end where it reaches it
    // (`reached`). Invariant: V*(below) < t ≤ V*(reached) (or t = V*(below's end) at the start).
    // For a rising V* this is below = low, reached = high: the same steps as before.
    const rising = vLow <= vHigh
    let below = rising ? low : high
    let reached = rising ? high : low
    if ((rising ? vLow : vHigh) >= t) reached = below
    while (Math.abs(reached - below) > FIELD_TOLERANCE * Math.max(1, Math.abs(reached))) {
      const mid = below + (reached - below) / 2
      if (mid === below || mid === reached) break
      const v = startValue(at(mid))
      if (typeof v === "string") return { _tag: "Failed", task: m, reason: v }
      if (v >= t) reached = mid
      else below = mid
    }
    const v = startValue(at(reached))
    if (typeof v === "string") return { _tag: "Failed", task: m, reason: v }
    if (!(v >= t && v - t <= SOLVE_TOLERANCE)) {
      return { _tag: "Failed", task: m, reason: `V*(s0) jumps as ${f.vary} varies in [${low}, ${high}] (bisection ended at V* = ${v}, target ${t})` }
    }
    contexts.push(at(reached))
  }
  return { _tag: "Solved", contexts }
}

/**
 * What solving a family costs, in operations, before it is tried: each task takes two solves at
 * the ends of `within` and about 50 bisection steps (FIELD_TOLERANCE halves [low, high] ~47 times),
 * each solve a backward induction over the H·S·A·S transition entries plus a fixed cost of building
 * the MDP. An estimate to refuse a family that would run for hours, not a benchmark.
 */
export const SOLVES_PER_TASK = 52
export const solveCost = (count: number, transitionEntries: number): number => count * SOLVES_PER_TASK * (transitionEntries + 100)
/** The most `solveCost` compile accepts: about half a minute on one core. */
export const MAX_SOLVE_COST = 2e8

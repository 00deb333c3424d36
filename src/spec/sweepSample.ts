/**
 * Random search (`distmt sweep --sample K [--sample-seed S]`): K points drawn from the sweep's
 * ranges (`Sweep.range`) and lists, with a seeded generator, so that the same command draws the
 * same points, and a sweep stopped half-way resumes like any other (each point's runs are named by
 * the hash of its spec, src/run/sweepPlan.ts).
 *
 * Candidate j is drawn from its own stream, Rng.make(S, j), and a candidate equal to an earlier
 * point is passed over: the points of `--sample 10` are the first ten of `--sample 20`, so a
 * sample can be extended in the same folder without redoing anything.
 */
import * as Rng from "../rng/Rng.ts"
import type { SweepAxis, SweepRange, SweepValue } from "./Spec.ts"

export interface SampleOptions {
  /** K: how many distinct points to draw. */
  readonly count: number
  /** S: the generator's seed. */
  readonly seed: number
}

/** The most points one sample may ask for (as many as a grid may have, src/spec/schema.ts). */
export const MAX_SAMPLE = 10_000
/** The largest seed of a draw (the generator takes a 32-bit seed). */
export const MAX_SAMPLE_SEED = 0xffffffff

/**
 * What is wrong with K or S, or undefined: the CLI's `--sample K --sample-seed S` and the API's
 * `sample: { count, seed }` are checked alike, so that the API draws no points the CLI could not
 * draw again (a seed of −1 or 0.5, 1.5 points, or none at all).
 */
export const sampleIssue = (sample: SampleOptions): { readonly field: "count" | "seed"; readonly expected: string } | undefined => {
  if (!(Number.isInteger(sample.count) && sample.count >= 1 && sample.count <= MAX_SAMPLE)) {
    return { field: "count", expected: `a number of points from 1 to ${MAX_SAMPLE}` }
  }
  if (!(Number.isInteger(sample.seed) && sample.seed >= 0 && sample.seed <= MAX_SAMPLE_SEED)) {
    return { field: "seed", expected: `a whole number from 0 to ${MAX_SAMPLE_SEED}` }
  }
  return undefined
}

export const isRange = (axis: SweepAxis): axis is SweepRange => !Array.isArray(axis)

/** `0.05 to 0.2 (log scale)`, `2 to 20 (whole numbers)`: a range as messages and reports name it. */
export const rangeLabel = (r: SweepRange): string => {
  const notes = [...(r.scale === "log" ? ["log scale"] : []), ...(r.integer === true ? ["whole numbers"] : [])]
  return `${r.min} to ${r.max}${notes.length === 0 ? "" : ` (${notes.join(", ")})`}`
}

/** Continuous draws keep 4 significant digits: labels, tables and messages stay readable. */
const DIGITS = 4

/** One value from a range: uniform (in log for a log scale), an integer or a 4-digit number, within [min, max]. */
export const drawFromRange = (rng: Rng.Rng, r: SweepRange): number => {
  const u = rng.next()
  const log = r.scale === "log"
  if (r.integer === true) {
    // Uniform over the integers min..max: [min, max + 1) floored, in log space for a log scale.
    const v = log ? Math.floor(Math.exp(Math.log(r.min) + u * (Math.log(r.max + 1) - Math.log(r.min)))) : r.min + Math.floor(u * (r.max - r.min + 1))
    return Math.min(r.max, Math.max(r.min, v))
  }
  const v = log ? Math.exp(Math.log(r.min) + u * (Math.log(r.max) - Math.log(r.min))) : r.min + u * (r.max - r.min)
  return Math.min(r.max, Math.max(r.min, Number(v.toPrecision(DIGITS))))
}

/** How many distinct points the axes hold, or Infinity when a range is continuous. */
const spaceSize = (axes: ReadonlyArray<readonly [string, SweepAxis]>): number =>
  axes.reduce((n, [, a]) => n * (!isRange(a) ? a.length : a.integer === true ? a.max - a.min + 1 : Infinity), 1)

/** A point's identity: its values by label, axis by axis. */
const identity = (values: ReadonlyArray<SweepValue>) => JSON.stringify(values)

/**
 * K distinct points, in draw order, each with every axis's value; or why they cannot be drawn
 * (more points asked than the axes hold, or too many repeats in a narrow integer range).
 */
export const drawPoints = (
  axes: ReadonlyArray<readonly [string, SweepAxis]>,
  sample: SampleOptions
): { readonly points: ReadonlyArray<Record<string, SweepValue>> } | { readonly problem: string } => {
  const size = spaceSize(axes)
  if (sample.count > size) {
    const held = axes.length === 0 ? "the spec has no sweep axes, so it is 1 point" : `the axes hold only ${size} distinct point${size === 1 ? "" : "s"}`
    return { problem: `${held}, fewer than --sample ${sample.count}` }
  }
  const points: Array<Record<string, SweepValue>> = []
  const seen = new Set<string>()
  // A draw that repeats an earlier point is passed over; this many in all is plenty unless the space is nearly exhausted.
  const tries = 100 * sample.count + 1000
  for (let j = 0; j < tries && points.length < sample.count; j++) {
    const rng = Rng.make(sample.seed, j)
    const values = axes.map(([, a]) => (isRange(a) ? drawFromRange(rng, a) : a[rng.int(a.length)]))
    const id = identity(values)
    if (seen.has(id)) continue
    seen.add(id)
    points.push(Object.fromEntries(axes.map(([k], i) => [k, values[i]])))
  }
  if (points.length < sample.count) {
    return { problem: `only ${points.length} distinct points came out of ${tries} draws; ask for fewer (--sample ${points.length}) or widen the ranges` }
  }
  return { points }
}

/**
 * Random search over ranges (`Sweep.range`, `distmt sweep --sample K`): the same draw twice, the
 * draws of a smaller K a prefix of a larger one's (so a sample grows in its folder), values within
 * their ranges, whole numbers where asked; a range refused without --sample with a message naming
 * the field; a bad range named by its path; and the same unit keys for the same draw, which is
 * what lets an interrupted sampled sweep resume (the CLI's resume is in sweep-sample-e2e.test.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { planUnits } from "../src/run/sweepPlan.ts"
import { checkSpecWith } from "../src/spec/check.ts"
import { decode } from "../src/spec/schema.ts"
import { Assignment, type ExperimentInput, Sweep } from "../src/spec/Spec.ts"
import type { SpecError, SpecIssue } from "../src/spec/SpecError.ts"
import { expandSweep, type SampleOptions } from "../src/spec/sweep.ts"
import { drawPoints } from "../src/spec/sweepSample.ts"
import scaling from "../specs/scaling.spec.ts"

const SOURCE = "sample.spec.ts"

/** The shipped E3 spec with other axes: a family that compiles in milliseconds. */
const base = (sweep: NonNullable<ExperimentInput["sweep"]>): ExperimentInput => ({ ...scaling, sweep })

const RANGES = { epsilon: Sweep.range(0.05, 0.2, { log: true }), agents: Sweep.range(2, 20, { integer: true }), assignment: [Assignment.partition(), Assignment.stream()] }

const expanded = (input: ExperimentInput, sample?: SampleOptions) =>
  Effect.flatMap(decode(input, SOURCE), (s) => expandSweep(s, SOURCE, { sample }))

const failure = (input: ExperimentInput, sample?: SampleOptions) => Effect.flip(expanded(input, sample))

const at = (e: SpecError, path: string): SpecIssue => {
  const found = e.issues.find((i) => i.path === path)
  expect(found, `an issue at ${path}; got ${JSON.stringify(e.issues)}`).toBeDefined()
  return found!
}

describe("drawing points from ranges", () => {
  const axes = Object.entries(RANGES)

  it("draws the same points for the same K and seed, others for another seed; K points are the first K of more", () => {
    const a = drawPoints(axes, { count: 12, seed: 7 })
    const b = drawPoints(axes, { count: 12, seed: 7 })
    const other = drawPoints(axes, { count: 12, seed: 8 })
    const more = drawPoints(axes, { count: 30, seed: 7 })
    if ("problem" in a || "problem" in b || "problem" in other || "problem" in more) throw new Error("no draw")
    expect(b.points).toEqual(a.points)
    expect(other.points).not.toEqual(a.points)
    expect(more.points.slice(0, 12)).toEqual(a.points)
    // Distinct points, each value within its range; whole numbers where asked, 4 digits otherwise.
    expect(new Set(more.points.map((p) => JSON.stringify(p))).size).toBe(30)
    for (const p of more.points) {
      expect(p.epsilon).toBeGreaterThanOrEqual(0.05)
      expect(p.epsilon).toBeLessThanOrEqual(0.2)
      expect(Number((p.epsilon as number).toPrecision(4))).toBe(p.epsilon)
      expect(Number.isInteger(p.agents)).toBe(true)
      expect(p.agents).toBeGreaterThanOrEqual(2)
      expect(p.agents).toBeLessThanOrEqual(20)
      expect(["Partition", "Stream"]).toContain((p.assignment as { _tag: string })._tag)
    }
  })

  it("a log scale spreads the draws evenly over the decades, a linear one over the values", () => {
    const log = drawPoints([["x", Sweep.range(1, 10_000, { log: true })]], { count: 2000, seed: 1 })
    const linear = drawPoints([["x", Sweep.range(1, 10_000)]], { count: 2000, seed: 1 })
    if ("problem" in log || "problem" in linear) throw new Error("no draw")
    // About a quarter of the log draws in each decade; almost none of the linear draws below 1000.
    const decade = (p: Record<string, unknown>) => Math.floor(Math.log10(p.x as number))
    for (const d of [0, 1, 2, 3]) expect(log.points.filter((p) => decade(p) === d).length).toBeGreaterThan(400)
    expect(linear.points.filter((p) => (p.x as number) < 1000).length).toBeLessThan(300)
  })

  it("refuses more points than the axes hold", () => {
    const small = drawPoints([["agents", Sweep.range(1, 3, { integer: true })], ["sharing", ["policy", "experience"]]], { count: 7, seed: 0 })
    expect(small).toEqual({ problem: "the axes hold only 6 distinct points, fewer than --sample 7" })
    const all = drawPoints([["agents", Sweep.range(1, 3, { integer: true })], ["sharing", ["policy", "experience"]]], { count: 6, seed: 0 })
    expect("points" in all && all.points.length).toBe(6)
  })
})

describe("a sweep with ranges", () => {
  it.effect("expands with --sample into K checked points, the same twice, with the same unit keys (resume)", () =>
    Effect.gen(function*() {
      const spec = yield* decode(base(RANGES), SOURCE)
      const points = yield* expandSweep(spec, SOURCE, { sample: { count: 5, seed: 3 } })
      expect(points).toHaveLength(5)
      expect(points.map((p) => p.index)).toEqual([0, 1, 2, 3, 4])
      for (const p of points) {
        expect(p.compiled.spec.epsilon).toBe(p.values.epsilon)
        expect(p.compiled.spec.agents).toBe(p.values.agents)
      }
      const again = yield* expandSweep(spec, SOURCE, { sample: { count: 5, seed: 3 } })
      expect(again.map((p) => p.values)).toEqual(points.map((p) => p.values))
      const keys = planUnits(spec, points).map((u) => u.key)
      expect(planUnits(spec, again).map((u) => u.key)).toEqual(keys)
      // A larger sample keeps every finished unit of the smaller one.
      const more = planUnits(spec, yield* expandSweep(spec, SOURCE, { sample: { count: 8, seed: 3 } })).map((u) => u.key)
      for (const k of keys) expect(more).toContain(k)
    }))

  it.effect("without --sample, a range is refused at its field, saying to pass --sample or give a list", () =>
    Effect.gen(function*() {
      const e = yield* failure(base(RANGES))
      expect(e.issues.map((i) => i.path).sort()).toEqual(["sweep.agents", "sweep.epsilon"])
      expect(at(e, "sweep.epsilon").message).toMatch(/--sample K.*or give a list of values/)
      // validate checks a range at its two ends instead, and passes a good one.
      const spec = yield* decode(base(RANGES), SOURCE)
      const ends = yield* expandSweep(spec, SOURCE, { rangeEnds: true })
      expect(ends.map((p) => [p.values.epsilon, p.values.agents])).toEqual([[0.05, 2], [0.2, 2], [0.05, 2], [0.05, 20]])
    }))

  it.effect("validate --sample K checks the draw as sweep --sample K makes it, on a spec without axes too", () =>
    Effect.gen(function*() {
      const check = (sample: SampleOptions) =>
        checkSpecWith(SOURCE, () => decode(base({}), SOURCE), Effect.succeed(false), { quick: false, sweep: true, allVariants: true, sample })
      // No axes: one point, the spec as written, which `sweep --sample 3` refuses to draw 3 times.
      const e = yield* Effect.flip(check({ count: 3, seed: 0 }))
      expect(at(e, "sweep").message).toBe("expected room for --sample 3: the spec has no sweep axes, so it is 1 point, fewer than --sample 3")
      expect((yield* check({ count: 1, seed: 0 })).points).toBe(1)
    }))

  it.effect("a bad range is named by its path", () =>
    Effect.gen(function*() {
      const sample = { count: 3, seed: 0 }
      const inverted = yield* failure(base({ epsilon: Sweep.range(0.2, 0.1) }), sample)
      expect(at(inverted, "sweep.epsilon.max")).toMatchObject({ actual: "0.1" })
      expect(at(inverted, "sweep.epsilon.max").message).toMatch(/> min = 0.2/)
      const logZero = yield* failure(base({ epsilon: Sweep.range(0, 0.2, { log: true }) }), sample)
      expect(at(logZero, "sweep.epsilon.min").message).toMatch(/log scale/)
      const notWhole = yield* failure(base({ agents: Sweep.range(1.5, 8, { integer: true }) }), sample)
      expect(at(notWhole, "sweep.agents.min")).toMatchObject({ actual: "1.5" })
      const categorical = yield* failure(base({ sharing: Sweep.range(0, 1) as never }), sample)
      expect(at(categorical, "sweep.sharing").message).toMatch(/categorical/)
      // An end the field refuses is named at that end: agents must be a positive integer.
      const zero = yield* failure(base({ agents: Sweep.range(0, 8, { integer: true }) }), sample)
      expect(zero.issues.map((i) => i.path)).toEqual(["sweep.agents.min"])
      expect(at(zero, "sweep.agents.min").message).toMatch(/greater than 0/)
      // A value drawn that the field refuses is named at the axis, with the value and its draw.
      const fractional = yield* failure(base({ agents: Sweep.range(1, 8) }), { count: 4, seed: 0 })
      // Once, with the number of other points that drew a refused value, not once per point.
      expect(fractional.issues.map((i) => i.path)).toEqual(["sweep.agents"])
      expect(fractional.issues[0].message).toMatch(/^expected an integer \(the value [\d.]+ drawn for sampled point 0; the same at 3 more drawn points\)$/)
      // More points than a narrow range holds.
      const narrow = yield* failure(base({ agents: Sweep.range(1, 3, { integer: true }) }), { count: 4, seed: 0 })
      expect(at(narrow, "sweep").message).toMatch(/only 3 distinct points, fewer than --sample 4/)
    }))
})

/**
 * Sweeps in the DSL: axes over numeric fields, the `quick` variant, the task family with a
 * controlled separation (Contexts.separated), expansion into checked points, and the keys that let
 * an interrupted sweep resume without redoing finished runs. Bad input fails with a SpecError whose
 * issues name the path (docs/algorithm.md §6 item 6).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { planUnits } from "../src/run/sweepPlan.ts"
import { compile } from "../src/spec/compile.ts"
import { deepMerge, parseFieldPath } from "../src/spec/paths.ts"
import { decode } from "../src/spec/schema.ts"
import { Assignment, Contexts, Env, Experiment, type ExperimentInput, Lsvi, Stopping } from "../src/spec/Spec.ts"
import { SpecError, type SpecIssue } from "../src/spec/SpecError.ts"
import { axisLabel, describePoint, expandSweep } from "../src/spec/sweep.ts"
import scaling from "../specs/scaling.spec.ts"
import separabilitySpec from "../specs/separability.spec.ts"
import sharingSpec from "../specs/sharing.spec.ts"

const SOURCE = "sweep.spec.ts"

/** A small family on the two-state chain: V*(s0) = 0.3, 0.7, 1.1, … spaced by cSep. */
const family = (count: number, extra: Partial<Parameters<typeof Contexts.separated>[0]> = {}) =>
  Contexts.separated({ count, lowest: 0.3, vary: "reward", within: [0, 1], bases: [{ goal: 1, slip: 0.1 }, { goal: 0, slip: 0.1 }], ...extra })

const base = (over: Partial<ExperimentInput> = {}): ExperimentInput =>
  Experiment.make({
    name: "sweep-test",
    environment: Env.linearChain({ length: 2, horizon: 3 }),
    contexts: family(3),
    agents: 2,
    assignment: Assignment.partition(),
    epsilon: 0.15,
    cSep: 0.4,
    delta: 0.05,
    learner: Lsvi.ucb({ beta: 2 }),
    stopping: Stopping.adaptive({ maxEpisodes: 10_000 }),
    baselines: ["independent"],
    seeds: 2,
    sweep: { agents: [1, 2, 3] },
    ...over
  })

/** The issues of a spec that must fail, at decode or at expansion. */
const failure = (input: unknown, options: { readonly quick?: boolean } = {}) =>
  Effect.flip(Effect.flatMap(decode(input, SOURCE, options), (s) => expandSweep(s, SOURCE)))

const paths = (e: SpecError) => e.issues.map((i) => i.path)
const at = (e: SpecError, path: string): SpecIssue => {
  const found = e.issues.find((i) => i.path === path)
  expect(found, `an issue at ${path}; got ${JSON.stringify(e.issues)}`).toBeDefined()
  return found!
}

describe("field paths and the quick merge", () => {
  it("parses dotted and bracketed paths, and refuses malformed ones", () => {
    expect(parseFieldPath("agents")).toEqual(["agents"])
    expect(parseFieldPath("stopping.k1")).toEqual(["stopping", "k1"])
    expect(parseFieldPath("contexts.items[2].reward")).toEqual(["contexts", "items", 2, "reward"])
    expect(parseFieldPath("contexts.items.2.reward")).toEqual(["contexts", "items", 2, "reward"])
    for (const bad of ["", "a..b", "a.", "[x]", "a b", "a.-1"]) expect(parseFieldPath(bad), bad).toBeUndefined()
  })

  it("merges objects field by field; arrays, numbers and another builder replace", () => {
    const spec = { a: 1, nested: { x: 1, y: 2 }, list: [1, 2], stopping: { _tag: "Adaptive", maxEpisodes: 5 } }
    expect(deepMerge(spec, { nested: { y: 3 }, list: [9], stopping: { _tag: "Adaptive", maxEpisodes: 7 } })).toEqual({
      a: 1,
      nested: { x: 1, y: 3 },
      list: [9],
      stopping: { _tag: "Adaptive", maxEpisodes: 7 }
    })
    expect(deepMerge(spec, { stopping: { _tag: "Schedule", k1: 1, k2: 2 } })).toMatchObject({ stopping: { _tag: "Schedule", k1: 1, k2: 2 } })
    expect((deepMerge(spec, { stopping: { _tag: "Schedule", k1: 1, k2: 2 } }) as any).stopping).not.toHaveProperty("maxEpisodes")
    // A "__proto__" key stays a plain field (which the schema then refuses), never a prototype.
    const merged = deepMerge({}, JSON.parse('{"__proto__": {"polluted": 1}}')) as Record<string, unknown>
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys(merged)).toEqual(["__proto__"])
  })
})

describe("sweep axes", () => {
  it.effect("expand into every combination, the last axis fastest, each a compiled spec", () =>
    Effect.gen(function*() {
      const spec = yield* decode(base({ sweep: { agents: [1, 2], cSep: [0.3, 0.4] } }), SOURCE)
      const points = yield* expandSweep(spec, SOURCE)
      expect(points.map((p) => p.values)).toEqual([
        { agents: 1, cSep: 0.3 },
        { agents: 1, cSep: 0.4 },
        { agents: 2, cSep: 0.3 },
        { agents: 2, cSep: 0.4 }
      ])
      for (const p of points) {
        expect(p.compiled.spec.agents).toBe(p.values.agents)
        expect(p.compiled.spec.cSep).toBe(p.values.cSep)
        expect(p.compiled.spec.sweep).toEqual({})
        // The family follows cSep: its actual separation is the declared one.
        expect(p.compiled.separation.value).toBeGreaterThanOrEqual(p.values.cSep as number)
        expect(p.compiled.separation.value).toBeLessThan((p.values.cSep as number) + 1e-8)
      }
    }))

  it.effect("nested fields, defaults included, can be swept", () =>
    Effect.gen(function*() {
      const spec = yield* decode(base({ sweep: { "stopping.maxEpisodes": [100, 200], "contexts.count": [2, 3] } }), SOURCE)
      const points = yield* expandSweep(spec, SOURCE)
      expect(points).toHaveLength(4)
      expect(points[3].compiled.tasks).toHaveLength(3)
      expect(points[3].compiled.spec.stopping).toEqual({ _tag: "Adaptive", maxEpisodes: 200 })
      // A sweep with no axes is the spec as written: one point.
      expect(yield* expandSweep(yield* decode(base({ sweep: {} }), SOURCE), SOURCE)).toHaveLength(1)
    }))

  it.effect("an axis that is not a numeric field of the spec is refused at sweep.<key>", () =>
    Effect.gen(function*() {
      const e = yield* failure(base({ sweep: { "stoping.k1": [1], "learner.beta": [1], seeds: [1, 2], "a..b": [1], agents: [] as Array<number> } }))
      expect(e).toBeInstanceOf(SpecError)
      expect(at(e, "sweep.stoping.k1").message).toMatch(/numeric field of this spec/)
      expect(at(e, "sweep.seeds").message).toMatch(/seeds are swept by the spec's `seeds` field/)
      expect(at(e, "sweep.a..b").message).toMatch(/path of a numeric field/)
      expect(at(e, "sweep.agents").message).toMatch(/at least 1/)
      // β is a number in this spec, so it can be swept; under "theory" it cannot.
      expect(paths(e)).not.toContain("sweep.learner.beta")
      const theory = yield* failure(base({ learner: Lsvi.ucb(), sweep: { "learner.beta": [1] } }))
      expect(at(theory, "sweep.learner.beta").message).toMatch(/learner.beta is "theory"/)
      // M can be swept only for a family with a count.
      const list = yield* failure(base({ contexts: Contexts.list([{ goal: 1, reward: 1, slip: 0 }]), sweep: { "contexts.count": [1] } }))
      expect(at(list, "sweep.contexts.count").message).toMatch(/Contexts.separated/)
    }))

  it.effect("an axis inside another (learner.beta inside learner) is refused: its points would run other values than their labels", () =>
    Effect.gen(function*() {
      // Point "learner = ucb(beta = 3), learner.beta = 1" ran β = 1, so ucb(beta = 3) never ran under its label.
      for (const sweep of [{ learner: [Lsvi.ucb({ beta: 1 }), Lsvi.ucb({ beta: 3 })], "learner.beta": [1, 2] }, { "stopping.k1": [10], stopping: [Stopping.schedule({ k1: 5, k2: 5 })] }]) {
        const [outer, inner] = Object.keys(sweep).sort()
        const e = yield* failure(base({ sweep }))
        expect(paths(e)).toEqual([`sweep.${inner}`])
        expect(at(e, `sweep.${inner}`).message).toBe(
          `expected a field no other axis holds: sweep.${outer} sets the whole of ${outer} at every point, ` +
            `and ${inner} inside it would run other values than its labels say; give sweep.${outer} those values instead`
        )
      }
    }))

  it.effect("a bad axis value is reported at its index, once; a point's own problem names the point", () =>
    Effect.gen(function*() {
      const e = yield* failure(base({ sweep: { agents: [1, 2.5, -1], epsilon: [0.1, 0.2] } }))
      expect(paths(e).sort()).toEqual(["sweep.agents[1]", "sweep.agents[2]"])
      expect(at(e, "sweep.agents[1]")).toMatchObject({ actual: "2.5" })
      expect(at(e, "sweep.agents[1]").message).toMatch(/integer/)
      // cSep above the separation of a family with an explicit spacing: at the cSep value.
      const sep = yield* failure(base({ contexts: family(3, { spacing: 0.4 }), sweep: { cSep: [0.3, 0.5] } }))
      expect(paths(sep)).toEqual(["sweep.cSep[1]"])
      expect(at(sep, "sweep.cSep[1]").message).toMatch(/actual separation 0.4/)
      // A family that cannot reach its targets at one point: the issue names the point.
      const far = yield* failure(base({ sweep: { cSep: [0.4, 1.5] } }))
      expect(paths(far)).toEqual(["contexts"])
      expect(far.issues[0].message).toMatch(/reachable.*\(at sweep point cSep = 1.5\)$/)
      // The same problem at several points names them all, the first few and how many more (it
      // named only the first, so the user fixed that one to meet the next).
      const two = yield* failure(base({ cSep: 1.5, sweep: { agents: [1, 2] } }))
      expect(paths(two)).toEqual(["contexts"])
      expect(two.issues[0].message).toMatch(/reachable.*\(at 2 sweep points: agents = 1; agents = 2\)$/)
      const five = yield* failure(base({ cSep: 1.5, sweep: { agents: [1, 2, 3, 4, 5] } }))
      expect(five.issues[0].message).toMatch(/reachable.*\(at 5 sweep points: agents = 1; agents = 2; agents = 3 and 2 more\)$/)
    }))

  it.effect("too many combinations are refused before any point is built", () =>
    Effect.gen(function*() {
      const many = Array.from({ length: 101 }, (_, i) => i + 1)
      const e = yield* failure(base({ sweep: { agents: many, seed: [1], "stopping.maxEpisodes": many } as Record<string, Array<number>> }))
      expect(at(e, "sweep").actual).toBe("10201 combinations")
    }))
})

describe("the quick variant", () => {
  it.effect("is merged over the spec with --quick, and ignored without it", () =>
    Effect.gen(function*() {
      const input = base({ quick: { epsilon: 0.3, seeds: 1, contexts: { count: 2 }, sweep: { agents: [1] } } })
      const full = yield* decode(input, SOURCE)
      const quick = yield* decode(input, SOURCE, { quick: true })
      expect(full.epsilon).toBe(0.15)
      expect(full.sweep).toEqual({ agents: [1, 2, 3] })
      expect(quick.epsilon).toBe(0.3)
      expect(quick.seeds).toBe(1)
      expect(quick.sweep).toEqual({ agents: [1] })
      expect(quick.contexts).toMatchObject({ _tag: "Separated", count: 2, lowest: 0.3, vary: "reward" })
      expect(quick).not.toHaveProperty("quick")
    }))

  it.effect("is asked for with --quick: a spec without one is refused, not run in full", () =>
    Effect.gen(function*() {
      const input = base()
      expect((yield* decode(input, SOURCE)).epsilon).toBe(0.15)
      const e = yield* Effect.flip(decode(input, SOURCE, { quick: true }))
      expect(e.issues).toEqual([{ path: "quick", message: expect.stringMatching(/^expected a quick variant for --quick \(missing\)/) }])
    }))

  it.effect("is checked even without --quick; its issues are named under quick.", () =>
    Effect.gen(function*() {
      const e = yield* failure(base({ quick: { epsilon: -1, sweep: { agents: [0] }, stopping: Stopping.schedule({ k1: 5 } as any) } as any }))
      expect(paths(e).sort()).toEqual(["quick.epsilon", "quick.stopping.k2"])
      expect(at(e, "quick.epsilon").actual).toBe("-1")
      // The sweep value 0 is a problem of the quick variant's points: found when they are expanded.
      const points = yield* failure(base({ quick: { sweep: { agents: [0] } } }), { quick: true })
      expect(paths(points)).toEqual(["sweep.agents[0]"])
      const unknown = yield* failure(base({ quick: { epsilonn: 1 } as any }))
      expect(paths(unknown)).toEqual(["quick.epsilonn"])
      const nested = yield* failure(base({ quick: { quick: {} } as any }))
      expect(paths(nested)).toEqual(["quick.quick"])
      const notObject = yield* failure(base({ quick: 3 as any }))
      expect(paths(notObject)).toEqual(["quick"])
    }))

  it.effect("the shipped experiments decode and expand, full and quick", () =>
    Effect.gen(function*() {
      for (const spec of [scaling, separabilitySpec, sharingSpec]) {
        for (const quick of [false, true]) {
          const s = yield* decode(spec, SOURCE, { quick })
          const points = yield* expandSweep(s, SOURCE)
          expect(points.length).toBeGreaterThan(1)
        }
      }
      const e3 = yield* expandSweep(yield* decode(scaling, SOURCE), SOURCE)
      expect(e3.map((p) => p.compiled.spec.agents)).toEqual([1, 2, 5, 10, 20, 50])
      expect(e3.every((p) => p.compiled.tasks.length === 10)).toBe(true)
    }))
})

describe("Contexts.separated: a family with a controlled separation", () => {
  const compiled = (input: unknown) => Effect.flatMap(decode(input, SOURCE), (s) => compile(s, SOURCE))

  it.effect("gives V*(s0) = lowest + m·spacing exactly, so the actual separation is the spacing", () =>
    Effect.gen(function*() {
      for (const spacing of [0.1, 0.25, 0.6]) {
        const c = yield* compiled(base({ contexts: family(4, { spacing }), cSep: spacing, sweep: {} }))
        c.startValues.forEach((v, m) => expect(v).toBeCloseTo(0.3 + m * spacing, 7))
        expect(c.separation.value).toBeGreaterThanOrEqual(spacing)
        expect(c.separation.value - spacing).toBeLessThan(1e-8)
        // Bases are taken in turn; the solved field is in range.
        c.contexts.forEach((ctx, m) => {
          expect(ctx.goal).toBe(m % 2 === 0 ? 1 : 0)
          expect(ctx.reward).toBeGreaterThanOrEqual(0)
          expect(ctx.reward).toBeLessThanOrEqual(1)
        })
      }
    }))

  it.effect("refuses an unreachable target, a base holding the solved field, a declared cSep above the spacing, and seeds", () =>
    Effect.gen(function*() {
      const far = yield* Effect.flip(compiled(base({ contexts: family(3, { spacing: 1.5 }), cSep: 1, sweep: {} })))
      expect(far.issues[0].path).toBe("contexts")
      expect(far.issues[0].message).toMatch(/task 2's V\*\(s0\) = 3.30000.*reachable by varying reward in \[0, 1\].*goes from/)
      const inBase = yield* Effect.flip(compiled(base({ contexts: family(2, { bases: [{ goal: 1, slip: 0.1, reward: 0.5 }] }), sweep: {} })))
      expect(inBase.issues.map((i) => i.path)).toEqual(["contexts.bases[0].reward"])
      const above = yield* Effect.flip(compiled(base({ contexts: family(3, { spacing: 0.3 }), cSep: 0.31, sweep: {} })))
      expect(above.issues.map((i) => i.path)).toEqual(["cSep"])
      const seeds = yield* Effect.flip(compiled(base({
        environment: Env.randomLinear({ states: 3, actions: 2, dim: 3, horizon: 2 }),
        contexts: Contexts.separated({ count: 2, lowest: 0, vary: "seed", within: [0, 5] }),
        sweep: {}
      })))
      expect(seeds.issues[0].message).toMatch(/seeds/)
      const badWithin = yield* Effect.flip(compiled(base({ contexts: family(2, { within: [1, 0] }), sweep: {} })))
      expect(badWithin.issues.map((i) => i.path)).toEqual(["contexts.within"])
    }))
})

describe("the plan's keys (what makes resuming safe)", () => {
  it.effect("a unit's key depends on its point's inputs, seed and algorithm; adding a point keeps the others' keys", () =>
    Effect.gen(function*() {
      const keysOf = (input: ExperimentInput) =>
        Effect.gen(function*() {
          const s = yield* decode(input, SOURCE)
          return planUnits(s, yield* expandSweep(s, SOURCE))
        })
      const a = yield* keysOf(base())
      expect(a).toHaveLength(3 * 2 * 2) // N values × seeds × (distmt, independent)
      expect(new Set(a.map((u) => u.key)).size).toBe(a.length)
      expect(new Set(a.map((u) => u.file)).size).toBe(a.length)
      const again = yield* keysOf(base())
      expect(again.map((u) => u.key)).toEqual(a.map((u) => u.key))
      const more = yield* keysOf(base({ sweep: { agents: [1, 2, 3, 4] } }))
      for (const u of a) expect(more.map((x) => x.key)).toContain(u.key)
      const otherEpsilon = yield* keysOf(base({ epsilon: 0.14 }))
      for (const u of otherEpsilon) expect(a.map((x) => x.key)).not.toContain(u.key)
      // The name and the description are not inputs of a run.
      const renamed = yield* keysOf(base({ name: "renamed", description: "words" }))
      expect(renamed.map((u) => u.key)).toEqual(a.map((u) => u.key))
    }))
})

describe("categorical sweep axes", () => {
  const keysOf = (input: ExperimentInput) =>
    Effect.gen(function*() {
      const s = yield* decode(input, SOURCE)
      return planUnits(s, yield* expandSweep(s, SOURCE))
    })

  it("labels a value by its builder and arguments, a number or a string as itself", () => {
    expect(axisLabel(Assignment.stream())).toBe("stream")
    expect(axisLabel(Assignment.random(2))).toBe("random(2)")
    expect(axisLabel(Assignment.partition())).toBe("partition")
    expect(axisLabel(Stopping.schedule({ k1: 100, k2: 2000 }))).toBe("schedule(k1 = 100, k2 = 2000)")
    expect(axisLabel(Stopping.adaptive())).toBe("adaptive")
    expect(axisLabel(Lsvi.ucb({ beta: 2 }))).toBe("ucb(beta = 2)")
    expect(axisLabel(Lsvi.ucb({ beta: 1, lambda: 0.5 }))).toBe("ucb(beta = 1, lambda = 0.5)")
    expect(axisLabel("experience")).toBe("experience")
    expect(axisLabel(0.25)).toBe("0.25")
    expect(describePoint({ sharing: "policy", assignment: Assignment.random(3), agents: 8 })).toBe("sharing = policy, assignment = random(3), agents = 8")
  })

  it.effect("expand like numeric axes: each point's spec holds the value, decoded with its defaults", () =>
    Effect.gen(function*() {
      const spec = yield* decode(base({
        sweep: { sharing: ["policy", "experience"], assignment: [Assignment.stream(), Assignment.random(2)], stopping: [Stopping.adaptive(), Stopping.schedule({ k1: 50, k2: 60 })] }
      }), SOURCE)
      const points = yield* expandSweep(spec, SOURCE)
      expect(points).toHaveLength(8)
      expect(points.map((p) => describePoint(p.values))[5]).toBe("sharing = experience, assignment = stream, stopping = schedule(k1 = 50, k2 = 60)")
      const p5 = points[5].compiled.spec
      expect(p5.sharing).toBe("experience")
      expect(p5.assignment).toEqual({ _tag: "Stream" })
      expect(p5.stopping).toEqual({ _tag: "Schedule", k1: 50, k2: 60 })
      // The default is filled in for a builder value that leaves it out.
      expect(points[0].compiled.spec.stopping).toEqual({ _tag: "Adaptive", maxEpisodes: 50_000 })
      expect(points[2].compiled.spec.assignment).toEqual({ _tag: "Random", k: 2 })
      expect(points[2].compiled.spec.sharing).toBe("policy")
    }))

  it.effect("a bad value is reported at its index, and inside it at its field", () =>
    Effect.gen(function*() {
      const e = yield* failure(base({ sweep: { sharing: ["policy", "experiance"], assignment: [Assignment.stream(), Assignment.random(0), 3 as any] } }))
      expect(paths(e).sort()).toEqual(["sweep.assignment[1].k", "sweep.assignment[2]", "sweep.sharing[1]"])
      expect(at(e, "sweep.sharing[1]")).toMatchObject({ actual: '"experiance"' })
      expect(at(e, "sweep.assignment[1].k").actual).toBe("0")
      // A field that is neither numeric nor categorical cannot be an axis; nor can a value be an array.
      const features = yield* failure(base({ sweep: { features: [{ _tag: "OneHot" }] } as any }))
      expect(at(features, "sweep.features").message).toMatch(/categorical fields sharing, assignment, learner, stopping/)
      const array = yield* failure(base({ sweep: { sharing: [["policy"]] } as any }))
      expect(paths(array)).toEqual(["sweep.sharing[0]"])
      // Two values with the same label would be one column of the report: refused.
      const twice = yield* failure(base({ sweep: { assignment: [Assignment.random(2), Assignment.stream(), Assignment.random(2)] } }))
      expect(paths(twice)).toEqual(["sweep.assignment[2]"])
      expect(at(twice, "sweep.assignment[2]").message).toMatch(/same as sweep.assignment\[0\]/)
      // A numeric axis refuses a string value at its index.
      const numeric = yield* failure(base({ sweep: { agents: [2, "many" as any] } }))
      expect(paths(numeric)).toEqual(["sweep.agents[1]"])
    }))

  it.effect("each value has its own unit keys; adding a value keeps the others' keys (resume)", () =>
    Effect.gen(function*() {
      const two = yield* keysOf(base({ sweep: { sharing: ["policy", "experience"], assignment: [Assignment.stream(), Assignment.random(2)] } }))
      expect(two).toHaveLength(4 * 2 * 2) // points × seeds × (distmt, independent)
      expect(new Set(two.map((u) => u.key)).size).toBe(two.length)
      const three = yield* keysOf(base({ sweep: { sharing: ["policy", "experience"], assignment: [Assignment.stream(), Assignment.random(3), Assignment.random(2)] } }))
      for (const u of two) expect(three.map((x) => x.key)).toContain(u.key)
      // The key is the point's spec, not its position: the same run written without an axis has the same key.
      const plain = yield* keysOf(base({ sharing: "experience", assignment: Assignment.random(2), sweep: {} }))
      const same = two.filter((u) => u.point.values.sharing === "experience" && axisLabel(u.point.values.assignment) === "random(2)")
      expect(plain.map((u) => u.key).sort()).toEqual(same.map((u) => u.key).sort())
    }))
})

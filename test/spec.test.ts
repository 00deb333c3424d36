/**
 * The spec layer (docs/algorithm.md §1 and §6 item 6): `decode` fills in every documented default and
 * rejects bad input with a SpecError naming the bad field; `compile` rejects what only the built
 * environment can tell (context fields, user tables, a custom feature map, cSep against the family's
 * exact separation). A property test mutates the valid spec at random: every outcome is either a
 * success or a SpecError whose every issue names a real field, never a thrown error or a defect.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import * as fc from "fast-check"
import linearChain from "../specs/linear-chain.spec.ts"
import { type Compiled, compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { Contexts, Env, Experiment, type ExperimentInput, Features } from "../src/spec/Spec.ts"
import { formatPath, SpecError, type SpecIssue } from "../src/spec/SpecError.ts"

const SOURCE = "test.spec.ts"

/** decode, then compile; a synchronous throw from either becomes a defect, which the tests reject. */
const check = (input: unknown): Effect.Effect<Compiled, SpecError> =>
  Effect.suspend(() => decode(input, SOURCE)).pipe(Effect.flatMap((spec) => compile(spec, SOURCE)))

/** The SpecError of a bad input (a success or a defect fails the test). */
const specError = (input: unknown): Effect.Effect<SpecError> =>
  check(input).pipe(
    Effect.flatMap(() => Effect.die(new Error("expected a SpecError, but the spec compiled"))),
    Effect.flip,
    Effect.tap((e) =>
      Effect.sync(() => {
        expect(e).toBeInstanceOf(SpecError)
        expect(e.source).toBe(SOURCE)
        expect(e.issues.length).toBeGreaterThan(0)
      })
    )
  )

/** The issues at `path`; asserts there is at least one. */
const issuesAt = (e: SpecError, path: string): ReadonlyArray<SpecIssue> => {
  const found = e.issues.filter((i) => i.path === path)
  expect(found, `an issue at ${path}; got ${JSON.stringify(e.issues)}`).not.toHaveLength(0)
  return found
}

const e2paths = (e: SpecError): ReadonlyArray<string> => e.issues.map((i) => i.path)

const messagesAt = (e: SpecError, path: string): string => issuesAt(e, path).map((i) => i.message).join(" | ")

/** The smallest valid spec: every optional field left out. */
const minimal: ExperimentInput = Experiment.make({
  name: "minimal",
  environment: Env.linearChain({ length: 3, horizon: 4 }),
  contexts: Contexts.list([{ goal: 2, reward: 1, slip: 0.1 }]),
  agents: 2,
  epsilon: 0.1,
  cSep: 0.1,
  delta: 0.05
})

/** A two-state, one-action tabular environment whose tables the tests spoil. */
const tabular = (build: Parameters<typeof Env.tabular>[0]["build"]): ExperimentInput =>
  Experiment.make({
    name: "tabular",
    environment: Env.tabular({ states: 2, actions: 1, horizon: 2, build }),
    contexts: Contexts.list([{ r: 0 }, { r: 1 }]),
    agents: 1,
    epsilon: 0.1,
    cSep: 0.1,
    delta: 0.05
  })

/** The linear-chain spec with a custom feature map on its 3 states × 2 actions. */
const withFeatures = (dim: number, map: (s: number, a: number) => ReadonlyArray<number>): ExperimentInput => ({
  ...linearChain,
  features: Features.custom(dim, map)
})

describe("decode and compile a valid spec", () => {
  it.effect("specs/linear-chain.spec.ts decodes and compiles as written", () =>
    Effect.gen(function*() {
      const c = yield* check(linearChain)
      // What the file says is kept as written (read from the file, which may be retuned)…
      expect(c.spec.name).toBe(linearChain.name)
      expect(c.spec.agents).toBe(linearChain.agents)
      expect(c.spec.epsilon).toBe(linearChain.epsilon)
      expect(c.spec.cSep).toBe(linearChain.cSep)
      expect(c.spec.delta).toBe(linearChain.delta)
      expect(c.spec.features).toEqual(linearChain.features)
      expect(c.spec.assignment).toEqual(linearChain.assignment)
      expect(c.spec.stopping).toEqual(linearChain.stopping)
      expect(c.spec.baselines).toEqual(linearChain.baselines)
      expect(c.spec.seeds).toBe(linearChain.seeds)
      // …and what it leaves out gets its default.
      expect(c.spec.learner).toEqual({ cBeta: 1, lambda: 1, ...linearChain.learner })
      expect(c.spec.seed).toBe(0)
      expect(c.spec.sharing).toBe("policy")
      const items = linearChain.contexts._tag === "List" ? linearChain.contexts.items : []
      expect(c.contexts).toEqual(items)
      expect(c.tasks).toHaveLength(items.length)
      expect(c.startValues).toHaveLength(items.length)
      expect(linearChain.environment._tag).toBe("LinearChain")
      if (linearChain.environment._tag === "LinearChain") {
        const { horizon, length } = linearChain.environment
        expect([c.horizon, c.states, c.actions]).toEqual([horizon, length, 2])
        expect(c.features.dim).toBe(2 * length)
      }
      if (linearChain.learner?._tag === "LsviUcb" && typeof linearChain.learner.beta === "number") expect(c.beta).toBe(linearChain.learner.beta)
      // The declared cSep is within the family's actual separation.
      expect(c.separation.value).toBeGreaterThanOrEqual(linearChain.cSep)
    }))

  it.effect("a minimal spec gets every documented default", () =>
    Effect.gen(function*() {
      const spec = yield* decode(minimal, SOURCE)
      expect(spec.features).toEqual({ _tag: "Native" })
      expect(spec.assignment).toEqual({ _tag: "Partition" })
      expect(spec.learner).toEqual({ _tag: "LsviUcb", beta: "theory", cBeta: 1, lambda: 1 })
      expect(spec.stopping).toEqual({ _tag: "Adaptive", maxEpisodes: 50_000 })
      expect(spec.sharing).toBe("policy")
      expect(spec.baselines).toEqual([])
      expect(spec.seeds).toBe(1)
      expect(spec.seed).toBe(0)
      const c = yield* compile(spec, SOURCE)
      // One task: nothing to separate from.
      expect(c.separation.value).toBe(Infinity)
      // Theory β = cβ · d · H · √ι, ι = log(2 d T / δ), T = K·H with K = 2·maxEpisodes (a capped
      // identification phase, then a capped learning phase), d = |S||A| = 6.
      const d = 6
      const H = 4
      expect(c.beta).toBeCloseTo(d * H * Math.sqrt(Math.log((2 * d * (2 * 50_000) * H) / 0.05)), 10)
    }))

  it.effect("a well-formed tabular environment compiles", () =>
    Effect.gen(function*() {
      const c = yield* check(tabular((ctx) => ({ reward: [[0], [ctx.r ?? 0]], transition: [[[0, 1]], [[0, 1]]] })))
      expect(c.tasks).toHaveLength(2)
      // V*_1(0) = 0 + r(1) at h = 2: 0 and 1.
      expect(c.startValues).toEqual([0, 1])
    }))
})

describe("bad specs fail with a SpecError naming the field", () => {
  it.effect("N must be a positive integer", () =>
    Effect.gen(function*() {
      for (const agents of [0, -3]) {
        const e = yield* specError({ ...linearChain, agents })
        expect(messagesAt(e, "agents")).toMatch(/greater than 0/)
        expect(issuesAt(e, "agents")[0].actual).toBe(String(agents))
      }
      const e = yield* specError({ ...linearChain, agents: 2.5 })
      expect(messagesAt(e, "agents")).toMatch(/integer/)
      expect(issuesAt(e, "agents")[0].actual).toBe("2.5")
    }))

  it.effect("ε must be a finite number > 0", () =>
    Effect.gen(function*() {
      for (const epsilon of [0, -0.1]) {
        const e = yield* specError({ ...linearChain, epsilon })
        expect(messagesAt(e, "epsilon")).toMatch(/greater than 0/)
      }
      const nan = yield* specError({ ...linearChain, epsilon: NaN })
      expect(messagesAt(nan, "epsilon")).toMatch(/finite/)
      expect(issuesAt(nan, "epsilon")[0].actual).toBe("NaN")
      // Above the horizon H = 4 only the built environment can tell.
      const big = yield* specError({ ...linearChain, epsilon: 5 })
      expect(messagesAt(big, "epsilon")).toMatch(/at most the horizon H = 4/)
    }))

  it.effect("δ must lie in (0, 1)", () =>
    Effect.gen(function*() {
      for (const delta of [0, 1, -0.5, 1.5]) {
        const e = yield* specError({ ...linearChain, delta })
        expect(messagesAt(e, "delta")).toMatch(/between 0 \(excluded\) and 1 \(excluded\)/)
      }
    }))

  it.effect("an unknown environment tag", () =>
    Effect.gen(function*() {
      const e = yield* specError({ ...linearChain, environment: { _tag: "GridWorld", length: 3, horizon: 4 } })
      expect(messagesAt(e, "environment")).toMatch(/Env\.linearChain.*Env\.randomLinear.*Env\.tabular/)
      expect(issuesAt(e, "environment")[0].actual).toContain("GridWorld")
    }))

  it.effect("an unknown baseline", () =>
    Effect.gen(function*() {
      const e = yield* specError({ ...linearChain, baselines: ["independent", "dqn"] })
      expect(e.issues.map((i) => i.path)).toEqual(["baselines[1]"])
      const first = yield* specError({ ...linearChain, baselines: ["oracel"] })
      expect(messagesAt(first, "baselines[0]")).toMatch(/"independent" \| "oracle"/)
      expect(issuesAt(first, "baselines[0]")[0].actual).toBe(`"oracel"`)
    }))

  it.effect("a misspelt or extra field is an error, not ignored", () =>
    Effect.gen(function*() {
      const { epsilon, ...rest } = linearChain
      const e = yield* specError({ ...rest, epsilonn: epsilon })
      expect(messagesAt(e, "epsilonn")).toMatch(/no excess property/)
      // …and the field it was meant to be is reported missing, not defaulted.
      expect(messagesAt(e, "epsilon")).toMatch(/missing/i)
      const nested = yield* specError({ ...linearChain, learner: { _tag: "LsviUcb", beta: 2, lamda: 1 } })
      expect(messagesAt(nested, "learner.lamda")).toMatch(/no excess property/)
    }))

  it.effect("a missing required field", () =>
    Effect.gen(function*() {
      for (const field of ["name", "environment", "contexts", "agents", "epsilon", "cSep", "delta"] as const) {
        const { [field]: _, ...rest } = linearChain
        const e = yield* specError(rest)
        expect(e.issues.map((i) => i.path)).toEqual([field])
        expect(messagesAt(e, field)).toMatch(/missing/i)
        expect(issuesAt(e, field)[0].actual).toBeUndefined()
      }
    }))

  it.effect("a custom feature map of the wrong length", () =>
    Effect.gen(function*() {
      const e = yield* specError(withFeatures(2, (s, a) => (s === 0 && a === 1 ? [0.5] : [0.5, 0.5])))
      expect(e.issues.map((i) => i.path)).toEqual(["features.map(0, 1)"])
      expect(messagesAt(e, "features.map(0, 1)")).toMatch(/a vector of length 2/)
      expect(issuesAt(e, "features.map(0, 1)")[0].actual).toContain("length 1")
    }))

  it.effect("a custom feature map returning NaN", () =>
    Effect.gen(function*() {
      const e = yield* specError(withFeatures(2, (s, a) => (s === 2 && a === 0 ? [NaN, 0] : [0.5, 0.5])))
      expect(e.issues.map((i) => i.path)).toEqual(["features.map(2, 0)"])
      expect(messagesAt(e, "features.map(2, 0)")).toMatch(/finite numbers \(no NaN or Infinity\)/)
    }))

  it.effect("a custom feature map with ‖φ‖₂ > 1", () =>
    Effect.gen(function*() {
      const e = yield* specError(withFeatures(2, (s, a) => (s === 1 && a === 1 ? [0.8, 0.8] : [0.6, 0.8])))
      // [0.6, 0.8] has norm exactly 1 (up to rounding) and is accepted.
      expect(e.issues.map((i) => i.path)).toEqual(["features.map(1, 1)"])
      expect(messagesAt(e, "features.map(1, 1)")).toMatch(/‖φ\(s,a\)‖₂ ≤ 1/)
      expect(issuesAt(e, "features.map(1, 1)")[0].actual).toMatch(/norm 1\.13/)
    }))

  it.effect("a custom feature map that throws", () =>
    Effect.gen(function*() {
      const e = yield* specError(withFeatures(2, () => {
        throw new Error("no features here")
      }))
      expect(messagesAt(e, "features.map(0, 0)")).toMatch(/the map threw: no features here/)
    }))

  it.effect("a declared cSep above the family's actual separation, which the message names", () =>
    Effect.gen(function*() {
      const ok = yield* check(linearChain)
      const actual = ok.separation.value
      const e = yield* specError({ ...linearChain, cSep: actual + 0.01 })
      expect(e.issues.map((i) => i.path)).toEqual(["cSep"])
      const message = messagesAt(e, "cSep")
      expect(message).toContain(`actual separation ${actual.toPrecision(4)}`)
      const [i, j] = ok.separation.pair!
      expect(message).toContain(`tasks ${i} and ${j}`)
      // Exactly the separation is allowed.
      yield* check({ ...linearChain, cSep: actual })
    }))

  it.effect("a linear-chain context with goal out of range or a missing slip", () =>
    Effect.gen(function*() {
      const items = linearChain.contexts._tag === "List" ? linearChain.contexts.items : []
      const goal = yield* specError({
        ...linearChain,
        contexts: Contexts.list(items.map((c, i) => (i === 1 ? { ...c, goal: 3 } : c)))
      })
      expect(e2paths(goal)).toEqual(["contexts.items[1].goal"])
      expect(messagesAt(goal, "contexts.items[1].goal")).toMatch(/a state index in 0\.\.2/)
      expect(issuesAt(goal, "contexts.items[1].goal")[0].actual).toBe("3")

      const noSlip = yield* specError({
        ...linearChain,
        contexts: Contexts.list(items.map((c, i) => (i === 1 ? { goal: c.goal!, reward: c.reward! } : c)))
      })
      expect(e2paths(noSlip)).toEqual(["contexts.items[1].slip"])
      expect(messagesAt(noSlip, "contexts.items[1].slip")).toMatch(/a probability in \[0, 1\] \(missing\)/)

      const extra = yield* specError({
        ...linearChain,
        contexts: Contexts.list(items.map((c, i) => (i === 0 ? { ...c, slipp: 0.1 } : c)))
      })
      expect(messagesAt(extra, "contexts.items[0].slipp")).toMatch(/unexpected context field; expected only goal, reward, slip/)
    }))

  it.effect("an Env.tabular whose transition rows do not sum to 1", () =>
    Effect.gen(function*() {
      const e = yield* specError(tabular(() => ({ reward: [[0], [1]], transition: [[[0.5, 0.4]], [[0, 1]]] })))
      // The stationary [S][A][S] table is named as written (no [h]); the row of state 0 is wrong in
      // both contexts: one issue with its count (issue 13 item 5; it was once per step and context).
      const bad = e.issues.filter((i) => /expected probabilities summing to 1/.test(i.message))
      expect(bad.map((i) => i.path)).toEqual(["environment.build(context *).transition[0][0]"])
      expect(bad[0].inContexts).toEqual({ count: 2, of: 2 })
      expect(bad[0].actual).toContain("sum 0.9")
      expect(bad).toHaveLength(e.issues.length)
    }))

  it.effect("an Env.tabular whose build throws", () =>
    Effect.gen(function*() {
      const e = yield* specError(tabular((ctx) => {
        if (ctx.r === 1) throw new Error("no such task")
        return { reward: [[0], [0]], transition: [[[0, 1]], [[0, 1]]] }
      }))
      expect(e2paths(e)).toEqual(["environment.build(context 1)"])
      expect(messagesAt(e, "environment.build(context 1)")).toMatch(/^expected the tables, but build threw: no such task$/)
    }))

  it.effect("a context field named like an Object.prototype member is still unexpected", () =>
    Effect.gen(function*() {
      const items = linearChain.contexts._tag === "List" ? linearChain.contexts.items : []
      for (const key of ["constructor", "toString", "__proto__"]) {
        // defineProperty: an own field even for "__proto__" (as JSON.parse would make it).
        const first = Object.defineProperty({ ...items[0] }, key, { value: 1, enumerable: true })
        const e = yield* specError({ ...linearChain, contexts: Contexts.list([first, ...items.slice(1)]) })
        expect(e2paths(e)).toEqual([`contexts.items[0].${key}`])
      }
    }))

  it.effect("a bad value that cannot be rendered as text is still reported, not a crash", () =>
    Effect.gen(function*() {
      // JSON.stringify throws on the BigInt, and String() on an object without a prototype.
      const odd = Object.assign(Object.create(null) as object, { n: 1n })
      const e = yield* specError({ ...linearChain, agents: odd })
      expect(e2paths(e)).toEqual(["agents"])
      expect(issuesAt(e, "agents")[0].actual).toEqual(expect.any(String))
      const tricky = { toString: {}, n: 1n }
      const e2 = yield* specError({ ...linearChain, contexts: tricky })
      expect(e2paths(e2)).toContain("contexts")
    }))

  it.effect("environments too large to tabulate fail with a SpecError, not a crash", () =>
    Effect.gen(function*() {
      for (const environment of [
        Env.linearChain({ length: 1_000_000, horizon: 4 }),
        Env.linearChain({ length: 3, horizon: 1e9 }),
        Env.linearChain({ length: 2 ** 31, horizon: 2 ** 31 })
      ]) {
        const e = yield* specError({ ...linearChain, environment })
        expect(e2paths(e).some((p) => p.startsWith("environment")), JSON.stringify(e.issues)).toBe(true)
      }
    }))

  it.effect("every problem is reported at once", () =>
    Effect.gen(function*() {
      const e = yield* specError({ ...linearChain, agents: 0, delta: 2, baselines: ["x"], epsilonn: 1 })
      expect([...e2paths(e)].sort()).toEqual(["agents", "baselines[0]", "delta", "epsilonn"])
      expect(e.message).toContain(`Invalid spec ${SOURCE}`)
      expect(e.message).toContain("agents: expected a value greater than 0, got 0")
    }))
})

// ─── Property: arbitrary mutations never crash (docs/algorithm.md §6 item 6) ──────────────────────────

type Key = string | number
type Path = ReadonlyArray<Key>

const isContainer = (u: unknown): u is Record<Key, unknown> => u !== null && typeof u === "object"

/** Every field of a plain-data tree, top-level and nested (arrays by index, holes included). */
const pathsOf = (u: unknown, prefix: Path = []): Array<Path> => {
  if (!isContainer(u)) return []
  const keys: Array<Key> = Array.isArray(u) ? Array.from({ length: u.length }, (_, i) => i) : Object.keys(u)
  return keys.flatMap((k) => [[...prefix, k], ...pathsOf(u[k], [...prefix, k])])
}

const BASE = structuredClone(linearChain) as unknown
const PATHS = pathsOf(BASE)

const lookup = (root: unknown, path: Path): { readonly found: boolean; readonly value: unknown } => {
  let cur = root
  for (const k of path) {
    // A hole of a sparse array is still a position of the array.
    const hole = Array.isArray(cur) && typeof k === "number" && k >= 0 && k < cur.length
    if (!isContainer(cur) || !(hole || Object.hasOwn(cur, k))) return { found: false, value: undefined }
    cur = cur[k]
  }
  return { found: true, value: cur }
}

type Mutation =
  | { readonly kind: "replace"; readonly path: Path; readonly value: unknown }
  | { readonly kind: "delete"; readonly path: Path }
  | { readonly kind: "add"; readonly path: Path; readonly key: string; readonly value: unknown }

/** Applies a mutation in place; false if its target no longer exists (an earlier mutation removed it). */
const apply = (root: unknown, m: Mutation): boolean => {
  const parent = lookup(root, m.kind === "add" ? m.path : m.path.slice(0, -1))
  if (!parent.found || !isContainer(parent.value)) return false
  const target = parent.value
  switch (m.kind) {
    case "replace":
    case "delete": {
      const k = m.path[m.path.length - 1]
      if (!Object.hasOwn(target, k) || (Array.isArray(target) && typeof k !== "number")) return false
      if (m.kind === "delete") {
        if (Array.isArray(target)) target.splice(k as number, 1)
        else delete target[k]
      } else target[k] = m.value
      return true
    }
    case "add": {
      if (Array.isArray(target) || Object.hasOwn(target, m.key)) return false
      // defineProperty, so that keys such as "__proto__" become real own fields.
      Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true })
      return true
    }
  }
}

/** Odd values: BigInts, objects without a prototype, boxed values, maps, sets, dates, typed arrays. */
const oddThing = fc.anything({
  maxDepth: 2,
  withBigInt: true,
  withNullPrototype: true,
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true
})

/** Wrong types, NaN, infinities, huge and negative numbers, odd objects, and the odd right value. */
const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constantFrom<unknown>(null, undefined, NaN, Infinity, -Infinity, -0, 0, 0.5, -1, 1, 2, 1.5),
  {
    weight: 3,
    arbitrary: fc.constantFrom(1e300, -1e300, Number.MAX_VALUE, Number.MAX_SAFE_INTEGER, 2 ** 31, 2 ** 53, 1e9, -1e9)
  },
  // Moderate sizes only: an honest environment of a few thousand states is slow, not wrong.
  fc.integer({ min: -1000, max: 300 }),
  fc.double(),
  fc.bigInt({ min: -10n, max: 10n }),
  fc.constantFrom<unknown>("theory", "policy", "independent", "LinearChain", "Adaptive", "Schedule", "OneHot", "List"),
  fc.array(oddThing, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), oddThing, { maxKeys: 3 }),
  fc.constant(() => 1),
  { weight: 2, arbitrary: oddThing }
)

const extraKey = fc.oneof(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.constantFrom("epsilonn", "agent", "seeed", "__proto__", "constructor", "toString", "slipp", "_tag")
)

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), path: fc.constantFrom(...PATHS), value: badValue }),
  fc.record({ kind: fc.constant("delete" as const), path: fc.constantFrom(...PATHS) }),
  fc.record({
    kind: fc.constant("add" as const),
    path: fc.constantFrom<Path>([], ...PATHS.filter((p) => isContainer(lookup(BASE, p).value))),
    key: extraKey,
    value: badValue
  })
)

/** Every field of `input`, spelt as SpecError paths are (`contexts.items[2].slip`). */
const fieldNames = (input: unknown): ReadonlySet<string> => new Set(pathsOf(input).map((p) => formatPath(p)))

/**
 * The issue names a real field of `input`: the field itself (compile may annotate it, as in
 * `features.map(0, 1)` or `contexts (task 3: …)`), or, when it is reported missing, a
 * declared field of an existing object of the input.
 */
const namesRealField = (input: unknown, issue: SpecIssue): boolean => {
  const path = issue.path
  if (path === "" || path === "(spec)") return false
  const fields = fieldNames(input)
  if (fields.has(path)) return true
  for (const f of fields) if (path.startsWith(`${f}(`) || path.startsWith(`${f} (`)) return true
  if (issue.actual !== undefined || !/missing/i.test(issue.message)) return false
  const m = /^(?:(.*)\.)?([A-Za-z_][A-Za-z0-9_]*)$/.exec(path)
  if (m === null) return false
  const parent = m[1] ?? ""
  return parent === "" ? isContainer(input) : fields.has(parent) || [...fields].some((f) => parent.startsWith(`${f} (`))
}

/** The fields of the linear-chain spec that may be left out (their defaults are documented). */
const OPTIONAL = new Set([
  "features",
  "assignment",
  "learner",
  "learner.beta",
  "learner.cBeta",
  "learner.lambda",
  "stopping",
  "stopping.maxEpisodes",
  "sharing",
  "baselines",
  "seeds",
  "seed",
  "environment.distractor"
])

/** `path` is the field at `at` or an enclosing field of it. */
const atOrAbove = (path: string, at: Path): boolean => {
  const full = formatPath(at)
  return path === full || full.startsWith(`${path}.`) || full.startsWith(`${path}[`)
}

describe("mutated specs (property, docs/algorithm.md §6 item 6)", () => {
  it("decode or fail with a SpecError naming real fields; never throw or die", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const input = structuredClone(BASE)
        const applied = mutations.filter((m) => apply(input, m))
        // The two stages apart, to know which one should report what.
        const decoded = await Effect.runPromiseExit(Effect.suspend(() => decode(input, SOURCE)))
        const exit: Exit.Exit<Compiled, SpecError> = Exit.isSuccess(decoded)
          ? await Effect.runPromiseExit(Effect.suspend(() => compile(decoded.value, SOURCE)))
          : Exit.failCause(decoded.cause)

        if (Exit.isSuccess(exit)) {
          const spec = exit.value.spec as unknown
          for (const m of applied) {
            // An extra field is never silently ignored…
            if (m.kind === "add" && lookup(input, [...m.path, m.key]).found) {
              throw new Error(`extra field ${formatPath([...m.path, m.key])} was accepted`)
            }
            // …a required field is never filled in by default…
            const gone = m.kind === "delete" && lookup(input, m.path.slice(0, -1)).found && !lookup(input, m.path).found
            if (gone && typeof m.path[m.path.length - 1] !== "number" && !OPTIONAL.has(m.path.join("."))) {
              throw new Error(`required field ${formatPath(m.path)} was deleted, yet the spec was accepted`)
            }
            // …and a value that was accepted is used as given, not repaired.
            if (m.kind === "replace") {
              const now = lookup(input, m.path)
              if (now.found && now.value === m.value) expect(lookup(spec, m.path).value).toEqual(m.value)
            }
          }
          return
        }

        const notFail = exit.cause.reasons.filter((r) => !Cause.isFailReason(r))
        if (notFail.length > 0) throw new Error(`not a SpecError failure: ${Cause.pretty(exit.cause)}`)
        const errors = exit.cause.reasons.flatMap((r) => (Cause.isFailReason(r) ? [r.error as unknown] : []))
        expect(errors).toHaveLength(1)
        const error = errors[0]
        expect(error).toBeInstanceOf(SpecError)
        const issues = (error as SpecError).issues
        expect(issues.length).toBeGreaterThan(0)
        for (const issue of issues) {
          expect(typeof issue.message === "string" && issue.message.length > 0).toBe(true)
          if (!namesRealField(input, issue)) {
            throw new Error(`issue does not name a real field of the input: ${JSON.stringify(issue)}`)
          }
        }
        // An extra field still in the input is reported, at itself or at an enclosing field, by the
        // stage that knows the fields there: decode everywhere, compile inside a context record.
        for (const m of applied) {
          if (m.kind !== "add") continue
          const at = [...m.path, m.key]
          if (!lookup(input, at).found) continue
          const inContext = m.path.length === 3 && m.path[0] === "contexts" && m.path[1] === "items"
          if (inContext && Exit.isFailure(decoded)) continue
          expect(
            Exit.isFailure(decoded) || inContext,
            `the extra field ${formatPath(at)} got past decode`
          ).toBe(true)
          expect(
            issues.some((i) => atOrAbove(i.path, at)),
            `an issue at or above ${formatPath(at)} in ${JSON.stringify(issues)}`
          ).toBe(true)
        }
      }),
      { seed: 20240607, numRuns: 400 }
    )
  })
})

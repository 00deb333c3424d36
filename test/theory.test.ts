/**
 * The theory settings (docs/algorithm.md §2, §3, §8): the budgets of `Stopping.theory` solved by
 * fixed-point iteration, the ι and β they imply, and the schema's errors for bad constants.
 * Expected numbers are worked out by hand in the comments (log is the natural logarithm).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Contexts, Env, Experiment, Features, Lsvi, Stopping } from "../src/index.ts"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { SpecError } from "../src/spec/SpecError.ts"
import type { ExperimentInput } from "../src/spec/Spec.ts"
import { expandSweep } from "../src/spec/sweep.ts"
import { iotaOf, theoryBudgets } from "../src/spec/theory.ts"

/** A two-state chain, H = 2, one-hot features: d = |S||A| = 4, so d³H⁴ = 64 · 16 = 1024. */
const base = (over: Partial<ExperimentInput> = {}): ExperimentInput =>
  Experiment.make({
    name: "theory-test",
    environment: Env.linearChain({ length: 2, horizon: 2 }),
    // V* = 0.905 and 0.5 (stay in state 0 twice at 0.25): separation 0.405.
    contexts: Contexts.list([{ goal: 1, reward: 1, slip: 0.1 }, { goal: 0, reward: 0.25, slip: 0.1 }]),
    features: Features.oneHot(),
    agents: 2,
    epsilon: 0.3,
    cSep: 0.4,
    delta: 0.05,
    learner: Lsvi.ucb({ beta: "theory" }),
    stopping: Stopping.theory({ kappa1: 0.001, kappa2: 0.002 }),
    ...over
  })

const compiled = (input: unknown) => Effect.runSync(Effect.flatMap(decode(input, "t"), (s) => compile(s, "t")))
const failure = (input: unknown): SpecError => {
  const exit = Effect.runSyncExit(Effect.flip(Effect.flatMap(decode(input, "t"), (s) => compile(s, "t"))))
  if (exit._tag !== "Success") throw new Error("expected the spec to be refused")
  return exit.value
}
const issueAt = (e: SpecError, path: string) => e.issues.find((i) => i.path === path)

/**
 * By hand, d = 4, H = 2, δ = 0.05, c_Sep = 0.4, ε = 0.3, κ1 = 0.001, κ2 = 0.002:
 *   K1 = ⌈0.001·1024·ι/0.16⌉ = ⌈6.4·ι⌉,  K2 = ⌈0.002·1024·ι/0.09⌉ = ⌈22.756·ι⌉,  ι = log(16·K/0.05) = log(320·K)
 *   K = 1:    ι = log 320    = 5.7683  → K1 = 37, K2 = 132, K = 169
 *   K = 169:  ι = log 54080  = 10.8982 → K1 = 70, K2 = 248, K = 318
 *   K = 318:  ι = log 101760 = 11.5304 → K1 = 74, K2 = 263, K = 337
 *   K = 337:  ι = log 107840 = 11.5884 → K1 = 75, K2 = 264, K = 339
 *   K = 339:  ι = log 108480 = 11.5943 → K1 = 75, K2 = 264: stable.
 */
const HAND = { k1: 75, k2: 264, iota: Math.log(108480) }

describe("theory budgets (docs/algorithm.md §3, §8)", () => {
  it("solve K1, K2 and ι by fixed-point iteration, as worked out by hand", () => {
    const b = theoryBudgets({ kappa1: 0.001, kappa2: 0.002, dim: 4, horizon: 2, delta: 0.05, cSep: 0.4, epsilon: 0.3, factor: 1, maxEpisodes: 1e6 })
    expect(b).toMatchObject({ k1: HAND.k1, k2: HAND.k2, fits: true })
    expect(b.iota).toBeCloseTo(HAND.iota, 12)
  })

  it("are a fixed point: recomputing the budgets from their own ι gives them back", () => {
    for (const [kappa1, kappa2, cSep, epsilon] of [[0.01, 0.01, 0.2, 0.1], [1, 1, 1, 1], [0.0001, 0.05, 0.5, 0.05]]) {
      const p = { kappa1, kappa2, dim: 6, horizon: 3, delta: 0.1, cSep, epsilon, factor: 1, maxEpisodes: 1e9 }
      const b = theoryBudgets(p)
      const iota = iotaOf(6, 3, b.k1 + b.k2, 0.1)
      expect(b.iota).toBe(iota)
      expect(b.k1).toBe(Math.ceil((kappa1 * 6 ** 3 * 3 ** 4 * iota) / cSep ** 2))
      expect(b.k2).toBe(Math.ceil((kappa2 * 6 ** 3 * 3 ** 4 * iota) / epsilon ** 2))
    }
  })

  it("count the pooled data under experience sharing: K = N·(K1 + K2) in ι", () => {
    const p = { kappa1: 0.001, kappa2: 0.002, dim: 4, horizon: 2, delta: 0.05, cSep: 0.4, epsilon: 0.3, maxEpisodes: 1e6 }
    const alone = theoryBudgets({ ...p, factor: 1 })
    const pooled = theoryBudgets({ ...p, factor: 8 })
    expect(pooled.iota).toBeCloseTo(iotaOf(4, 2, 8 * (pooled.k1 + pooled.k2), 0.05), 12)
    expect(pooled.k1 + pooled.k2).toBeGreaterThan(alone.k1 + alone.k2)
  })

  it("compile Stopping.theory into the schedule a run reads, with the constants kept for the record", () => {
    const c = compiled(base())
    expect(c.spec.stopping).toMatchObject({ _tag: "Schedule", k1: HAND.k1, k2: HAND.k2, theory: { kappa1: 0.001, kappa2: 0.002, maxEpisodes: 1_000_000 } })
    const theory = c.spec.stopping._tag === "Schedule" ? c.spec.stopping.theory : undefined
    expect(theory?.iota).toBeCloseTo(HAND.iota, 12)
    // β = c_β·d·H·√ι with the same ι: K = K1 + K2 episodes in one learner's data.
    expect(c.beta).toBeCloseTo(4 * 2 * Math.sqrt(HAND.iota), 10)
    // The decoded spec keeps the rule as written, so that a sweep recomputes it per point.
    expect(Effect.runSync(decode(base(), "t")).stopping).toEqual({ _tag: "Theory", kappa1: 0.001, kappa2: 0.002, maxEpisodes: 1_000_000 })
  })

  it("give β = \"theory\" under the adaptive rule the K of two capped phases on one learner", () => {
    const c = compiled(base({ stopping: Stopping.adaptive({ maxEpisodes: 1000 }), learner: Lsvi.ucb({ beta: "theory", cBeta: 0.5 }) }))
    // ι = log(2·4·(2·1000)·2/0.05) = log 640000
    expect(c.beta).toBeCloseTo(0.5 * 4 * 2 * Math.sqrt(Math.log(640_000)), 10)
    expect(compiled(base({ learner: Lsvi.ucb({ beta: 2 }) })).beta).toBe(2)
  })

  it("count the pooled data of N agents in the theory β under experience sharing", () => {
    const adaptive = Stopping.adaptive({ maxEpisodes: 1000 })
    const alone = compiled(base({ stopping: adaptive, agents: 3 }))
    const pooled = compiled(base({ stopping: adaptive, agents: 3, sharing: "experience" }))
    // ι = log(2·4·(3·2·1000)·2/0.05) = log 1 920 000: the data of 3 agents' two capped phases.
    expect(pooled.beta).toBeCloseTo(4 * 2 * Math.sqrt(Math.log(1_920_000)), 10)
    expect(alone.beta).toBeCloseTo(4 * 2 * Math.sqrt(Math.log(640_000)), 10)
  })

  it("move with the point when a sweep varies kappa1 or cSep", () => {
    const spec = Effect.runSync(decode(base({ sweep: { "stopping.kappa1": [0.001, 0.004], cSep: [0.2, 0.4] } }), "t"))
    const points = Effect.runSync(expandSweep(spec, "t"))
    const k1 = points.map((p) => (p.compiled.spec.stopping._tag === "Schedule" ? p.compiled.spec.stopping.k1 : NaN))
    // K1 ∝ κ1/c_Sep² up to ι: a bigger κ1 or a smaller c_Sep gives a bigger K1.
    expect(k1[0]).toBeGreaterThan(k1[1]) // κ1 = 0.001: c_Sep 0.2 against 0.4
    expect(k1[2]).toBeGreaterThan(k1[0]) // c_Sep = 0.2: κ1 0.004 against 0.001
    expect(k1[1]).toBe(HAND.k1)
  })
})

describe("Stopping.theory's errors name the path", () => {
  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, "1"])("kappa1 = %s is refused at stopping.kappa1", (bad) => {
    const e = failure(base({ stopping: { _tag: "Theory", kappa1: bad, kappa2: 0.1 } as never }))
    expect(e).toBeInstanceOf(SpecError)
    expect(issueAt(e, "stopping.kappa1")?.message).toMatch(/greater than 0|finite|number/)
    expect(issueAt(e, "stopping.kappa2")).toBeUndefined()
  })

  it("a missing kappa2, a bad maxEpisodes and an unknown field are each named", () => {
    const e = failure(base({ stopping: { _tag: "Theory", kappa1: 0.1, maxEpisodes: 2.5, kapa2: 1 } as never }))
    expect(issueAt(e, "stopping.kappa2")?.message).toMatch(/required/)
    expect(issueAt(e, "stopping.maxEpisodes")?.message).toMatch(/integer/)
    expect(issueAt(e, "stopping.kapa2")).toBeDefined()
  })

  it("budgets above maxEpisodes are refused at stopping, with the numbers", () => {
    const e = failure(base({ stopping: Stopping.theory({ kappa1: 0.001, kappa2: 0.002, maxEpisodes: 300 }) }))
    const issue = issueAt(e, "stopping")
    expect(issue?.message).toMatch(/K1 \+ K2 ≤ maxEpisodes = 300/)
    expect(issue?.message).toMatch(/lower kappa1 or kappa2/)
    // 339 fits under 339: the bound is inclusive.
    expect(compiled(base({ stopping: Stopping.theory({ kappa1: 0.001, kappa2: 0.002, maxEpisodes: 339 }) })).spec.stopping).toMatchObject({ k1: 75, k2: 264 })
    expect(issueAt(failure(base({ stopping: Stopping.theory({ kappa1: 1e300, kappa2: 1 }) })), "stopping")).toBeDefined()
  })
})

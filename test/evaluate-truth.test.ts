/**
 * The ground-truth verdicts of docs/algorithm.md §5 (src/run/evaluate.ts), at their boundaries:
 * success is a gap *at most* ε, and a certificate held when V* lies in the closed interval
 * [lower, upper] *and* the gap is at most the width; identification is right only on the first
 * entry founded by an instance of the same task. Found by the mutation audit: `≤ → <` in either
 * verdict, dropping the gap ≤ width clause, and taking the last entry or any entry of the task as
 * right all left the suite passing.
 */
import { describe, expect, it } from "@effect/vitest"
import type { InstanceOutcome } from "../src/agent/programs.ts"
import { policyValues } from "../src/env/solve.ts"
import { Lsvi, policyTable } from "../src/learner/Lsvi.ts"
import { evaluate, type Held, identificationChecks } from "../src/run/evaluate.ts"
import type { Compiled } from "../src/spec/compile.ts"
import { chain } from "./chain.ts"

const c = chain("truth")
const task = 0
const mdp = c.tasks[task]
const A = c.actions
const d = c.features.dim
const featuresOf = (s: number) => c.features.values.subarray(s * A * d, (s + 1) * A * d)
/** A fresh learner's policy with β = 0: Q̄ ≡ 0, so it takes action 0 everywhere. */
const policy = new Lsvi({ horizon: c.horizon, dim: d, actions: A, beta: 0, lambda: 1 }, featuresOf).policy()
const vStar = c.startValues[task]
const vPi = policyValues(mdp, policyTable(policy, c.states, featuresOf)).V[mdp.start]
const gap = vStar - vPi

const held = (certificate: { lower: number; upper: number; width: number }): Held => ({
  agent: 0,
  slot: 0,
  identificationEpisodes: 0,
  learningEpisodes: 0,
  entry: 0,
  role: "owner",
  source: "learned",
  certificate,
  reachedTarget: true,
  identificationCorrect: true,
  policy
})

const withEpsilon = (epsilon: number): Compiled => ({ ...c, spec: { ...c.spec, epsilon } })

describe("ground-truth verdicts at their boundaries (§5)", () => {
  it("the policy's gap is a real one (not vacuous)", () => {
    expect(gap).toBeGreaterThan(0.01)
  })

  it("success: a gap equal to ε succeeds, a gap just above it does not", () => {
    const cert = { lower: 0, upper: c.horizon, width: c.horizon }
    const at = evaluate(withEpsilon(gap), "distmt", 0, task, held(cert), new WeakMap())
    expect(at).toMatchObject({ vStar, vPi, gap, success: true })
    const above = evaluate(withEpsilon(gap * (1 - 1e-12)), "distmt", 0, task, held(cert), new WeakMap())
    expect(above.success).toBe(false)
  })

  it("certificate held: V* at either end of the interval counts as inside; a gap above the width does not hold", () => {
    const check = (lower: number, upper: number, width = upper - lower) =>
      evaluate(c, "distmt", 0, task, held({ lower, upper, width }), new WeakMap()).certificateHeld
    // V* at the lower end, at the upper end (the width covers the gap in both).
    expect(check(vStar, vStar + gap)).toBe(true)
    expect(check(vStar - gap, vStar)).toBe(true)
    // The gap equal to the width holds; V* inside but the gap above the width does not.
    expect(check(vPi, vStar)).toBe(true)
    expect(check(vStar - gap / 4, vStar + gap / 4)).toBe(false)
    // V* outside, the width large enough.
    expect(check(vStar + 1e-9, vStar + 2 * gap)).toBe(false)
    expect(check(vStar - 2 * gap, vStar - 1e-9)).toBe(false)
  })
})

describe("identification checks (§5): right only on the first entry its true task founded", () => {
  const outcome = (agent: number, entry: number, registered: boolean): InstanceOutcome => ({
    agent,
    slot: 0,
    identificationEpisodes: 10,
    learningEpisodes: 0,
    entry,
    registered,
    role: registered ? "owner" : "downloaded",
    certificate: { lower: 0, upper: 1, width: 1 },
    reachedTarget: true,
    identificationReached: true,
    policy,
    source: registered ? "learned" : "downloaded"
  })

  it("a task found twice: the later entry's founder and the instances that matched it are wrong", () => {
    // Agent 0 founds entry 1 for task 0 after agent 1 founded entry 0 for task 0 (a missed match);
    // agent 2 matches entry 1; agent 3 founds entry 2 for task 1; agent 4 matches entry 0.
    const outcomes = [[outcome(0, 1, true)], [outcome(1, 0, true)], [outcome(2, 1, false)], [outcome(3, 2, true)], [outcome(4, 0, false)]]
    const tasksOf = [[0], [0], [0], [1], [0]]
    const { correct, entryOf } = identificationChecks(outcomes, tasksOf)
    expect(outcomes.map((os) => correct.get(os[0]))).toEqual([false, true, false, true, true])
    expect([...entryOf.entries()].sort()).toEqual([[0, 0], [1, 2]])
  })
})

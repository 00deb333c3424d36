/**
 * Contexts.separated solves each task's `vary` field by bisection on V*(s0). The field may lower
 * V* as well as raise it (a chain's `slip`, a tabular environment's cost or sticking
 * probability). Such a family was refused with a message that contradicted itself: "task 0's
 * V*(s0) = 0.2 … to be reachable by varying slip in [0, 1] …; V*(s0) there goes from 1.00000 to
 * 0.150000", though 0.2 lies between, as the docs' rule (spec-reference.md, "A family with a
 * controlled separation") asks. The bisection assumed that V* rises with the field.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { SOLVE_TOLERANCE, solveSeparated, target } from "../src/env/separated.ts"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { Contexts, Env, Experiment, Lsvi } from "../src/spec/Spec.ts"

const family = { count: 3, spacing: 0.2, lowest: 0.3, vary: "x", within: [0, 1] as const, bases: [{}] }

describe("Contexts.separated with a field that lowers V*", () => {
  it("solves every target when V* falls as the field grows", () => {
    // V*(x) = 1 − x: falling, so task m's x is 1 − target(m).
    const solved = solveSeparated(family, (c) => 1 - c.x)
    expect(solved._tag).toBe("Solved")
    if (solved._tag !== "Solved") return
    solved.contexts.forEach((c, m) => {
      const v = 1 - c.x
      expect(v).toBeGreaterThanOrEqual(target(family, m))
      expect(v - target(family, m)).toBeLessThanOrEqual(SOLVE_TOLERANCE)
    })
  })

  it("still solves a rising V*, and still refuses a target outside both ends", () => {
    expect(solveSeparated(family, (c) => c.x)._tag).toBe("Solved")
    // Targets 0.3, 0.5, 0.7 against V* from 0.625 down to 0.25: tasks 0 and 1 are reachable, task 2 is not.
    const short = solveSeparated(family, (c) => 0.625 - 0.375 * c.x)
    expect(short).toMatchObject({ _tag: "Unreachable", task: 2, range: [0.625, 0.25] })
  })

  it("a chain whose tasks vary in slip compiles, with V*(s0) spaced by cSep", async () => {
    const spec = Experiment.make({
      name: "slip-family",
      environment: Env.linearChain({ length: 2, horizon: 3 }),
      // At reward 0.5, V*(s0) goes from 1 (slip 0) down to 0.15 (slip 1).
      contexts: Contexts.separated({ count: 3, lowest: 0.2, vary: "slip", within: [0, 1], bases: [{ goal: 1, reward: 0.5 }] }),
      agents: 3,
      epsilon: 0.2,
      cSep: 0.3,
      delta: 0.05,
      learner: Lsvi.ucb({ beta: 1 })
    })
    const compiled = await Effect.runPromise(Effect.flatMap(decode(spec, "slip-family"), (s) => compile(s, "slip-family")))
    compiled.startValues.forEach((v, m) => expect(v).toBeCloseTo(0.2 + 0.3 * m, 8))
    expect(compiled.separation.value).toBeGreaterThanOrEqual(0.3)
  })
})

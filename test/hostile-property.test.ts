/**
 * Issue 15 (items 1, 3; the fuzzer of item 6): hostile values anywhere in a spec, and tables larger
 * than declared, as properties. Any field replaced by a throwing getter, a BigInt, a Promise, a
 * cycle or a Proxy whose reads throw ends in one SpecError with an issue at (or inside) that field,
 * never a throw or a defect (a throwing getter used to die inside the schema decoder). Tabular
 * tables with one more state row, action column or stage than declared are refused at
 * `environment.build(context i)`, never cut to size.
 */
import { Cause, Effect, Exit } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { snapshotSpec } from "../src/spec/snapshot.ts"
import { Contexts, Env, Experiment } from "../src/spec/Spec.ts"
import { formatPath, SpecError } from "../src/spec/SpecError.ts"

const base = () => ({
  name: "hostile-property",
  environment: { _tag: "LinearChain", length: 2, horizon: 2 },
  contexts: { _tag: "List", items: [{ goal: 1, reward: 1, slip: 0.1 }, { goal: 0, reward: 0.2, slip: 0.1 }] },
  agents: 2,
  epsilon: 0.3,
  cSep: 0.4,
  delta: 0.05,
  learner: { _tag: "LsviUcb", beta: 1 },
  sweep: { agents: [1, 2] }
})

const PATHS: ReadonlyArray<ReadonlyArray<string | number>> = [
  [], ["name"], ["agents"], ["epsilon"], ["environment"], ["environment", "horizon"], ["contexts", "items"], ["contexts", "items", 1],
  ["contexts", "items", 0, "goal"], ["learner", "beta"], ["sweep", "agents", 0]
]
const KINDS = ["getter", "bigint", "promise", "cycle", "proxy"] as const

/** Puts a hostile value of `kind` at `path` of `root` (the root itself if the path is empty). */
const plant = (root: Record<string, unknown>, path: ReadonlyArray<string | number>, kind: (typeof KINDS)[number]): unknown => {
  const value = (): unknown => {
    switch (kind) {
      case "bigint":
        return 7n
      case "promise":
        return Promise.resolve(1)
      case "cycle":
        return root
      case "proxy":
        return new Proxy({ a: 1 }, { get: () => { throw new Error("proxy read") } })
      case "getter":
        return undefined
    }
  }
  if (path.length === 0) return kind === "cycle" ? Object.assign(root, { self: root }) : value()
  let parent: any = root
  for (const k of path.slice(0, -1)) parent = parent[k]
  const key = path[path.length - 1]
  if (kind === "getter") Object.defineProperty(parent, key, { enumerable: true, get: () => { throw new Error("getter") } })
  else parent[key] = value()
  return root
}

describe("hostile values anywhere in a spec (property)", () => {
  it("end in one SpecError naming the field, never a throw or a defect", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), fc.constantFrom(...KINDS), async (path, kind) => {
        const input = plant(base(), path, kind)
        const exit = await Effect.runPromiseExit(
          Effect.suspend(() => {
            const copy = snapshotSpec(input)
            return copy.issues.length > 0 ? Effect.fail(new SpecError({ source: "x", issues: copy.issues })) : decode(copy.value, "x")
          })
        )
        expect(Exit.isFailure(exit)).toBe(true)
        if (!Exit.isFailure(exit)) return
        expect(exit.cause.reasons.every(Cause.isFailReason)).toBe(true)
        const error = (exit.cause.reasons[0] as Cause.Fail<SpecError>).error
        expect(error).toBeInstanceOf(SpecError)
        const at = kind === "cycle" && path.length === 0 ? "self" : formatPath(path)
        const named = error.issues.some((i) => i.path === at || i.path.startsWith(`${at}.`) || i.path.startsWith(`${at}[`) || at === "(spec)")
        expect(named, `${kind} at ${at}: ${error.message}`).toBe(true)
      }),
      { numRuns: 60 }
    )
  })
})

describe("tables larger than declared (property)", () => {
  it("one more state row, action column or stage is refused at environment.build, never truncated", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom("state", "action", "stage", "transition-state", "transition-action"),
        async (S, A, H, extra) => {
          const reward = (s: number) => Array.from({ length: A + (extra === "action" ? 1 : 0) }, (_, a) => ((s + a) % 2) / 2)
          const rewardTable = Array.from({ length: S + (extra === "state" ? 1 : 0) }, (_, s) => reward(s))
          const row = (s: number) => Array.from({ length: S }, (_, t) => (t === s ? 1 : 0))
          const transition = Array.from({ length: S + (extra === "transition-state" ? 1 : 0) }, (_, s) =>
            Array.from({ length: A + (extra === "transition-action" ? 1 : 0) }, () => row(s % S)))
          const spec = Experiment.make({
            name: "oversized",
            environment: Env.tabular({
              states: S,
              actions: A,
              horizon: H,
              build: () => ({ reward: extra === "stage" ? Array.from({ length: H + 1 }, () => rewardTable) : rewardTable, transition })
            }),
            contexts: Contexts.list([{ k: 0 }]),
            agents: 1,
            epsilon: 0.1,
            cSep: 0.1,
            delta: 0.05
          })
          const exit = await Effect.runPromiseExit(Effect.flatMap(decode(spec, "x"), (s) => compile(s, "x")))
          expect(Exit.isFailure(exit)).toBe(true)
          if (!Exit.isFailure(exit)) return
          const error = (exit.cause.reasons[0] as Cause.Fail<SpecError>).error
          expect(error.issues.length).toBeGreaterThan(0)
          expect(error.issues.every((i) => i.path.startsWith("environment.build(context 0)")), error.message).toBe(true)
        }
      ),
      { numRuns: 80 }
    )
  })
})

/**
 * Issue 15 (items 1, 3; the fuzzer of item 6): hostile values anywhere in a spec, and tables larger
 * than declared, as properties. Any field replaced by a throwing getter, a BigInt, a Promise, a
 * cycle or a Proxy whose reads throw ends in one SpecError with an issue at (or inside) that field,
 * never a throw or a defect (a throwing getter used to die inside the schema decoder). Tabular
 * tables with one more state row, action column or stage than declared are refused at
 * `environment.build(context i)`, never cut to size. And generated spec files (test/hostileSpecs.ts)
 * with a build or module that never returns, a throwing getter, `process.exit`, a huge size or an
 * oversized table, checked as `run` checks them (the spec-check process, then the cost estimate),
 * each end in their one clear line within a bounded time.
 */
import { Cause, Effect, Exit } from "effect"
import fc from "fast-check"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { checkSpec } from "../src/cli/specCheck.ts"
import { costProblem, MEMORY_LIMIT_ENV } from "../src/spec/cost.ts"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { snapshotSpec } from "../src/spec/snapshot.ts"
import { Contexts, Env, Experiment } from "../src/spec/Spec.ts"
import { formatPath, SpecError } from "../src/spec/SpecError.ts"
import { hostileSpec } from "./hostileSpecs.ts"

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

describe("generated hostile spec files (property)", () => {
  /** The spec check's limit: short, so that a hanging case costs seconds; long enough for a module to load under load. */
  const TIMEOUT_S = 4
  // In the repository, so that `import ... from "distmt"` resolves as it does for users.
  const dir = path.join(import.meta.dirname, "fixtures", `.fuzz-${process.pid}`)
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  let n = 0

  /**
   * What `run` would say of the spec in `file` before running it: the spec check in its worker,
   * then the cost estimate (a stated memory limit, so that "huge" does not depend on this machine).
   * A SpecError must hold exactly one issue; its line is that issue's, as printed.
   */
  const outcome = async (file: string): Promise<string> => {
    const exit = await Effect.runPromiseExit(checkSpec(file, { timeoutSeconds: TIMEOUT_S }))
    if (Exit.isSuccess(exit)) {
      const before = process.env[MEMORY_LIMIT_ENV]
      process.env[MEMORY_LIMIT_ENV] = "4 GiB"
      try {
        // A deep-stage spec has no episode estimate (its summary has no cost).
        const problem = exit.value.cost === undefined ? undefined : costProblem(exit.value.cost)
        return problem === undefined ? "valid" : `${file}: ${problem}`
      } finally {
        if (before === undefined) delete process.env[MEMORY_LIMIT_ENV]
        else process.env[MEMORY_LIMIT_ENV] = before
      }
    }
    // A failure, never a defect (a throw inside distmt); one error, structured.
    expect(exit.cause.reasons.every(Cause.isFailReason), String(exit.cause)).toBe(true)
    const error = (exit.cause.reasons[0] as Cause.Fail<Error & { _tag: string }>).error
    expect(["SpecError", "SpecLoadError"]).toContain(error._tag)
    if (error instanceof SpecError) {
      // "Invalid spec <file>:" and one line per issue, as the user sees it: exactly one issue.
      const lines = error.message.split("\n")
      expect(lines, error.message).toHaveLength(2)
      return lines[1].trim()
    }
    return error.message
  }

  it("hanging builds, throwing getters, exits, huge sizes and oversized tables each end in their one line, in bounded time", async () => {
    fs.mkdirSync(dir, { recursive: true })
    await fc.assert(
      fc.asyncProperty(hostileSpec(TIMEOUT_S), async (c) => {
        const file = path.join(dir, `case-${n++}.spec.ts`)
        fs.writeFileSync(file, c.source)
        const t0 = Date.now()
        const line = await outcome(path.relative(process.cwd(), file))
        const seconds = (Date.now() - t0) / 1000
        console.log(`${c.attack.kind}: ${line} (${seconds.toFixed(1)} s)`)
        // Bounded: the limit for a hang, plus a worker's start (generous: the machine is shared).
        expect(seconds).toBeLessThan(TIMEOUT_S + 30)
        expect(line).not.toMatch(/\n|\bat .*:\d+:\d+|Cause\(|FiberFailure/)
        if (c.expected === "valid") expect(line).toBe("valid")
        else expect(line).toMatch(c.expected)
      }),
      // Each case starts a worker: no shrinking (it would start dozens more); the case printed is the generated spec.
      { numRuns: 10, endOnFailure: true }
    )
  }, 300_000)
})

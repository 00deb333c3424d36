/**
 * The spec fuzzer's generator of hostile spec *files* (issue 15 items 1–3, fuzzed in
 * test/hostile-property.test.ts): a small tabular spec with at most one attack planted, drawn from
 * the inputs that used to hang, crash or fool the tool. Each case carries the one line it must end
 * in: a build or module that never returns (the time-limit message), a throwing getter (an issue at
 * its field), `process.exit` while loading or in a build, a huge size (agents, seeds, k1: refused
 * by the cost check naming the field), or tables larger than declared (an extra action column,
 * extra state rows, an H+1-th stage). Without an attack the spec is valid.
 *
 * A case prints as its source text (fc.toStringMethod), so that a failing property shows the spec
 * that failed, ready to save as a file and run.
 */
import fc from "fast-check"
import { count } from "../src/spec/cost.ts"

export type Attack =
  | { readonly kind: "none" }
  | { readonly kind: "hang-build"; readonly context: number }
  | { readonly kind: "hang-load" }
  | { readonly kind: "getter"; readonly field: string }
  | { readonly kind: "exit"; readonly code: number; readonly context: number | "load" }
  | { readonly kind: "huge"; readonly field: "agents" | "seeds" | "k1"; readonly value: number }
  | { readonly kind: "oversized"; readonly table: "action" | "state" | "stage"; readonly context: number | "all" }

export interface HostileCase {
  readonly attack: Attack
  readonly source: string
  /** The line the case must end in; "valid" for a spec that passes every check. */
  readonly expected: RegExp | "valid"
}

const GETTER_FIELDS = ["name", "agents", "epsilon", "cSep", "delta", "environment", "contexts", "stopping"] as const

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** The line an attack must end in; `timeout` is the spec-check limit in seconds. */
const expectedLine = (attack: Attack, timeout: number): RegExp | "valid" => {
  // Tables wrong in every context are one issue at `context *` (contexts ≥ 2 here).
  const build = (c: number | "all") => `environment\\.build\\(context ${c === "all" ? "\\*" : c}\\)`
  switch (attack.kind) {
    case "none":
      return "valid"
    case "hang-build":
      return new RegExp(`^Cannot load spec .*: ${build(attack.context)} did not return within ${timeout} s \\(a longer limit`)
    case "hang-load":
      return new RegExp(`^Cannot load spec .*: loading the spec module .* did not return within ${timeout} s`)
    case "getter":
      return new RegExp(`^${attack.field}: expected a value, but reading this field threw: fuzzed getter$`)
    case "exit": {
      const during = attack.context === "load" ? "loading the spec module .*" : build(attack.context)
      return new RegExp(`^Cannot load spec .*: the spec called process\\.exit\\(${attack.code}\\) during ${during}; a spec must not end the process$`)
    }
    case "huge": {
      const field = attack.field === "k1" ? `stopping\\.k1 \\+ k2: ${escape(count(attack.value + 10))} episodes per learner` : `${attack.field}: ${escape(count(attack.value))}`
      return new RegExp(`^.*: ${field} → .*; pass --force to run it anyway$`)
    }
    case "oversized": {
      const what = { action: "\\[(\\d+|\\*)\\]: expected \\d+ entr(y|ies), one per action", state: ": expected \\d+ rows?, one per state", stage: ": expected \\d+ stages? \\(environment\\.horizon\\)" }
      return new RegExp(`^${build(attack.context)}\\.reward${what[attack.table]}`)
    }
  }
}

/**
 * The source of a spec on `contexts` contexts (k = 0, 1, …) of an S-state, A-action, H-stage
 * tabular environment with reward k/4 everywhere (so V* = H·k/4: separated by at least 0.25 > cSep),
 * with `attack` planted.
 */
const sourceOf = (S: number, A: number, H: number, contexts: number, attack: Attack): string => {
  const when = (c: number | "all") => (c === "all" ? "true" : `c.k === ${c}`)
  const extra = attack.kind === "oversized" ? { table: attack.table, when: when(attack.context) } : { table: "", when: "false" }
  const size = (field: string, normal: string) => (attack.kind === "huge" && attack.field === field ? String(attack.value) : normal)
  return `// A generated hostile spec: ${JSON.stringify(attack)}
import { Contexts, Env, Experiment, Stopping } from "distmt"
${attack.kind === "hang-load" ? "for (;;) {}" : attack.kind === "exit" && attack.context === "load" ? `process.exit(${attack.code})` : ""}
const spec = Experiment.make({
  name: "fuzzed",
  environment: Env.tabular({
    states: ${S},
    actions: ${A},
    horizon: ${H},
    build: (c) => {
      ${attack.kind === "hang-build" ? `if (c.k === ${attack.context}) for (;;) {}` : ""}
      ${attack.kind === "exit" && attack.context !== "load" ? `if (c.k === ${attack.context}) process.exit(${attack.code})` : ""}
      const extra = ${extra.when}
      const reward = Array.from({ length: ${S} + (extra && "${extra.table}" === "state" ? 1 : 0) }, () =>
        Array.from({ length: ${A} + (extra && "${extra.table}" === "action" ? 1 : 0) }, () => c.k / 4))
      const transition = Array.from({ length: ${S} }, (_, s) =>
        Array.from({ length: ${A} }, (_, a) => Array.from({ length: ${S} }, (_, t) => (t === (s + a) % ${S} ? 1 : 0))))
      return { reward: extra && "${extra.table}" === "stage" ? Array.from({ length: ${H + 1} }, () => reward) : reward, transition }
    }
  }),
  contexts: Contexts.list([${Array.from({ length: contexts }, (_, k) => `{ k: ${k} }`).join(", ")}]),
  agents: ${size("agents", "2")},
  epsilon: 0.1,
  cSep: 0.2,
  delta: 0.05,
  seeds: ${size("seeds", "1")},
  stopping: ${attack.kind === "huge" && attack.field === "k1" ? `Stopping.schedule({ k1: ${attack.value}, k2: 10 })` : "Stopping.adaptive({ maxEpisodes: 5000 })"}
})
${attack.kind === "getter" ? `Object.defineProperty(spec, "${attack.field}", { enumerable: true, get() { throw new Error("fuzzed getter") } })` : ""}
export default spec
`
}

/** An attack on a spec of `contexts` contexts. */
const attackOn = (contexts: number): fc.Arbitrary<Attack> => {
  const context = fc.integer({ min: 0, max: contexts - 1 })
  return fc.oneof(
    fc.constant<Attack>({ kind: "none" }),
    context.map((c): Attack => ({ kind: "hang-build", context: c })),
    fc.constant<Attack>({ kind: "hang-load" }),
    fc.constantFrom(...GETTER_FIELDS).map((field): Attack => ({ kind: "getter", field })),
    fc.record({ code: fc.integer({ min: 0, max: 3 }), context: fc.oneof(fc.constant("load" as const), context) }).map((e): Attack => ({ kind: "exit", ...e })),
    fc.oneof(
      fc.constantFrom(1e9, 2e9).map((value): Attack => ({ kind: "huge", field: "agents", value })),
      fc.constantFrom(1e9, 2e9).map((value): Attack => ({ kind: "huge", field: "seeds", value })),
      fc.constantFrom(1e12, 5e12).map((value): Attack => ({ kind: "huge", field: "k1", value }))
    ),
    fc.record({ table: fc.constantFrom("action" as const, "state" as const, "stage" as const), context: fc.oneof(fc.constant("all" as const), context) })
      .map((o): Attack => ({ kind: "oversized", ...o }))
  )
}

/** A generated hostile spec and the line it must end in; `timeout`: the spec-check limit in seconds. */
export const hostileSpec = (timeout: number): fc.Arbitrary<HostileCase> =>
  fc.record({ S: fc.integer({ min: 1, max: 3 }), A: fc.integer({ min: 1, max: 3 }), H: fc.integer({ min: 1, max: 3 }), contexts: fc.integer({ min: 2, max: 3 }) })
    .chain(({ A, contexts, H, S }) =>
      attackOn(contexts).map((attack): HostileCase => {
        const source = sourceOf(S, A, H, contexts, attack)
        return { attack, source, expected: expectedLine(attack, timeout), [fc.toStringMethod]: () => source } as HostileCase
      })
    )

/**
 * The tables of `Env.tabular`: one call of the user's `build(context)` per context, checked and
 * flattened (docs/spec-reference.md, "Tabular"). Tables larger than declared are refused, not cut
 * to size; each call is marked for the spec check's watchdog (activity.ts).
 */
import type { FiniteMdp } from "../env/FiniteMdp.ts"
import { mark, Step } from "./activity.ts"
import type { Issues } from "./issues.ts"
import type { Context, TabularEnv } from "./Spec.ts"
import { snapshotSpec } from "./snapshot.ts"
import { Described } from "./SpecError.ts"

const PROBABILITY_TOLERANCE = 1e-9

/**
 * Validates and flattens a user's tables for one context (`index` < 0: a context tried while
 * solving Contexts.separated). Tables larger than declared are refused, not cut to size: an extra
 * action, state or stage is a spec that means something else than it says.
 */
export const tabularMdp = (issues: Issues, env: TabularEnv, context: Context, index: number): FiniteMdp | undefined => {
  const { horizon: H, states: S, actions: A } = env
  const start = env.start ?? 0
  const where = `environment.build(context ${Math.max(index, 0)})`
  let tables: ReturnType<TabularEnv["build"]>
  try {
    // The watchdog of the spec check names this call if it never returns (activity.ts).
    mark(index < 0 ? Step.solve : Step.build, index)
    const returned = env.build(context)
    // Read once, each field guarded: a getter or Proxy in the tables is an issue, not a crash.
    const copy = snapshotSpec(returned)
    if (copy.issues.length > 0) {
      for (const i of copy.issues) issues.add(i.path === "(spec)" ? where : `${where}.${i.path}`, i.message)
      return undefined
    }
    tables = copy.value as typeof tables
    mark(Step.compile)
  } catch (e) {
    issues.add(where, `expected the tables of context ${Math.max(index, 0)}, but build threw: ${e instanceof Error ? e.message : String(e)}`)
    return undefined
  }
  if (tables === null || typeof tables !== "object" || !Array.isArray(tables.reward) || !Array.isArray(tables.transition)) {
    issues.add(where, "expected { reward: [S][A] or [H][S][A], transition: [S][A][S] or [H][S][A][S] }", tables)
    return undefined
  }
  const before = issues.list.length
  const reward = new Float64Array(H * S * A)
  const transition = new Float64Array(H * S * A * S)
  // A stationary table ([S][A]...) is repeated over h; a stage-dependent one has H rows.
  const stage = <T>(table: ReadonlyArray<T>, depth: number, h: number): unknown =>
    depthOf(table) === depth + 1 ? table[h] : table
  const stagedReward = depthOf(tables.reward) === 3
  const stagedTransition = depthOf(tables.transition) === 4
  for (const [name, table, staged] of [["reward", tables.reward, stagedReward], ["transition", tables.transition, stagedTransition]] as const) {
    if (staged && table.length !== H) {
      issues.add(`${where}.${name}`, `expected ${H} stages (environment.horizon), or one table for every stage`, new Described(`${table.length} stages`))
    }
  }
  if (issues.list.length > before) return undefined
  for (let h = 0; h < H; h++) {
    const r = stage(tables.reward as ReadonlyArray<unknown>, 2, h)
    const p = stage(tables.transition as ReadonlyArray<unknown>, 3, h)
    // A stationary table is the same at every h: its sizes are checked once.
    if (h === 0 || stagedReward) tooLarge(issues, `${where}.reward${stagedReward ? `[${h}]` : ""}`, r, S, A)
    if (h === 0 || stagedTransition) tooLarge(issues, `${where}.transition${stagedTransition ? `[${h}]` : ""}`, p, S, A)
    for (let s = 0; s < S; s++) {
      for (let a = 0; a < A; a++) {
        const rv = (r as any)?.[s]?.[a]
        const rPath = `${where}.reward[${h}][${s}][${a}]`
        if (typeof rv !== "number" || !Number.isFinite(rv) || rv < 0 || rv > 1) {
          issues.add(rPath, "expected a reward in [0, 1]", rv)
        } else reward[(h * S + s) * A + a] = rv
        const row = (p as any)?.[s]?.[a]
        const pPath = `${where}.transition[${h}][${s}][${a}]`
        if (!Array.isArray(row) || row.length !== S) {
          issues.add(pPath, `expected a distribution over the ${S} states`, row)
          continue
        }
        let total = 0
        for (let t = 0; t < S; t++) {
          const q = row[t]
          if (typeof q !== "number" || !Number.isFinite(q) || q < 0) {
            issues.add(`${pPath}[${t}]`, "expected a probability ≥ 0", q)
          } else {
            total += q
            transition[((h * S + s) * A + a) * S + t] = q
          }
        }
        if (Math.abs(total - 1) > PROBABILITY_TOLERANCE) issues.add(pPath, "expected probabilities summing to 1", new Described(`sum ${total}`))
      }
    }
    if (issues.list.length - before > 20) break // enough to show what is wrong
  }
  return issues.list.length === before ? { horizon: H, states: S, actions: A, start, reward, transition } : undefined
}

const depthOf = (u: unknown): number => (Array.isArray(u) ? 1 + depthOf(u[0]) : 0)

/** Refuses a stage's table with more state rows (S) or action columns (A) than declared. */
const tooLarge = (issues: Issues, path: string, table: unknown, S: number, A: number) => {
  if (!Array.isArray(table)) return
  if (table.length > S) issues.add(path, `expected ${S} rows, one per state (environment.states)`, new Described(`${table.length} rows`))
  for (let s = 0; s < Math.min(table.length, S); s++) {
    const row: unknown = table[s]
    if (Array.isArray(row) && row.length > A) {
      issues.add(`${path}[${s}]`, `expected ${A} entries, one per action (environment.actions)`, new Described(`${row.length} entries`))
    }
  }
}


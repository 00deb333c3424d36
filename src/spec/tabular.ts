/**
 * The tables of `Env.tabular`: one call of the user's `build(context)` per context, checked and
 * flattened (docs/spec-reference.md, "Tabular"). Problems are named in the user's own indexing: a
 * stationary `[S][A]` reward at `reward[3][1]`, a stage-dependent `[H][S][A]` one at
 * `reward[h][3][1]`; an absent row or entry is "missing"; a context field that `build` reads and no
 * context has is "undefined context field `x`" (contextReads.ts). Tables larger than declared are
 * refused, not cut to size. Each call is marked for the spec check's watchdog (activity.ts).
 */
import type { FiniteMdp } from "../env/FiniteMdp.ts"
import { mark, Step } from "./activity.ts"
import { closestField, watchReads } from "./contextReads.ts"
import type { Issues } from "./issues.ts"
import type { Context, TabularEnv } from "./Spec.ts"
import { snapshotSpec } from "./snapshot.ts"
import { Described } from "./SpecError.ts"

const PROBABILITY_TOLERANCE = 1e-9
/** Problems listed per context before the rest are only counted: enough to show what is wrong. */
const LISTED_PROBLEMS = 20

/** What one level of a table holds, for messages: "expected 2 entries, one per action (environment.actions)". */
interface Level {
  readonly one: string
  readonly many: string
  /** Said after "expected n <many>". */
  readonly per: string
}
const STAGES: Level = { one: "stage", many: "stages", per: " (environment.horizon), or one table for every stage" }
const ROWS: Level = { one: "row", many: "rows", per: ", one per state (environment.states)" }
const ENTRIES: Level = { one: "entry", many: "entries", per: ", one per action (environment.actions)" }
const NEXT_STATES: Level = { one: "probability", many: "probabilities", per: ", one per next state (environment.states)" }

/** The result of calling `build`: a safe copy of what it returned, or why it threw; the absent fields it read. */
interface Built {
  readonly returned?: ReturnType<typeof snapshotSpec>
  readonly threw?: string
  readonly absent: ReadonlySet<string>
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const callBuild = (env: TabularEnv, context: Context, index: number): Built => {
  // The watchdog of the spec check names this call if it, or a getter of what it returns, never returns (activity.ts).
  mark(index < 0 ? Step.solve : Step.build, Math.max(index, 0))
  const watched = watchReads(context)
  try {
    // Read once, each field guarded: a getter or Proxy in the tables is an issue, not a crash.
    return { returned: snapshotSpec(env.build(watched.proxy)), absent: watched.absent }
  } catch {
    // A build that cannot take a Proxy (it structuredClones its context, say) gets the context itself.
    try {
      return { returned: snapshotSpec(env.build(context)), absent: watched.absent }
    } catch (e) {
      return { threw: errorText(e), absent: watched.absent }
    }
  } finally {
    mark(Step.compile)
  }
}

const undefinedField = (field: string, fields: ReadonlySet<string>): string => {
  const known = [...fields]
  const guess = closestField(field, known)
  return `undefined context field \`${field}\`: no context has it (` +
    (known.length === 0 ? "the contexts have no fields" : `the contexts have ${known.join(", ")}`) +
    (guess === undefined ? ")" : `; did you mean \`${guess}\`?)`)
}

/**
 * Validates and flattens a user's tables for context `index` (< 0: a context tried while solving
 * Contexts.separated, reported as context 0). `fields` are the fields of all the spec's contexts:
 * a field that `build` reads and none of them has is a typo, reported instead of its consequences.
 */
export const tabularMdp = (
  issues: Issues,
  env: TabularEnv,
  context: Context,
  index: number,
  fields: ReadonlySet<string>
): FiniteMdp | undefined => {
  const { horizon: H, states: S, actions: A } = env
  const n = Math.max(index, 0)
  let found = 0
  const problem = (at: string, message: string, actual?: unknown) => {
    if (found++ < LISTED_PROBLEMS) issues.inContext(n, at, message, actual)
  }

  const built = callBuild(env, context, index)
  const typos = [...built.absent].filter((k) => !fields.has(k))
  for (const k of typos) issues.inContext(n, "", undefinedField(k, fields))
  if (built.returned === undefined) {
    issues.inContext(n, "", `expected the tables, but build threw: ${built.threw}`)
    return undefined
  }
  // Its tables would show the consequences (missing or NaN entries), not the cause.
  if (typos.length > 0) return undefined
  const copy = built.returned
  for (const i of copy.issues) issues.inContext(n, i.path === "(spec)" ? "" : i.path.startsWith("[") ? i.path : `.${i.path}`, i.message)
  if (copy.issues.length > 0) return undefined
  const tables = copy.value
  if (tables === null || typeof tables !== "object" || Array.isArray(tables)) {
    issues.inContext(n, "", "expected { reward: [S][A] or [H][S][A], transition: [S][A][S] or [H][S][A][S] }", tables)
    return undefined
  }
  const { reward: rewardTable, transition: transitionTable, ...extra } = tables as Record<string, unknown>
  for (const k of Object.keys(extra)) problem(`.${k}`, "unexpected field of the tables; expected only reward and transition")

  const reward = new Float64Array(H * S * A)
  const transition = new Float64Array(H * S * A * S)
  // A stationary table is checked once and repeated over h; a stage-dependent one has H tables.
  for (const [at, stage, steps] of stagesOf(problem, H, ".reward", rewardTable, 2)) {
    forEachCell(problem, at, stage, S, A, (s, a, r) => {
      if (!number(problem, () => `${at}[${s}][${a}]`, r, "a reward in [0, 1]", (v) => v >= 0 && v <= 1)) return
      for (const h of steps) reward[(h * S + s) * A + a] = r as number
    })
  }
  for (const [at, stage, steps] of stagesOf(problem, H, ".transition", transitionTable, 3)) {
    forEachCell(problem, at, stage, S, A, (s, a, dist) => {
      const where = `${at}[${s}][${a}]`
      const ps = listOf(problem, where, dist, S, NEXT_STATES)
      let valid = ps !== undefined && ps.length >= S
      let total = 0
      for (let t = 0; t < present(ps, S); t++) {
        const p = ps![t]
        if (number(problem, () => `${where}[${t}]`, p, "a probability ≥ 0", (v) => v >= 0)) total += p as number
        else valid = false
      }
      if (!valid) return
      if (Math.abs(total - 1) > PROBABILITY_TOLERANCE) problem(where, "expected probabilities summing to 1", new Described(`sum ${total}`))
      for (const h of steps) {
        for (let t = 0; t < S; t++) transition[((h * S + s) * A + a) * S + t] = ps![t] as number
      }
    })
  }
  if (found > LISTED_PROBLEMS) issues.inContext(n, "", "more problems in these tables, not listed: fix the ones above first")
  if (found > 0) {
    // A field that other contexts have may be optional (`ctx.bonus ?? 0`); here the tables are wrong, so say it was absent.
    for (const k of built.absent) issues.inContext(n, "", `undefined context field \`${k}\`: this context does not have it (other contexts do)`)
    return undefined
  }
  return { horizon: H, states: S, actions: A, start: env.start ?? 0, reward, transition }
}

type Problem = (at: string, message: string, actual?: unknown) => void

/** Depth of nested arrays, looking through holes to the first element present. */
const depthOf = (u: unknown): number => (Array.isArray(u) ? 1 + depthOf(u.find((x) => x !== undefined)) : 0)

/**
 * The stage tables of a `[S]...` or `[H][S]...` table (`depth` = the depth of one stage), each with
 * its path as the user wrote it and the steps h it applies to.
 */
const stagesOf = (
  problem: Problem,
  H: number,
  at: string,
  table: unknown,
  depth: number
): Array<readonly [string, unknown, ReadonlyArray<number>]> => {
  const allSteps = Array.from({ length: H }, (_, h) => h)
  if (depthOf(table) !== depth + 1) return [[at, table, allSteps]]
  const stages = listOf(problem, at, table, H, STAGES)
  return Array.from({ length: present(stages, H) }, (_, h) => [`${at}[${h}]`, stages![h], [h]] as const)
}

/** Calls `cell` with every (s, a) entry present in one stage's `[S][A]...` table. */
const forEachCell = (
  problem: Problem,
  at: string,
  stage: unknown,
  S: number,
  A: number,
  cell: (s: number, a: number, value: unknown) => void
): void => {
  const rows = listOf(problem, at, stage, S, ROWS)
  const n = present(rows, S)
  // The same wrong length in every row (an extra or a missing action column) is one problem, said
  // once at `[*]`, not once per state.
  const lengths = Array.from({ length: n }, (_, s) => (Array.isArray(rows![s]) ? (rows![s] as ReadonlyArray<unknown>).length : -1))
  const everyRow = n > 1 && lengths[0] >= 0 && lengths[0] !== A && lengths.every((l) => l === lengths[0])
  if (everyRow) listOf(problem, `${at}[*]`, rows![0], A, ENTRIES)
  for (let s = 0; s < n; s++) {
    const row = everyRow ? (rows![s] as ReadonlyArray<unknown>) : listOf(problem, `${at}[${s}]`, rows![s], A, ENTRIES)
    for (let a = 0; a < present(row, A); a++) cell(s, a, row![a])
  }
}

/**
 * An array that should have `n` elements: absent, not an array, longer (refused, not cut to size)
 * or shorter ("missing", at the absent indices) are problems. Returns the array, or undefined when
 * there is none; its first `present(array, n)` elements are to be checked (a hole reads undefined).
 */
const listOf = (problem: Problem, at: string, value: unknown, n: number, level: Level): ReadonlyArray<unknown> | undefined => {
  const expected = `expected ${n} ${n === 1 ? level.one : level.many}${level.per}`
  if (value === undefined) {
    problem(at, `missing: ${expected}`)
    return undefined
  }
  if (!Array.isArray(value)) {
    problem(at, expected, value)
    return undefined
  }
  const got = new Described(`${value.length} ${value.length === 1 ? level.one : level.many}`)
  if (value.length > n) problem(at, expected, got)
  if (value.length < n) problem(`${at}[${value.length}${value.length < n - 1 ? `..${n - 1}` : ""}]`, `missing: ${expected}`, got)
  return value
}

/** How many elements of `list` to check: those present, at most n. */
const present = (list: ReadonlyArray<unknown> | undefined, n: number): number => Math.min(list?.length ?? 0, n)

/**
 * Checks one number of a table: present, a number, finite, in range; true if it is valid. Its path
 * is made only for a problem: a table may hold millions of entries.
 */
const number = (problem: Problem, at: () => string, v: unknown, expected: string, inRange: (v: number) => boolean): boolean => {
  if (typeof v === "number" && Number.isFinite(v) && inRange(v)) return true
  if (v === undefined) problem(at(), `missing: expected ${expected}`)
  else if (typeof v !== "number") problem(at(), `expected ${expected}`, v)
  else if (!Number.isFinite(v)) problem(at(), "expected a finite number", v)
  else problem(at(), `expected ${expected}`, v)
  return false
}

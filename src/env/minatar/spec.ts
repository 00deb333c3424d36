/**
 * `Env.minatar` in a spec: the Schema of the environment field and the checks of its contexts, with
 * errors that name the bad field's path like every other field of a spec (src/spec/schema.ts calls
 * these). A spec's M hidden tasks are contexts of one game (`Env.minatar({ game: "breakout", ... })`,
 * contexts of its parameters) or of several (`Env.minatar({ game: ["breakout", "freeway"] })`, each
 * context choosing its game by index: `{ game: 1, carsPerLane: 2 }`). A context's fields override the
 * environment's, which override the standard game's defaults.
 */
import { Result, Schema, SchemaIssue } from "effect"
import type { Contexts, MinAtarEnv } from "../../spec/Spec.ts"
import { formatPath, show, type SpecIssue } from "../../spec/SpecError.ts"
import { GAME_NAMES, type GameName } from "./Game.ts"
import { crossIssues, FIELDS, fieldSchemas, type ParamsOf, paramsSchema, withDefaults } from "./params.ts"

const GameNameSchema = Schema.Literals(GAME_NAMES).annotate({ expected: `a game: ${GAME_NAMES.map((g) => JSON.stringify(g)).join(", ")}` })

/** Every parameter of every game (a name shared by two games has the same range in both). */
const ALL_FIELDS = Object.assign({}, ...GAME_NAMES.map(fieldSchemas)) as ReturnType<typeof fieldSchemas>
/** What several games have in common, so may be set for all of them at once. */
const COMMON = ["sticky", "maxFrames"]

/** The fields a game does not have, and the constraints between its fields, as issues at their paths. */
const gameIssues = (env: Record<string, unknown>): Array<{ readonly path: ReadonlyArray<string>; readonly issue: string }> => {
  const game = env.game as GameName | ReadonlyArray<GameName>
  const allowed = typeof game === "string" ? Object.keys(FIELDS[game]) : COMMON
  const issues: Array<{ readonly path: ReadonlyArray<string>; readonly issue: string }> = []
  for (const k of Object.keys(env)) {
    if (k === "_tag" || k === "game" || allowed.includes(k)) continue
    const owner = typeof game === "string" ? game : "several games"
    issues.push({ path: [k], issue: `unexpected field: ${owner} ${typeof game === "string" ? "has" : "share"} the parameters ${allowed.join(", ")}` })
  }
  return issues.length > 0 || typeof game !== "string" ? issues : crossIssues(game, withDefaults(game, env as Record<string, number>))
}

/**
 * The Schema of \`Env.minatar({...})\`: one struct of every game's parameters (each checked for its range)
 * and a check that the game named has them, rather than a union of one struct per game, whose errors
 * would list every game's complaints.
 */
export const MinAtarEnvSchema = Schema.Struct({
  _tag: Schema.Literal("MinAtar"),
  game: Schema.Union([GameNameSchema, Schema.Array(GameNameSchema).check(Schema.isMinLength(1))]).annotate({
    expected: `a game (${GAME_NAMES.map((g) => JSON.stringify(g)).join(", ")}) or a non-empty list of games`
  }),
  ...ALL_FIELDS
}).check(Schema.makeFilter(gameIssues))

/** The environment's own parameters (without `_tag` and `game`). */
const baseOf = (env: MinAtarEnv): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(env)) if (typeof v === "number") out[k] = v
  return out
}

export interface MinAtarTask<N extends GameName = GameName> {
  readonly game: N
  readonly params: ParamsOf[N]
}

/** One context as a task, or the issues that stop it (paths relative to the context). */
const taskOf = (env: MinAtarEnv, context: Readonly<Record<string, number>>): { readonly task?: MinAtarTask; readonly issues: Array<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string; readonly actual?: string }> } => {
  const { game: index, ...fields } = context
  let game: GameName
  if (typeof env.game === "string") {
    if (index !== undefined) return { issues: [{ path: ["game"], message: `unexpected field: the environment has one game (${env.game}); a game index needs Env.minatar({ game: [...] })`, actual: show(index) }] }
    game = env.game
  } else {
    const n = env.game.length
    if (index === undefined && n > 1) return { issues: [{ path: ["game"], message: `expected the index of this context's game in environment.game (0..${n - 1}) (missing)` }] }
    const i = index ?? 0
    if (!Number.isInteger(i) || i < 0 || i >= n) return { issues: [{ path: ["game"], message: `expected the index of a game in environment.game, 0..${n - 1}`, actual: show(i) }] }
    game = env.game[i]
  }
  const merged = { ...baseOf(env), ...fields }
  const result = Schema.decodeUnknownResult(paramsSchema(game))(merged, { errors: "all", onExcessProperty: "error" })
  if (Result.isSuccess(result)) return { task: { game, params: withDefaults(game, merged) }, issues: [] }
  const formatted = SchemaIssue.makeFormatterStandardSchemaV1()(result.failure.issue).issues
  return {
    issues: formatted.map((i) => {
      const path = (i.path ?? []).map((p) => (typeof p === "object" ? p.key : p))
      const key = String(path[0] ?? "")
      const message = Object.hasOwn(FIELDS[game], key) || path.length === 0
        ? i.message.replace(/^Expected /, "expected ")
        : `unexpected field: ${game} has the parameters ${Object.keys(FIELDS[game]).join(", ")}`
      return Object.hasOwn(merged, key) ? { path, message, actual: show(merged[key]) } : { path, message }
    })
  }
}

/** The most grid points checked one by one (a bigger grid is refused, not silently half-checked). */
const MAX_GRID = 10_000

/** Each context of the spec with the path it is reported under. */
const entries = (contexts: Contexts): { readonly items: Array<{ readonly context: Readonly<Record<string, number>>; readonly at: (field: ReadonlyArray<PropertyKey>) => string}>; readonly issue?: SpecIssue } => {
  switch (contexts._tag) {
    case "List":
      return { items: contexts.items.map((context, i) => ({ context, at: (f) => formatPath(["contexts", "items", i, ...f]) })) }
    case "Grid": {
      const axes = Object.entries(contexts.axes)
      const points = axes.reduce((n, [, v]) => n * v.length, 1)
      if (points > MAX_GRID) return { items: [], issue: { path: "contexts.axes", message: `expected at most ${MAX_GRID} combinations of game parameters`, actual: `${points} combinations` } }
      let grid: Array<Record<string, number>> = [{}]
      for (const [k, values] of axes) grid = grid.flatMap((prefix) => values.map((v) => ({ ...prefix, [k]: v })))
      return { items: grid.map((context) => ({ context, at: (f) => formatPath(["contexts", "axes", ...f.slice(0, 1)]) })) }
    }
    default:
      return {
        items: [],
        issue: { path: "contexts", message: "expected Contexts.list([...]) or Contexts.grid({...}) of game parameters for Env.minatar", actual: contexts._tag }
      }
  }
}

/** The M tasks of a spec whose environment is `Env.minatar`, or every issue of its contexts. */
export const minatarTasks = (env: MinAtarEnv, contexts: Contexts): { readonly tasks: ReadonlyArray<MinAtarTask>; readonly issues: ReadonlyArray<SpecIssue> } => {
  const { items, issue } = entries(contexts)
  const issues: Array<SpecIssue> = issue === undefined ? [] : [issue]
  const seen = new Set<string>()
  const tasks: Array<MinAtarTask> = []
  for (const { at, context } of items) {
    const r = taskOf(env, context)
    if (r.task !== undefined) tasks.push(r.task)
    for (const i of r.issues) {
      const found: SpecIssue = { path: at(i.path), message: i.message, ...(i.actual === undefined ? {} : { actual: i.actual }) }
      const key = `${found.path}\u0000${found.message}\u0000${found.actual}`
      if (!seen.has(key)) issues.push(found)
      seen.add(key)
    }
  }
  return { tasks, issues }
}

/**
 * A task on the command line (`bench forgetting --tasks`, `bench simnet --task`): a game and the
 * context parameters that differ from its defaults, `breakout:paddleWidth=3:ballSpeed=0.5`. One
 * syntax for both commands, fields after colons: `--tasks` lists tasks by commas, so commas cannot
 * also separate fields (bench simnet's `--task` took `game:field=value,field=value`, and the same
 * task written for one command failed in the other).
 */
import { GAME_NAMES, type GameName } from "./Game.ts"
import { FIELDS, resolveParams } from "./params.ts"

/** The form every syntax error shows. */
export const TASK_FORM = "game:field=value:field=value"

export interface TaskText {
  readonly game: GameName
  readonly context: Readonly<Record<string, number>>
}

/**
 * Parses one task, checking its game, its fields and their ranges; throws a RangeError that quotes
 * the task and names the bad part. `commas` also takes commas between fields, the older form of
 * `bench simnet --task` (a single task, where a comma cannot mean another task).
 */
export const parseTaskText = (text: string, commas = false): TaskText => {
  const fail = (why: string) => new RangeError(`${JSON.stringify(text)}: ${why}`)
  const at = text.indexOf(":")
  const name = (at < 0 ? text : text.slice(0, at)).trim()
  const rest = at < 0 ? "" : text.slice(at + 1)
  if (!GAME_NAMES.includes(name as GameName)) {
    // `breakout:paddleWidth=3,ballSpeed=0.5` in a comma list reaches here as the task "ballSpeed=0.5".
    const hint = name.includes("=") ? `; a task is ${TASK_FORM}, fields after colons` : ""
    throw fail(`unknown game ${JSON.stringify(name)}; expected one of ${GAME_NAMES.join(", ")}${hint}`)
  }
  const game = name as GameName
  const context: Record<string, number> = {}
  // `breakout` and `breakout:` are the standard game.
  const entries = rest.trim() === "" ? [] : rest.split(commas ? /[:,]/ : ":").map((e) => e.trim())
  entries.forEach((entry, i) => {
    if (entry === "") throw fail(`field ${i + 1} is empty; a task is ${TASK_FORM}`)
    const eq = entry.indexOf("=")
    const field = eq < 0 ? entry : entry.slice(0, eq).trim()
    if (!(field in FIELDS[game])) throw fail(`${game} has no parameter ${JSON.stringify(field)}; expected one of ${Object.keys(FIELDS[game]).join(", ")}`)
    const value = eq < 0 ? "" : entry.slice(eq + 1)
    const v = Number(value)
    if (value.trim() === "" || !Number.isFinite(v)) throw fail(`${field} needs a number, got ${JSON.stringify(value)}; a task is ${TASK_FORM}`)
    context[field] = v
  })
  try {
    resolveParams(game, context)
  } catch (e) {
    throw fail((e as Error).message)
  }
  return { game, context }
}

/** A task written back in that syntax: `breakout`, `breakout:paddleWidth=3:ballSpeed=0.5`. */
export const taskText = (t: TaskText): string => {
  const fields = Object.entries(t.context).map(([k, v]) => `${k}=${v}`)
  return fields.length === 0 ? t.game : `${t.game}:${fields.join(":")}`
}

/**
 * Task lists for the SimNet measurement: the default hidden tasks, random variants as "earlier runs'"
 * tasks SimNet may be pretrained on, and the `--task` syntax of `distmt bench simnet`.
 *
 * Why these variants: each changes one context parameter of the standard game by a step a spec
 * would plausibly use (docs/deep.md, "Games in a spec"), and several leave the random policy's
 * return almost unchanged (a faster paddle, a slower ball, a longer shot cooldown), which is what
 * makes identification hard for the return statistic.
 */
import { FIELDS, type GameName, resolveParams } from "../../env/minatar/index.ts"
import { parseTaskText, type TaskText } from "../../env/minatar/taskText.ts"
import * as Rng from "../../rng/Rng.ts"
import type { SimTask } from "./features.ts"

/** 10 plausible hidden tasks: 5 context variants of Breakout and 5 of Space Invaders. */
export const DEFAULT_TASKS: ReadonlyArray<SimTask> = [
  { game: "breakout", context: {}, label: "breakout (standard)" },
  { game: "breakout", context: { paddleSpeed: 2 }, label: "breakout paddleSpeed=2" },
  { game: "breakout", context: { ballSpeed: 0.5 }, label: "breakout ballSpeed=0.5" },
  { game: "breakout", context: { brickRows: 4 }, label: "breakout brickRows=4" },
  { game: "breakout", context: { paddleWidth: 2 }, label: "breakout paddleWidth=2" },
  { game: "space_invaders", context: {}, label: "space_invaders (standard)" },
  { game: "space_invaders", context: { alienPeriod: 6 }, label: "space_invaders alienPeriod=6" },
  { game: "space_invaders", context: { firePeriod: 5 }, label: "space_invaders firePeriod=5" },
  { game: "space_invaders", context: { alienRows: 3 }, label: "space_invaders alienRows=3" },
  { game: "space_invaders", context: { shotCooldown: 10 }, label: "space_invaders shotCooldown=10" }
]

/**
 * Parses `game` or `game:field=value:field=value` (e.g. `breakout:paddleSpeed=2:ballSpeed=0.5`), the
 * syntax of `bench forgetting --tasks` too (src/env/minatar/taskText.ts), into a task; the older
 * `game:field=value,field=value` is still taken. Throws a RangeError naming the bad part (unknown
 * game or field, value out of range).
 */
export const parseTask = (text: string): SimTask => {
  let task: TaskText
  try {
    task = parseTaskText(text, true)
  } catch (e) {
    throw new RangeError(`--task ${(e as Error).message}`)
  }
  const { game, context } = task
  const label = Object.keys(context).length === 0 ? `${game} (standard)` : `${game} ${Object.entries(context).map(([k, v]) => `${k}=${v}`).join(" ")}`
  return { game, context, label }
}

/**
 * `count` random variants of `game` for pretraining ("earlier runs' registries"): each changes one or
 * two context parameters (not `sticky` or `maxFrames`) to a value drawn uniformly from its range,
 * skipping any variant equal to one of `exclude` (the run's own tasks must stay unseen).
 */
export const randomTasks = (game: GameName, count: number, seed: number, exclude: ReadonlyArray<SimTask> = []): Array<SimTask> => {
  const rng = Rng.make(seed, 0x7a5)
  const fields = Object.entries(FIELDS[game]).filter(([k]) => k !== "sticky" && k !== "maxFrames")
  const key = (t: SimTask) => JSON.stringify(resolveParams(t.game, t.context as Record<string, number>))
  const seen = new Set(exclude.filter((t) => t.game === game).map(key))
  const out: Array<SimTask> = []
  for (let attempt = 0; out.length < count && attempt < 100 * count; attempt++) {
    const context: Record<string, number> = {}
    const changes = 1 + rng.int(2)
    for (let c = 0; c < changes; c++) {
      const [k, f] = fields[rng.int(fields.length)]
      const v = f.min + rng.next() * (f.max - f.min)
      context[k] = f.int ? Math.round(v) : Math.round(v * 100) / 100
    }
    let task: SimTask
    try {
      task = parseTask(`${game}:${Object.entries(context).map(([k, v]) => `${k}=${v}`).join(",")}`)
    } catch {
      continue // e.g. freeway's fastestCar > slowestCar
    }
    if (seen.has(key(task))) continue
    seen.add(key(task))
    out.push(task)
  }
  return out
}

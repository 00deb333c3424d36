/**
 * Lifelong learning with EWC (issue 12, item 3): one DQN agent meets a stream of tasks, F frames
 * each, and we measure how much of the earlier tasks it forgets while it learns the later ones.
 *
 * The protocol (docs/deep.md, "Forgetting: EWC on a stream of tasks"):
 *
 * - Task t starts with a fresh replay and restarts the ε schedule of the config (`beginTask()`)
 *   (uniform random play for `replayStart` frames, then ε falls linearly to `epsilonEnd` over
 *   `epsilonFrames`); training steps run every `trainEvery` frames once the task's replay holds
 *   `replayStart` transitions. The network, Adam's moments and the target network carry over.
 * - At each switch (after every task but the last) the agent calls `consolidate()`: the Fisher
 *   diagonal on the old task's replay, the anchor θ*, and the penalty λ_EWC/2 Σ F (θ − θ*)² with λ
 *   from the config. λ = 0 is plain fine-tuning (the Fisher is still estimated, so that the weights'
 *   drift can be compared between λs).
 * - After each task i, the greedy policy (ε = `evalEpsilon`, a frame cap per episode) plays
 *   `evalEpisodes` fresh episodes of every task j ≤ i. The episodes of task j use the same seeds
 *   after every task i (common random numbers), so R[i][j] − R[i'][j] compares policies, not luck.
 *   R[i][j] is their mean return, with a 95% confidence interval over the episodes.
 * - Forgetting of task j < last: max over i in j..last−1 of R[i][j] − R[last][j] (Chaudhry et al.
 *   2018's definition); `forgettingFromLearned` is the same with R[j][j] in place of the max.
 *
 * Everything is a function of the seed: the weights, the replay sampling, each task's game and
 * exploration, and each evaluation episode draw from their own stream split from it.
 */
import { type GameContext, makeGame } from "../env/minatar/index.ts"
import type { GameName } from "../env/minatar/Game.ts"
import { parseTaskText, taskText } from "../env/minatar/taskText.ts"
import * as Rng from "../rng/Rng.ts"
import { commaEntries } from "../cli/commaEntries.ts"
import { DqnAgent } from "./agent.ts"
import { type DqnConfig, epsilonAt } from "./config.ts"
import type { EngineName } from "./engine.ts"
import { runDqn } from "./loop.ts"
import type { Consolidation } from "./ewc.ts"
import type { Params } from "./network.ts"

/** One task of the stream: a game and its context (parameters that differ from the standard game). */
export interface StreamTask {
  readonly game: GameName
  readonly context: GameContext
}

export interface StreamOptions {
  readonly tasks: ReadonlyArray<StreamTask>
  readonly framesPerTask: number
  /** λ_EWC is `config.ewcLambda`. */
  readonly config: DqnConfig
  readonly engine: EngineName
  readonly seed: number
  /** Greedy episodes per task at each evaluation (default 20). */
  readonly evalEpisodes?: number
  /** ε of the evaluated policy (default 0.01). */
  readonly evalEpsilon?: number
  /** Frames after which an evaluation episode is cut (its return so far counts; default 2,000). */
  readonly evalMaxFrames?: number
  /** Keep a copy of the weights at the end of every task (tests). */
  readonly keepParams?: boolean
  /** Called now and then with a line of progress. */
  readonly progress?: (line: string) => void
}

/** A mean with the half-width of its 95% confidence interval (Student's t). */
export interface Estimate {
  readonly mean: number
  /** Half-width: the interval is mean ± ci. NaN with fewer than two values. */
  readonly ci: number
  readonly n: number
}

export interface TaskLog {
  readonly task: StreamTask
  /** Training episodes that ended during the task, and the mean return of the last 100 (ε-greedy). */
  readonly episodes: number
  readonly trainReturn: number
  readonly updates: number
  readonly seconds: number
  /**
   * How far the weights moved during this task from the anchor θ* of the switch before it (undefined
   * for the first task): the Fisher-weighted mean square Σ F (θ − θ*)² / Σ F with the consolidated
   * (accumulated) Fisher, and the plain root mean square over all weights.
   */
  readonly drift?: { readonly fisherWeighted: number; readonly rms: number }
}

export interface StreamResult {
  readonly tasks: ReadonlyArray<StreamTask>
  readonly lambda: number
  readonly seed: number
  readonly framesPerTask: number
  /** R[i][j]: return on task j after learning task i, for j ≤ i (row i has i + 1 entries). */
  readonly returns: ReadonlyArray<ReadonlyArray<Estimate>>
  /** Every evaluation episode's return: episodeReturns[i][j][k]. */
  readonly episodeReturns: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>
  /** Forgetting of each task j < last: max_{j ≤ i < last} R[i][j] − R[last][j]. */
  readonly forgetting: ReadonlyArray<number>
  /** R[j][j] − R[last][j]. */
  readonly forgettingFromLearned: ReadonlyArray<number>
  readonly log: ReadonlyArray<TaskLog>
  /** The consolidation returned at each switch (the Fisher is accumulated across switches). */
  readonly consolidations: ReadonlyArray<Consolidation>
  /** The weights at the end of every task, with `keepParams`. */
  readonly params?: ReadonlyArray<Params>
}

const T975 = [Number.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042]

/** Mean and 95% half-width mean ± t·s/√n of a sample. */
export const estimate = (xs: ReadonlyArray<number>): Estimate => {
  const n = xs.length
  if (n === 0) return { mean: Number.NaN, ci: Number.NaN, n }
  const mean = xs.reduce((a, x) => a + x, 0) / n
  if (n < 2) return { mean, ci: Number.NaN, n }
  const v = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)
  const t = n - 1 < T975.length ? T975[n - 1] : 1.96
  return { mean, ci: t * Math.sqrt(v / n), n }
}

/** Forgetting of every task but the last from a return matrix (lower triangle), both definitions. */
export const forgettingOf = (R: ReadonlyArray<ReadonlyArray<number>>): { readonly max: Array<number>; readonly fromLearned: Array<number> } => {
  const last = R.length - 1
  const max: Array<number> = [], fromLearned: Array<number> = []
  for (let j = 0; j < last; j++) {
    let best = -Infinity
    for (let i = j; i < last; i++) best = Math.max(best, R[i][j])
    max.push(best - R[last][j])
    fromLearned.push(R[j][j] - R[last][j])
  }
  return { max, fromLearned }
}

/** Checks a stream: at least one task, every game valid (makeGame throws naming the field), one channel count. */
export const checkStream = (tasks: ReadonlyArray<StreamTask>): number => {
  if (tasks.length === 0) throw new RangeError("the stream has no task")
  const channels = tasks.map((t) => makeGame(t.game, t.context).channels)
  if (channels.some((c) => c !== channels[0])) {
    throw new RangeError(
      `one network needs one channel count, but the tasks have ${tasks.map((t, i) => `${taskName(t)}: ${channels[i]}`).join(", ")}`
    )
  }
  return channels[0]
}

/** The task in the command line's syntax (src/env/minatar/taskText.ts): `breakout:paddleWidth=3:ballSpeed=0.5`. */
export const taskName = (t: StreamTask): string => taskText({ game: t.game, context: t.context as Record<string, number> })

/** Parses `breakout,breakout:paddleWidth=2:ballSpeed=0.5,asterix`: tasks by commas, each `game:field=value:...` (taskText.ts). */
export const parseTasks = (s: string): Array<StreamTask> =>
  commaEntries(s).map((part) => {
    const { game, context } = parseTaskText(part)
    return { game, context: context as GameContext }
  })

/**
 * Plays `episodes` episodes of a task at once with ε-greedy actions from the agent's network (one
 * batched forward pass per frame for the episodes still running). Episode k's game and policy
 * draw from streams of (seed, task, k) alone.
 */
export const evaluate = async (
  agent: DqnAgent,
  task: StreamTask,
  taskIndex: number,
  o: { readonly seed: number; readonly episodes: number; readonly epsilon: number; readonly maxFrames: number }
): Promise<Array<number>> => {
  const games = Array.from({ length: o.episodes }, () => makeGame(task.game, task.context))
  const envRng = games.map((_, k) => Rng.make(o.seed, 5, taskIndex, k))
  const polRng = games.map((_, k) => Rng.make(o.seed, 6, taskIndex, k))
  const size = games[0].channels * 100
  const A = games[0].actions
  const returns = new Array<number>(o.episodes).fill(0)
  const done = new Array<boolean>(o.episodes).fill(false)
  const obs = new Float32Array(o.episodes * size)
  const active: Array<number> = []
  for (let k = 0; k < o.episodes; k++) games[k].reset(envRng[k])
  for (let frame = 0; frame < o.maxFrames; frame++) {
    active.length = 0
    for (let k = 0; k < o.episodes; k++) if (!done[k]) active.push(k)
    if (active.length === 0) break
    for (let n = 0; n < active.length; n++) games[active[n]].observe(obs.subarray(n * size, (n + 1) * size))
    const q = await agent.engine.qValues(obs.subarray(0, active.length * size), active.length)
    for (let n = 0; n < active.length; n++) {
      const k = active[n]
      // The draw is made whether or not it explores, so episode k's stream does not depend on the others.
      const explore = polRng[k].next() < o.epsilon
      const random = polRng[k].int(A)
      let best = 0
      for (let a = 1; a < A; a++) if (q[n * A + a] > q[n * A + best]) best = a
      const { reward, done: d } = games[k].step(explore ? random : best, envRng[k])
      returns[k] += reward
      if (d) done[k] = true
    }
  }
  return returns
}

const sumSq = (p: Params, q: Params, w?: Params): { readonly weighted: number; readonly total: number; readonly n: number } => {
  let weighted = 0, total = 0, n = 0
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < p[i].length; j++) {
      const d = (p[i][j] - q[i][j]) ** 2
      total += d
      if (w !== undefined) weighted += w[i][j] * d
      n++
    }
  }
  return { weighted, total, n }
}

const sumOf = (p: Params): number => p.reduce((a, t) => a + t.reduce((b, x) => b + x, 0), 0)

/** Trains one agent on the stream and evaluates it after every task (see the module's comment). */
export const runStream = async (o: StreamOptions): Promise<StreamResult> => {
  const channels = checkStream(o.tasks)
  const { config } = o
  const evalOpts = { seed: o.seed, episodes: o.evalEpisodes ?? 20, epsilon: o.evalEpsilon ?? 0.01, maxFrames: o.evalMaxFrames ?? 2_000 }
  const agent = await DqnAgent.create({ config, channels, actions: 6, engine: o.engine, seed: o.seed })
  const returns: Array<Array<Estimate>> = []
  const episodeReturns: Array<Array<Array<number>>> = []
  const log: Array<TaskLog> = []
  const consolidations: Array<Consolidation> = []
  const params: Array<Params> = []
  try {
    for (let t = 0; t < o.tasks.length; t++) {
      const task = o.tasks[t]
      if (t > 0) {
        consolidations.push(await agent.consolidate())
        agent.beginTask()
      }
      const taskReturns: Array<number> = []
      const start = performance.now()
      const updates0 = agent.updates
      // The frame loop of every DQN run (loop.ts); the task's own streams, its ε schedule and first
      // update counted from its start (`beginTask`).
      await runDqn({
        game: makeGame(task.game, task.context),
        config,
        engine: o.engine,
        seed: o.seed,
        frames: o.framesPerTask,
        agent,
        stream: [t],
        onEpisode: (e) => void taskReturns.push(e.return),
        onFrame: (frames) => {
          if (o.progress === undefined || frames % 25_000 !== 0) return
          const tail = taskReturns.slice(-100)
          o.progress(
            `λ ${config.ewcLambda}, seed ${o.seed}, task ${t + 1}/${o.tasks.length} ${taskName(task)}: frame ${frames.toLocaleString("en-US")}, ` +
              `ε ${epsilonAt(config, frames - 1).toFixed(2)}, last 100 episodes ${(tail.reduce((a, x) => a + x, 0) / Math.max(1, tail.length)).toFixed(2)}, ` +
              `${((performance.now() - start) / 1000).toFixed(0)} s`
          )
        }
      })
      const now = agent.engine.params()
      if (o.keepParams === true) params.push(now)
      const c = consolidations.at(-1)
      const drift = c === undefined ? undefined : (() => {
        const s = sumSq(now, c.anchor, c.fisher)
        return { fisherWeighted: s.weighted / sumOf(c.fisher), rms: Math.sqrt(s.total / s.n) }
      })()
      const tail = taskReturns.slice(-100)
      log.push({
        task,
        episodes: taskReturns.length,
        trainReturn: tail.length === 0 ? Number.NaN : tail.reduce((a, x) => a + x, 0) / tail.length,
        updates: agent.updates - updates0,
        seconds: (performance.now() - start) / 1000,
        ...(drift === undefined ? {} : { drift })
      })
      const row: Array<Estimate> = []
      const rowEpisodes: Array<Array<number>> = []
      for (let j = 0; j <= t; j++) {
        const rs = await evaluate(agent, o.tasks[j], j, evalOpts)
        rowEpisodes.push(rs)
        row.push(estimate(rs))
      }
      returns.push(row)
      episodeReturns.push(rowEpisodes)
      o.progress?.(`λ ${config.ewcLambda}, seed ${o.seed}, after task ${t + 1} (${taskName(task)}): R = ${row.map((e) => e.mean.toFixed(2)).join(", ")}`)
    }
  } finally {
    await agent.dispose()
  }
  const f = forgettingOf(returns.map((r) => r.map((e) => e.mean)))
  return {
    tasks: o.tasks,
    lambda: config.ewcLambda,
    seed: o.seed,
    framesPerTask: o.framesPerTask,
    returns,
    episodeReturns,
    forgetting: f.max,
    forgettingFromLearned: f.fromLearned,
    log,
    consolidations,
    ...(o.keepParams === true ? { params } : {})
  }
}

/** Several seeds of one λ, summarised: R[i][j] and forgetting as the mean over seeds with a 95% CI over seeds
 * (over the pooled episodes when there is one seed). */
export interface StreamSummary {
  readonly lambda: number
  readonly seeds: ReadonlyArray<number>
  readonly returns: ReadonlyArray<ReadonlyArray<Estimate>>
  readonly forgetting: ReadonlyArray<Estimate>
  readonly forgettingFromLearned: ReadonlyArray<Estimate>
  /** Mean over tasks of the forgetting, per seed, summarised over seeds. */
  readonly meanForgetting: Estimate
  /** Mean over all tasks of the final row R[last][·] (what the agent keeps of everything). */
  readonly finalMean: Estimate
  readonly runs: ReadonlyArray<StreamResult>
}

export const summarise = (runs: ReadonlyArray<StreamResult>): StreamSummary => {
  const first = runs[0]
  const T = first.tasks.length
  const over = (f: (r: StreamResult) => number, pooled?: (r: StreamResult) => ReadonlyArray<number>): Estimate => {
    if (runs.length === 1 && pooled !== undefined) {
      const e = estimate(pooled(first))
      return { ...e, mean: f(first) }
    }
    return estimate(runs.map(f))
  }
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, x) => a + x, 0) / xs.length
  return {
    lambda: first.lambda,
    seeds: runs.map((r) => r.seed),
    returns: first.returns.map((row, i) => row.map((_, j) => over((r) => r.returns[i][j].mean, (r) => r.episodeReturns[i][j]))),
    forgetting: first.forgetting.map((_, j) => over((r) => r.forgetting[j])),
    forgettingFromLearned: first.forgettingFromLearned.map((_, j) => over((r) => r.forgettingFromLearned[j])),
    meanForgetting: over((r) => (r.forgetting.length === 0 ? Number.NaN : mean(r.forgetting))),
    finalMean: over((r) => mean(r.returns[T - 1].map((e) => e.mean))),
    runs
  }
}

const fmt = (e: Estimate, digits = 2): string => `${e.mean.toFixed(digits)}${Number.isFinite(e.ci) ? ` ± ${e.ci.toFixed(digits)}` : ""}`

/** The return matrix and the forgetting of one λ as text. */
export const formatSummary = (s: StreamSummary): string => {
  const tasks = s.runs[0].tasks
  const names = tasks.map(taskName)
  const w = Math.max(14, ...s.returns.flat().map((e) => fmt(e).length)) + 2
  const nw = Math.max(12, ...names.map((n) => n.length + 4))
  const head = `  ${"after \\ on".padEnd(nw)}${names.map((_, j) => `${j + 1}`.padStart(w)).join("")}`
  const rows = s.returns.map((row, i) =>
    `  ${`${i + 1} ${names[i]}`.padEnd(nw)}${tasks.map((_, j) => (j < row.length ? fmt(row[j]) : "·").padStart(w)).join("")}`
  )
  const logs = s.runs.map((r) =>
    `  seed ${r.seed}: training return (last 100, ε-greedy) ${r.log.map((l) => l.trainReturn.toFixed(2)).join(" → ")}; ` +
      `drift from θ*: Fisher-weighted mean square ${r.log.slice(1).map((l) => l.drift?.fisherWeighted.toExponential(2)).join(", ") || "—"}, ` +
      `rms ${r.log.slice(1).map((l) => l.drift?.rms.toExponential(2)).join(", ") || "—"}; ` +
      `${r.log.reduce((a, l) => a + l.seconds, 0).toFixed(0)} s`
  )
  return [
    `λ_EWC = ${s.lambda}, seeds ${s.seeds.join(", ")}: R[i][j] = return on task j after learning task i (mean ± 95% CI${s.seeds.length > 1 ? " over seeds" : " over episodes"})`,
    head,
    ...rows,
    `  forgetting (max_{i<last} R[i][j] − R[last][j]): ${s.forgetting.map((e, j) => `task ${j + 1} ${fmt(e)}`).join(", ") || "—"}; mean ${fmt(s.meanForgetting)}`,
    `  forgetting from R[j][j]: ${s.forgettingFromLearned.map((e, j) => `task ${j + 1} ${fmt(e)}`).join(", ") || "—"}`,
    `  final row mean (all tasks after the stream): ${fmt(s.finalMean)}`,
    ...logs
  ].join("\n")
}

/** One CSV for every λ: the per-seed and the summarised return matrices, and the forgetting. */
/** The first line of the CSV that `bench forgetting --csv` writes: how it knows a file of its own. */
export const FORGETTING_CSV_HEADER = "lambda,seed,kind,after_task,task,task_name,mean,ci95,n"

export const summariesCsv = (summaries: ReadonlyArray<StreamSummary>): string => {
  const lines = [FORGETTING_CSV_HEADER]
  const q = (s: string) => (/[,"]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)
  for (const s of summaries) {
    const names = s.runs[0].tasks.map(taskName)
    const put = (seed: string, kind: string, after: number | "", task: number, e: Estimate) =>
      lines.push([s.lambda, seed, kind, after === "" ? "" : after + 1, task + 1, q(names[task]), e.mean, Number.isFinite(e.ci) ? e.ci : "", e.n].join(","))
    for (const r of s.runs) {
      r.returns.forEach((row, i) => row.forEach((e, j) => put(String(r.seed), "return", i, j, e)))
      r.forgetting.forEach((x, j) => put(String(r.seed), "forgetting", "", j, { mean: x, ci: Number.NaN, n: 1 }))
    }
    s.returns.forEach((row, i) => row.forEach((e, j) => put("all", "return", i, j, e)))
    s.forgetting.forEach((e, j) => put("all", "forgetting", "", j, e))
  }
  return lines.join("\n") + "\n"
}

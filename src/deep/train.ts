/**
 * `distmt train-dqn`'s work: train one agent per seed on one game for a number of frames, play a
 * uniform random policy for as many frames as the baseline, and write the learning curve (CSV, SVG)
 * and a summary (JSON) to a folder.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { makeGame } from "../env/minatar/index.ts"
import type { GameName } from "../env/minatar/Game.ts"
import { isOwnTemporary, writeFileAtomic } from "../report/temporary.ts"
import * as Rng from "../rng/Rng.ts"
import type { DqnConfig } from "./config.ts"
import { curveCsv, curveSvg, learningCurve } from "./curve.ts"
import type { EngineName } from "./engine.ts"
import { type DqnGame, type Episode, runDqn } from "./loop.ts"

export interface TrainOptions {
  readonly game: GameName
  readonly frames: number
  readonly seeds: number
  readonly firstSeed: number
  readonly out: string
  readonly engine: EngineName
  readonly config: DqnConfig
  /** A progress line (redrawn on a terminal). */
  readonly progress: (line: string, final: boolean) => void
}

/** Mean return per episode of a uniform random policy over `frames` frames (episodes cut at the end are dropped). */
export const randomPolicyReturn = (game: DqnGame, frames: number, seed: number): { readonly mean: number; readonly episodes: number } => {
  const rng = Rng.make(seed, 9)
  let total = 0, episodes = 0, ret = 0
  game.reset(rng)
  for (let f = 0; f < frames; f++) {
    const { reward, done } = game.step(rng.int(game.actions), rng)
    ret += reward
    if (done) {
      total += ret
      episodes++
      ret = 0
      game.reset(rng)
    }
  }
  return { mean: episodes === 0 ? Number.NaN : total / episodes, episodes }
}

const lastMean = (episodes: ReadonlyArray<Episode>, n: number): number => {
  const tail = episodes.slice(-n)
  return tail.length === 0 ? Number.NaN : tail.reduce((a, e) => a + e.return, 0) / tail.length
}

export interface TrainSummary {
  readonly game: GameName
  readonly frames: number
  readonly seeds: ReadonlyArray<number>
  readonly engine: EngineName
  readonly config: DqnConfig
  readonly randomPolicyReturn: number
  readonly perSeed: ReadonlyArray<{
    readonly seed: number
    readonly episodes: number
    readonly updates: number
    readonly seconds: number
    readonly cpuSeconds: number
    /** Mean return of the last 100 episodes (ε-greedy, as trained). */
    readonly finalReturn: number
  }>
  readonly finalReturnMean: number
}

/** The files train-dqn writes in its folder; summary.json, written last, marks the run finished. */
export const TRAIN_FILES: ReadonlySet<string> = new Set(["summary.json", "curve.csv", "curve.svg"])

export const trainDqn = async (o: TrainOptions): Promise<TrainSummary> => {
  fs.mkdirSync(o.out, { recursive: true })
  // An earlier run's summary.json (the folder given again) goes before this run's first curve: it
  // stood beside the new curve when this run was stopped, a finished run of other frames or seeds.
  // So do the temporaries a killed run left.
  for (const f of fs.readdirSync(o.out)) {
    if (f === "summary.json" || isOwnTemporary(f, (file) => TRAIN_FILES.has(file))) fs.rmSync(path.join(o.out, f), { force: true })
  }
  const seeds = Array.from({ length: o.seeds }, (_, i) => o.firstSeed + i)
  const random = randomPolicyReturn(makeGame(o.game), o.frames, o.firstSeed)
  const runs: Array<ReadonlyArray<Episode>> = []
  const perSeed: Array<TrainSummary["perSeed"][number]> = []
  for (const seed of seeds) {
    const episodes: Array<Episode> = []
    const t0 = performance.now()
    let lastDraw = 0
    let lastSave = 0
    const r = await runDqn({
      game: makeGame(o.game),
      config: o.config,
      engine: o.engine,
      seed,
      frames: o.frames,
      onEpisode: (e, agent) => {
        episodes.push(e)
        // The CSV (with this seed so far) every 25k frames, so a run stopped early leaves its curve.
        if (e.frame - lastSave >= 25_000) {
          lastSave = e.frame
          writeCsv(o, [...seeds.slice(0, runs.length), seed], [...runs, episodes], random.mean)
        }
        const t = performance.now()
        if (t - lastDraw < 2000) return
        lastDraw = t
        const fps = agent.frames / ((t - t0) / 1000)
        o.progress(
          `seed ${seed} (${seeds.indexOf(seed) + 1}/${seeds.length}): frame ${agent.frames.toLocaleString("en-US")}/${o.frames.toLocaleString("en-US")}, ` +
            `${episodes.length} episodes, return (last 100) ${lastMean(episodes, 100).toFixed(2)} (random ${random.mean.toFixed(2)}), ` +
            `ε ${agent.epsilon.toFixed(2)}, ${agent.updates.toLocaleString("en-US")} updates, loss ${agent.lastLoss.toFixed(4)}, ` +
            `${fps.toFixed(0)} frames/s, ${((o.frames - agent.frames) / fps / 60).toFixed(1)} min left`,
          false
        )
      }
    })
    await r.agent.dispose()
    runs.push(episodes)
    perSeed.push({ seed, episodes: episodes.length, updates: r.updates, seconds: r.seconds, cpuSeconds: r.cpuSeconds, finalReturn: lastMean(episodes, 100) })
    o.progress(
      `seed ${seed}: ${o.frames.toLocaleString("en-US")} frames, ${episodes.length} episodes, ${r.updates.toLocaleString("en-US")} updates in ` +
        `${r.seconds.toFixed(0)} s (${(o.frames / r.seconds).toFixed(0)} frames/s); return of the last 100 episodes ${lastMean(episodes, 100).toFixed(2)}`,
      true
    )
    // Write after every seed, so a long run that is stopped still leaves its curve.
    await writeCurve(o, seeds.slice(0, runs.length), runs, random.mean)
  }
  const summary: TrainSummary = {
    game: o.game,
    frames: o.frames,
    seeds,
    engine: o.engine,
    config: o.config,
    randomPolicyReturn: random.mean,
    perSeed,
    finalReturnMean: perSeed.reduce((a, s) => a + s.finalReturn, 0) / perSeed.length
  }
  writeFileAtomic(path.join(o.out, "summary.json"), JSON.stringify(summary, null, 2) + "\n")
  return summary
}

const windowOf = (frames: number): number => Math.max(1000, Math.round(frames / 40))

const writeCsv = (o: TrainOptions, seeds: ReadonlyArray<number>, runs: ReadonlyArray<ReadonlyArray<Episode>>, random: number): void => {
  writeFileAtomic(path.join(o.out, "curve.csv"), curveCsv(learningCurve(runs, o.frames, windowOf(o.frames)), seeds, random))
}

const writeCurve = async (o: TrainOptions, seeds: ReadonlyArray<number>, runs: ReadonlyArray<ReadonlyArray<Episode>>, random: number): Promise<void> => {
  const window = windowOf(o.frames)
  const points = learningCurve(runs, o.frames, window)
  writeCsv(o, seeds, runs, random)
  const sub = `${o.frames.toLocaleString("en-US")} frames, one update every ${o.config.trainEvery} frame${o.config.trainEvery === 1 ? "" : "s"}, ` +
    `mean return of the episodes ending in each ${window.toLocaleString("en-US")}-frame window; engine ${o.engine}`
  writeFileAtomic(path.join(o.out, "curve.svg"), await curveSvg(o.game, points, seeds.length, random, sub))
}

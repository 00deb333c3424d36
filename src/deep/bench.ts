/**
 * `distmt bench dqn`'s measurements (docs/performance-deep.md): for each engine, training
 * steps per second (batch 32, MinAtar network on Breakout's 4 channels, Adam and the target
 * network's forward pass included), batch-1 inferences per second (acting), and the end-to-end loop
 * (Breakout, ε-greedy at ε = 0.1, replay, one update every 4 frames) in frames per second.
 *
 * Every rate is given per wall-clock second and per CPU second of the process: the machine is
 * shared, and CPU time is what the work costs. Data: transitions of random Breakout play, so the
 * observations are as sparse as in training.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { makeGame } from "../env/minatar/index.ts"
import { writeNpy } from "../linalg/npy.ts"
import * as Rng from "../rng/Rng.ts"
import { DqnAgent } from "./agent.ts"
import { dqnConfig } from "./config.ts"
import type { Engine, EngineName } from "./engine.ts"
import { Playthrough, runDqn } from "./loop.ts"
import { makeEngine } from "./makeEngine.ts"
import { initParams, inputSize, type NetShape, PARAM_NAMES, paramDims, type Params } from "./network.ts"
import type { Batch } from "./reference.ts"
import { makeBatch, Replay } from "./replay.ts"

export interface Rate {
  readonly count: number
  readonly wallSeconds: number
  readonly cpuSeconds: number
  readonly perWallSecond: number
  readonly perCpuSecond: number
}

export interface EngineBench {
  readonly engine: EngineName
  readonly trainSteps: Rate
  readonly inferences: Rate
  readonly endToEndFrames: Rate & { readonly updates: number; readonly trainShare: number }
}

export interface DqnBenchResult {
  readonly shape: NetShape
  readonly batch: number
  readonly trainEvery: number
  readonly engines: ReadonlyArray<EngineBench>
  readonly loadAverage: number
  readonly node: string
}

export interface DqnBenchOptions {
  /** Seconds per timed part for the onnx engine; the reference gets the same. */
  readonly seconds: number
  /** End-to-end frames for the onnx engine (the reference runs a tenth). */
  readonly frames: number
  readonly engines: ReadonlyArray<EngineName>
  readonly seed: number
  readonly dump?: string | undefined
}

const timed = async (seconds: number, once: () => Promise<unknown>): Promise<Rate> => {
  for (let k = 0; k < 5; k++) await once() // warm-up: JIT, onnxruntime's first-run allocations
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let count = 0
  while (performance.now() - t0 < seconds * 1000) {
    await once()
    count++
  }
  return rate(count, (performance.now() - t0) / 1000, process.cpuUsage(cpu0))
}

const rate = (count: number, wallSeconds: number, cpu: NodeJS.CpuUsage): Rate => {
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  return { count, wallSeconds, cpuSeconds, perWallSecond: count / wallSeconds, perCpuSecond: count / cpuSeconds }
}

/** Transitions of uniformly random Breakout play, the benchmark's data. */
const breakoutReplay = (frames: number, seed: number): { readonly replay: Replay; readonly channels: number } => {
  const game = makeGame("breakout")
  // One stream for the game and the actions.
  const rng = Rng.make(seed, 5)
  const replay = new Replay(frames, game.channels * 100)
  const play = new Playthrough(game, rng)
  for (let f = 0; f < frames; f++) {
    const t = play.step(rng.int(game.actions))
    replay.add(t)
    play.advance(t.done)
  }
  return { replay, channels: game.channels }
}

const benchEngine = async (
  name: EngineName, shape: NetShape, initial: Params, replay: Replay, o: DqnBenchOptions, log: (line: string) => void
): Promise<EngineBench> => {
  const config = dqnConfig()
  const engine: Engine = await makeEngine(name, shape, config, initial)
  const rng = Rng.make(o.seed, 6)
  const batches: Array<Batch> = Array.from({ length: 16 }, () => {
    const b = makeBatch(config.batchSize, inputSize(shape))
    replay.sample(rng, config.gamma, b)
    return b
  })
  let k = 0
  const trainSteps = await timed(o.seconds, () => engine.trainStep(batches[k++ % batches.length]))
  log(`  ${name}: ${trainSteps.perCpuSecond.toFixed(0)} training steps per CPU-second`)
  const inferences = await timed(o.seconds, () => engine.qValues(batches[k++ % batches.length].obs, 1))
  log(`  ${name}: ${inferences.perCpuSecond.toFixed(0)} inferences per CPU-second`)
  await engine.dispose()
  // End to end: 2,000 frames to fill the replay and bring ε to 0.1 (untimed), then the timed frames.
  const e2eConfig = dqnConfig({ trainEvery: 4, replayStart: 1000, epsilonFrames: 1000 })
  const game = makeGame("breakout")
  const agent = await DqnAgent.create({ config: e2eConfig, channels: game.channels, actions: game.actions, engine: name, seed: o.seed })
  await runDqn({ game, config: e2eConfig, engine: name, seed: o.seed, frames: 2000, agent })
  const frames = name === "onnx" ? o.frames : Math.max(500, Math.round(o.frames / 10))
  const r = await runDqn({ game, config: e2eConfig, engine: name, seed: o.seed + 1, frames, agent })
  await agent.dispose()
  const endToEndFrames = {
    count: frames,
    wallSeconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    perWallSecond: frames / r.seconds,
    perCpuSecond: frames / r.cpuSeconds,
    updates: r.updates,
    trainShare: r.trainSeconds / r.seconds
  }
  log(`  ${name}: ${endToEndFrames.perCpuSecond.toFixed(0)} end-to-end frames per CPU-second`)
  return { engine: name, trainSteps, inferences, endToEndFrames }
}

/** Writes the initial weights and one batch as .npy files, and the reference's loss and gradients
 * on it, for PyTorch (bench/dqn_torch.py) to time the same network on the same data and compare. */
const dumpForTorch = async (dir: string, shape: NetShape, initial: Params, batch: Batch): Promise<void> => {
  fs.mkdirSync(dir, { recursive: true })
  const f64 = (a: ArrayLike<number>) => [Float64Array.from(a)]
  const dims = paramDims(shape)
  PARAM_NAMES.forEach((n, i) => writeNpy(path.join(dir, `${n}.npy`), dims[i], f64(initial[i])))
  const obsDims = [batch.size, shape.channels, 10, 10]
  writeNpy(path.join(dir, "obs.npy"), obsDims, f64(batch.obs))
  writeNpy(path.join(dir, "next_obs.npy"), obsDims, f64(batch.nextObs))
  writeNpy(path.join(dir, "actions.npy"), [batch.size], f64(batch.actions))
  writeNpy(path.join(dir, "rewards.npy"), [batch.size], f64(batch.rewards))
  writeNpy(path.join(dir, "discount.npy"), [batch.size], f64(batch.discount))
  const ts = await makeEngine("ts", shape, dqnConfig(), initial)
  const grads = await ts.gradients(batch)
  const loss = await ts.trainStep(batch)
  PARAM_NAMES.forEach((n, i) => writeNpy(path.join(dir, `grad_${n}.npy`), dims[i], f64(grads[i])))
  fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ loss, ...dqnConfig(), shape }, null, 2) + "\n")
}

export const runDqnBench = async (o: DqnBenchOptions, log: (line: string) => void): Promise<DqnBenchResult> => {
  const { replay, channels } = breakoutReplay(5000, o.seed)
  const config = dqnConfig()
  const shape: NetShape = { channels, convChannels: config.convChannels, hidden: config.hidden, actions: 6 }
  const initial = initParams(shape, Rng.make(o.seed, 1))
  if (o.dump !== undefined) {
    const b = makeBatch(config.batchSize, inputSize(shape))
    replay.sample(Rng.make(o.seed, 7), config.gamma, b)
    await dumpForTorch(o.dump, shape, initial, b)
  }
  const engines: Array<EngineBench> = []
  for (const name of o.engines) engines.push(await benchEngine(name, shape, initial, replay, o, log))
  const os = await import("node:os")
  return { shape, batch: config.batchSize, trainEvery: 4, engines, loadAverage: os.loadavg()[0], node: process.version }
}

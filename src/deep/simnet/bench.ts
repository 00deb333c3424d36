/**
 * Measures identification: N agents each explore one instance of a hidden task with a random policy,
 * then ask the server one after another (the first registers, each later one matches or registers),
 * once per statistic, on the same instances:
 *   - simnet:   SimNet's box (registry.ts), the network trained on the registry as it grows: its k
 *               learned coordinates and the input features' means;
 *   - learned:  the same with the k learned coordinates only (an ablation);
 *   - features: the box of the raw transition features' means (SimNet's input, no network): what
 *               the learned layers add;
 *   - return:   the Monte-Carlo interval of the random policy's return, narrowed to width ≤ c_Sep/2
 *               (more frames if needed, up to a cap), the simple statistic.
 * Accuracy is against the hidden identities: an instance is right when it ends in the entry that the
 * first instance of its task registered (so a duplicate registration and a wrong match both count
 * as errors, and so does an instance left unidentified at the cap).
 */
import * as Rng from "../../rng/Rng.ts"
import { batchMeansBox, type Box, intersect } from "./box.ts"
import { Explorer, FEATURES, type SimTask } from "./features.ts"
import { matchBox } from "./identify.ts"
import { initSimNet } from "./network.ts"
import { SimNetRegistry } from "./registry.ts"
import { trainSimNet } from "./train.ts"
import { narrowReturnBox } from "./returnInterval.ts"

export interface SimnetBenchOptions {
  readonly tasks: ReadonlyArray<SimTask>
  /** Instances, one per agent (default 20); agent i's task is i mod M, in a seeded order. */
  readonly agents?: number
  /** Random-policy frames each instance explores before asking (SimNet's and the features' data). */
  readonly frames?: number
  /** c_Sep of the return statistic: its interval is narrowed to width ≤ c_Sep/2 (default 0.5). */
  readonly cSep?: number
  /** The return statistic's frame cap per instance (default 300,000). */
  readonly maxFrames?: number
  readonly seed?: number
  readonly k?: number
  readonly hidden?: number
  readonly blocks?: number
  readonly delta?: number
  readonly trainSteps?: number
  readonly retrainSteps?: number
  readonly window?: number
  /** Which statistics to run (default all four). */
  readonly methods?: ReadonlyArray<Method>
  /** SimNet's box also holds the input features' means (default true; identify.ts). */
  readonly withInputs?: boolean
  /** Earlier runs' tasks to pretrain on (default none: SimNet learns from this run's registry only; `randomTasks` makes some). */
  readonly pretrainTasks?: ReadonlyArray<SimTask>
  /** Entries drawn per training step (default 12). */
  readonly classesPerStep?: number
  /** Frames of each earlier task's instance (default 5,000). */
  readonly pretrainFrames?: number
  /** Pretraining steps (default 300). */
  readonly pretrainSteps?: number
  /** Test hook: permutes the training labels (a planted bug the tests must catch). */
  readonly shuffleLabels?: boolean
}

export type Method = "simnet" | "learned" | "features" | "return"
export const METHODS: ReadonlyArray<Method> = ["simnet", "learned", "features", "return"]

export interface MethodResult {
  readonly method: Method
  /** Fraction of instances that ended in their task's entry. */
  readonly accuracy: number
  readonly entries: number
  readonly trueTasks: number
  /** Instances whose statistic never got narrow enough (the return statistic at its cap). */
  readonly unidentified: number
  /** Mean frames an instance explored before asking. */
  readonly framesPerInstance: number
  readonly seconds: number
  /** Per instance, in asking order: its hidden task and the entry it ended in (−1: unidentified). */
  readonly instances: ReadonlyArray<{ readonly task: number; readonly entry: number }>
}

export interface SimnetBenchResult {
  readonly tasks: ReadonlyArray<string>
  readonly agents: number
  readonly frames: number
  readonly cSep: number
  readonly seed: number
  /** Seconds spent exploring the instances (shared by simnet and features). */
  readonly exploreSeconds: number
  readonly results: ReadonlyArray<MethodResult>
}

/** Accuracy against the hidden identities (see the module comment). */
export const scoreIdentification = (
  instances: ReadonlyArray<{ readonly task: number; readonly entry: number }>
): { accuracy: number; entries: number } => {
  const owner = new Map<number, number>() // task → the entry its first identified instance ended in
  const entries = new Set<number>()
  let right = 0
  for (const { task, entry } of instances) {
    if (entry < 0) continue
    entries.add(entry)
    if (!owner.has(task)) owner.set(task, entry)
  }
  // An entry counts for one task only: the task whose instance registered it.
  const registrant = new Map<number, number>()
  for (const { task, entry } of instances) if (entry >= 0 && !registrant.has(entry)) registrant.set(entry, task)
  for (const { task, entry } of instances) if (entry >= 0 && owner.get(task) === entry && registrant.get(entry) === task) right++
  return { accuracy: instances.length > 0 ? right / instances.length : 0, entries: entries.size }
}

/** The asking order: agent i explores task i mod M; the order is shuffled from the seed. */
export const assignTasks = (M: number, agents: number, seed: number): Array<number> => {
  const order = Array.from({ length: agents }, (_, i) => i % M)
  const rng = Rng.make(seed, 0x0de)
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const t = order[i]
    order[i] = order[j]
    order[j] = t
  }
  return order
}

const now = () => performance.now() / 1000

export const runSimnetBench = (options: SimnetBenchOptions, log: (line: string) => void = () => {}): SimnetBenchResult => {
  const tasks = options.tasks
  const M = tasks.length
  const agents = options.agents ?? 20
  const F = options.frames ?? 5000
  const cSep = options.cSep ?? 0.5
  const seed = options.seed ?? 1
  const delta = options.delta ?? 0.05
  const blocks = options.blocks ?? 16
  const methods = options.methods ?? METHODS
  const order = assignTasks(M, agents, seed)
  const t0 = now()
  const explorers = order.map((task, i) => new Explorer(tasks[task], seed, i).explore(F))
  const exploreSeconds = now() - t0
  log(`explored ${agents} instances × ${F} frames in ${exploreSeconds.toFixed(1)} s`)
  const results: Array<MethodResult> = []
  const finish = (method: Method, instances: Array<{ task: number; entry: number }>, frames: number, seconds: number) => {
    const s = scoreIdentification(instances)
    const r: MethodResult = {
      method,
      accuracy: s.accuracy,
      entries: s.entries,
      trueTasks: new Set(order).size,
      unidentified: instances.filter((x) => x.entry < 0).length,
      framesPerInstance: frames / agents,
      seconds,
      instances
    }
    log(`${method}: accuracy ${r.accuracy.toFixed(2)}, ${r.entries} entries for ${r.trueTasks} tasks, ${seconds.toFixed(1)} s`)
    results.push(r)
  }

  const learnedMethods = methods.filter((m): m is "simnet" | "learned" => m === "simnet" || m === "learned")
  if (learnedMethods.length > 0) {
    const t = now()
    const train = {
      seed,
      steps: options.trainSteps ?? 150,
      window: options.window ?? 128,
      classesPerStep: options.classesPerStep ?? 12,
      shuffleLabels: options.shuffleLabels === true
    }
    let net = initSimNet(seed, { k: options.k ?? 12, hidden: options.hidden ?? 32 })
    // Earlier runs' entries: one instance each, on streams no agent of this run uses.
    const background = (options.pretrainTasks ?? []).map((task, i) => ({
      segments: [new Explorer(task, seed, 1_000_000 + i).explore(options.pretrainFrames ?? 5000).features()]
    }))
    if (background.length >= 2) {
      net = trainSimNet(net, background, { ...train, seed: seed + 7919, steps: options.pretrainSteps ?? 300 }).net
      log(`simnet: pretrained on ${background.length} earlier tasks in ${(now() - t).toFixed(1)} s`)
    }
    const pretrainSeconds = now() - t
    for (const method of learnedMethods) {
      const t1 = now()
      const registry = new SimNetRegistry(net, {
        blocks,
        delta,
        withInputs: method === "simnet" ? options.withInputs ?? true : false,
        train,
        retrainSteps: options.retrainSteps ?? 40,
        background,
        pretrained: background.length >= 2
      })
      const instances = explorers.map((e, i) => ({ task: order[i], entry: registry.identify(e.features()).entry }))
      finish(method, instances, agents * F, now() - t1 + pretrainSeconds + exploreSeconds)
    }
  }

  if (methods.includes("features")) {
    const t = now()
    const boxes: Array<Box> = []
    const instances = explorers.map((e, i) => {
      const f = e.features()
      const box = batchMeansBox(Float64Array.from(f), e.frames, FEATURES, blocks, delta)
      const d = matchBox(boxes, box)
      if (d.kind === "new") return { task: order[i], entry: boxes.push(box) - 1 }
      boxes[d.entry] = intersect(boxes[d.entry], box)
      return { task: order[i], entry: d.entry }
    })
    finish("features", instances, agents * F, now() - t + exploreSeconds)
  }

  if (methods.includes("return")) {
    // Fresh explorers on the same streams: the first F frames are the same instances' frames.
    const t = now()
    const boxes: Array<Box> = []
    let frames = 0
    const instances = order.map((task, i) => {
      const e = new Explorer(tasks[task], seed, i).explore(F, false)
      const { box, narrow } = narrowReturnBox(e, cSep / 2, Math.max(F, options.maxFrames ?? 300_000), delta)
      frames += e.steps
      if (!narrow) return { task, entry: -1 }
      const d = matchBox(boxes, box)
      if (d.kind === "new") return { task, entry: boxes.push(box) - 1 }
      boxes[d.entry] = intersect(boxes[d.entry], box)
      return { task, entry: d.entry }
    })
    finish("return", instances, frames, now() - t)
  }
  return { tasks: tasks.map((t) => t.label), agents, frames: F, cSep, seed, exploreSeconds, results }
}

/**
 * Runs a deep-stage spec (`Env.minatar` with `Dqn.learner`): for each seed, DistMT and each
 * baseline as N concurrent agent fibers running the linear stage's own agent programs
 * (src/agent/programs.ts) with deep learners (learning.ts), their requests to a fresh in-process
 * coordinator in virtual-time order (frames are the clock); then every held policy is evaluated on
 * its true task (evaluate.ts). Ground truth lives here, never in the agents' code path.
 */
import { Effect, Semaphore } from "effect"
import type { AgentConfig, AgentResult } from "../../agent/programs.ts"
import { distmtAgentOn, independentAgent, oracleAgentOn } from "../../agent/programs.ts"
import { emptySnapshot, makeFrom, noTraffic, type Traffic } from "../../coordinator/Coordinator.ts"
import type { Certificate } from "../../learner/Lsvi.ts"
import { assign } from "../../run/assignment.ts"
import { identificationChecks } from "../../run/evaluate.ts"
import type { Algorithm, ProgressSink, Row } from "../../run/runExperiment.ts"
import { silentProgress } from "../../run/runExperiment.ts"
import { sequenced } from "../../run/sequenced.ts"
import { VirtualTime } from "../../run/VirtualTime.ts"
import { type DeepCompiled } from "./compile.ts"
import type { DqnAgent } from "../agent.ts"
import type { Experiment } from "../../spec/Spec.ts"
import type { WorkerError } from "../../cli/workerPool.ts"
import { runOnWorkers, type UnitRunner } from "./units.ts"
import { Evaluator, randomReturn } from "./evaluate.ts"
import { deepLearning, type DeepWatch } from "./learning.ts"
import { deepSizes, type NetworkPolicy } from "./policy.ts"
import { simnetMatch } from "./simnet.ts"
import { framesPerInstance } from "./warmup.ts"
import { type Estimate, statisticSeparation } from "./statistic.ts"
import { GAME_NAMES } from "../../env/minatar/index.ts"

/** The deep stage's agent settings (§3): identify until the box is c_Sep/2 wide; learn by frames. */
export const deepAgentConfig = (c: DeepCompiled): AgentConfig => {
  const s = c.spec
  const maxEpisodes = s.stopping._tag === "Adaptive" ? s.stopping.maxEpisodes : 50_000
  const byFrames = { untilWidth: Number.NEGATIVE_INFINITY, maxEpisodes: Number.POSITIVE_INFINITY }
  return {
    identify: { untilWidth: s.cSep / 2, maxEpisodes, phase: "identify" },
    learn: byFrames,
    solo: byFrames,
    // The oracle's placeholder interval must hold any return.
    horizon: Number.MAX_VALUE,
    sharing: s.sharing,
    adaptive: true
  }
}

/**
 * One (algorithm, seed, agent, task): what the agent did, as in the linear stage's row, and how its
 * policy plays the true task, in place of the exact values and the policy's table.
 */
export interface DeepRow extends Pick<
  Row,
  "algorithm" | "seed" | "agent" | "slot" | "task" | "identificationEpisodes" | "learningEpisodes" | "entry" | "role" | "source" | "identificationCorrect"
> {
  /** The greedy return on fresh episodes of the true task (ground truth). */
  readonly evaluated: Estimate | undefined
  readonly target: number
  readonly success: boolean
  /** The interval the policy was published with (the last training returns). */
  readonly certificate: Certificate
  /**
   * Lifelong learning: the greedy return of the network as it was when the agent finished this
   * task, before the later tasks (`evaluated` is the network it holds at the end).
   */
  readonly evaluatedWhenLearned?: Estimate
}

/** A learning-curve point: an episode of an agent ended at its `frame`-th frame of the run with `ret`. */
export interface DeepCurvePoint {
  readonly agent: number
  readonly frame: number
  readonly ret: number
  readonly phase: "identify" | "learn"
}

export interface DeepRun {
  readonly algorithm: Algorithm
  readonly seed: number
  readonly rows: ReadonlyArray<DeepRow>
  readonly traffic: Traffic
  readonly registered: number
  readonly wallSeconds: number
  /** Frames each agent played. */
  readonly frames: ReadonlyArray<number>
  readonly curve: ReadonlyArray<DeepCurvePoint>
}

export interface DeepResults {
  readonly compiled: DeepCompiled
  readonly runs: ReadonlyArray<DeepRun>
  /** The random policy's return per task, and the identification statistic's separation. */
  readonly random: ReadonlyArray<Estimate>
  readonly separation: { readonly value: number; readonly pair: readonly [number, number] | undefined }
}

export const runDeepAlgorithm = (
  c: DeepCompiled,
  algorithm: Algorithm,
  seed: number,
  progress: ProgressSink = silentProgress
): Effect.Effect<DeepRun> =>
  Effect.gen(function*() {
    const s = c.spec
    const N = s.agents
    const M = c.tasks.length
    const tasksOf = algorithm === "independent"
      ? Array.from({ length: N }, () => Array.from({ length: M }, (_, m) => m))
      : assign(s.assignment, N, M, seed)
    progress.start(`${algorithm} · seed ${seed}`, tasksOf.reduce((n, t) => n + t.length, 0))
    const time = new VirtualTime(N)
    // With SimNet the server decides matches from the request's evidence (simnet.ts).
    const match = c.settings.identification === "simnet" ? simnetMatch<NetworkPolicy>(c, seed) : undefined
    const inner = yield* makeFrom<NetworkPolicy>({ ...emptySnapshot, entries: [] }, deepSizes(c.channels), match)
    const server = sequenced(inner, time)
    const config = deepAgentConfig(c)
    const frames = new Array<number>(N).fill(0)
    const curve: Array<DeepCurvePoint> = []
    const disposers: Array<Effect.Effect<void>> = []
    // Each agent's open instance, freed when the agent opens its next one: its engine's sessions
    // and its replay (up to replayCapacity transitions, filled by the pool under experience
    // sharing). Kept to the unit's end, every instance of a 20 × 10 run held 9 GiB at once.
    const current = new Array<Effect.Effect<void> | undefined>(N)
    // Lifelong learning: each agent's one network, kept over its instances.
    const networks = Array.from({ length: N }, (): { agent: DqnAgent | undefined } => ({ agent: undefined }))
    const record = algorithm !== "independent" && s.sharing === "experience"
    const started = performance.now()
    const agentRun = (agent: number): Effect.Effect<AgentResult<NetworkPolicy>> => {
      const per = s.learner._tag === "Dqn" ? framesPerInstance(s.learner.framesPerAgent, tasksOf[agent].length) : 0
      const instances = tasksOf[agent].map((task, slot) => () => {
        if (slot > 0) progress.instanceDone(agent)
        const previous = current[agent]
        if (previous !== undefined) Effect.runFork(previous)
        // The agent's frames before this instance: a curve point's frame counts from the run's start.
        const before = frames[agent]
        const watch: DeepWatch = {
          frames: (n) => {
            frames[agent] += n
            time.advance(agent, n)
            progress.episodes(n)
          },
          episode: (frame, ret, phase) => curve.push({ agent, frame: before + frame, ret, phase })
        }
        return deepLearning({
          task: c.tasks[task],
          channels: c.channels,
          frames: per,
          config: c.config,
          engine: c.settings.engine,
          seed: [seed, agent, slot, task],
          delta: s.delta,
          record,
          watch,
          ...(c.settings.lifelong ? { lifelong: networks[agent] } : {}),
          ...(c.settings.identification === "simnet" && algorithm === "distmt"
            ? { simnet: { frames: c.settings.identificationFrames, gameIndex: GAME_NAMES.indexOf(c.tasks[task].game) } }
            : {})
        }, (d) => {
          current[agent] = d
          disposers.push(d)
        })
      })
      const run = algorithm === "distmt"
        ? distmtAgentOn(server, agent, instances, config)
        : algorithm === "oracle"
        ? oracleAgentOn(server, agent, instances, tasksOf[agent], config)
        : independentAgent(agent, instances, config)
      return run.pipe(
        Effect.tap((r) => Effect.sync(() => r.outcomes.length > 0 && progress.instanceDone(agent))),
        Effect.ensuring(Effect.sync(() => time.retire(agent)))
      )
    }
    const results = yield* Effect.forEach(Array.from({ length: N }, (_, a) => a), agentRun, { concurrency: "unbounded" })
    const wallSeconds = (performance.now() - started) / 1000
    const traffic = yield* inner.traffic
    const registry = yield* inner.registry
    // A lifelong agent holds its one network for every task at the end; what it held when it
    // finished each task is kept apart, so that the rows show what was forgotten since.
    const final = networks.map((n) => (n.agent === undefined ? undefined : { shape: n.agent.shape, params: n.agent.engine.params() }))
    const held = results.map((r, agent) => {
      const last = final[agent]
      if (last === undefined) return r
      return { ...r, outcomes: r.outcomes.map((o) => (o.source === "learned" ? { ...o, policy: last, whenLearned: o.policy } : o)) }
    })
    const rows = yield* Effect.promise(() => deepRows(c, algorithm, seed, held, tasksOf))
    yield* Effect.forEach(disposers, (d) => d, { discard: true })
    yield* Effect.promise(() => Promise.all(networks.map((n) => n.agent?.dispose())))
    return {
      algorithm,
      seed,
      rows,
      traffic: algorithm === "independent" ? noTraffic : traffic,
      registered: algorithm === "independent" ? 0 : registry.length,
      wallSeconds,
      frames,
      curve
    }
  })

/**
 * Every held policy evaluated on its true task: each instance's, and, for the algorithms with a
 * server, each task of the run the agent did not face but fetched (§3 step 4).
 */
const deepRows = async (
  c: DeepCompiled,
  algorithm: Algorithm,
  seed: number,
  results: ReadonlyArray<AgentResult<NetworkPolicy> & { readonly outcomes: ReadonlyArray<{ readonly whenLearned?: NetworkPolicy }> }>,
  tasksOf: ReadonlyArray<ReadonlyArray<number>>
): Promise<Array<DeepRow>> => {
  const s = c.settings
  const evaluator = new Evaluator(c.shape, s.engine, c.tasks, seed, s.evaluationEpisodes, s.evaluationFrames, c.spec.delta)
  const outcomes = results.map((r) => r.outcomes)
  const checks = algorithm === "independent" ? undefined : identificationChecks(outcomes, tasksOf)
  const appeared = [...new Set(tasksOf.flat())].sort((a, b) => a - b)
  const rows: Array<DeepRow> = []
  const row = async (agent: number, task: number, o: Omit<DeepRow, "algorithm" | "seed" | "agent" | "task" | "evaluated" | "target" | "success">, policy: NetworkPolicy | undefined) => {
    const evaluated = policy === undefined ? undefined : await evaluator.evaluate(policy, task)
    const target = c.targets[task]
    rows.push({ algorithm, seed, agent, task, ...o, evaluated, target, success: evaluated !== undefined && evaluated.mean >= target })
  }
  try {
    for (const [agent, r] of results.entries()) {
      for (const o of r.outcomes) {
        const task = tasksOf[agent][o.slot]
        await row(agent, task, {
          slot: o.slot,
          identificationEpisodes: o.identificationEpisodes,
          learningEpisodes: o.learningEpisodes,
          entry: o.entry,
          role: o.role,
          source: o.source,
          identificationCorrect: checks?.correct.get(o),
          certificate: o.certificate,
          ...(o.whenLearned === undefined ? {} : { evaluatedWhenLearned: await evaluator.evaluate(o.whenLearned, task) })
        }, o.policy)
      }
      if (checks === undefined) continue
      for (const task of appeared.filter((t) => !tasksOf[agent].includes(t))) {
        const entry = checks.entryOf.get(task)
        const p = entry === undefined ? undefined : r.fetched.find((f) => f.task === entry)
        const none: Certificate = { lower: Number.NaN, upper: Number.NaN, width: Number.NaN }
        await row(agent, task, {
          slot: undefined,
          identificationEpisodes: 0,
          learningEpisodes: 0,
          entry,
          role: undefined,
          source: p === undefined ? "missing" : "fetched",
          identificationCorrect: undefined,
          certificate: p?.certificate ?? none
        }, p?.policy)
      }
    }
  } finally {
    await evaluator.dispose()
  }
  return rows
}

/** Every (algorithm, seed) unit of a deep run, in the order results list them. */
export const deepUnits = (s: Experiment): ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }> =>
  Array.from({ length: s.seeds }, (_, r) => s.seed + r).flatMap((seed) =>
    (["distmt", ...s.baselines] as Array<Algorithm>).map((algorithm) => ({ algorithm, seed }))
  )

/**
 * What a deep run does as each unit finishes: `finished(run)` adds it to `runs` (which starts with
 * the units `done` earlier), keeps `runs` in the order of `all` whatever order the units finish in,
 * and calls `onRun(runs)`, one unit at a time: two workers may finish together, and the files
 * written after a unit must never go back to fewer units than an earlier write held.
 */
export const unitFinisher = <E, R>(
  all: ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }>,
  done: ReadonlyArray<DeepRun>,
  onRun: (finished: ReadonlyArray<DeepRun>, run: DeepRun) => Effect.Effect<void, E, R>
): Effect.Effect<{ readonly runs: Array<DeepRun>; readonly finished: (run: DeepRun) => Effect.Effect<void, E, R> }> =>
  Effect.map(Semaphore.make(1), (lock) => {
    const runs: Array<DeepRun> = [...done]
    const at = (r: DeepRun) => all.findIndex((u) => u.algorithm === r.algorithm && u.seed === r.seed)
    const finished = (run: DeepRun) =>
      lock.withPermits(1)(Effect.suspend(() => {
        runs.push(run)
        runs.sort((a, b) => at(a) - at(b))
        // The unit itself too: `runs` is in plan order, so its last is not the one that finished.
        return onRun(runs, run)
      }))
    return { runs, finished }
  })

/**
 * Every seed × (DistMT and the spec's baselines), then the references every report needs. With
 * `workers` > 1 the units run on that many worker threads at once (units.ts), with the same
 * results: each unit is a function of its seed.
 */
export const runDeepExperiment = <E = never, R = never>(
  c: DeepCompiled,
  progress: ProgressSink = silentProgress,
  onRun: (finished: ReadonlyArray<DeepRun>, run: DeepRun) => Effect.Effect<void, E, R> = () => Effect.void,
  workers = 1,
  /** Units finished earlier (a resumed run): they take their place in the order and are not run again. */
  done: ReadonlyArray<DeepRun> = [],
  /** Where the units run instead of here (a cluster's runners); `workers` is then unused. */
  elsewhere?: UnitRunner
): Effect.Effect<DeepResults, E | WorkerError, R> =>
  Effect.gen(function*() {
    const s = c.spec
    const isDone = (u: { readonly algorithm: Algorithm; readonly seed: number }) => done.some((d) => d.algorithm === u.algorithm && d.seed === u.seed)
    const all = deepUnits(s)
    const units = all.filter((u) => !isDone(u))
    progress.plan?.(units)
    const { runs, finished } = yield* unitFinisher(all, done, onRun)
    if (elsewhere !== undefined) {
      yield* elsewhere(units, progress, finished)
    } else if (workers <= 1) {
      for (const u of units) yield* Effect.flatMap(runDeepAlgorithm(c, u.algorithm, u.seed, progress), finished)
    } else {
      yield* runOnWorkers(s, units, Math.min(workers, units.length), progress, finished)
    }
    const random = c.tasks.map((t, m) => randomReturn(t, m, 200, c.settings.evaluationFrames, s.delta))
    const { value, pair } = statisticSeparation(c.tasks, c.channels, 200)
    return { compiled: c, runs: [...runs], random, separation: { value, pair } }
  })

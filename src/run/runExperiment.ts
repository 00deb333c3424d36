/**
 * Runs a compiled spec: for each seed, DistMT-LSVI and each baseline as N concurrent agent fibers
 * (sharing a fresh in-process coordinator), then checks every agent's final policy against exact
 * ground truth (docs/algorithm.md §5, evaluate.ts). Ground truth lives in the run, never in the agents' code path.
 */
import { Effect, Layer, type Scope } from "effect"
import type { InstanceCurve } from "../agent/curve.ts"
import type { Budget, PhaseState } from "../agent/episodes.ts"
import { local, type Open, type Watch } from "../agent/Learning.ts"
import {
  type AgentConfig,
  type AgentResult,
  distmtAgent,
  independentAgent,
  type InstanceOutcome,
  oracleAgent
} from "../agent/programs.ts"
import { Coordinator, noTraffic, type Traffic } from "../coordinator/Coordinator.ts"
import { makeInstance } from "../env/Instance.ts"
import type { Certificate, LsviConfig } from "../learner/Lsvi.ts"
import * as Rng from "../rng/Rng.ts"
import type { Compiled } from "../spec/compile.ts"
import { lsviOf } from "../spec/Spec.ts"
import { assign } from "./assignment.ts"
import { evaluate, type Evaluated, fetchedRows, identificationChecks } from "./evaluate.ts"
import { type CurvePoint, curvePoints, instanceCurve } from "./curves.ts"
import { autoThreads, type LearnerPool, makeLearnerPool } from "./threads/pool.ts"
import { inProcess, type RunServer } from "./RunServer.ts"

export type Algorithm = "distmt" | "independent" | "oracle"

/**
 * Where the policy in a row comes from: the agent's own learner, a download when the instance
 * matched a solved task, the server's copy fetched at the end for a task the agent never faced
 * (§3 step 4), or nothing (no policy of that task was ever published).
 */
export type Source = InstanceOutcome["source"] | "fetched" | "missing"

/**
 * One (algorithm, seed, agent, task instance), or (algorithm, seed, agent, task) for a task the
 * agent never faced but holds a policy of from the server: what the agent did and how good its
 * policy is.
 */
export interface Row {
  readonly algorithm: Algorithm
  readonly seed: number
  readonly agent: number
  /** Position of the instance in the agent's sequence; undefined for a fetched (or missing) task. */
  readonly slot: number | undefined
  /** The true task id (ground truth). */
  readonly task: number
  readonly identificationEpisodes: number
  readonly learningEpisodes: number
  readonly entry: number | undefined
  /** What the agent did on the instance; undefined for a fetched (or missing) task. */
  readonly role: InstanceOutcome["role"] | undefined
  readonly source: Source
  /**
   * Whether identification matched the right context (undefined for `independent`, for fetched
   * rows, and for unidentified instances, which never asked).
   */
  readonly identificationCorrect: boolean | undefined
  readonly vStar: number
  readonly vPi: number
  /** V*(s0) − V^π(s0), exact. */
  readonly gap: number
  readonly success: boolean
  readonly certificate: Certificate
  /** V* ∈ [V̲, V̄] and gap ≤ width (§5). */
  readonly certificateHeld: boolean
  readonly reachedTarget: boolean
  /** The final policy as a table, actions[h·S + s] (empty when `missing`). */
  readonly actions: Int32Array
}

export interface AlgorithmRun {
  readonly algorithm: Algorithm
  readonly seed: number
  readonly rows: ReadonlyArray<Row>
  readonly traffic: Traffic
  readonly registered: number
  readonly wallSeconds: number
  /**
   * Wall-clock in virtual time: episodes until the last agent finished and so held every policy
   * (src/run/VirtualTime.ts), the same on any machine and any number of threads.
   */
  readonly virtualEpisodes: number
  /** The learning curves of every (agent, instance) (src/run/curves.ts). */
  readonly curve: ReadonlyArray<CurvePoint>
}

export interface RunResults {
  readonly compiled: Compiled
  readonly runs: ReadonlyArray<AlgorithmRun>
}

/** Where an agent's current phase stands, for a live view (widest certificate, time left). */
export interface PhaseProgress {
  readonly agent: number
  readonly state: PhaseState
  readonly budget: Budget
}

/** What a progress display is told. */
export interface ProgressSink {
  /** The (algorithm, seed) units the run will go through, once before the first. */
  readonly plan?: (units: ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }>) => void
  readonly start: (label: string, instances: number) => void
  /** Some agent ran `count` more episodes; `at` is where its phase now stands. */
  readonly episodes: (count: number, at?: PhaseProgress) => void
  /** An agent finished an instance (and moves to its next one, if any). */
  readonly instanceDone: (agent?: number) => void
}

export const silentProgress: ProgressSink = { start: () => {}, episodes: () => {}, instanceDone: () => {} }

export const lsviConfig = (c: Compiled): LsviConfig => ({
  horizon: c.horizon,
  dim: c.features.dim,
  actions: c.actions,
  beta: c.beta,
  lambda: lsviOf(c.spec).lambda
})

export const agentConfig = (c: Compiled): AgentConfig => {
  const s = c.spec
  const horizon = c.horizon
  const sharing = s.sharing
  if (s.stopping._tag === "Adaptive") {
    const max = s.stopping.maxEpisodes
    return {
      identify: { untilWidth: s.cSep / 2, maxEpisodes: max, phase: "identify" },
      learn: { untilWidth: s.epsilon, maxEpisodes: max },
      solo: { untilWidth: s.epsilon, maxEpisodes: max },
      horizon,
      sharing,
      adaptive: true
    }
  }
  const { k1, k2 } = s.stopping
  return {
    identify: { untilWidth: -Infinity, maxEpisodes: k1, phase: "identify" },
    learn: { untilWidth: -Infinity, maxEpisodes: k2 },
    solo: { untilWidth: -Infinity, maxEpisodes: k1 + k2 },
    horizon,
    sharing,
    adaptive: false
  }
}

/** Learner threads for a run: the pool, and the id of the spec's tables on its workers. */
export interface Threads {
  readonly pool: LearnerPool
  readonly model: number
}

/**
 * Each agent's instances of the given true tasks, with environment streams fixed by
 * (seed, agent, slot, task), on the agent's fiber or on the learner threads. Every batch of
 * episodes moves the agent's virtual clock; each opened instance's learning curve goes to
 * `curves[slot]`. Opening an instance finishes the one before, for progress.
 */
const instancesOf = (
  c: Compiled,
  seed: number,
  agent: number,
  tasks: ReadonlyArray<number>,
  time: RunServer,
  progress: ProgressSink,
  threads: Threads | undefined,
  record: boolean,
  curves: Array<InstanceCurve | undefined>
): ReadonlyArray<Open> =>
  tasks.map((task, slot) => () => {
    if (slot > 0) progress.instanceDone(agent)
    const rng = Rng.make(seed, agent, slot, task)
    const curve = instanceCurve(c, task)
    curves[slot] = curve
    const watch: Watch = {
      states: c.states,
      curve,
      episodes: (n, state, budget) => {
        time.advance(agent, n)
        progress.episodes(n, { agent, state, budget })
      }
    }
    return threads === undefined
      ? local(lsviConfig(c), makeInstance(c.tasks[task], c.features, rng), watch, record)
      : threads.pool.open({ model: threads.model, task, rng: rng.state(), agent, clock: () => time.clock(agent), watch, record })
  })

const now = Effect.sync(() => performance.now())

/**
 * Runs one algorithm for one seed: N agent fibers, their requests to a fresh coordinator in
 * virtual-time order (src/run/VirtualTime.ts), their episodes on their own fibers or, with
 * `threads`, on the learner threads. The results are the same either way.
 */
export const runAlgorithm = (
  c: Compiled,
  algorithm: Algorithm,
  seed: number,
  progress: ProgressSink = silentProgress,
  threads?: Threads,
  options: {
    /** Where the server is: a fresh in-process one by default (src/run/RunServer.ts). */
    readonly server?: (agents: number) => Effect.Effect<RunServer, never, Scope.Scope>
  } = {}
): Effect.Effect<AlgorithmRun> =>
  Effect.scoped(Effect.gen(function*() {
    const N = c.spec.agents
    const tasksOf = startUnit(c, algorithm, seed, progress)
    const config = agentConfig(c)
    const time = yield* (options.server ?? inProcess)(N)
    const agentIds = Array.from({ length: N }, (_, i) => i)
    const curves: Array<Array<InstanceCurve | undefined>> = agentIds.map(() => [])
    const started = yield* now
    const program = Effect.gen(function*() {
      const outcomes = yield* Effect.forEach(
        agentIds,
        (agent): Effect.Effect<AgentResult, never, Coordinator> => {
          // Experience sharing pushes an instance's identification data when it joins a pool.
          const record = algorithm !== "independent" && c.spec.sharing === "experience"
          const instances = instancesOf(c, seed, agent, tasksOf[agent], time, progress, threads, record, curves[agent])
          const run = algorithm === "distmt"
            ? distmtAgent(agent, instances, config)
            : algorithm === "oracle"
            ? oracleAgent(agent, instances, tasksOf[agent], config)
            : independentAgent(agent, instances, config)
          return run.pipe(
            // Opening an instance finished the one before (instancesOf); the last finishes here.
            Effect.tap((r) => Effect.sync(() => r.outcomes.length > 0 && progress.instanceDone(agent))),
            Effect.ensuring(Effect.sync(() => time.retire(agent)))
          )
        },
        { concurrency: "unbounded" }
      )
      const server = yield* Coordinator
      const traffic = yield* server.traffic
      const registry = yield* server.registry
      return { outcomes, traffic, registered: registry.length }
    })
    const server = Layer.succeed(Coordinator, time.coordinator)
    const { outcomes: results, traffic, registered } = yield* Effect.provide(program, server)
    const wallSeconds = ((yield* now) - started) / 1000
    return assemble(c, algorithm, seed, tasksOf, results, curves, {
      traffic,
      registered,
      wallSeconds,
      virtualEpisodes: yield* time.makespan
    })
  }))

/**
 * A unit's tasks per agent (`agentTasks`), with its progress line started: "algorithm · seed s"
 * over every (agent, task) instance. In process and on the cluster alike.
 */
export const startUnit = (c: Compiled, algorithm: Algorithm, seed: number, progress: ProgressSink): ReadonlyArray<ReadonlyArray<number>> => {
  const tasksOf = agentTasks(c, algorithm, seed)
  progress.start(`${algorithm} · seed ${seed}`, tasksOf.reduce((n, t) => n + t.length, 0))
  return tasksOf
}

/** Each agent's true tasks in a unit, in the order it meets them (every task, for `independent`). */
export const agentTasks = (c: Compiled, algorithm: Algorithm, seed: number): ReadonlyArray<ReadonlyArray<number>> =>
  algorithm === "independent"
    ? Array.from({ length: c.spec.agents }, () => Array.from({ length: c.tasks.length }, (_, m) => m))
    : assign(c.spec.assignment, c.spec.agents, c.tasks.length, seed)

/**
 * A unit's results from what its agents did, wherever they ran: every agent's outcomes and
 * fetched policies checked against ground truth (§5), and its curves turned into rows.
 */
export const assemble = (
  c: Compiled,
  algorithm: Algorithm,
  seed: number,
  tasksOf: ReadonlyArray<ReadonlyArray<number>>,
  results: ReadonlyArray<AgentResult>,
  curves: ReadonlyArray<ReadonlyArray<InstanceCurve | undefined>>,
  server: { readonly traffic: Traffic; readonly registered: number; readonly wallSeconds: number; readonly virtualEpisodes: number }
): AlgorithmRun => {
  const outcomes = results.map((r) => r.outcomes)
  const checks = algorithm === "independent" ? undefined : identificationChecks(outcomes, tasksOf)
  const appeared = [...new Set(tasksOf.flat())].sort((a, b) => a - b)
  const memo: Evaluated = new WeakMap()
  const rows = results.flatMap((r, agent) => [
    ...r.outcomes.map((o) =>
      evaluate(c, algorithm, seed, tasksOf[agent][o.slot], { ...o, identificationCorrect: checks?.correct.get(o) }, memo)
    ),
    ...(checks === undefined ? [] : fetchedRows(agent, tasksOf[agent], appeared, r.fetched, checks.entryOf))
      .map(({ task, held }) => evaluate(c, algorithm, seed, task, held, memo))
  ])
  return {
    algorithm,
    seed,
    rows,
    traffic: algorithm === "independent" ? noTraffic : server.traffic,
    registered: algorithm === "independent" ? 0 : server.registered,
    wallSeconds: server.wallSeconds,
    virtualEpisodes: server.virtualEpisodes,
    curve: curvePoints(curves, tasksOf)
  }
}

/** Every (algorithm, seed) unit of a run, in the order it runs them: seed by seed, DistMT-LSVI then the baselines. */
export const runUnits = (c: Compiled): ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }> =>
  Array.from({ length: c.spec.seeds }, (_, r) => c.spec.seed + r).flatMap((seed) =>
    (["distmt", ...c.spec.baselines] as Array<Algorithm>).map((algorithm) => ({ algorithm, seed }))
  )

/**
 * Every seed × (DistMT-LSVI and the spec's baselines). `onRun` is told the runs finished so far
 * after each one it runs, so that a caller can save them as they come (results are never lost to
 * a later failure or an interrupt). Units in `done` (a resumed run, read back from its folder)
 * are not run again: they take their place in the order, so the result is the uninterrupted run's.
 */
export const runExperiment = <E = never, R = never>(
  c: Compiled,
  progress: ProgressSink = silentProgress,
  onRun: (finished: ReadonlyArray<AlgorithmRun>) => Effect.Effect<void, E, R> = () => Effect.void,
  options: {
    readonly threads?: number | "auto"
    /**
     * Runs each (algorithm, seed) elsewhere (`distmt run --cluster`: agents and server on the
     * cluster's runners, src/cluster/runAgents.ts); by default `runAlgorithm`, in this process.
     */
    readonly unit?: (algorithm: Algorithm, seed: number) => Effect.Effect<AlgorithmRun, E, R>
    /** Units already finished, by an earlier (interrupted) run of the same spec. */
    readonly done?: ReadonlyArray<AlgorithmRun>
  } = {}
): Effect.Effect<RunResults, E, R> =>
  Effect.scoped(Effect.gen(function*() {
    const doneRun = (u: { readonly algorithm: Algorithm; readonly seed: number }) =>
      options.done?.find((d) => d.algorithm === u.algorithm && d.seed === u.seed)
    const todo = runUnits(c).filter((u) => doneRun(u) === undefined)
    // No learner threads are started for a run with nothing left to do.
    const count = todo.length === 0 || options.unit !== undefined ? 1 : threadsFor(c, options.threads ?? c.spec.threads)
    let threads: Threads | undefined = undefined
    if (count > 1) {
      const pool = yield* makeLearnerPool(count)
      threads = { pool, model: pool.addModel(c.tasks, c.features, lsviConfig(c)) }
    }
    progress.plan?.(todo)
    const runs: Array<AlgorithmRun> = []
    for (const unit of runUnits(c)) {
      const earlier = doneRun(unit)
      if (earlier !== undefined) {
        runs.push(earlier)
        continue
      }
      runs.push(
        yield* (options.unit?.(unit.algorithm, unit.seed) ?? runAlgorithm(c, unit.algorithm, unit.seed, progress, threads))
      )
      yield* onRun(runs)
    }
    return { compiled: c, runs }
  }))

/**
 * The learner threads a `threads` setting gives a spec on this machine: "auto" means one per core,
 * and never more than the spec's agents, whose episodes are the work to share (one agent's
 * episodes run one after another). One means no worker threads at all.
 */
export const threadsFor = (c: Compiled, threads: number | "auto"): number =>
  Math.min(threads === "auto" ? autoThreads() : threads, c.spec.agents)

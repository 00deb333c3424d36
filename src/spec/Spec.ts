/**
 * The experiment spec DSL: typed builders that `specs/*.spec.ts` files call. A builder only
 * assembles plain data (plus the user's functions); `decode` (in `schema.ts`) checks it at run
 * time and `compile` (in `compile.ts`) checks what only the built environment can tell.
 *
 * Names follow docs/algorithm.md: N = `agents`, M = the number of `contexts`, ε =
 * `epsilon`, c_Sep = `cSep`, δ = `delta`.
 */
import { runIfEntry } from "./selfRun.ts"
import type { GameName } from "../env/minatar/Game.ts"
import type { GameContext } from "../env/minatar/params.ts"

// ─── Environments (docs/algorithm.md §1) ────────────────────────────────────────────────────────────

export interface LinearChainEnv {
  readonly _tag: "LinearChain"
  /** Number of states L (≥ 2). */
  readonly length: number
  /** Horizon H. */
  readonly horizon: number
  /** Reward of `left` in state 0, the bait (default 0.05). */
  readonly distractor?: number
}

export interface RandomLinearEnv {
  readonly _tag: "RandomLinear"
  readonly states: number
  readonly actions: number
  /** Feature dimension d. */
  readonly dim: number
  readonly horizon: number
  /** Seed of the family: features and each context's θ, μ derive from it (default 0). */
  readonly seed?: number
}

/** Tables a user's own environment returns for one context: `[S][A]` (stationary) or `[H][S][A]`. */
export interface TabularTables {
  readonly reward: ReadonlyArray<ReadonlyArray<number>> | ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>
  readonly transition:
    | ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>
    | ReadonlyArray<ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>>
}

export interface TabularEnv {
  readonly _tag: "Tabular"
  readonly states: number
  readonly actions: number
  readonly horizon: number
  /** Start state s0 (default 0). */
  readonly start?: number
  /** The tables of one context. */
  readonly build: (context: Context) => TabularTables
}

export type Environment = LinearChainEnv | RandomLinearEnv | TabularEnv | MinAtarEnv

/** Built-in and user-defined environments. */
export const Env = {
  /** A RiverSwim-like chain; contexts `{ goal, reward, slip }`. */
  linearChain: (p: Omit<LinearChainEnv, "_tag">): LinearChainEnv => ({ _tag: "LinearChain", ...p }),
  /** A random linear MDP family with simplex features; contexts `{ seed }`. */
  randomLinear: (p: Omit<RandomLinearEnv, "_tag">): RandomLinearEnv => ({ _tag: "RandomLinear", ...p }),
  /** Your own finite environment, given by its tables per context. */
  tabular: (p: Omit<TabularEnv, "_tag">): TabularEnv => ({ _tag: "Tabular", ...p }),
  /**
   * MinAtar-style games for the deep stage (docs/deep.md, "Games"): one game and its parameters, e.g.
   * `Env.minatar({ game: "breakout", brickRows: 2 })`, with contexts of its parameters; or several,
   * `Env.minatar({ game: ["breakout", "freeway"] })`, each context naming its game by index `{ game: 1, ... }`.
   */
  minatar: (p: MinAtarSetting): MinAtarEnv => ({ _tag: "MinAtar", ...p })
}

// ─── MinAtar-style games (the deep stage, issue 11; src/env/minatar/) ───────────────────────────────

/** One game with any of its parameters (the rest at the standard game's), or several games. */
export type MinAtarSetting =
  | { readonly [N in GameName]: { readonly game: N } & GameContext<N> }[GameName]
  | { readonly game: ReadonlyArray<GameName>; readonly sticky?: number; readonly maxFrames?: number }

export type MinAtarEnv = { readonly _tag: "MinAtar" } & MinAtarSetting

// ─── Contexts: the M tasks ─────────────────────────────────────────────────────────────────────

/** One task's parameters, e.g. `{ goal: 7, reward: 1, slip: 0.1 }` for the linear chain. */
export type Context = Readonly<Record<string, number>>

/**
 * A family of `count` tasks whose V*_1(s0) are spaced by a controlled amount (docs/algorithm.md §1,
 * separability): task m extends `bases[m mod bases.length]` with the value of the field `vary`
 * (searched in `within`) that makes V*_1(s0) = `lowest` + m·`spacing`, computed exactly.
 */
export interface SeparatedContexts {
  readonly _tag: "Separated"
  /** M, the number of tasks. */
  readonly count: number
  /** The gap between consecutive tasks' V*(s0); default: the spec's `cSep`. */
  readonly spacing?: number
  /** V*(s0) of task 0. */
  readonly lowest: number
  /** The context field that is solved for, e.g. "reward". */
  readonly vary: string
  /** The interval searched for `vary`, [low, high]. */
  readonly within: readonly [number, number]
  /** The other fields of the contexts, used in turn (default: one empty base). */
  readonly bases?: ReadonlyArray<Context>
}

export type Contexts =
  | { readonly _tag: "List"; readonly items: ReadonlyArray<Context> }
  | { readonly _tag: "Grid"; readonly axes: Readonly<Record<string, ReadonlyArray<number>>> }
  | { readonly _tag: "Seeds"; readonly count: number }
  | SeparatedContexts

export const Contexts = {
  /** Exactly these contexts, in this order (task ids 0..M-1). */
  list: (items: ReadonlyArray<Context>): Contexts => ({ _tag: "List", items }),
  /** The cartesian product of the axes; the last axis varies fastest. */
  grid: (axes: Readonly<Record<string, ReadonlyArray<number>>>): Contexts => ({ _tag: "Grid", axes }),
  /** `{ seed: 0 }`, …, `{ seed: count-1 }`: for `Env.randomLinear`. */
  seeds: (count: number): Contexts => ({ _tag: "Seeds", count }),
  /**
   * `count` tasks whose V*(s0) are exactly `lowest`, `lowest + spacing`, …: a family whose actual
   * separation is `spacing` (by default the spec's `cSep`), e.g.
   * `Contexts.separated({ count: 4, lowest: 0.3, vary: "reward", within: [0, 1], bases: [{ goal: 0, slip: 0.1 }] })`.
   */
  separated: (p: Omit<SeparatedContexts, "_tag">): Contexts => ({ _tag: "Separated", ...p })
}

// ─── Feature maps ──────────────────────────────────────────────────────────────────────────────

export type Features =
  | { readonly _tag: "Native" }
  | { readonly _tag: "OneHot" }
  | { readonly _tag: "Custom"; readonly dim: number; readonly map: (state: number, action: number) => ReadonlyArray<number> }

export const Features = {
  /** The environment's own map (one-hot for the chain and tabular, the simplex map for random linear). */
  native: (): Features => ({ _tag: "Native" }),
  /** φ(s,a) = e_{s·A+a}, d = |S||A|. */
  oneHot: (): Features => ({ _tag: "OneHot" }),
  /** Your own φ(s,a) ∈ R^dim with ‖φ‖₂ ≤ 1, the same for every context (identities are hidden). */
  custom: (dim: number, map: (state: number, action: number) => ReadonlyArray<number>): Features => ({
    _tag: "Custom",
    dim,
    map
  })
}

// ─── Assignment of task instances to agents (docs/algorithm.md §4) ──────────────────────────────────

export type Assignment =
  | { readonly _tag: "Partition" }
  | { readonly _tag: "Stream" }
  | { readonly _tag: "Random"; readonly k: number }

export const Assignment = {
  /** Tasks dealt round-robin; when N > M, agent i gets task i mod M. */
  partition: (): Assignment => ({ _tag: "Partition" }),
  /** Every agent faces all M tasks, in its own seeded order. */
  stream: (): Assignment => ({ _tag: "Stream" }),
  /** Every agent gets k tasks drawn uniformly with replacement. */
  random: (k: number): Assignment => ({ _tag: "Random", k })
}

// ─── Learner (docs/algorithm.md §2) ─────────────────────────────────────────────────────────────────

export interface Learner {
  readonly _tag: "LsviUcb"
  /**
   * `"theory"`: β = cBeta · d · H · √ι with ι = log(2dT/δ), the analysis's value (docs/algorithm.md §2,
   * §8); or a number: a practical β, whose certificates are checked after the run, not guaranteed.
   * Default "theory".
   */
  readonly beta?: "theory" | number
  /** The constant c_β of theory mode (default 1). */
  readonly cBeta?: number
  /** Ridge λ (default 1). */
  readonly lambda?: number
}

export const Lsvi = {
  ucb: (p: Omit<Learner, "_tag"> = {}): Learner => ({ _tag: "LsviUcb", ...p })
}

/**
 * The deep stage's learner (docs/deep.md, "DistMT with deep learners"): DQN on `Env.minatar` games.
 * Its stopping rule is a frame budget; identification explores with the random policy until the
 * identification box is narrower than c_Sep/2 (docs/algorithm.md, "The deep stage").
 */
export interface DqnLearner {
  readonly _tag: "Dqn"
  /** Frames each agent plays in the whole run, over all its task instances, identification included. */
  readonly framesPerAgent: number
  /** DQN hyper-parameters (docs/deep.md, "The algorithm and its defaults"); the rest at MinAtar's. */
  readonly dqn?: Partial<Readonly<Record<DqnField, number>>>
  /**
   * The success criterion, fixed before the run: a policy succeeds on a task when its mean greedy
   * return on fresh episodes is at least this (one number for every task, or one per context).
   */
  readonly returnTarget: number | ReadonlyArray<number>
  /** Fresh episodes each held policy is evaluated on, per task (default 20). */
  readonly evaluationEpisodes?: number
  /** Frame cap of an evaluation episode (default 2,000): a greedy policy may never lose. */
  readonly evaluationFrames?: number
  /** "onnx" (default) or "ts", the plain TypeScript reference (slow; for tests). */
  readonly engine?: "onnx" | "ts"
  /**
   * How instances are identified (docs/algorithm.md §9): "occupancy" (default), the box of the
   * channels' occupancy under random play; or "simnet", the server's similarity network
   * (docs/deep.md, "SimNet") on `identificationFrames` frames of random play.
   */
  readonly identification?: "occupancy" | "simnet"
  /** Random-play frames an instance sends SimNet (default 2,500; "simnet" only). */
  readonly identificationFrames?: number
  /**
   * Lifelong learning (default false): an agent keeps one network over its instances, consolidated
   * with EWC (`dqn.ewcLambda`) at each switch, and holds that network for every task at the end.
   */
  readonly lifelong?: boolean
}

/** The DQN settings a spec may change (src/deep/config.ts). */
export type DqnField =
  | "batchSize" | "replayCapacity" | "replayStart" | "epsilonStart" | "epsilonEnd" | "epsilonFrames" | "trainEvery"
  | "targetUpdateEvery" | "gamma" | "learningRate" | "hidden" | "convChannels" | "ewcLambda" | "fisherSamples"

export const Dqn = {
  learner: (p: Omit<DqnLearner, "_tag">): DqnLearner => ({ _tag: "Dqn", ...p })
}

// ─── Stopping rules (docs/algorithm.md §3 step 1 and 3) ─────────────────────────────────────────────

/** The schedule rule with the analysis's budgets (docs/algorithm.md §3, §8): K1, K2 computed from κ1, κ2. */
export interface TheoryStopping {
  readonly _tag: "Theory"
  /** κ1 > 0 in K1 = ⌈κ1·d³H⁴ι/c_Sep²⌉. */
  readonly kappa1: number
  /** κ2 > 0 in K2 = ⌈κ2·d³H⁴ι/ε²⌉. */
  readonly kappa2: number
  /** The spec is refused if K1 + K2 exceeds this (default 1 000 000). */
  readonly maxEpisodes?: number
}

export type Stopping =
  | { readonly _tag: "Adaptive"; readonly maxEpisodes?: number }
  | { readonly _tag: "Schedule"; readonly k1: number; readonly k2: number }
  | TheoryStopping

export const Stopping = {
  /** Explore until width ≤ cSep/2, learn until width ≤ ε; give up a phase after `maxEpisodes` (default 50 000). */
  adaptive: (p: { readonly maxEpisodes?: number } = {}): Stopping => ({ _tag: "Adaptive", ...p }),
  /** Exactly K1 identification episodes, then K2 learning episodes. */
  schedule: (p: { readonly k1: number; readonly k2: number }): Stopping => ({ _tag: "Schedule", ...p }),
  /**
   * The schedule rule with the theory budgets K1 = ⌈κ1·d³H⁴ι/c_Sep²⌉, K2 = ⌈κ2·d³H⁴ι/ε²⌉, where
   * ι = log(2dT/δ), T = (K1 + K2)·H: computed when the spec is compiled (src/spec/theory.ts).
   */
  theory: (p: { readonly kappa1: number; readonly kappa2: number; readonly maxEpisodes?: number }): Stopping => ({ _tag: "Theory", ...p })
}

/**
 * A value of a sweep axis: a number for a numeric field; for a categorical field, a string
 * (`"experience"`) or a builder's plain value (`Assignment.random(2)`, `Lsvi.ucb({ beta: 1 })`).
 */
export type SweepValue = number | string | { readonly _tag: string }

/**
 * A range of a numeric field that `distmt sweep --sample K` draws values from (random search),
 * built by `Sweep.range`. A sweep with a range runs only with `--sample`: a range is not a grid.
 */
export interface SweepRange {
  readonly _tag: "Range"
  readonly min: number
  readonly max: number
  /** "log": uniform in log(value), for fields whose values span decades (ε, K1). Default "linear". */
  readonly scale?: "linear" | "log"
  /** Whole numbers only (`agents`, `stopping.k1`): uniform among the integers of [min, max]. */
  readonly integer?: boolean
}

/** A sweep axis: the values of a grid, or a range to draw from. */
export type SweepAxis = ReadonlyArray<SweepValue> | SweepRange

export const Sweep = {
  /**
   * The range [min, max] of a numeric field, for `distmt sweep --sample K`: values are drawn
   * uniformly (`log: true`: uniformly in log), whole numbers only with `integer: true`, others
   * rounded to 4 significant digits so that tables and file names stay readable.
   */
  range: (min: number, max: number, options: { readonly log?: boolean; readonly integer?: boolean } = {}): SweepRange => ({
    _tag: "Range",
    min,
    max,
    ...(options.log === true ? { scale: "log" as const } : {}),
    ...(options.integer === true ? { integer: true } : {})
  })
}

// ─── The experiment ────────────────────────────────────────────────────────────────────────────

export type Baseline = "independent" | "oracle"

export interface ExperimentInput {
  readonly name: string
  readonly environment: Environment
  readonly contexts: Contexts
  /** Default: `Features.native()`. */
  readonly features?: Features
  /** N. */
  readonly agents: number
  /** Default: `Assignment.partition()`. */
  readonly assignment?: Assignment
  /** ε ∈ (0, H]. */
  readonly epsilon: number
  /** c_Sep > 0, at most the family's actual separation. */
  readonly cSep: number
  /** δ ∈ (0, 1). */
  readonly delta: number
  /** Default: `Lsvi.ucb()`; `Dqn.learner({...})` for `Env.minatar`. */
  readonly learner?: Learner | DqnLearner
  /** Default: `Stopping.adaptive()`. */
  readonly stopping?: Stopping
  /**
   * What agents matched to a task still being learned do (docs/algorithm.md §3 step 3): "policy"
   * (default) waits for the owner's policy; "experience" pools transitions with the task's other
   * contributors and learns from all of them.
   */
  readonly sharing?: "policy" | "experience"
  /** Default: none. */
  readonly baselines?: ReadonlyArray<Baseline>
  /** Number of seeds (default 1); run r uses seed `seed + r`. */
  readonly seeds?: number
  /** First seed (default 0). */
  readonly seed?: number
  /**
   * Threads for the agents' numeric work (default "auto": one per core, at most one per agent).
   * The results are the same for any number of threads; `distmt run --threads` overrides it.
   */
  readonly threads?: number | "auto"
  /** One or two sentences on what the experiment measures; shown at the top of its report. */
  readonly description?: string
  /**
   * Sweep axes for `distmt sweep`: the path of a numeric field (`agents`, `cSep`, `epsilon`,
   * `stopping.k1`, `contexts.count`, …) and the values it takes, or a categorical field
   * (`sharing`, `assignment`, `learner`, `stopping`) and its values (`sharing: ["policy", "experience"]`,
   * `assignment: [Assignment.stream(), Assignment.random(2)]`). The sweep runs every combination
   * of the axes' values, for every seed. A numeric field may instead take a range,
   * `epsilon: Sweep.range(0.05, 0.2, { log: true })`, which `distmt sweep --sample K` draws K points
   * from (with the lists). `distmt run` ignores it and runs the spec as written.
   */
  readonly sweep?: Readonly<Record<string, SweepAxis>>
  /**
   * A smaller variant for `--quick` (CI-sized runs): deep-merged over the spec. Objects merge
   * field by field; arrays, numbers and a builder of another kind (another `_tag`) replace.
   */
  readonly quick?: QuickInput
}

/** What `quick` may change: any field but `quick` itself, nested objects partially. */
export type QuickInput = { readonly [K in Exclude<keyof ExperimentInput, "quick">]?: DeepPartial<ExperimentInput[K]> }

type DeepPartial<T> = T extends (...args: ReadonlyArray<never>) => unknown ? T
  : T extends ReadonlyArray<unknown> ? T
  : T extends object ? { readonly [K in keyof T]?: DeepPartial<T[K]> }
  : T

/** A spec with every default filled in, as `decode` returns it. */
export interface Experiment {
  readonly name: string
  readonly environment: Environment
  readonly contexts: Contexts
  readonly features: Features
  readonly agents: number
  readonly assignment: Assignment
  readonly epsilon: number
  readonly cSep: number
  readonly delta: number
  readonly learner: LsviSettings | DqnSettings
  readonly stopping:
    | { readonly _tag: "Adaptive"; readonly maxEpisodes: number }
    | { readonly _tag: "Schedule"; readonly k1: number; readonly k2: number }
    | { readonly _tag: "Theory"; readonly kappa1: number; readonly kappa2: number; readonly maxEpisodes: number }
  readonly sharing: "policy" | "experience"
  readonly baselines: ReadonlyArray<Baseline>
  readonly seeds: number
  readonly seed: number
  readonly threads: number | "auto"
  readonly description?: string
  /** Sweep axes, `{}` when none. */
  readonly sweep: Readonly<Record<string, SweepAxis>>
}

export interface LsviSettings {
  readonly _tag: "LsviUcb"
  readonly beta: "theory" | number
  readonly cBeta: number
  readonly lambda: number
}

export interface DqnSettings {
  readonly _tag: "Dqn"
  readonly framesPerAgent: number
  readonly dqn: Partial<Readonly<Record<DqnField, number>>>
  readonly returnTarget: number | ReadonlyArray<number>
  readonly evaluationEpisodes: number
  readonly evaluationFrames: number
  readonly engine: "onnx" | "ts"
  readonly identification: "occupancy" | "simnet"
  readonly identificationFrames: number
  readonly lifelong: boolean
}

/** The linear stage's learner settings; only the deep stage's runs have others (decode checks that). */
export const lsviOf = (spec: { readonly learner: LsviSettings | DqnSettings }): LsviSettings => {
  if (spec.learner._tag !== "LsviUcb") throw new Error("the linear stage was given the deep stage's learner")
  return spec.learner
}

export const Experiment = {
  /**
   * Declares an experiment. Checked when it is validated or run, never silently repaired. A spec
   * file executed directly (`npx tsx specs/x.spec.ts`) runs itself as `distmt run` would (selfRun.ts).
   */
  make: (input: ExperimentInput): ExperimentInput => {
    runIfEntry(new Error().stack)
    return input
  }
}

/**
 * Messages between a run and its learner threads (src/run/threads/pool.ts ↔ worker.ts). Only data
 * crosses: typed arrays (moved, not copied, where the sender no longer needs them) and numbers.
 */
import type { PhasePoint } from "../../agent/curve.ts"
import type { Budget, PhaseState } from "../../agent/episodes.ts"
import type { FeatureTable, FiniteMdp } from "../../env/FiniteMdp.ts"
import type { LsviConfig, LsviSnapshot } from "../../learner/Lsvi.ts"

/** The tables of a compiled spec, sent once to each worker; chunks name them by `model`. */
export interface ModelMessage {
  readonly _tag: "Model"
  readonly model: number
  readonly tasks: ReadonlyArray<FiniteMdp>
  readonly features: FeatureTable
  readonly config: LsviConfig
}

/** A model no longer used: its tables are dropped. */
export interface ForgetMessage {
  readonly _tag: "Forget"
  readonly model: number
}

/** An instance's whole state, which travels with each piece of work on it. */
interface InstanceWork {
  readonly id: number
  readonly model: number
  readonly task: number
  readonly rng: Uint32Array
  /** Undefined for a fresh learner. */
  readonly learner: LsviSnapshot | undefined
  readonly budget: Budget
  /** Undefined at the start of a phase. */
  readonly phase: PhaseState | undefined
  /** States over which curve points tabulate the greedy policy (src/agent/curve.ts). */
  readonly states: number
}

/** Run at most `chunk` more episodes of a phase on the instance whose state this carries. */
export interface ChunkMessage extends InstanceWork {
  readonly _tag: "Chunk"
  readonly chunk: number
  /** Send back the chunk's transitions (an instance that may join a pool, §3 step 3). */
  readonly record: boolean
}

export type Request = ModelMessage | ForgetMessage | ChunkMessage

export type Reply =
  | {
    readonly _tag: "Chunk"
    readonly id: number
    readonly rng: Uint32Array
    readonly learner: LsviSnapshot
    readonly phase: PhaseState
    /** The chunk's transitions when the chunk asked to `record`. */
    readonly transitions: Float64Array | undefined
    /** The learning-curve points the chunk sampled. */
    readonly points: ReadonlyArray<PhasePoint>
    /** Wall time of the chunk in the worker, to size the next one. */
    readonly millis: number
  }
  | { readonly _tag: "Failed"; readonly id: number; readonly message: string }

/**
 * Agents' numeric work on worker threads (the `threads` option): the agents stay fibers of the main
 * thread, and so does the coordinator; only chunks of episodes (src/agent/episodes.ts
 * `continuePhase`) run on the workers, on instance states that travel with each chunk.
 *
 * Why states travel rather than stay on one worker: a worker that happened to hold the busy agents
 * would work while the other idled. Here a free worker takes the waiting chunk of the agent that is
 * furthest behind in virtual time (src/run/VirtualTime.ts), which is also the chunk that lets the
 * server's next request through soonest. A chunk's state is one learner's arrays, which every
 * episode's backup reads anyway, so moving it costs less than one of the chunk's episodes.
 *
 * Same numbers as one thread: a chunk runs the same code on an exact copy of the state (typed
 * arrays are copied bit for bit), and the order of the server's requests is fixed by virtual time.
 */
import { Effect, type Scope } from "effect"
import * as os from "node:os"
import { Worker } from "node:worker_threads"
import type { Budget, PhaseResult, PhaseState } from "../../agent/episodes.ts"
import { inChunks, inSharedSteps, type PooledAt, type Learning, sharedStepHere, type Watch } from "../../agent/Learning.ts"
import type { FeatureTable, FiniteMdp } from "../../env/FiniteMdp.ts"
import { Lsvi, type LsviConfig, type LsviSnapshot, snapshotBuffers, snapshotPolicy } from "../../learner/Lsvi.ts"
import { TransitionLog } from "../../learner/Transitions.ts"
import type * as Rng from "../../rng/Rng.ts"
import { restoreInstance } from "./instance.ts"
import { JobQueue } from "./jobQueue.ts"
import type { ChunkMessage, ForgetMessage, ModelMessage, Reply } from "./protocol.ts"

export const entry = new URL("./entry.mjs", import.meta.url)
const workerModule = new URL("./worker.ts", import.meta.url).href

/**
 * Chunks in flight per worker: at least DEPTH, so that the next one is already queued when a worker
 * finishes one; more while the chunks it holds add up to less than TARGET_MILLIS (the first chunks
 * of a thousand agents take microseconds each, less than the round trip of their messages), up to
 * MAX_IN_FLIGHT.
 */
const DEPTH = 2
const MAX_IN_FLIGHT = 64
/** A chunk's target duration: long against a message's round trip (~0.1 ms), short against a run. */
const TARGET_MILLIS = 16
const FIRST_CHUNK = 16
/**
 * How much a chunk may grow over the one before: the first chunks are too short to time well, but
 * doubling took a thousand agents ten round trips each to reach the target, with the threads idle
 * between them.
 */
const GROWTH = 8
const MAX_CHUNK = 16_384

/** How many threads `threads: "auto"` means here: one per core. */
export const autoThreads = (): number => Math.max(1, os.availableParallelism())

export interface LearnerPool {
  readonly threads: number
  /** Sends a spec's tables to every worker; chunks then name them by the returned id. */
  readonly addModel: (tasks: ReadonlyArray<FiniteMdp>, features: FeatureTable, config: LsviConfig) => number
  /**
   * Drops a model's tables here and on every worker (a runner that serves run after run, which
   * would otherwise keep every run's tables). No instance of it may be opened afterwards; a chunk of
   * it still in flight fails, which only an agent that was interrupted can have sent.
   */
  readonly removeModel: (model: number) => void
  /**
   * Opens an instance of `task` whose environment draws from the stream `rng` (a state from
   * src/rng/Rng.ts). `clock` is the agent's virtual time: the earliest waiting chunk runs first.
   */
  readonly open: (options: {
    readonly model: number
    readonly task: number
    readonly rng: Uint32Array
    readonly agent: number
    readonly clock: () => number
    readonly watch: Watch
    /** Keep every transition until the instance joins a pool (§3 step 3). */
    readonly record?: boolean
    /**
     * Where the instance resumes, instead of a fresh learner (a cluster agent's checkpoint): inside
     * a phase, or inside a pooled phase after an exchange (`pooled`).
     */
    readonly from?: InstanceState & { readonly inPhase: PhaseState | undefined; readonly pooled?: Omit<PooledAt, "state"> | undefined }
  }) => ThreadLearning
  /**
   * Chunks run so far, the milliseconds each worker spent running them (for the benchmark), and the
   * models held.
   */
  readonly stats: () => { readonly chunks: number; readonly busyMillis: ReadonlyArray<number>; readonly models: number }
}

/**
 * An instance's whole state between two pieces of work: its learner (undefined before its first
 * chunk), its random stream, and the transitions kept for a pool.
 */
export interface InstanceState {
  readonly learner: LsviSnapshot | undefined
  readonly rng: Uint32Array
  readonly log: Float64Array | undefined
}

/**
 * An instance on the learner threads, whose state can be read between two pieces of work (for a
 * checkpoint, src/cluster/AgentEntity.ts). `state()` gives the arrays themselves: copy them before
 * the next piece of work, which moves the learner's buffers to a worker.
 */
export interface ThreadLearning extends Learning {
  readonly state: () => InstanceState
}

type ChunkReply = Extract<Reply, { _tag: "Chunk" }>

interface Job {
  readonly clock: number
  readonly agent: number
  /** Its expected milliseconds of work, from the instance's last chunk (0 before its first). */
  readonly expectedMillis: number
  readonly message: ChunkMessage
  readonly transfer: ReadonlyArray<ArrayBuffer>
  readonly resume: (reply: Effect.Effect<ChunkReply>) => void
}

interface Slot {
  readonly worker: Worker
  readonly inFlight: Map<number, Job>
  /** The expected milliseconds of the jobs in flight. */
  pendingMillis: number
  busyMillis: number
}

const earlier = (a: Job, b: Job): boolean => a.clock < b.clock || (a.clock === b.clock && a.agent < b.agent)

/** A pool of `threads` learner workers, terminated when the scope closes. */
export const makeLearnerPool = (threads: number): Effect.Effect<LearnerPool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const slots: Array<Slot> = yield* Effect.acquireRelease(
      Effect.sync(() =>
        Array.from({ length: threads }, () => ({
          worker: new Worker(entry, { workerData: { module: workerModule } }),
          inFlight: new Map<number, Job>(),
          pendingMillis: 0,
          busyMillis: 0
        }))
      ),
      (ss) => Effect.promise(() => Promise.all(ss.map((s) => s.worker.terminate())))
    )
    const models = new Map<number, ModelMessage>()
    let nextModel = 0
    const queue = new JobQueue<Job>(earlier)
    let nextId = 0
    let chunks = 0

    const dispatch = () => {
      for (;;) {
        let slot: Slot | undefined
        for (const s of slots) {
          const room = s.inFlight.size < DEPTH || (s.pendingMillis < TARGET_MILLIS && s.inFlight.size < MAX_IN_FLIGHT)
          if (room && (slot === undefined || s.pendingMillis < slot.pendingMillis || (s.pendingMillis === slot.pendingMillis && s.inFlight.size < slot.inFlight.size))) slot = s
        }
        if (slot === undefined) return
        const job = queue.pop()
        if (job === undefined) return
        slot.pendingMillis += job.expectedMillis
        slot.inFlight.set(job.message.id, job)
        slot.worker.postMessage(job.message, job.transfer as Array<ArrayBuffer>)
      }
    }

    for (const slot of slots) {
      const fail = (reason: string) => {
        for (const job of slot.inFlight.values()) job.resume(Effect.die(new Error(reason)))
        slot.inFlight.clear()
        slot.pendingMillis = 0
      }
      slot.worker.on("message", (reply: Reply) => {
        const job = slot.inFlight.get(reply.id)
        if (job === undefined) return
        slot.inFlight.delete(reply.id)
        slot.pendingMillis -= job.expectedMillis
        if (reply._tag !== "Failed") {
          chunks++
          slot.busyMillis += reply.millis
        }
        job.resume(reply._tag !== "Failed" ? Effect.succeed(reply) : Effect.die(new Error(`a learner thread failed: ${reply.message}`)))
        dispatch()
      })
      slot.worker.on("error", (e) => fail(`a learner thread failed: ${e.stack ?? e.message}`))
      slot.worker.on("exit", (code) => fail(`a learner thread stopped (exit code ${code})`))
    }

    const work = (
      message: Omit<ChunkMessage, "id">,
      clock: number,
      agent: number,
      transfer: ReadonlyArray<ArrayBuffer>,
      expectedMillis = 0
    ) =>
      Effect.callback<ChunkReply>((resume) => {
        const job: Job = {
          clock,
          agent,
          expectedMillis,
          message: { ...message, id: nextId++ },
          transfer,
          resume
        }
        queue.push(job)
        dispatch()
        // Interrupted while queued: drop the job (a chunk already sent finishes and is ignored).
        return Effect.sync(() => queue.drop(job))
      })

    const addModel: LearnerPool["addModel"] = (tasks, features, config) => {
      const message: ModelMessage = { _tag: "Model", model: nextModel++, tasks, features, config }
      models.set(message.model, message)
      for (const s of slots) s.worker.postMessage(message)
      return message.model
    }

    const removeModel: LearnerPool["removeModel"] = (model) => {
      if (!models.delete(model)) return
      for (const s of slots) s.worker.postMessage({ _tag: "Forget", model } satisfies ForgetMessage)
    }

    const open: LearnerPool["open"] = ({ model, task, rng: rng0, agent, clock, watch, record = false, from }) => {
      const known = models.get(model)
      if (known === undefined) throw new Error(`LearnerPool: no model ${model} (removed, or never added)`)
      const config = known.config
      let learner: LsviSnapshot | undefined = from?.learner
      let rng = from?.rng ?? rng0
      let size = FIRST_CHUNK
      let millisPerEpisode = 0 // unknown before the first chunk
      const log = record ? new TransitionLog() : undefined
      if (from?.log !== undefined) log?.append(from.log)
      // A resumed instance's next phase, or pooled phase, continues the one its checkpoint was taken in.
      let inPhase = from?.pooled === undefined ? from?.inPhase : undefined
      let pooledAt: PooledAt | undefined = from?.pooled === undefined || from.inPhase === undefined
        ? undefined
        : { ...from.pooled, state: from.inPhase }
      /** The learner and random stream of a pooled phase in progress, which runs on this thread (`shared`). */
      let pooled: { readonly learner: Lsvi; readonly rng: Rng.Rng } | undefined
      return {
        state: () =>
          pooled === undefined
            ? { learner, rng, log: log?.toArray() }
            : { learner: pooled.learner.snapshot(), rng: pooled.rng.state(), log: log?.toArray() },
        phase: (budget: Budget): Effect.Effect<PhaseResult> => {
          const start = inPhase
          inPhase = undefined
          return inChunks(budget, watch, (state) =>
            Effect.map(
              work(
                { _tag: "Chunk", model, task, rng, learner, budget, phase: state, states: watch.states, chunk: size, record },
                clock(),
                agent,
                learner === undefined ? [] : snapshotBuffers(learner),
                size * millisPerEpisode
              ),
              (reply) => {
                learner = reply.learner
                rng = reply.rng
                millisPerEpisode = reply.millis / size
                if (reply.transitions !== undefined) log?.append(reply.transitions)
                // Chunk sizes change nothing in the numbers (continuePhase), only the overheads.
                size = Math.min(MAX_CHUNK, GROWTH * size, Math.max(FIRST_CHUNK, Math.round(size * TARGET_MILLIS / Math.max(reply.millis, 0.01))))
                return { value: reply.phase, points: reply.points }
              }
            ), start)
        },
        // One episode per step, and the pool exchanged between every two (§3 step 3): a step is a
        // few microseconds of arithmetic, where its round trip to a learner thread (the learner's
        // state there and back) cost a few hundred, so a pooled phase runs on this thread with
        // `local`'s step (`sharedStepHere`), on the instance restored as a learner thread restores
        // it (`restoreInstance`): the same numbers (`Lsvi.restore` is exact, and so is the stream).
        shared: (budget, exchange) => {
          const start = pooledAt
          pooledAt = undefined
          return Effect.suspend(() => {
            const { stream, instance, learner: here } = restoreInstance(known, task, rng, learner)
            pooled = { learner: here, rng: stream }
            return Effect.ensuring(
              inSharedSteps(budget, watch, exchange, log, sharedStepHere(here, instance, budget, watch), start),
              Effect.sync(() => {
                learner = here.snapshot()
                rng = stream.state()
                pooled = undefined
              })
            )
          })
        },
        policy: Effect.sync(() =>
          learner === undefined
            ? new Lsvi(config, () => new Float64Array(0)).policy() // never ran: the prior's policy
            : snapshotPolicy(config, learner)
        )
      }
    }

    const stats = () => ({ chunks, busyMillis: slots.map((s) => s.busyMillis), models: models.size })

    return { threads, addModel, removeModel, open, stats }
  })

/**
 * A deep learner behind the agents' learner interface (`Learning`, src/agent/Learning.ts): the same
 * agent programs (src/agent/programs.ts) run DistMT and its baselines on MinAtar-style games with
 * it (docs/algorithm.md, "The deep stage").
 *
 * - The identification phase (a budget with `phase: "identify"`) plays the instance with the
 *   uniformly random policy, which is also the DQN's replay warm-up, and certifies the box of the
 *   identification statistic (statistic.ts) until its widest coordinate is ≤ `untilWidth` (c_Sep/2)
 *   or the phase has run `maxEpisodes` episodes.
 * - Any other phase trains the DQN (src/deep/agent.ts) until the instance's frame budget is spent:
 *   frames are the deep stage's budget, since episodes differ in length by orders of magnitude.
 * - `shared` does the same while pooling experience with the task's other contributors: the
 *   transitions it gathered so far on joining, then each episode's; the others' join its replay.
 * - `policy` is the online network's weights.
 *
 * The hidden task is known to the run that opens the instance, never to this learner's caller.
 */
import { Effect } from "effect"
import type { Budget, PhaseResult } from "../../agent/episodes.ts"
import type { Exchanger, Learning, SharedResult } from "../../agent/Learning.ts"
import { makeGame } from "../../env/minatar/index.ts"
import type { MinAtarTask } from "../../env/minatar/spec.ts"
import type { Certificate } from "../../learner/Lsvi.ts"
import * as Rng from "../../rng/Rng.ts"
import { DqnAgent } from "../agent.ts"
import { Playthrough } from "../loop.ts"
import type { DqnConfig } from "../config.ts"
import type { EngineName } from "../engine.ts"
import { FEATURES, transitionFeatures } from "../simnet/features.ts"
import { ExperienceLog, forEachTransition } from "./experience.ts"
import type { NetworkPolicy } from "./policy.ts"
import { EpisodeStatistic, estimate } from "./statistic.ts"

/** What the run watches of an instance: frames played (virtual time, progress), each episode's return. */
export interface DeepWatch {
  readonly frames: (count: number) => void
  readonly episode: (frame: number, ret: number, phase: "identify" | "learn") => void
}

export interface DeepInstance {
  readonly task: MinAtarTask
  /** Observation channels of every network of the run: the spec's widest game's (narrower games pad with 0). */
  readonly channels: number
  /** Frames this instance may use in all, identification included. */
  readonly frames: number
  readonly config: DqnConfig
  readonly engine: EngineName
  /** The instance's stream ids; the game, the actions, the weights and the replay each get one split off. */
  readonly seed: readonly [number, ...Array<number>]
  /** δ of the identification box. */
  readonly delta: number
  /** Keep the transitions gathered before joining a pool (experience sharing). */
  readonly record: boolean
  /**
   * Identify with SimNet (simnet.ts): the identification phase plays this many random frames and
   * sends their features instead of certifying the occupancy box. `gameIndex` is the game's place
   * in the list of games SimNet knows (the game is seen, the task is not).
   */
  readonly simnet?: { readonly frames: number; readonly gameIndex: number }
  /**
   * Lifelong learning (docs/algorithm.md §9): the agent's one network, shared by its instances in
   * turn; the first instance creates it, the run disposes of it.
   */
  readonly lifelong?: { agent: DqnAgent | undefined }
  readonly watch: DeepWatch
}

/** Frames between two yields of the agent's fiber (the other agents and the progress line run in between). */
const CHUNK = 256
/** Returns in the interval a learned policy is published with: the last ones of its training. */
const WINDOW = 100

const never: Certificate = { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY, width: Number.POSITIVE_INFINITY }

/** mean ± z·s/√n of the last `WINDOW` returns at level 1 − δ (a description of training, not a certificate). */
const returnInterval = (returns: ReadonlyArray<number>, delta: number): Certificate => {
  const xs = returns.slice(-WINDOW)
  if (xs.length < 2) return never
  const { lower, upper } = estimate(xs, delta)
  return { lower, upper, width: upper - lower }
}

class DeepLearner {
  private agent: DqnAgent | undefined
  private readonly play: Playthrough
  private readonly actRng: Rng.Rng
  /** Frames played on this instance. */
  frames = 0
  private readonly returns: Array<number> = []
  private readonly log: ExperienceLog | undefined

  constructor(readonly o: DeepInstance) {
    this.play = new Playthrough(makeGame(o.task.game, o.task.params as never), Rng.make(...o.seed, 1), o.channels * 100)
    this.actRng = Rng.make(...o.seed, 2)
    this.log = o.record ? new ExperienceLog(o.channels) : undefined
  }

  /**
   * The instance's network: a fresh one, or with `lifelong` the agent's one network, consolidated
   * with EWC on the task it leaves (when λ_EWC > 0) and with an empty replay for the new task.
   */
  readonly ready = Effect.suspend(() =>
    this.agent !== undefined ? Effect.succeed(this.agent) : Effect.map(
      Effect.promise(async () => {
        const kept = this.o.lifelong?.agent
        if (kept === undefined) {
          const fresh = await DqnAgent.create({ config: this.o.config, channels: this.o.channels, actions: 6, engine: this.o.engine, seed: Rng.make(...this.o.seed, 3).int(2 ** 31) })
          if (this.o.lifelong !== undefined) this.o.lifelong.agent = fresh
          return fresh
        }
        if (this.o.config.ewcLambda > 0) await kept.consolidate()
        kept.clearReplay()
        return kept
      }),
      (agent) => (this.agent = agent)
    )
  )

  /** SimNet's input: the features of each random-play transition (simnet identification only). */
  private evidence: Float32Array | undefined
  private evidenceCount = 0

  /**
   * Plays up to `count` frames (random actions, or ε-greedy with training), stopping early at the
   * end of an episode when `stopAtEpisode` says so. Each frame's transition goes to the replay, the
   * record `log` (if any) and the statistic (if any). Returns whether it stopped at an episode's end.
   */
  async playFrames(count: number, random: boolean, log: ExperienceLog | undefined, stat: EpisodeStatistic | undefined, stopAtEpisode: () => boolean): Promise<boolean> {
    const agent = this.agent!
    for (let f = 0; f < count; f++) {
      const chosen = random ? this.actRng.int(6) : agent.act(this.play.obs, this.actRng)
      const t = this.play.step(typeof chosen === "number" ? chosen : await chosen)
      agent.observe(t)
      log?.push(t)
      stat?.frame(t.nextObs)
      if (this.evidence !== undefined && this.evidenceCount < this.o.simnet!.frames) {
        transitionFeatures(this.o.simnet!.gameIndex, this.play.game.channels, t.obs, t.action, t.reward, t.nextObs, t.done, this.evidence, this.evidenceCount * FEATURES)
        this.evidenceCount++
      }
      if (!random && agent.dueForUpdate) await agent.train()
      this.frames++
      const ret = this.play.advance(t.done)
      if (ret !== undefined) {
        this.returns.push(ret)
        this.o.watch.episode(this.frames, ret, random ? "identify" : "learn")
        stat?.endEpisode()
        if (stopAtEpisode()) return true
      }
    }
    return false
  }

  /** Runs `play` in chunks, yielding and telling the watch between two. */
  chunked(random: boolean, log: ExperienceLog | undefined, stat: EpisodeStatistic | undefined, over: () => boolean, stopAtEpisode: () => boolean, left = () => Infinity): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      while (!over()) {
        const before = self.frames
        const room = Math.min(CHUNK, self.o.frames - self.frames, left())
        if (room <= 0) return
        const ended = yield* Effect.promise(() => self.playFrames(room, random, log, stat, stopAtEpisode))
        self.o.watch.frames(self.frames - before)
        if (ended) return
        yield* Effect.yieldNow
      }
    })
  }

  /**
   * SimNet's identification phase: a fixed number of random frames, their features sent as the
   * request's evidence; the server decides (docs/deep.md, "SimNet"). The "certificate" is a point:
   * there is no width to reach, so the phase always asks.
   */
  identifyBySimNet(): Effect.Effect<PhaseResult> {
    const frames = Math.min(this.o.simnet!.frames, this.o.frames)
    this.evidence = new Float32Array(frames * FEATURES)
    const start = this.returns.length
    return Effect.map(
      Effect.andThen(this.ready, this.chunked(true, this.log, undefined, () => this.evidenceCount >= frames || this.frames >= this.o.frames, () => false, () => frames - this.evidenceCount)),
      () => {
        const evidence = this.evidence!.subarray(0, this.evidenceCount * FEATURES)
        this.evidence = undefined
        return { episodes: this.returns.length - start, certificate: { lower: 0, upper: 0, width: 0, evidence }, reached: true }
      }
    )
  }

  identify(budget: Budget): Effect.Effect<PhaseResult> {
    if (this.o.simnet !== undefined) return this.identifyBySimNet()
    const stat = new EpisodeStatistic(this.o.channels, this.o.delta)
    const done = () => stat.episodes >= budget.maxEpisodes || stat.certificate().width <= budget.untilWidth
    return Effect.map(
      Effect.andThen(this.ready, this.chunked(true, this.log, stat, () => done() || this.frames >= this.o.frames, done)),
      () => {
        const certificate = stat.certificate()
        return { episodes: stat.episodes, certificate, reached: certificate.width <= budget.untilWidth }
      }
    )
  }

  learn(): Effect.Effect<PhaseResult> {
    const start = this.returns.length
    return Effect.map(
      Effect.andThen(this.ready, this.chunked(false, undefined, undefined, () => this.frames >= this.o.frames, () => false)),
      () => ({ episodes: this.returns.length - start, certificate: returnInterval(this.returns.slice(start), this.o.delta), reached: true })
    )
  }

  absorb(pulled: Float64Array): void {
    const agent = this.agent!
    forEachTransition(pulled, this.o.channels, (t) => agent.absorb(t))
  }

  shared(exchange: Exchanger<NetworkPolicy>): Effect.Effect<SharedResult<NetworkPolicy>> {
    const self = this
    return Effect.gen(function*() {
      yield* self.ready
      const start = self.returns.length
      const joining = self.log?.toArray() ?? new Float64Array(0)
      self.log?.clear()
      let reply = yield* exchange(joining, 0)
      const episode = new ExperienceLog(self.o.channels)
      for (;;) {
        if (reply._tag === "Solved") {
          const { certificate, policy, reached } = reply
          return { _tag: "Solved", episodes: self.returns.length - start, policy, certificate, reached } as const
        }
        self.absorb(reply.pulled)
        if (self.frames >= self.o.frames) {
          const certificate = returnInterval(self.returns.slice(start), self.o.delta)
          return { _tag: "Learned", phase: { episodes: self.returns.length - start, certificate, reached: true } } as const
        }
        // One episode (or what is left of the budget), then push it and pull the others'.
        episode.clear()
        yield* self.chunked(false, episode, undefined, () => self.frames >= self.o.frames, () => true)
        reply = yield* exchange(episode.toArray(), reply.cursor)
      }
    })
  }

  readonly policy: Effect.Effect<NetworkPolicy> = Effect.suspend(() =>
    Effect.map(this.ready, (agent) => ({ shape: agent.shape, params: agent.engine.params() }))
  )

  /** Frees the engine and lets the replay be collected; a second call does nothing. */
  readonly dispose: Effect.Effect<void> = Effect.promise(async () => {
    const agent = this.agent
    this.agent = undefined
    this.log?.clear()
    // A lifelong network outlives its instances: the run disposes of it.
    if (this.o.lifelong === undefined) await agent?.dispose()
  })
}

/** Opens a deep instance as the agents' `Learning`; `release` is called with a way to free its engine. */
export const deepLearning = (o: DeepInstance, release: (dispose: Effect.Effect<void>) => void): Learning<NetworkPolicy> => {
  const learner = new DeepLearner(o)
  release(learner.dispose)
  return {
    phase: (budget) => (budget.phase === "identify" ? learner.identify(budget) : learner.learn()),
    shared: (_budget, exchange) => learner.shared(exchange),
    policy: learner.policy
  }
}

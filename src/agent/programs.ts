/**
 * One agent's program, as a fiber (docs/algorithm.md §3): for each of its task instances in order,
 * explore to identify → ask the server → retrieve, wait (policy sharing) or pool experience
 * (experience sharing), or learn and publish; at the end fetch every published policy. And the two
 * baselines: `independent` (no server) and `oracle` (identities given, no identification phase).
 *
 * An agent sees its instances only through `Learning` (src/agent/Learning.ts: episodes on an
 * instance it cannot name, and the learner's policy): the hidden identity never enters this file.
 * The oracle alone receives `keys`, the identities it is given.
 */
import { Effect } from "effect"
import { Coordinator, type CoordinatorShape, type Identification, type Published } from "../coordinator/Coordinator.ts"
import type { Certificate, Policy } from "../learner/Lsvi.ts"
import type { Budget } from "./episodes.ts"
import type { Learning, Open } from "./Learning.ts"

export interface AgentConfig {
  /** §3 step 1: until width ≤ c_Sep/2, or K1 episodes. */
  readonly identify: Budget
  /** §3 step 3, a new task: until width ≤ ε, or K2 more episodes. */
  readonly learn: Budget
  /** The baselines learn a task from scratch: until width ≤ ε, or K1 + K2 episodes. */
  readonly solo: Budget
  /** H: the oracle's placeholder interval is [0, H]. */
  readonly horizon: number
  /** §3 step 3: wait for the owner's policy, or pool experience with the task's other contributors. */
  readonly sharing: "policy" | "experience"
  /**
   * The adaptive rule (§3 step 1): an identification phase that ends at its cap above c_Sep/2 does
   * not ask the server (capped identification). Under the schedule rule the interval is used as is.
   */
  readonly adaptive: boolean
}

/**
 * What the agent did on an instance: `owner` registered (or took over) the task and learned it;
 * `contributor` pooled experience on a task another agent registered; `downloaded` took a published
 * policy; `solo` learned alone (`independent`); `unidentified` learned alone because its
 * identification phase hit its cap above c_Sep/2 (§3, capped identification).
 */
export type Role = "owner" | "contributor" | "downloaded" | "solo" | "unidentified"

/** Where the policy an agent holds at the end comes from: its own learner, or the server. */
export type Source = "learned" | "downloaded"

/** What happened on one task instance, as the agent knows it. */
/** `P` is the policy type of the stage (the linear stage's `Policy` by default). */
export interface InstanceOutcome<P = Policy> {
  readonly agent: number
  /** Position of the instance in the agent's sequence. */
  readonly slot: number
  readonly identificationEpisodes: number
  readonly learningEpisodes: number
  /** The registry entry the instance was identified with (none for `independent`). */
  readonly entry: number | undefined
  /** This instance registered its entry as a new task. */
  readonly registered: boolean
  readonly role: Role
  /** The certificate of the policy the agent holds: its own, or the one published with it. */
  readonly certificate: Certificate
  /**
   * Whether the learning that produced the held policy met its width target (false when a cap or a
   * pure schedule ended it); for a downloaded policy, the publisher's own.
   */
  readonly reachedTarget: boolean
  /** Whether the identification phase met c_Sep/2 (undefined where there is none: baselines). */
  readonly identificationReached: boolean | undefined
  /** The agent's final policy for this instance (from `fetchAll` when a server is used). */
  readonly policy: P
  readonly source: Source
}

/** An agent's run: its instances, and every policy it fetched from the server at the end (§3 step 4). */
export interface AgentResult<P = Policy> {
  readonly outcomes: ReadonlyArray<InstanceOutcome<P>>
  readonly fetched: ReadonlyArray<Published<P>>
}

interface Resolved<P> {
  readonly learningEpisodes: number
  readonly role: Role
  readonly certificate: Certificate
  readonly reachedTarget: boolean
  readonly policy: P
}

/**
 * Sends a request whose answer may make this agent a task's owner (identify, claim), then goes on
 * with `then`. The request runs uninterruptibly and the guard that re-opens the task is installed
 * in the same step, so an interrupt anywhere between "you own it" and the publication re-opens it
 * (§3: a task must not stay "being learned" forever). `then` itself stays interruptible.
 */
const ask = <A, P>(
  server: CoordinatorShape<P>,
  agent: number,
  request: Effect.Effect<Identification<P>>,
  then: (answer: Identification<P>) => Effect.Effect<A>
): Effect.Effect<A> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(request, (answer) => {
      const rest = restore(then(answer))
      return answer._tag === "Registered" || answer._tag === "Claimed"
        ? Effect.onInterrupt(rest, () => server.abandon(agent, answer.task))
        : rest
    })
  )

/** Learns a task alone from the instance's data so far, until the budget says stop. */
const learnAlone = <P>(learning: Learning<P>, budget: Budget, role: Role): Effect.Effect<Resolved<P>> =>
  Effect.gen(function*() {
    const phase = yield* learning.phase(budget)
    const policy = yield* learning.policy
    return { learningEpisodes: phase.episodes, role, certificate: phase.certificate, reachedTarget: phase.reached, policy }
  })

/**
 * §3 step 3 with `sharing: "experience"`: learn from the task's pool until this learner's
 * certificate says stop (then publish) or another contributor publishes (then take its policy).
 */
const pooled = <P>(
  server: CoordinatorShape<P>,
  agent: number,
  learning: Learning<P>,
  budget: Budget,
  task: number,
  role: "owner" | "contributor"
): Effect.Effect<Resolved<P>> =>
  Effect.gen(function*() {
    const r = yield* learning.shared(budget, (pushed, cursor) => server.exchange(agent, task, pushed, cursor))
    if (r._tag === "Solved") {
      return { learningEpisodes: r.episodes, role, certificate: r.certificate, reachedTarget: r.reached, policy: r.policy }
    }
    const policy = yield* learning.policy
    yield* server.publish(agent, task, policy, r.phase.certificate, r.phase.reached)
    return { learningEpisodes: r.phase.episodes, role, certificate: r.phase.certificate, reachedTarget: r.phase.reached, policy }
  })

/**
 * §3 step 3 after the server's answer: learn and publish a task we own, take a solved task's
 * policy, or, for a task being learned elsewhere, wait for its policy (policy sharing) or pool
 * experience with it (experience sharing); if the owner fails, claim the task and learn it ourselves.
 */
const resolve = <P>(
  server: CoordinatorShape<P>,
  agent: number,
  learning: Learning<P>,
  budget: Budget,
  sharing: AgentConfig["sharing"],
  answer: Identification<P>
): Effect.Effect<Resolved<P>> =>
  Effect.gen(function*() {
    switch (answer._tag) {
      case "Registered":
      case "Claimed": {
        // `ask` re-opens the task if this fiber is interrupted before it publishes (§3).
        if (sharing === "experience") return yield* pooled(server, agent, learning, budget, answer.task, "owner")
        const phase = yield* learning.phase(budget)
        const policy = yield* learning.policy
        yield* server.publish(agent, answer.task, policy, phase.certificate, phase.reached)
        return { learningEpisodes: phase.episodes, role: "owner", certificate: phase.certificate, reachedTarget: phase.reached, policy }
      }
      case "Solved": {
        const { certificate, policy, reached } = answer
        return { learningEpisodes: 0, role: "downloaded", certificate, reachedTarget: reached, policy }
      }
      case "Learning": {
        if (sharing === "experience") return yield* pooled(server, agent, learning, budget, answer.task, "contributor")
        const outcome = yield* server.awaitPolicy(agent, answer.task, answer.epoch)
        if (outcome._tag === "Published") {
          const { certificate, policy, reached } = outcome
          return { learningEpisodes: 0, role: "downloaded", certificate, reachedTarget: reached, policy }
        }
        return yield* ask(server, agent, server.claim(agent, answer.task), (next) =>
          resolve(server, agent, learning, budget, sharing, next))
      }
    }
  })

/**
 * §3 step 4: fetches every published policy, and makes each outcome's policy the server's copy of
 * its task's (with that copy's certificate and publisher's target flag).
 */
const withFetched = <P>(
  server: CoordinatorShape<P>,
  agent: number,
  outcomes: ReadonlyArray<InstanceOutcome<P>>
): Effect.Effect<AgentResult<P>> =>
  Effect.map(server.fetchAll(agent), (fetched) => {
    const byTask = new Map(fetched.map((p) => [p.task, p]))
    return {
      fetched,
      outcomes: outcomes.map((o) => {
        const p = o.entry === undefined ? undefined : byTask.get(o.entry)
        if (p === undefined) return o
        return {
          ...o,
          policy: p.policy,
          certificate: p.certificate,
          reachedTarget: p.reached,
          source: p.publisher === agent ? "learned" : "downloaded"
        }
      })
    }
  })

/**
 * Where an agent starts and what it keeps as it goes: `restored` are the outcomes of its first
 * instances, finished by an earlier run of the same agent (a cluster agent resumed from its
 * checkpoint, src/cluster/AgentEntity.ts); `finished` is told the outcomes so far after each
 * instance. A fresh agent starts at its first instance and keeps nothing.
 */
export interface Resume<P = Policy> {
  readonly restored: ReadonlyArray<InstanceOutcome<P>>
  readonly finished: (outcomes: ReadonlyArray<InstanceOutcome<P>>) => Effect.Effect<void>
}

export const fresh = <P>(): Resume<P> => ({ restored: [], finished: () => Effect.void })

/** How an agent with a server obtains the server's answer for one instance, and at what cost. */
type Identify<P> = (
  server: CoordinatorShape<P>,
  learning: Learning<P>,
  slot: number
) => Effect.Effect<{
  readonly episodes: number
  /** Undefined when the instance is not to be identified (capped identification, §3). */
  readonly request: Effect.Effect<Identification<P>> | undefined
  readonly reached: boolean | undefined
}>

/**
 * An agent that uses the server: for each instance in order, identify it, then resolve the answer
 * with `learn` as the budget for a task it comes to own; at the end fetch every policy.
 */
const serverAgent = <P>(
  server: CoordinatorShape<P>,
  agent: number,
  instances: ReadonlyArray<Open<P>>,
  learn: Budget,
  sharing: AgentConfig["sharing"],
  identify: Identify<P>,
  resume: Resume<P>
): Effect.Effect<AgentResult<P>> =>
  Effect.gen(function*() {
    const outcomes: Array<InstanceOutcome<P>> = [...resume.restored]
    for (let slot = outcomes.length; slot < instances.length; slot++) {
      const learning = instances[slot]()
      const { episodes, request, reached } = yield* identify(server, learning, slot)
      const base = { agent, slot, identificationEpisodes: episodes, identificationReached: reached }
      if (request === undefined) {
        // Capped identification (§3): learn the instance alone, neither matching nor registering.
        const r = yield* learnAlone(learning, learn, "unidentified")
        outcomes.push({ ...base, ...r, entry: undefined, registered: false, source: "learned" })
        yield* resume.finished(outcomes)
        continue
      }
      const [answer, r] = yield* ask(server, agent, request, (answer) =>
        Effect.map(resolve(server, agent, learning, learn, sharing, answer), (r) => [answer, r] as const))
      outcomes.push({
        ...base,
        ...r,
        entry: answer.task,
        registered: answer._tag === "Registered",
        source: r.role === "downloaded" ? "downloaded" : "learned"
      })
      yield* resume.finished(outcomes)
    }
    return yield* withFetched(server, agent, outcomes)
  })

/**
 * DistMT-LSVI (§3) for one agent over its instances, run one after another: explore until the
 * certificate is narrow enough to identify (step 1), then ask `server` with the interval (step 2).
 * Any stage's learner: the interval is whatever its identification phase certifies.
 */
export const distmtAgentOn = <P>(
  server: CoordinatorShape<P>,
  agent: number,
  instances: ReadonlyArray<Open<P>>,
  config: AgentConfig,
  resume: Resume<P> = fresh()
): Effect.Effect<AgentResult<P>> =>
  serverAgent(server, agent, instances, config.learn, config.sharing, (server, learning) =>
    Effect.gen(function*() {
      const explore = yield* learning.phase(config.identify)
      // The certificate's interval, with the deep stage's extra coordinates or evidence if it has them.
      const { width: _width, ...interval } = explore.certificate
      // Capped identification (§3): an interval wider than c_Sep/2 could overlap several tasks.
      const request = config.adaptive && !explore.reached ? undefined : server.identify(agent, interval)
      return { episodes: explore.episodes, request, reached: explore.reached }
    }), resume)

/** DistMT-LSVI for one agent, with the server of the run's `Coordinator` service. */
export const distmtAgent = (
  agent: number,
  instances: ReadonlyArray<Open>,
  config: AgentConfig
): Effect.Effect<AgentResult, never, Coordinator> =>
  Effect.gen(function*() {
    return yield* distmtAgentOn(yield* Coordinator, agent, instances, config)
  })

/** The `oracle` baseline: identities (`keys`) are given, policies shared, no identification phase. */
export const oracleAgentOn = <P>(
  server: CoordinatorShape<P>,
  agent: number,
  instances: ReadonlyArray<Open<P>>,
  keys: ReadonlyArray<number>,
  config: AgentConfig,
  resume: Resume<P> = fresh()
): Effect.Effect<AgentResult<P>> =>
  serverAgent(server, agent, instances, config.solo, config.sharing, (server, _learning, slot) =>
    // The interval is not used to match (keys are), and a learner's values lie in [0, H].
    Effect.succeed({
      episodes: 0,
      request: server.identifyKnown(agent, keys[slot], { lower: 0, upper: config.horizon }),
      reached: undefined
    }), resume)

/** The `oracle` baseline with the server of the run's `Coordinator` service. */
export const oracleAgent = (
  agent: number,
  instances: ReadonlyArray<Open>,
  keys: ReadonlyArray<number>,
  config: AgentConfig
): Effect.Effect<AgentResult, never, Coordinator> =>
  Effect.gen(function*() {
    return yield* oracleAgentOn(yield* Coordinator, agent, instances, keys, config)
  })

/** The `independent` baseline: no server; every instance learned from scratch to ε. */
export const independentAgent = <P = Policy>(
  agent: number,
  instances: ReadonlyArray<Open<P>>,
  config: AgentConfig,
  resume: Resume<P> = fresh()
): Effect.Effect<AgentResult<P>> =>
  Effect.gen(function*() {
    const outcomes: Array<InstanceOutcome<P>> = [...resume.restored]
    for (let slot = outcomes.length; slot < instances.length; slot++) {
      const r = yield* learnAlone(instances[slot](), config.solo, "solo")
      outcomes.push({
        ...r,
        agent,
        slot,
        identificationEpisodes: 0,
        identificationReached: undefined,
        entry: undefined,
        registered: false,
        source: "learned"
      })
      yield* resume.finished(outcomes)
    }
    return { outcomes, fetched: [] }
  })

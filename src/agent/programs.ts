/**
 * One agent's program, as a fiber (docs/algorithm.md §3): for each of its task instances in order,
 * explore to identify → ask the server → retrieve, wait, or learn and publish; at the end fetch
 * every published policy. And the two baselines: `independent` (no server) and `oracle`
 * (identities given, no identification phase).
 *
 * An agent sees its instances only through `Learning` (src/agent/Learning.ts: episodes on an
 * instance it cannot name, and the learner's policy): the hidden identity never enters this file.
 * The oracle alone receives `keys`, the identities it is given.
 */
import { Effect } from "effect"
import { Coordinator, type CoordinatorShape, type Identification } from "../coordinator/Coordinator.ts"
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
}

export type Role = "owner" | "downloaded" | "solo"

/** What happened on one task instance, as the agent knows it. */
export interface InstanceOutcome {
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
  /** The certificate this agent reached (owner, solo) or the one published with the downloaded policy. */
  readonly certificate: Certificate
  /** Whether the width target was met (false when a cap or a pure schedule ended the learning). */
  readonly reachedTarget: boolean
  /** The agent's final policy for this instance (from `fetchAll` when a server is used). */
  readonly policy: Policy
}

interface Resolved {
  readonly learningEpisodes: number
  readonly role: Role
  readonly certificate: Certificate
  readonly reachedTarget: boolean
  readonly policy: Policy
}

/**
 * Sends a request whose answer may make this agent a task's owner (identify, claim), then goes on
 * with `then`. The request runs uninterruptibly and the guard that re-opens the task is installed
 * in the same step, so an interrupt anywhere between "you own it" and the publication re-opens it
 * (§3: a task must not stay "being learned" forever). `then` itself stays interruptible.
 */
const ask = <A>(
  server: CoordinatorShape,
  agent: number,
  request: Effect.Effect<Identification>,
  then: (answer: Identification) => Effect.Effect<A>
): Effect.Effect<A> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(request, (answer) => {
      const rest = restore(then(answer))
      return answer._tag === "Registered" || answer._tag === "Claimed"
        ? Effect.onInterrupt(rest, () => server.abandon(agent, answer.task))
        : rest
    })
  )

/**
 * §3 step 3 after the server's answer: learn and publish a task we own, take a solved task's
 * policy, or wait for the owner; if the owner fails, claim the task and learn it ourselves.
 */
const resolve = (
  server: CoordinatorShape,
  agent: number,
  learning: Learning,
  budget: Budget,
  answer: Identification
): Effect.Effect<Resolved> =>
  Effect.gen(function*() {
    switch (answer._tag) {
      case "Registered":
      case "Claimed": {
        // `ask` re-opens the task if this fiber is interrupted before it publishes (§3).
        const phase = yield* learning.phase(budget)
        const policy = yield* learning.policy
        yield* server.publish(agent, answer.task, policy, phase.certificate)
        return { learningEpisodes: phase.episodes, role: "owner", certificate: phase.certificate, reachedTarget: phase.reached, policy }
      }
      case "Solved":
        return { learningEpisodes: 0, role: "downloaded", certificate: answer.certificate, reachedTarget: true, policy: answer.policy }
      case "Learning": {
        const outcome = yield* server.awaitPolicy(agent, answer.outcome)
        if (outcome._tag === "Published") {
          return { learningEpisodes: 0, role: "downloaded", certificate: outcome.certificate, reachedTarget: true, policy: outcome.policy }
        }
        return yield* ask(server, agent, server.claim(agent, answer.task), (next) =>
          resolve(server, agent, learning, budget, next))
      }
    }
  })

/** Replaces each outcome's policy by the server's copy from `fetchAll` (§3 step 4). */
const withFetched = (
  server: CoordinatorShape,
  agent: number,
  outcomes: ReadonlyArray<InstanceOutcome>
): Effect.Effect<ReadonlyArray<InstanceOutcome>> =>
  Effect.map(server.fetchAll(agent), (published) => {
    const byTask = new Map(published.map((p) => [p.task, p.policy]))
    return outcomes.map((o) => ({ ...o, policy: (o.entry === undefined ? undefined : byTask.get(o.entry)) ?? o.policy }))
  })

/** How an agent with a server obtains the server's answer for one instance, and at what cost. */
type Identify = (
  server: CoordinatorShape,
  learning: Learning,
  slot: number
) => Effect.Effect<{ readonly episodes: number; readonly request: Effect.Effect<Identification> }>

/**
 * An agent that uses the server: for each instance in order, identify it, then resolve the answer
 * with `learn` as the budget for a task it comes to own; at the end fetch every policy.
 */
const serverAgent = (
  agent: number,
  instances: ReadonlyArray<Open>,
  learn: Budget,
  identify: Identify
): Effect.Effect<ReadonlyArray<InstanceOutcome>, never, Coordinator> =>
  Effect.gen(function*() {
    const server = yield* Coordinator
    const outcomes: Array<InstanceOutcome> = []
    for (const [slot, open] of instances.entries()) {
      const learning = open()
      const { episodes, request } = yield* identify(server, learning, slot)
      const [answer, r] = yield* ask(server, agent, request, (answer) =>
        Effect.map(resolve(server, agent, learning, learn, answer), (r) => [answer, r] as const))
      outcomes.push({
        agent,
        slot,
        identificationEpisodes: episodes,
        learningEpisodes: r.learningEpisodes,
        entry: answer.task,
        registered: answer._tag === "Registered",
        role: r.role,
        certificate: r.certificate,
        reachedTarget: r.reachedTarget,
        policy: r.policy
      })
    }
    return yield* withFetched(server, agent, outcomes)
  })

/**
 * DistMT-LSVI (§3) for one agent over its instances, run one after another: explore until the
 * certificate is narrow enough to identify (step 1), then ask the server with the interval (step 2).
 */
export const distmtAgent = (
  agent: number,
  instances: ReadonlyArray<Open>,
  config: AgentConfig
): Effect.Effect<ReadonlyArray<InstanceOutcome>, never, Coordinator> =>
  serverAgent(agent, instances, config.learn, (server, learning) =>
    Effect.gen(function*() {
      const explore = yield* learning.phase(config.identify)
      const { lower, upper } = explore.certificate
      return { episodes: explore.episodes, request: server.identify(agent, { lower, upper }) }
    }))

/** The `oracle` baseline: identities (`keys`) are given, policies shared, no identification phase. */
export const oracleAgent = (
  agent: number,
  instances: ReadonlyArray<Open>,
  keys: ReadonlyArray<number>,
  config: AgentConfig
): Effect.Effect<ReadonlyArray<InstanceOutcome>, never, Coordinator> =>
  serverAgent(agent, instances, config.solo, (server, _learning, slot) =>
    // The interval is not used to match (keys are), and a learner's values lie in [0, H].
    Effect.succeed({ episodes: 0, request: server.identifyKnown(agent, keys[slot], { lower: 0, upper: config.horizon }) }))

/** The `independent` baseline: no server; every instance learned from scratch to ε. */
export const independentAgent = (
  agent: number,
  instances: ReadonlyArray<Open>,
  config: AgentConfig
): Effect.Effect<ReadonlyArray<InstanceOutcome>> =>
  Effect.gen(function*() {
    const outcomes: Array<InstanceOutcome> = []
    for (const [slot, open] of instances.entries()) {
      const learning = open()
      const phase = yield* learning.phase(config.solo)
      outcomes.push({
        agent,
        slot,
        identificationEpisodes: 0,
        learningEpisodes: phase.episodes,
        entry: undefined,
        registered: false,
        role: "solo",
        certificate: phase.certificate,
        reachedTarget: phase.reached,
        policy: yield* learning.policy
      })
    }
    return outcomes
  })

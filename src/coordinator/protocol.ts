/**
 * The coordinator's operations as messages (docs/algorithm.md §3): each one an `Rpc` with a
 * Schema-defined payload and reply, so that the same agent program talks to the server wherever it
 * runs. `handlers` answer the messages with any `CoordinatorShape` (the in-process `Ref` server, or
 * a cluster entity's); src/run/remote.ts turns a client of this group back into the
 * `CoordinatorShape` that is all an agent ever sees.
 *
 * Nothing here is an in-process object: waits are by task id and epoch, and policies and
 * transitions travel as their float64 arrays, 8 bytes a number (`Float64Bytes`: raw little-endian
 * bytes, a binary field in MessagePack, base64 in JSON).
 */
import { Effect, Schema, SchemaTransformation } from "effect"
import { Rpc, type RpcClient, RpcGroup } from "effect/rpc"
import { Deadlock } from "../run/VirtualTime.ts"
import type { CoordinatorShape } from "./Coordinator.ts"

/** The floats of `bytes` (a whole number of 8-byte floats), in memory of their own. */
export const floatsOf = (bytes: Uint8Array): Float64Array => {
  const own = new Uint8Array(bytes.length)
  own.set(bytes)
  return new Float64Array(own.buffer)
}

/** A `Float64Array` as its bytes: exact, and as small as the numbers. */
export const Float64Bytes = Schema.Uint8Array.check(
  Schema.makeFilter((b: Uint8Array) => b.length % 8 === 0 || "a whole number of 8-byte floats")
).pipe(
  Schema.decodeTo(
    Schema.declare((u): u is Float64Array => u instanceof Float64Array),
    SchemaTransformation.transform<Float64Array, Uint8Array>({
      // Copied: the decoded array owns its memory, aligned whatever the message's layout (a Node
      // Buffer's `slice` is a view into a shared pool, so it is not used).
      decode: (b: Uint8Array) => floatsOf(b),
      encode: (f: Float64Array) => new Uint8Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength))
    })
  )
)

/** Ids, clocks and request numbers: whole numbers from 0. */
const Whole = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Agent = Whole
const Task = Whole

export const Interval = Schema.Struct({ lower: Schema.Number, upper: Schema.Number })

export const Certificate = Schema.Struct({ lower: Schema.Number, upper: Schema.Number, width: Schema.Number })

/** A published policy (src/learner/Lsvi.ts `Policy`): w̄ (H·d) and Λ⁻¹ (H·d²) as their floats. */
export const Policy = Schema.Struct({
  horizon: Schema.Int,
  dim: Schema.Int,
  actions: Schema.Int,
  beta: Schema.Number,
  w: Float64Bytes,
  LambdaInv: Float64Bytes
})

export const Identification = Schema.Union([
  Schema.TaggedStruct("Registered", { task: Task }),
  Schema.TaggedStruct("Solved", { task: Task, policy: Policy, certificate: Certificate, reached: Schema.Boolean }),
  Schema.TaggedStruct("Learning", { task: Task, epoch: Schema.Int }),
  Schema.TaggedStruct("Claimed", { task: Task })
])

export const Outcome = Schema.Union([
  Schema.TaggedStruct("Published", { policy: Policy, certificate: Certificate, reached: Schema.Boolean }),
  Schema.TaggedStruct("Reopened", {})
])

/** A waiter's answer: the outcome, and its clock moved up to its releaser's. */
export const AwaitReply = Schema.Struct({ outcome: Outcome, clock: Whole })

export const Exchange = Schema.Union([
  Schema.TaggedStruct("Pooled", { pulled: Float64Bytes, cursor: Schema.Int }),
  Schema.TaggedStruct("Solved", { policy: Policy, certificate: Certificate, reached: Schema.Boolean })
])

export const Published = Schema.Struct({
  task: Task,
  policy: Policy,
  certificate: Certificate,
  reached: Schema.Boolean,
  publisher: Agent
})

/** A registered task as data (the registry, for the evaluator; agents never ask for it). */
export const TaskRecord = Schema.Struct({
  id: Task,
  key: Schema.UndefinedOr(Schema.Int),
  interval: Interval,
  founder: Agent,
  owner: Schema.UndefinedOr(Agent),
  status: Schema.Literals(["learning", "solved", "open"]),
  policy: Schema.UndefinedOr(Policy),
  certificate: Schema.UndefinedOr(Certificate),
  reached: Schema.Boolean,
  publisher: Schema.UndefinedOr(Agent),
  epoch: Schema.Int
})

const Count = Schema.Number

export const Traffic = Schema.Struct({
  messages: Count,
  bytes: Count,
  experience: Schema.Struct({ messages: Count, pushed: Count, pulled: Count, bytes: Count })
})

/** What the run's evaluator reads of the server once the run is over. */
export const Inspection = Schema.Struct({ registry: Schema.Array(TaskRecord), traffic: Traffic, makespan: Schema.Number })

/** The agent's virtual clock as it sends a request: the order the server answers in (src/run/VirtualTime.ts). */
const Clock = Whole

/**
 * The agent's request number: a request sent again after a runner died is recognised by it, and
 * answered as the first time without being decided twice (src/coordinator/postgres.ts).
 */
const Seq = Whole

/**
 * The version of every message between a submitting process and the runners: this file's and the
 * entities' in src/cluster (AgentEntity.ts, DeepUnitEntity.ts, ServerEntity.ts, Ping.ts). Raise it
 * with any change to them that the other side cannot decode (a field added, removed or retyped, as
 * `seq` was added to Publish and FetchAll). A runner records it as it starts, and a submission to
 * runners of another version stops at once saying so (src/cluster/peers.ts): without it, such a
 * change showed as decoding failures retried for ever. Runners from before it recorded none.
 * test/protocol-version.test.ts fails when the messages change and this number does not.
 */
export const PROTOCOL_VERSION = 1

/**
 * The server's operations as agents call them, each with the caller's clock (the registry and the
 * traffic stay on the server). `Advance` and `Retire` only tell the server how far an agent is, so
 * that the others' requests need not wait for it; `AwaitPolicy` answers with the waiter's clock,
 * moved up to its releaser's.
 */
export class CoordinatorRpcs extends RpcGroup.make(
  Rpc.make("Identify", {
    payload: { agent: Agent, seq: Seq, clock: Clock, interval: Interval },
    success: Identification,
    error: Deadlock
  }),
  Rpc.make("IdentifyKnown", {
    payload: { agent: Agent, seq: Seq, clock: Clock, key: Schema.Int, interval: Interval },
    success: Identification,
    error: Deadlock
  }),
  Rpc.make("AwaitPolicy", {
    payload: { agent: Agent, seq: Seq, clock: Clock, task: Task, epoch: Schema.Int },
    success: AwaitReply,
    error: Deadlock
  }),
  Rpc.make("Claim", { payload: { agent: Agent, seq: Seq, clock: Clock, task: Task }, success: Identification, error: Deadlock }),
  Rpc.make("Publish", {
    payload: { agent: Agent, seq: Seq, clock: Clock, task: Task, policy: Policy, certificate: Certificate, reached: Schema.Boolean },
    error: Deadlock
  }),
  Rpc.make("Abandon", { payload: { agent: Agent, clock: Clock, task: Task }, error: Deadlock }),
  Rpc.make("Exchange", {
    payload: { agent: Agent, seq: Seq, clock: Clock, task: Task, pushed: Float64Bytes, cursor: Schema.Int },
    success: Exchange,
    error: Deadlock
  }),
  Rpc.make("FetchAll", { payload: { agent: Agent, seq: Seq, clock: Clock }, success: Schema.Array(Published), error: Deadlock }),
  Rpc.make("Advance", { payload: { agent: Agent, clock: Clock } }),
  Rpc.make("Retire", { payload: { agent: Agent } }),
  Rpc.make("Inspect", { success: Inspection })
) {}

/**
 * Where the server keeps the replies of numbered requests (src/coordinator/postgres.ts): a wait
 * asked again after a take-over gets the answer it had, with the clock it had.
 */
export interface KeptReplies {
  readonly remember: <A>(agent: number, seq: number, codec: Schema.Codec<A, unknown>, reply: Effect.Effect<A>) => Effect.Effect<A>
  readonly kept: <A>(agent: number, seq: number, codec: Schema.Codec<A, unknown>) => A | undefined
}

/** What the server side needs of its virtual time (src/run/VirtualTime.ts). */
export interface ServerClocks {
  readonly at: (agent: number, clock: number) => void
  readonly retire: (agent: number) => void
  readonly clock: (agent: number) => number
  readonly makespan: () => number
}

/**
 * The handlers of `CoordinatorRpcs` over a server whose requests are sequenced by `time`: each
 * request first brings the sender's clock up to date, then goes through as in one process.
 * `numbered`, where the server keeps replies (src/coordinator/postgres.ts `request`), gives the
 * server as request (agent, seq) sees it.
 */
export const handlers = (
  server: CoordinatorShape,
  time: ServerClocks,
  numbered: (agent: number, seq: number) => CoordinatorShape = () => server,
  replies?: KeptReplies
) => {
  // A request that no agent can ever let through fails with `Deadlock`, typed: as a defect it would
  // restart a cluster's server, which would find the same waits again, for ever.
  const at = <A>(agent: number, clock: number, request: () => Effect.Effect<A>): Effect.Effect<A, Deadlock> =>
    Effect.catchDefect(
      Effect.suspend(() => {
        time.at(agent, clock)
        return request()
      }),
      (defect) => defect instanceof Deadlock ? Effect.fail(defect) : Effect.die(defect)
    )
  return CoordinatorRpcs.of({
    Identify: ({ agent, seq, clock, interval }) => at(agent, clock, () => numbered(agent, seq).identify(agent, interval)),
    IdentifyKnown: ({ agent, seq, clock, key, interval }) =>
      at(agent, clock, () => numbered(agent, seq).identifyKnown(agent, key, interval)),
    AwaitPolicy: ({ agent, seq, clock, task, epoch }) => {
      const wait = Effect.map(server.awaitPolicy(agent, task, epoch), (outcome) => ({ outcome, clock: time.clock(agent) }))
      if (replies === undefined) return at(agent, clock, () => wait)
      // Answered before a take-over: the same answer, and the server's clock for the agent as it was.
      const before = replies.kept(agent, seq, AwaitReply)
      if (before !== undefined) return Effect.sync(() => (time.at(agent, before.clock), before))
      return at(agent, clock, () => replies.remember(agent, seq, AwaitReply, wait))
    },
    Claim: ({ agent, seq, clock, task }) => at(agent, clock, () => numbered(agent, seq).claim(agent, task)),
    Publish: ({ agent, seq, clock, task, policy, certificate, reached }) =>
      at(agent, clock, () => numbered(agent, seq).publish(agent, task, policy, certificate, reached)),
    Abandon: ({ agent, clock, task }) => at(agent, clock, () => server.abandon(agent, task)),
    Exchange: ({ agent, seq, clock, task, pushed, cursor }) =>
      at(agent, clock, () => numbered(agent, seq).exchange(agent, task, pushed, cursor)),
    FetchAll: ({ agent, seq, clock }) => at(agent, clock, () => numbered(agent, seq).fetchAll(agent)),
    Advance: ({ agent, clock }) => Effect.sync(() => time.at(agent, clock)),
    Retire: ({ agent }) => Effect.sync(() => time.retire(agent)),
    Inspect: () =>
      Effect.map(Effect.all({ registry: server.registry, traffic: server.traffic }), ({ registry, traffic }) => ({
        // Plain data only: the in-process entries also hold their waiters.
        registry: registry.map(({ id, key, interval, founder, owner, status, policy, certificate, reached, publisher, epoch }) => ({
          id, key, interval, founder, owner, status, policy, certificate, reached, publisher, epoch
        })),
        traffic,
        makespan: time.makespan()
      }))
  })
}

/** The handlers as a layer (an in-process or test transport). */
export const serve = (server: CoordinatorShape, time: ServerClocks) => CoordinatorRpcs.toLayer(handlers(server, time))

export type CoordinatorClient = RpcClient.RpcClient<RpcGroup.Rpcs<typeof CoordinatorRpcs>>

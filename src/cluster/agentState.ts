/**
 * What a cluster run keeps in PostgreSQL besides its servers' tables (src/coordinator/postgres.ts):
 * - `distmt_models`: the tables every agent of a run learns on (the tasks, the features, the
 *   learner's and the agents' settings), written once by the submitting process, so that a runner on
 *   any machine can open the agents' instances without the spec's code;
 * - `distmt_agents`: each agent's checkpoint, written after every task instance it finishes: its
 *   outcomes so far, their learning curves, its virtual clock and the number of its next request to
 *   the server, and where it stands in the instance in progress (`inside`, agentRun.ts). The last
 *   one, with the policies it fetched at the end, is marked `final`.
 *
 * The blobs are `node:v8` serializations (exact for typed arrays and floats; every process of a
 * cluster runs the project's pinned Node). A checkpoint is written under the run's attempt fence
 * (postgres.ts `nextAttempt`): an agent of an older submission can no longer write one.
 */
import { Effect } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import { SqlClient } from "effect/sql/SqlClient"
import { deserialize, serialize } from "node:v8"
import type { PhasePoint } from "../agent/curve.ts"
import { InstanceCurve } from "../agent/curve.ts"
import type { AgentConfig, InstanceOutcome } from "../agent/programs.ts"
import type { Published } from "../coordinator/Coordinator.ts"
import { oncePerClient, underMigrationLock } from "../coordinator/postgres.ts"
import type { FeatureTable, FiniteMdp } from "../env/FiniteMdp.ts"
import type { PhaseResult, PhaseState } from "../agent/episodes.ts"
import type { LsviConfig } from "../learner/Lsvi.ts"
import type { InstanceState } from "../run/threads/pool.ts"

/** What the agents of a run need to learn, and nothing of the ground truth. */
export interface AgentModel {
  readonly tasks: ReadonlyArray<FiniteMdp>
  readonly features: FeatureTable
  readonly lsvi: LsviConfig
  readonly config: AgentConfig
  /** States over which curve points tabulate the greedy policy. */
  readonly states: number
}

/** An instance's learning curve as its agent saw it: the sampled points and the phase ends, in order. */
export type CurveLog = ReadonlyArray<{ readonly points: ReadonlyArray<PhasePoint> } | { readonly end: number }>

/**
 * A curve that keeps what it is given, so that the submitting process, which alone knows the
 * instance's true task, can turn it into exact gaps (`replay`).
 */
export class RecordingCurve extends InstanceCurve {
  readonly log: Array<CurveLog[number]> = []
  constructor() {
    super(() => Number.NaN)
  }
  override add(points: ReadonlyArray<PhasePoint>): void {
    this.log.push({ points })
    super.add(points)
  }
  override endPhase(episodes: number): void {
    this.log.push({ end: episodes })
    super.endPhase(episodes)
  }
}

/** Gives `curve` what `log` recorded. */
export const replay = (log: CurveLog, curve: InstanceCurve): InstanceCurve => {
  for (const e of log) "end" in e ? curve.endPhase(e.end) : curve.add(e.points)
  return curve
}

/**
 * Where an agent stood inside an instance: the results of the instance's phases finished before,
 * the phase in progress, and the instance's state after its last chunk (learner, random stream,
 * transitions kept for a pool) with its curve so far.
 */
export interface InstanceCheckpoint extends InstanceState {
  readonly phases: ReadonlyArray<PhaseResult>
  readonly inPhase: PhaseState
  readonly curve: CurveLog
  /**
   * Taken in a pooled phase (§3 step 3), after an exchange: its reply, which the next step absorbs,
   * and the number of the agent's next request.
   */
  readonly pooled?: { readonly pulled: Float64Array; readonly cursor: number; readonly seq: number }
}

/** An agent's checkpoint. */
export interface AgentState {
  /** The instances it finished, and their curves. */
  readonly outcomes: ReadonlyArray<InstanceOutcome>
  readonly curves: ReadonlyArray<CurveLog>
  /** Its virtual clock and the number of its next request, when it finished them. */
  readonly clock: number
  readonly seq: number
  /** Where it stood in the next instance (a checkpoint taken between two chunks). */
  readonly current?: InstanceCheckpoint
  /** The policies fetched at the end (§3 step 4): present once the agent has finished. */
  readonly fetched?: ReadonlyArray<Published>
}

/** Episodes an agent had run when it wrote `state`: checkpoints of one agent are ordered by them. */
export const episodesOf = (state: AgentState): number =>
  state.outcomes.reduce((n, o) => n + o.identificationEpisodes + o.learningEpisodes, 0) +
  (state.current === undefined ? 0 : state.current.phases.reduce((n, p) => n + p.episodes, 0) + state.current.inPhase.episodes)

export const migrateAgents: Effect.Effect<void, SqlError, SqlClient> = oncePerClient(underMigrationLock(Effect.gen(function*() {
  const sql = yield* SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS distmt_models (run text PRIMARY KEY, model bytea NOT NULL)`
  // The folder the run writes to, for `distmt cluster runs` (a table made by an older distmt lacks it).
  yield* sql`ALTER TABLE distmt_models ADD COLUMN IF NOT EXISTS folder text`
  yield* sql`CREATE TABLE IF NOT EXISTS distmt_agents (
    unit text NOT NULL, agent integer NOT NULL, slots integer NOT NULL, episodes bigint NOT NULL,
    inside boolean NOT NULL, final boolean NOT NULL, state bytea NOT NULL, PRIMARY KEY (unit, agent))`
  // An agent may run more than 2³¹ episodes (a spec may ask for up to 10¹² in all): in a table made
  // by an older distmt the column was an integer, and such a checkpoint failed to save. Changed
  // only then, since the change locks the table.
  yield* sql`DO $$ BEGIN
    IF (SELECT data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'distmt_agents' AND column_name = 'episodes') = 'integer' THEN
      ALTER TABLE distmt_agents ALTER COLUMN episodes TYPE bigint;
    END IF;
  END $$`
  // When the checkpoint was written (by the database's clock), for `distmt cluster runs` and `forget`.
  yield* sql`ALTER TABLE distmt_agents ADD COLUMN IF NOT EXISTS saved timestamptz NOT NULL DEFAULT now()`
})))

const blob = (value: unknown): Uint8Array => new Uint8Array(serialize(value))

/**
 * Stores a run's model and the folder it writes to (the same run stores the same model: a second
 * write changes nothing).
 */
export const saveModel = (run: string, model: AgentModel, folder: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    yield* migrateAgents
    // A run resumed by this distmt records its folder if an older one saved the model without it.
    yield* sql`INSERT INTO distmt_models ${sql.insert({ run, model: blob(model), folder })}
      ON CONFLICT (run) DO UPDATE SET folder = EXCLUDED.folder WHERE distmt_models.folder IS NULL`
  })

/**
 * Forgets run `run`'s model once the run is over and its files written: only its agents read it.
 * A run given again saves it again (`saveModel`, at every submission).
 */
export const forgetModel = (run: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    yield* sql`DELETE FROM distmt_models WHERE run = ${run}`
  })

export const loadModel = (run: string): Effect.Effect<AgentModel, SqlError, SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{ model: Uint8Array }>`SELECT model FROM distmt_models WHERE run = ${run}`
    if (rows.length === 0) return yield* Effect.die(new Error(`no model of run ${run} in distmt_models`))
    return deserialize(rows[0].model) as AgentModel
  })

/** The checkpoint of `agent` in `unit`, if it has written one. */
export const loadState = (unit: string, agent: number): Effect.Effect<AgentState | undefined, SqlError, SqlClient> =>
  Effect.map(loadStates(unit, agent), (states) => states.get(agent))

/** The checkpoints of `unit`'s agents (of one agent when `agent` is given), by agent, in one query. */
export const loadStates = (unit: string, agent?: number): Effect.Effect<Map<number, AgentState>, SqlError, SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    yield* migrateAgents
    const rows = yield* (agent === undefined
      ? sql<{ agent: number; state: Uint8Array }>`SELECT agent, state FROM distmt_agents WHERE unit = ${unit}`
      : sql<{ agent: number; state: Uint8Array }>`SELECT agent, state FROM distmt_agents WHERE unit = ${unit} AND agent = ${agent}`)
    return new Map(rows.map((r) => [r.agent, deserialize(r.state) as AgentState]))
  })

/** A writer of an older attempt (its submission was given again): it must stop. */
export class Replaced extends Error {}

/** Whether `attempt` is still `unit`'s latest. */
export const current = (unit: string, attempt: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{ attempt: number }>`SELECT attempt FROM distmt_attempts WHERE run = ${unit}`
    return rows[0]?.attempt === attempt
  })

/**
 * Writes `agent`'s checkpoint, in one transaction with the check that `attempt` is the unit's
 * latest (else it dies with `Replaced`). A checkpoint never goes back: one behind the stored one
 * (fewer instances finished, or fewer episodes run) changes nothing. `state` is serialized at the
 * call, so its arrays may change (or move to a worker) once this returns.
 */
export const saveState = (unit: string, attempt: number, agent: number, state: AgentState) => {
  const row = {
    unit,
    agent,
    slots: state.outcomes.length,
    episodes: episodesOf(state),
    inside: state.current !== undefined,
    final: state.fetched !== undefined,
    state: blob(state)
  }
  return Effect.gen(function*() {
    const sql = yield* SqlClient
    yield* sql.withTransaction(Effect.gen(function*() {
      const rows = yield* sql<{ attempt: number }>`SELECT attempt FROM distmt_attempts WHERE run = ${unit} FOR UPDATE`
      if (rows[0]?.attempt !== attempt) {
        return yield* Effect.die(new Replaced(`agent ${agent} of ${unit}, attempt ${attempt}, was replaced by attempt ${rows[0]?.attempt}`))
      }
      yield* sql`INSERT INTO distmt_agents ${sql.insert(row)} ON CONFLICT (unit, agent) DO UPDATE SET
        slots = EXCLUDED.slots, episodes = EXCLUDED.episodes, inside = EXCLUDED.inside, final = EXCLUDED.final, state = EXCLUDED.state,
        saved = now()
        WHERE (distmt_agents.final, distmt_agents.slots, distmt_agents.episodes) < (EXCLUDED.final, EXCLUDED.slots, EXCLUDED.episodes)`
    }))
  })
}

/** How far each agent of `unit` is, as its checkpoints say (for the submitting process's progress). */
export const standing = (unit: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    return yield* sql<{ agent: number; slots: number; episodes: number; final: boolean }>`
      SELECT agent, slots, episodes::float8 AS episodes, final FROM distmt_agents WHERE unit = ${unit}`
  })

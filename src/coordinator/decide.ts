/**
 * One decision of the PostgreSQL server (postgres.ts `durable`) written as one statement: the
 * function `distmt_decide`, which the migration defines, takes everything the decision changed and
 * writes it in one transaction on the database's side, behind the attempt fence.
 */
import { Effect } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import { SqlClient } from "effect/sql/SqlClient"
import type { Batch, Entry, Traffic } from "./Coordinator.ts"

/** A server of an older attempt tried to write: it must stop. */
class Fenced extends Error {}

/** The SQLSTATE with which `distmt_decide` refuses a server of an older attempt (`Fenced`). */
const FENCED = "DTFNC"

/**
 * One decision's write as one statement (`write`): the fence, then the entries, pool batches,
 * traffic, kept reply and finished agent it is given, all or nothing. One round trip to PostgreSQL
 * per decision, where a transaction of one statement each took seven: with experience sharing a
 * decision is made per episode of every contributor, each waiting for the one before it
 * (docs/cluster.md, "What a run costs on the cluster"). Lock waits are limited by `lock_timeout` (set for the
 * statement's own transaction before the fence takes its lock): a `statement_timeout` set inside a
 * statement would only limit the statements after it. Values travel as JSON: floats as their
 * shortest exact text (`String`, so that ±Infinity survive), arrays of float64 as base64.
 */
const DECIDE_BODY = `
DECLARE
  latest integer;
BEGIN
  PERFORM set_config('lock_timeout', p_lock_ms::text, true);
  IF p_attempt IS NOT NULL THEN
    SELECT attempt INTO latest FROM distmt_attempts WHERE run = p_run FOR UPDATE;
    IF latest IS DISTINCT FROM p_attempt THEN
      RAISE EXCEPTION 'the server of %, attempt %, was replaced by attempt %', p_run, p_attempt, latest USING ERRCODE = '${FENCED}';
    END IF;
  END IF;
  INSERT INTO distmt_tasks (run, id, key, lower, upper, founder, owner, status, epoch, policy, w, lambda_inv, certificate, reached, publisher)
    SELECT p_run, t.id, t.key, t.lower::float8, t.upper::float8, t.founder, t.owner, t.status, t.epoch, t.policy,
      decode(t.w, 'base64'), decode(t.lambda_inv, 'base64'), t.certificate, t.reached, t.publisher
    FROM jsonb_to_recordset(p_tasks) AS t(id integer, key integer, lower text, upper text, founder integer, owner integer,
      status text, epoch integer, policy jsonb, w text, lambda_inv text, certificate jsonb, reached boolean, publisher integer)
    ORDER BY t.id
    ON CONFLICT (run, id) DO UPDATE SET lower = EXCLUDED.lower, upper = EXCLUDED.upper, owner = EXCLUDED.owner,
      status = EXCLUDED.status, epoch = EXCLUDED.epoch, policy = EXCLUDED.policy, w = EXCLUDED.w,
      lambda_inv = EXCLUDED.lambda_inv, certificate = EXCLUDED.certificate, reached = EXCLUDED.reached,
      publisher = EXCLUDED.publisher;
  INSERT INTO distmt_pool (run, task, seq, agent, transitions)
    SELECT p_run, b.task, b.seq, b.agent, decode(b.transitions, 'base64')
    FROM jsonb_to_recordset(p_pool) AS b(task integer, seq integer, agent integer, transitions text);
  IF p_traffic IS NOT NULL THEN
    INSERT INTO distmt_traffic (run, traffic) VALUES (p_run, p_traffic) ON CONFLICT (run) DO UPDATE SET traffic = EXCLUDED.traffic;
  END IF;
  IF p_reply IS NOT NULL THEN
    INSERT INTO distmt_replies (run, agent, seq, reply) VALUES (p_run, p_reply_agent, p_reply_seq, p_reply);
  END IF;
  IF p_done IS NOT NULL THEN
    INSERT INTO distmt_done (run, agent) VALUES (p_run, p_done) ON CONFLICT DO NOTHING;
  END IF;
END `

const DECIDE_FUNCTION = `CREATE OR REPLACE FUNCTION distmt_decide(
  p_run text, p_attempt integer, p_lock_ms integer, p_tasks jsonb, p_pool jsonb, p_traffic jsonb,
  p_reply_agent integer, p_reply_seq integer, p_reply text, p_done integer
) RETURNS void LANGUAGE plpgsql AS $$${DECIDE_BODY}$$`

const base64 = (f: Float64Array): string => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString("base64")

/** What one decision writes (`decide`), besides the entries and batches it changed. */
interface Also {
  readonly reply?: { readonly agent: number; readonly seq: number; readonly text: string }
  /** The agent whose final fetch this is: from now on it sends nothing (`distmt_done`). */
  readonly done?: number
}

/**
 * Writes, in one statement (`distmt_decide`), the entries and pool batches that differ between two
 * states of run `run`, the traffic if it is not the one written last (a wait counts its traffic
 * outside any decision), and `also`. Fails with `Fenced` if `attempt` is no longer the run's latest.
 */
export const write = (
  sql: SqlClient,
  run: string,
  attempt: number | undefined,
  lockMs: number,
  before: { readonly entries: ReadonlyArray<Entry> },
  after: { readonly entries: ReadonlyArray<Entry>; readonly pools: ReadonlyArray<ReadonlyArray<Batch>>; readonly traffic: Traffic },
  poolLengths: ReadonlyArray<number>,
  written: Traffic,
  also: Also
) => {
  // The in-process server replaces an entry that changes, so identity tells what changed.
  const tasks = after.entries.filter((e) => before.entries[e.id] !== e).map((e) => {
    const p = e.policy
    return {
      id: e.id,
      key: e.key ?? null,
      lower: String(e.interval.lower),
      upper: String(e.interval.upper),
      founder: e.founder,
      owner: e.owner ?? null,
      status: e.status,
      epoch: e.epoch,
      policy: p === undefined ? null : { horizon: p.horizon, dim: p.dim, actions: p.actions, beta: p.beta },
      w: p === undefined ? null : base64(p.w),
      lambda_inv: p === undefined ? null : base64(p.LambdaInv),
      certificate: e.certificate ?? null,
      reached: e.reached,
      publisher: e.publisher ?? null
    }
  })
  // Pools only grow: the batches past the lengths seen before the operation are new.
  const pool = after.pools.flatMap((batches, task) => {
    const from = poolLengths[task] ?? 0
    return batches.slice(from).map((b, i) => ({ task, seq: from + i, agent: b.agent, transitions: base64(b.transitions) }))
  })
  const traffic = written === after.traffic ? null : JSON.stringify(after.traffic)
  const statement = sql`SELECT distmt_decide(${run}, ${attempt ?? null}, ${lockMs}, ${JSON.stringify(tasks)}::jsonb,
    ${JSON.stringify(pool)}::jsonb, ${traffic}::jsonb, ${also.reply?.agent ?? null}, ${also.reply?.seq ?? null},
    ${also.reply?.text ?? null}, ${also.done ?? null})`
  return Effect.catch(statement, (error) => {
    const fenced = fencedBy(error)
    return fenced === undefined ? Effect.fail(error) : Effect.die(new Fenced(fenced))
  })
}

/** The message of `distmt_decide`'s refusal, if that is what `error` is (PostgreSQL's error, somewhere in its causes). */
const fencedBy = (error: unknown): string | undefined => {
  for (let e = error; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === FENCED) return e.message
  }
  return undefined
}

/**
 * Defines `distmt_decide` in the tables' schema (inside the migration, postgres.ts `migrate`).
 * Replaced only when its text differs (a newer distmt): replacing needs the function's owner, and a
 * role that may write the tables need not be it.
 */
export const defineDecide: Effect.Effect<void, SqlError, SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient
  const defined = yield* sql<{ src: string }>`SELECT prosrc AS src FROM pg_proc
    WHERE proname = 'distmt_decide' AND pronamespace = to_regnamespace(current_schema())`
  if (!defined.some((d) => d.src === DECIDE_BODY)) yield* sql.unsafe(DECIDE_FUNCTION)
})

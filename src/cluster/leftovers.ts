/**
 * `distmt cluster runs --db URL`: the runs whose rows the database still holds.
 * `distmt cluster forget RUN|FOLDER… --db URL` (or `--all`): deletes them.
 *
 * A unit that finishes deletes what it kept in the database (runAgents.ts `forgetUnit`), and a run
 * whose files are written its model; a run that was stopped and not given again keeps them, to be
 * resumed (its server's tables, its kept replies, its agents' checkpoints: docs/cluster.md, "What
 * stays in the database"). These commands show such runs with the folder they write to, and forget
 * them. Forgetting a unit first starts a new attempt of it (`nextAttempt`), as `--fresh` does: a
 * server or agent of it still running somewhere can then write nothing more. The attempt numbers
 * stay (they must only grow). A run that looks like it is running is refused (unless `--force`):
 * an agent of it saved a checkpoint in the last `ACTIVE_SECONDS`, or its folder is on this machine
 * with a distmt process writing in it.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { SqlClient } from "effect/sql/SqlClient"
import * as fs from "node:fs"
import * as path from "node:path"
import { duration } from "../cli/eta.ts"
import { lockDir, realFolder } from "../cli/outDir.ts"
import { migrate, nextAttempt } from "../coordinator/postgres.ts"
import type { Algorithm } from "../run/runExperiment.ts"
import { bytes } from "../report/bytes.ts"
import { forgetModel, migrateAgents } from "./agentState.ts"
import { ClusterUsageError, describeDbError, pgLayer, plural, redactUrl, reportUsageErrors } from "./database.ts"
import { connectionFlags } from "./flags.ts"
import { forgetUnit } from "./runAgents.ts"
import { dbUrlFrom } from "./runnerCommand.ts"

/** A run that the database holds rows of. */
export interface LeftRun {
  readonly key: string
  /** The folder its files go to (unknown for a run whose model is gone, or saved by an older distmt). */
  readonly folder: string | undefined
  readonly units: ReadonlyArray<string>
  /** Agents with a checkpoint, and the episodes they had run by it. */
  readonly agents: number
  readonly episodes: number
  readonly bytes: number
  /** Seconds since its latest checkpoint, by the database's clock (undefined: none). */
  readonly idle: number | undefined
}

/**
 * A run with a checkpoint younger than this is taken to be running: an agent checkpoints inside
 * an instance every `--checkpoint-every` seconds (10 by default) and after every instance.
 */
export const ACTIVE_SECONDS = 120

/** Every algorithm, by name (a new one fails to compile here until it is added). */
const ALGORITHMS = Object.keys({ distmt: 0, independent: 0, oracle: 0 } satisfies Record<Algorithm, 0>)
const UNIT = new RegExp(`^(.*)-(?:${ALGORITHMS.join("|")})-\\d+$`)

/** The run of a unit key (`${run}-${algorithm}-${seed}`, runAgents.ts). */
const runOf = (unit: string): string => UNIT.exec(unit)?.[1] ?? unit

/** Every run the database holds rows of, by run key. */
export const leftRuns = Effect.gen(function*() {
  const sql = yield* SqlClient
  yield* migrate
  yield* migrateAgents
  const units = yield* sql<{ unit: string; bytes: number; agents: number; episodes: number; idle: number | null }>`
    SELECT unit, sum(bytes)::float8 AS bytes, sum(agents)::int AS agents, sum(episodes)::float8 AS episodes,
      extract(epoch FROM now() - max(saved))::float8 AS idle FROM (
      SELECT unit, pg_column_size(a.*) AS bytes, 1 AS agents, episodes, saved FROM distmt_agents a
      UNION ALL SELECT run, pg_column_size(t.*), 0, 0, NULL FROM distmt_tasks t
      UNION ALL SELECT run, pg_column_size(p.*), 0, 0, NULL FROM distmt_pool p
      UNION ALL SELECT run, pg_column_size(r.*), 0, 0, NULL FROM distmt_replies r
      UNION ALL SELECT run, pg_column_size(x.*), 0, 0, NULL FROM distmt_traffic x
      UNION ALL SELECT run, pg_column_size(d.*), 0, 0, NULL FROM distmt_done d
    ) held GROUP BY unit ORDER BY unit`
  const models = yield* sql<{ run: string; folder: string | null; bytes: number }>`
    SELECT run, folder, pg_column_size(m.*)::float8 AS bytes FROM distmt_models m ORDER BY run`
  const runs = new Map<string, { folder: string | undefined; units: Array<string>; agents: number; episodes: number; bytes: number; idle: number | undefined }>()
  const at = (key: string) => {
    let r = runs.get(key)
    if (r === undefined) runs.set(key, r = { folder: undefined, units: [], agents: 0, episodes: 0, bytes: 0, idle: undefined })
    return r
  }
  for (const m of models) Object.assign(at(m.run), { folder: m.folder ?? undefined, bytes: m.bytes })
  for (const u of units) {
    const r = at(runOf(u.unit))
    r.units.push(u.unit)
    r.agents += u.agents
    r.episodes += u.episodes
    r.bytes += u.bytes
    if (u.idle !== null) r.idle = Math.min(r.idle ?? Infinity, u.idle)
  }
  return [...runs].map(([key, r]): LeftRun => ({ key, ...r })).sort((a, b) => a.key.localeCompare(b.key))
})

/**
 * The runs that `targets` name (run keys, or folders as given to `run --out` or `sweep --out`), or
 * all of them; fails naming the first target that names none, before anything is deleted.
 */
export const chooseRuns = (runs: ReadonlyArray<LeftRun>, targets: ReadonlyArray<string>, all: boolean, force: boolean) =>
  Effect.gen(function*() {
    if (all === (targets.length > 0)) {
      return yield* new ClusterUsageError({ message: "forget: give the runs to forget (their keys or folders, from `distmt cluster runs`), or --all" })
    }
    const chosen: Array<LeftRun> = all ? [...runs] : []
    for (const t of targets) {
      // A folder by any path to it; path.resolve's too, as runs saved before their folders were real paths recorded it.
      const found = runs.filter((r) => r.key === t || (r.folder !== undefined && (r.folder === realFolder(t) || r.folder === path.resolve(t))))
      if (found.length === 0) {
        return yield* new ClusterUsageError({ message: `forget: no run ${JSON.stringify(t)} in the database; \`distmt cluster runs\` lists them (nothing was deleted)` })
      }
      for (const r of found) if (!chosen.includes(r)) chosen.push(r)
    }
    const active = chosen.find((r) => r.idle !== undefined && r.idle < ACTIVE_SECONDS)
    if (active !== undefined && !force) {
      return yield* new ClusterUsageError({
        message: `forget: ${active.key} looks like it is running (an agent of it saved a checkpoint ${ago(active.idle!)}): stop its ` +
          "submission first, or give --force (its agents and server would stop, and a submission still following it would start " +
          "its units over); nothing was deleted"
      })
    }
    return chosen
  })

const ago = (seconds: number): string => `${duration(seconds)} ago`

/** Deletes what the database holds of `run`, under its folder's lock when the folder is here. */
export const forgetRun = (run: LeftRun) =>
  Effect.scoped(Effect.gen(function*() {
    if (run.folder !== undefined && fs.existsSync(run.folder)) {
      yield* lockDir(run.folder, run.folder).pipe(
        Effect.mapError((e) => new ClusterUsageError({ message: `forget: ${run.key} is not forgotten: ${e.message}` }))
      )
    }
    for (const unit of run.units) {
      yield* nextAttempt(unit)
      yield* forgetUnit(unit)
    }
    yield* forgetModel(run.key)
  }))


const table = (runs: ReadonlyArray<LeftRun>): string => {
  const rows = [
    ["run", "folder", "units", "agents", "episodes", "size", "last checkpoint"],
    ...runs.map((r) => [
      r.key,
      r.folder ?? "(unknown)",
      String(r.units.length),
      String(r.agents),
      r.episodes.toLocaleString("en-US"),
      bytes(r.bytes),
      r.idle === undefined ? "-" : ago(r.idle)
    ])
  ]
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  return rows.map((row) => row.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd()).join("\n")
}

/** `effect` against the database of `--db`, its failures as one line each. */
const onDatabase = <A>(flag: Option.Option<string>, effect: (db: string) => Effect.Effect<A, unknown, SqlClient>) =>
  Effect.gen(function*() {
    const db = yield* dbUrlFrom(flag)
    return yield* effect(db).pipe(
      Effect.provide(pgLayer(db)),
      Effect.mapError((e) => e instanceof ClusterUsageError ? e : new ClusterUsageError({ message: describeDbError(db, e) }))
    )
  }).pipe(reportUsageErrors("distmt cluster"))

export const runsCommand = Command.make("runs", { db: connectionFlags.db }, ({ db }) =>
  onDatabase(db, (url) =>
    Effect.gen(function*() {
      const runs = yield* leftRuns
      if (runs.length === 0) return yield* Console.log(`distmt cluster: ${redactUrl(url)} holds no runs`)
      yield* Console.log(
        `distmt cluster: ${redactUrl(url)} holds ${plural(runs.length, "run")}, stopped before they finished ` +
          "(or running now): give the same command again to resume one, or forget it\n\n" + table(runs) + "\n\n" +
          "forget one with `npx distmt cluster forget RUN-OR-FOLDER --db …`, or all with `--all`"
      )
    }))).pipe(Command.withDescription("List the runs whose rows the database still holds: stopped before they finished, or running."))

export const forgetCommand = Command.make("forget", {
  db: connectionFlags.db,
  all: Flag.Boolean("all").pipe(Flag.withDefault(false), Flag.withDescription("forget every run the database holds")),
  force: Flag.Boolean("force").pipe(
    Flag.withDefault(false),
    Flag.withDescription(`forget runs that look like they are running (a checkpoint in the last ${ACTIVE_SECONDS} s) too`)
  ),
  targets: Argument.String("run").pipe(Argument.withDescription("a run's key or its folder, as `distmt cluster runs` lists them"), Argument.variadic())
}, ({ all, db, force, targets }) =>
  onDatabase(db, () =>
    Effect.gen(function*() {
      const chosen = yield* chooseRuns(yield* leftRuns, targets, all, force)
      if (chosen.length === 0) return yield* Console.log("distmt cluster: no runs to forget")
      for (const run of chosen) {
        yield* forgetRun(run)
        yield* Console.log(`distmt cluster: forgot ${run.key} (${run.folder ?? "folder unknown"}): ${plural(run.units.length, "unit")}, ${bytes(run.bytes)}`)
      }
    }))).pipe(Command.withDescription(
  "Delete what the database holds of runs that were stopped (their servers' tables, kept replies and agents' checkpoints); given again, such a run starts over."
))

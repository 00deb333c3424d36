/**
 * `distmt cluster up --runners N --db URL [--port P] [--secret-file F | --insecure] [--tls-…]`
 * `distmt cluster down`
 * `distmt cluster ping …` (pingCommand.ts)
 * `distmt cluster runs`, `distmt cluster forget …` (leftovers.ts)
 *
 * `up` starts N local runner processes in the background on 127.0.0.1:P, P+1, … (logs in
 * .distmt/runner-<i>.log), waits until each has said it is ready and PostgreSQL lists it as a
 * healthy runner, and records them in .distmt/cluster.json (localRunners.ts). Given again while
 * some of them run, it tops the cluster up: it starts only the missing ones, in the dead ones'
 * places, and keeps the others (a run on them goes on). `down` stops them: SIGTERM, on which a
 * runner interrupts its agents (they resume from their checkpoints when the run is given again)
 * and hands its shards back; SIGKILL after 15 s. For trying a cluster on one machine: on several
 * machines, start `distmt runner` on each.
 *
 * Without a secret (flag or $DISTMT_CLUSTER_SECRET) and without --insecure, `up` writes a random one
 * to .distmt/cluster.secret (mode 600), which the runners and any later command run from this folder
 * find there (secret.ts).
 */
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { SqlClient } from "effect/sql/SqlClient"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import { fileURLToPath } from "node:url"
import { DESCRIPTIONS } from "../cli/commands.ts"
import { autoThreads } from "../run/threads/pool.ts"
import {
  checkDatabase,
  ClusterUsageError,
  describeDbError,
  pgLayer,
  plural,
  redactUrl,
  reportUsageErrors,
  RUNNER_UP_SECONDS,
  runnersUp
} from "./database.ts"
import { forgetCommand, runsCommand } from "./leftovers.ts"
import { pingCommand } from "./pingCommand.ts"
import { connectionFlags } from "./flags.ts"
import {
  addressOf,
  type ClusterState,
  isAlive,
  isOurRunner,
  isStopped,
  lastLine,
  logOf,
  nameOf,
  readState,
  type RunnerRecord,
  type RunnerSettings,
  settingsDiffer,
  slotOf,
  slotsToStart,
  STATE_FILE,
  stopAll,
  writeState
} from "./localRunners.ts"
import { checkCheckpointEvery, dbUrlFrom, DEFAULT_PORT, parseClusterName, readTls } from "./runnerCommand.ts"
import { CHECKPOINT_SECONDS } from "./runnerThreads.ts"
import { ensureLocalSecret, loadSecret, STATE_DIR } from "./secret.ts"

const BIN = fileURLToPath(new URL("../../bin/distmt.mjs", import.meta.url))
const MAX_RUNNERS = 16
const READY_TIMEOUT_MS = 90_000
/** How long `down` lets runners hand their shards over (SIGTERM) before it kills them (SIGKILL). */
const DOWN_GRACE_MS = 15_000

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** Waits for the runner's "ready" line, or fails with its last log line if it exits first. */
const waitReady = (r: RunnerRecord) =>
  Effect.gen(function*() {
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (Date.now() < deadline) {
      if (fs.existsSync(r.log) && fs.readFileSync(r.log, "utf8").includes("distmt runner: ready")) return
      if (!isAlive(r.pid)) {
        return yield* new ClusterUsageError({ message: `the runner for ${r.address} stopped: ${lastLine(r.log).replace(/^distmt runner: /, "")}` })
      }
      yield* sleep(200)
    }
    return yield* new ClusterUsageError({ message: `the runner for ${r.address} was not ready after ${READY_TIMEOUT_MS / 1000} s; see ${r.log}` })
  })

/** Waits until PostgreSQL's <cluster name>_runners lists every address as healthy. */
const waitRegistered = (db: string, clusterName: string, addresses: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (Date.now() < deadline) {
      const rows = yield* sql.unsafe<{ address: string }>(`SELECT address FROM ${clusterName}_runners WHERE healthy`)
      const healthy = new Set(rows.map((r) => r.address))
      if (addresses.every((a) => healthy.has(a))) return
      yield* sleep(250)
    }
    return yield* new ClusterUsageError({ message: `the runners did not all register in ${redactUrl(db)} within ${READY_TIMEOUT_MS / 1000} s` })
  }).pipe(
    Effect.provide(pgLayer(db)),
    Effect.catchTag("SqlError", (e) => Effect.fail(new ClusterUsageError({ message: describeDbError(db, e) })))
  )

/**
 * Starts one runner in the background in slot `slot` (its address and log, localRunners.ts). The
 * slot's previous log is kept beside the new one: restarting after an incident, or replacing a
 * runner that died, must not wipe its evidence (the new log starts empty, for `waitReady`).
 */
const spawnRunner = (slot: number, port: number, db: string, passOn: ReadonlyArray<string>): RunnerRecord => {
  const address = addressOf(slot, port)
  const log = logOf(slot)
  if (fs.existsSync(log)) fs.renameSync(log, `${log}.previous`)
  const out = fs.openSync(log, "w")
  // The database URL goes by environment, not argv, so that `ps` does not show its password.
  const child = spawn(process.execPath, [BIN, "runner", "--listen", address, ...passOn], {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, DISTMT_DB: db }
  })
  fs.closeSync(out)
  child.unref()
  return { pid: child.pid!, address, log }
}

/** Whether something listens on 127.0.0.1:`port` already (binding it fails). */
const inUse = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer()
    server.once("error", () => resolve(true))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)))
  })

/**
 * Fails, naming `--port`, when a port the new runners would listen on is taken (another cluster's
 * runner, often). The runner's own line said "choose another with --listen HOST:PORT", a flag that
 * `cluster up` does not have.
 */
const checkPortsFree = (ports: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    for (const port of ports) {
      if (yield* Effect.promise(() => inUse(port))) {
        return yield* new ClusterUsageError({
          message: `--port: 127.0.0.1:${port} is in use (another cluster's runner?); give another first port with --port, ` +
            "the runners take it and the next ones"
        })
      }
    }
  })

/**
 * What a cluster recorded here with runners still up (`alive`) allows `up --runners wanted` with
 * `settings`: fails when the settings differ or more are up than wanted; else the runners to keep.
 */
const checkTopUp = (previous: ClusterState, alive: ReadonlyArray<RunnerRecord>, settings: RunnerSettings, wanted: number) =>
  Effect.gen(function*() {
    const pids = alive.map((r) => r.pid).join(", ")
    if ((previous as Partial<ClusterState>).port === undefined) {
      return yield* new ClusterUsageError({
        message: `the runners up here (pids ${pids}) were started by an older distmt, which did not record their settings: ` +
          "run `npx distmt cluster down` first"
      })
    }
    const differ = settingsDiffer(previous, settings)
    if (differ !== undefined) {
      return yield* new ClusterUsageError({
        message: `the runners up here (pids ${pids}) were started with ${differ}: give the same settings to top the cluster ` +
          "up, or run `npx distmt cluster down` first to start another"
      })
    }
    if (alive.length > wanted) {
      return yield* new ClusterUsageError({
        message: `${plural(alive.length, "runner")} are up here (pids ${pids}), more than --runners ${wanted}: \`cluster up\` ` +
          `starts runners and never stops any; run \`npx distmt cluster down\`, then \`cluster up --runners ${wanted}\``
      })
    }
    return alive
  })

/**
 * Fails when a runner recorded here runs but cannot be counted as up: its process is stopped
 * (SIGSTOP), or it has not renewed its place in PostgreSQL in the last RUNNER_UP_SECONDS (stopped,
 * or hung). Counted as up, it made a top-up say "nothing to start" while the cluster had a runner
 * fewer; and its place cannot be given to a replacement, whose port it still holds.
 */
const checkKeptRunning = (db: string, clusterName: string, kept: ReadonlyArray<RunnerRecord>, port: number) =>
  Effect.gen(function*() {
    const up = yield* runnersUp(clusterName).pipe(
      Effect.provide(pgLayer(db)),
      Effect.mapError((e) => new ClusterUsageError({ message: describeDbError(db, e) }))
    )
    const silent = kept.map((r) => ({
      r,
      why: [
        ...(isStopped(r.pid) ? ["is stopped (SIGSTOP)"] : []),
        ...(up.includes(r.address) ? [] : [`has not renewed its place in PostgreSQL in the last ${RUNNER_UP_SECONDS} s`])
      ]
    })).filter((s) => s.why.length > 0)
    if (silent.length === 0) return
    const named = silent.map(({ r, why }) => `${nameOf(r, port)} (pid ${r.pid}, ${r.address}) ${why.join(" and ")}`).join("; ")
    const pids = silent.map(({ r }) => r.pid).join(" ")
    return yield* new ClusterUsageError({
      message: `${named}: not up, and its place (its port) is still taken; resume it (\`kill -CONT ${pids}\`) ` +
        `or end it (\`kill -9 ${pids}\`), then give \`cluster up\` again`
    })
  })

const up = Command.make(
  "up",
  {
    ...connectionFlags,
    runners: Flag.Int("runners").pipe(
      Flag.withDefault(3),
      Flag.withDescription("how many runner processes (default 3); with some of this folder's runners up, starts only the missing ones")
    ),
    port: Flag.Int("port").pipe(Flag.withDefault(DEFAULT_PORT), Flag.withDescription(`the first runner's port (default ${DEFAULT_PORT}); the others take the next ones`)),
    checkpointEvery: Flag.Finite("checkpoint-every").pipe(
      Flag.withDefault(CHECKPOINT_SECONDS),
      Flag.withDescription(`seconds between an agent's checkpoints inside a task instance (default ${CHECKPOINT_SECONDS})`)
    )
  },
  (flags) =>
    Effect.gen(function*() {
      if (!(flags.runners >= 1 && flags.runners <= MAX_RUNNERS)) {
        return yield* new ClusterUsageError({ message: `--runners: from 1 to ${MAX_RUNNERS}` })
      }
      if (!(flags.port >= 1024 && flags.port + flags.runners - 1 <= 65535)) {
        return yield* new ClusterUsageError({ message: `--port: from 1024 to ${65536 - flags.runners}` })
      }
      yield* checkCheckpointEvery(flags.checkpointEvery) // here, not in N logs
      const secretFile = Option.getOrUndefined(flags.secretFile)
      const secret = yield* loadSecret({ secretFile, insecure: flags.insecure }).pipe(
        Effect.catchTag("ClusterUsageError", () =>
          Effect.andThen(Effect.sync(ensureLocalSecret), loadSecret({ secretFile, insecure: false })))
      )
      const db = yield* dbUrlFrom(flags.db)
      const clusterName = yield* parseClusterName(flags.clusterName)
      yield* readTls(flags.tlsCert, flags.tlsKey, flags.tlsCa) // fail here, not in N logs
      const tls = [flags.tlsCert, flags.tlsKey, flags.tlsCa]
      const settings: RunnerSettings = {
        db: redactUrl(db),
        clusterName,
        port: flags.port,
        secret: secret.source,
        tls: tls.every(Option.isNone) ? "none" : tls.map((f) => Option.getOrElse(f, () => "-")).join(" "),
        checkpointEvery: flags.checkpointEvery
      }

      // A cluster recorded here that still (partly) runs is topped up; one with no runner left
      // constrains nothing.
      const previous = readState()
      const alive = previous?.runners.filter((r) => isOurRunner(r.pid)) ?? []
      const kept = previous !== undefined && alive.length > 0 ? yield* checkTopUp(previous, alive, settings, flags.runners) : []
      // A top-up asks PostgreSQL whether the runners kept are up; a new cluster checks its ports first
      // (a taken port is named whatever the database), then the database, below.
      if (kept.length > 0) {
        yield* checkDatabase(db)
        yield* checkKeptRunning(db, clusterName, kept, flags.port)
      }
      const keptNames = kept.map((r) => `${nameOf(r, flags.port)} pid ${r.pid}`).join(", ")
      const gone = new Map((kept.length > 0 ? previous!.runners.filter((r) => !kept.includes(r)) : []).map((r) => [slotOf(r, flags.port), r]))
      if (kept.length === flags.runners) {
        // Runners recorded here that died, and that --runners no longer asks for, are forgotten.
        if (gone.size > 0) writeState({ ...previous!, runners: kept })
        return yield* Console.log(
          `distmt cluster: ${plural(kept.length, "runner")} up already (${keptNames}); nothing to start` +
            [...gone.values()].map((r) => `; ${nameOf(r, flags.port)} (pid ${r.pid}) is gone and not needed for --runners ${flags.runners}`).join("")
        )
      }
      const slots = slotsToStart(kept, flags.port, flags.runners)
      yield* checkPortsFree(slots.map((slot) => flags.port + slot))
      if (kept.length === 0) yield* checkDatabase(db)

      const passOn = [
        ...(secretFile ? ["--secret-file", secretFile] : []),
        ...(flags.insecure ? ["--insecure"] : []),
        "--cluster-name",
        clusterName,
        ...(Option.isSome(flags.tlsCert) ? ["--tls-cert", flags.tlsCert.value] : []),
        ...(Option.isSome(flags.tlsKey) ? ["--tls-key", flags.tlsKey.value] : []),
        ...(Option.isSome(flags.tlsCa) ? ["--tls-ca", flags.tlsCa.value] : []),
        // The runners share this machine's cores: their learner threads together take one per core.
        "--threads",
        String(Math.max(1, Math.floor(autoThreads() / flags.runners))),
        "--checkpoint-every",
        String(flags.checkpointEvery)
      ]
      fs.mkdirSync(STATE_DIR, { recursive: true })
      const started = slots.map((slot) => spawnRunner(slot, flags.port, db, passOn))
      const bySlot = (a: RunnerRecord, b: RunnerRecord) => slotOf(a, flags.port) - slotOf(b, flags.port)
      const state: ClusterState = {
        ...settings,
        startedAt: kept.length > 0 ? previous!.startedAt : new Date().toISOString(),
        runners: [...kept, ...started].sort(bySlot)
      }
      writeState(state)
      yield* Console.log(
        `distmt cluster: ${kept.length > 0 ? `${plural(kept.length, "runner")} up (${keptNames}); ` : ""}` +
          `starting ${plural(started.length, "runner")} (secret: ${secret.source})…`
      )
      const ready = Effect.gen(function*() {
        yield* Effect.forEach(started, waitReady, { concurrency: "unbounded", discard: true })
        yield* waitRegistered(db, clusterName, started.map((r) => r.address))
      })
      yield* ready.pipe(
        // A runner that did not come up: stop the others just started rather than leave half a
        // cluster. A cluster topped up is left as it was: those kept go on running.
        Effect.tapError(() =>
          Effect.promise(async () => {
            await stopAll(started.filter((r) => isOurRunner(r.pid)), 5_000)
            if (kept.length > 0) writeState(previous!)
            else fs.rmSync(STATE_FILE, { force: true })
          })
        )
      )
      const what = (r: RunnerRecord) => {
        const dead = gone.get(slotOf(r, flags.port))
        return dead === undefined ? `${nameOf(r, flags.port)} added` : `${nameOf(r, flags.port)} replacing pid ${dead.pid} (gone)`
      }
      for (const r of started) {
        yield* Console.log(`  ${nameOf(r, flags.port)} ${r.address}  pid ${r.pid}  log ${r.log}${gone.has(slotOf(r, flags.port)) ? "  (a replacement)" : ""}`)
      }
      yield* Console.log(
        kept.length === 0
          ? `distmt cluster: up (${STATE_FILE}); stop it with \`npx distmt cluster down\``
          : `distmt cluster: ${plural(flags.runners, "runner")} up, started ${started.length}: ${started.map(what).join(", ")} (${STATE_FILE})`
      )
    }).pipe(reportClusterErrors)
).pipe(
  Command.withDescription(
    "Start local runners in the background and wait until they are registered; with some of this folder's runners up, start only the missing ones."
  )
)

const down = Command.make("down", {}, () =>
  Effect.gen(function*() {
    const state = readState()
    if (state === undefined) return yield* Console.log(`distmt cluster: no cluster recorded in ${STATE_FILE}; nothing to stop`)
    const running = state.runners.filter((r) => isOurRunner(r.pid))
    const gone = state.runners.length - running.length
    const named = (rs: ReadonlyArray<RunnerRecord>) => rs.map((r) => `${r.address} (pid ${r.pid})`).join(", ")
    const start = Date.now()
    const killed = yield* Effect.promise(() =>
      stopAll(running, DOWN_GRACE_MS, {
        // A runner stops in well under a second (its agents are interrupted, AgentEntity.ts): say
        // what is taking longer rather than go silent until the SIGKILL.
        quietMs: 3_000,
        tell: (left, killInMs) =>
          console.log(
            `distmt cluster: waiting for ${named(left)} to hand ${left.length === 1 ? "its" : "their"} shards over ` +
              `(SIGTERM sent; SIGKILL in ${Math.ceil(killInMs / 1000)} s)…`
          )
      })
    )
    fs.rmSync(STATE_FILE, { force: true })
    const seconds = ((Date.now() - start) / 1000).toFixed(1)
    yield* Console.log(
      running.length === 0
        ? `distmt cluster: the ${plural(gone, "runner")} recorded here had already stopped; nothing to stop`
        : `distmt cluster: stopped ${plural(running.length, "runner")} ` +
          (killed.length === 0
            ? `on SIGTERM in ${seconds} s`
            : `in ${seconds} s: ${named(killed)} did not stop within ${DOWN_GRACE_MS / 1000} s of SIGTERM and ` +
              `${killed.length === 1 ? "was" : "were"} killed (SIGKILL); see ${killed.length === 1 ? "its log" : "their logs"} in ${STATE_DIR}/`) +
          (gone > 0 ? ` (${gone} had already stopped)` : "")
    )
  }).pipe(reportClusterErrors)).pipe(Command.withDescription(
  "Stop the runners started by `cluster up`: SIGTERM (they interrupt their agents and hand their shards over), SIGKILL after 15 s."
))

const reportClusterErrors = reportUsageErrors("distmt cluster")

export const clusterCommand = Command.make("cluster").pipe(
  Command.withDescription(DESCRIPTIONS.cluster),
  Command.withSubcommands([up, down, pingCommand, runsCommand, forgetCommand])
)

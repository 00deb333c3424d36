/**
 * `distmt cluster up --runners N --db URL [--port P] [--secret-file F | --insecure] [--tls-…]`
 * `distmt cluster down`
 * `distmt cluster ping …` (pingCommand.ts)
 *
 * `up` starts N local runner processes in the background on 127.0.0.1:P, P+1, … (logs in
 * .distmt/runner-<i>.log), waits until each has said it is ready and PostgreSQL lists it as a
 * healthy runner, and records them in .distmt/cluster.json; `down` stops them (SIGTERM, so they hand
 * their shards back; SIGKILL after 15 s). For trying a cluster on one machine: on several machines,
 * start `distmt runner` on each.
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
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { autoThreads } from "../run/threads/pool.ts"
import { checkDatabase, ClusterUsageError, describeDbError, pgLayer, redactUrl } from "./database.ts"
import { pingCommand } from "./pingCommand.ts"
import { connectionFlags } from "./flags.ts"
import { dbUrlFrom, DEFAULT_PORT, parseClusterName, readTls } from "./runnerCommand.ts"
import { CHECKPOINT_SECONDS } from "./runnerThreads.ts"
import { ensureLocalSecret, loadSecret, STATE_DIR } from "./secret.ts"

export const STATE_FILE = path.join(STATE_DIR, "cluster.json")
const BIN = fileURLToPath(new URL("../../bin/distmt.mjs", import.meta.url))
const MAX_RUNNERS = 16
const READY_TIMEOUT_MS = 90_000

interface RunnerRecord {
  readonly pid: number
  readonly address: string
  readonly log: string
}
interface ClusterState {
  readonly startedAt: string
  readonly db: string
  readonly clusterName: string
  readonly runners: ReadonlyArray<RunnerRecord>
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Only signal a process that is one of our runners (the pid may have been reused since `up`). */
const isOurRunner = (pid: number) => {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
    return cmdline.some((a) => a.endsWith("distmt.mjs")) && cmdline.includes("runner")
  } catch {
    return isAlive(pid) // no /proc (macOS): trust the state file
  }
}

const readState = (): ClusterState | undefined => {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, "utf8")) as ClusterState
  } catch {
    return undefined
  }
}

const lastLine = (file: string) => {
  try {
    const lines = fs.readFileSync(file, "utf8").trim().split("\n")
    return lines[lines.length - 1] ?? ""
  } catch {
    return ""
  }
}

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

const up = Command.make(
  "up",
  {
    ...connectionFlags,
    runners: Flag.Int("runners").pipe(Flag.withDefault(3), Flag.withDescription("how many runner processes (default 3)")),
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
      const previous = readState()
      const alive = previous?.runners.filter((r) => isOurRunner(r.pid)) ?? []
      if (alive.length > 0) {
        return yield* new ClusterUsageError({
          message: `a cluster is already up here (pids ${alive.map((r) => r.pid).join(", ")}); run \`npx distmt cluster down\` first`
        })
      }
      const secretFile = Option.getOrUndefined(flags.secretFile)
      const secret = yield* loadSecret({ secretFile, insecure: flags.insecure }).pipe(
        Effect.catchTag("ClusterUsageError", () =>
          Effect.andThen(Effect.sync(ensureLocalSecret), loadSecret({ secretFile, insecure: false })))
      )
      const db = yield* dbUrlFrom(flags.db)
      const clusterName = yield* parseClusterName(flags.clusterName)
      yield* readTls(flags.tlsCert, flags.tlsKey, flags.tlsCa) // fail here, not in N logs
      yield* checkDatabase(db)

      fs.mkdirSync(STATE_DIR, { recursive: true })
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
      const runners: Array<RunnerRecord> = []
      for (let i = 0; i < flags.runners; i++) {
        const address = `127.0.0.1:${flags.port + i}`
        const log = path.join(STATE_DIR, `runner-${i}.log`)
        // The last cluster's log is kept beside the new one: restarting after an incident must not
        // wipe its evidence (the new log starts empty, for the readiness check below).
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
        runners.push({ pid: child.pid!, address, log })
      }
      const state: ClusterState = { startedAt: new Date().toISOString(), db: redactUrl(db), clusterName, runners }
      fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2) + "\n")
      yield* Console.log(`distmt cluster: starting ${runners.length} runner${runners.length === 1 ? "" : "s"} (secret: ${secret.source})…`)
      const ready = Effect.gen(function*() {
        yield* Effect.forEach(runners, waitReady, { concurrency: "unbounded", discard: true })
        yield* waitRegistered(db, clusterName, runners.map((r) => r.address))
      })
      yield* ready.pipe(
        // A runner that did not come up: stop the others rather than leave half a cluster.
        Effect.tapError(() => Effect.promise(() => stopAll(runners.filter((r) => isOurRunner(r.pid)), 5_000)))
      )
      for (const r of runners) yield* Console.log(`  runner ${r.address}  pid ${r.pid}  log ${r.log}`)
      yield* Console.log(`distmt cluster: up (${STATE_FILE}); stop it with \`npx distmt cluster down\``)
    }).pipe(reportClusterErrors)
).pipe(Command.withDescription("Start local runners in the background and wait until they are registered."))

/**
 * SIGTERM, then SIGKILL whatever is left after `graceMs`; resolves to how many needed SIGKILL.
 * Runners already gone (killed, crashed) are skipped.
 */
const stopAll = (ours: ReadonlyArray<RunnerRecord>, graceMs: number): Promise<number> => {
  for (const r of ours) process.kill(r.pid, "SIGTERM")
  const deadline = Date.now() + graceMs
  return new Promise((resolve) => {
    const poll = () => {
      const left = ours.filter((r) => isAlive(r.pid))
      if (left.length === 0) return resolve(0)
      if (Date.now() > deadline) {
        for (const r of left) process.kill(r.pid, "SIGKILL")
        return resolve(left.length)
      }
      setTimeout(poll, 100)
    }
    poll()
  })
}

const down = Command.make("down", {}, () =>
  Effect.gen(function*() {
    const state = readState()
    if (state === undefined) return yield* Console.log(`distmt cluster: no cluster recorded in ${STATE_FILE}; nothing to stop`)
    const running = state.runners.filter((r) => isOurRunner(r.pid))
    const killed = yield* Effect.promise(() => stopAll(running, 15_000))
    fs.rmSync(STATE_FILE, { force: true })
    const gone = state.runners.length - running.length
    yield* Console.log(
      `distmt cluster: stopped ${running.length} runner${running.length === 1 ? "" : "s"}` +
        (gone > 0 ? ` (${gone} had already stopped)` : "") +
        (killed > 0 ? ` (${killed} did not stop within 15 s and were killed)` : "")
    )
  }).pipe(reportClusterErrors)).pipe(Command.withDescription("Stop the runners started by `cluster up`."))

function reportClusterErrors<A, R>(effect: Effect.Effect<A, ClusterUsageError, R>) {
  return effect.pipe(
    Effect.catchTag("ClusterUsageError", (e) =>
      Effect.andThen(Console.error(`distmt cluster: ${e.message}`), Effect.sync(() => {
        process.exitCode = 1
      })))
  )
}

export const clusterCommand = Command.make("cluster").pipe(
  Command.withDescription("Local runners for trying the cluster on one machine, and a round-trip check (docs/cluster.md)."),
  Command.withSubcommands([up, down, pingCommand])
)

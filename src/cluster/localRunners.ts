/**
 * The runners `distmt cluster up` starts on this machine, as .distmt/cluster.json records them:
 * the settings they were started with, which of them still run, what a top-up must start, and
 * stopping them (clusterCommand.ts holds the commands).
 *
 * Runner i of a cluster is `runner-<i>`: it listens on the cluster's port + i and logs to
 * .distmt/runner-<i>.log. A runner that died leaves its slot free, and a top-up starts its
 * replacement there (the same address and log name; the dead one's log is kept as `.previous`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { STATE_DIR } from "./secret.ts"

export const STATE_FILE = path.join(STATE_DIR, "cluster.json")

export interface RunnerRecord {
  readonly pid: number
  readonly address: string
  readonly log: string
}

/**
 * What every runner of a local cluster was started with and must share: a runner started later
 * with other values would join another cluster, or one whose messages it cannot check.
 */
export interface RunnerSettings {
  /** The database URL, its password hidden (so a different password alone is not seen). */
  readonly db: string
  readonly clusterName: string
  /** The first runner's port; runner i listens on port + i. */
  readonly port: number
  /** Where the secret came from (`loadSecret`'s source), not the secret. */
  readonly secret: string
  /** The TLS files, "CERT KEY CA", or "none". */
  readonly tls: string
  readonly checkpointEvery: number
}

/** What .distmt/cluster.json holds (one written before the settings were recorded has none of them). */
export interface ClusterState extends RunnerSettings {
  readonly startedAt: string
  readonly runners: ReadonlyArray<RunnerRecord>
}

/**
 * Whether process `pid` is running. One that has exited but is not reaped yet (a zombie) is not:
 * once `cluster up` has exited the runners' parent is the system's init, which may reap late
 * (seen: 2 s in a VM, which `down` took for 2 s of a runner's shutdown).
 */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const state = stateOf(pid)
  return state === undefined ? process.platform !== "linux" : state !== "Z" // no /proc (macOS): signal 0 is all there is to ask
}

/** The state letter of process `pid` in /proc (R, S, T, Z…); undefined without /proc or the process. */
const stateOf = (pid: number): string | undefined => {
  try {
    // "pid (command) S …": the state letter follows the command, which may itself hold ") ".
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat[stat.lastIndexOf(")") + 2]
  } catch {
    return undefined
  }
}

/** Whether process `pid` is stopped (SIGSTOP, Ctrl-Z, a debugger): alive, but running nothing. */
export const isStopped = (pid: number): boolean => {
  const state = stateOf(pid)
  return state === "T" || state === "t"
}

/** Only signal a process that is one of our runners (the pid may have been reused since `up`). */
export const isOurRunner = (pid: number): boolean => {
  if (!isAlive(pid)) return false
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
    return cmdline.some((a) => a.endsWith("distmt.mjs")) && cmdline.includes("runner")
  } catch {
    return process.platform !== "linux" // no /proc (macOS): trust the state file
  }
}

export const readState = (): ClusterState | undefined => {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, "utf8")) as ClusterState
  } catch {
    return undefined
  }
}

export const writeState = (state: ClusterState): void => {
  fs.mkdirSync(STATE_DIR, { recursive: true })
  fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2) + "\n")
}

export const addressOf = (slot: number, port: number) => `127.0.0.1:${port + slot}`
export const logOf = (slot: number) => path.join(STATE_DIR, `runner-${slot}.log`)

/** The slot of a recorded runner: its port's offset from the cluster's. */
export const slotOf = (r: RunnerRecord, port: number): number => Number(r.address.slice(r.address.lastIndexOf(":") + 1)) - port

export const nameOf = (r: RunnerRecord, port: number): string => `runner-${slotOf(r, port)}`

/** The slots to start so that `alive` runners become `wanted`: the free slots, lowest first (the dead runners' first). */
export const slotsToStart = (alive: ReadonlyArray<RunnerRecord>, port: number, wanted: number): Array<number> => {
  const taken = new Set(alive.map((r) => slotOf(r, port)))
  const slots: Array<number> = []
  for (let slot = 0; taken.size + slots.length < wanted; slot++) {
    if (!taken.has(slot)) slots.push(slot)
  }
  return slots
}

/**
 * The first setting in which `recorded` (the running runners') and `now` (this command's) differ,
 * as a phrase naming both and the flag; undefined when they agree.
 */
export const settingsDiffer = (recorded: RunnerSettings, now: RunnerSettings): string | undefined => {
  const checks: ReadonlyArray<[keyof RunnerSettings, string]> = [
    ["db", "the database (--db or $DISTMT_DB)"],
    ["clusterName", "--cluster-name"],
    ["port", "--port"],
    ["secret", "the secret's source (--secret-file, $DISTMT_CLUSTER_SECRET, .distmt/cluster.secret or --insecure)"],
    ["tls", "the TLS files (--tls-cert, --tls-key, --tls-ca)"],
    ["checkpointEvery", "--checkpoint-every"]
  ]
  for (const [key, what] of checks) {
    if (recorded[key] !== now[key]) return `${what} ${JSON.stringify(recorded[key])}, not ${JSON.stringify(now[key])}`
  }
  return undefined
}

/** The last line of a log, for the message of a runner that stopped. */
export const lastLine = (file: string) => {
  try {
    const lines = fs.readFileSync(file, "utf8").trim().split("\n")
    return lines[lines.length - 1] ?? ""
  } catch {
    return ""
  }
}

/**
 * SIGTERM, then SIGKILL whatever is left after `graceMs`; resolves to the runners that needed
 * SIGKILL. `waiting` is told, once, of the runners still running after `quietMs`, so that the
 * user hears what the command waits for.
 */
export const stopAll = (
  ours: ReadonlyArray<RunnerRecord>,
  graceMs: number,
  waiting?: { readonly quietMs: number; readonly tell: (left: ReadonlyArray<RunnerRecord>, killInMs: number) => void }
): Promise<ReadonlyArray<RunnerRecord>> => {
  for (const r of ours) process.kill(r.pid, "SIGTERM")
  const start = Date.now()
  let told = false
  return new Promise((resolve) => {
    const poll = () => {
      const left = ours.filter((r) => isAlive(r.pid))
      if (left.length === 0) return resolve([])
      const elapsed = Date.now() - start
      if (elapsed > graceMs) {
        for (const r of left) process.kill(r.pid, "SIGKILL")
        return resolve(left)
      }
      if (waiting !== undefined && !told && elapsed > waiting.quietMs) {
        told = true
        waiting.tell(left, graceMs - elapsed)
      }
      setTimeout(poll, 100)
    }
    poll()
  })
}

/**
 * Helpers for the tests that start real runner processes against a real PostgreSQL
 * ($DISTMT_TEST_DB, from tools/postgres.sh). Everything listens on 127.0.0.1 only. Each test file
 * uses its own cluster name (table prefix), so it cannot meet anyone else's runners in a shared
 * database, and drops its tables at the end.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { it } from "vitest"
import { VERIFIERS_TABLE, VERSIONS_TABLE } from "../src/cluster/peers.ts"

export const root = path.resolve(import.meta.dirname, "..")
const BIN = path.join(root, "bin", "distmt.mjs")

export const TEST_DB = process.env.DISTMT_TEST_DB
export const IN_CI = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false"

/**
 * Skip on a developer machine without PostgreSQL, saying so for the tests of `file` (its name
 * without .test.ts); under CI a missing database is a failure.
 */
export const clusterTestsMode = (file: string): "run" | "skip" | "fail" => {
  const mode = TEST_DB ? "run" : IN_CI ? "fail" : "skip"
  if (mode === "skip") {
    console.warn(`${file} tests SKIPPED: DISTMT_TEST_DB is not set (run \`sudo tools/postgres.sh\` and export the URL it prints)`)
  }
  return mode
}

/**
 * In mode "fail" (CI without a database), defines one failing test that says why and returns true,
 * for the calling `describe` to define nothing else: `if (failsWithoutDatabase(mode)) return`.
 */
export const failsWithoutDatabase = (mode: ReturnType<typeof clusterTestsMode>): boolean => {
  if (mode !== "fail") return false
  it("has a PostgreSQL to test against", () => {
    throw new Error("CI=true but DISTMT_TEST_DB is not set: .ci/run could not provide PostgreSQL (see tools/postgres.sh's message above)")
  })
  return true
}

/**
 * Env for CLI processes: no cluster secret, no DISTMT_DB and no HOST/PORT (which Effect's own
 * config would read) unless a test adds them.
 */
export const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  for (const k of ["DISTMT_CLUSTER_SECRET", "DISTMT_DB", "HOST", "PORT"]) delete env[k]
  return { ...env, ...extra }
}

/** A scratch folder as the processes' cwd, so that no .distmt/cluster.secret of the repo is found. */
export const scratch = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-cluster-test-"))

export interface CliResult {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `distmt ...args` on this Node (the pinned one, under `npm test`), bounded in time. */
export const cli = (args: ReadonlyArray<string>, options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }) =>
  new Promise<CliResult>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000)
    child.on("close", (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })

/** A free port on 127.0.0.1 (asked of the OS, then released). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** Whether `port` on 127.0.0.1 can be listened on now. */
const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/**
 * The first of `n` consecutive free ports on 127.0.0.1 (for `cluster up --port P`, whose runners
 * take P, P+1, …), looked for from `from` up, each test process from its own place in the range.
 */
export const freePortRange = async (n: number, from = 47500): Promise<number> => {
  for (let base = from + (process.pid % 50) * 20; base + n <= 65535; base += n) {
    const free = await Promise.all(Array.from({ length: n }, (_, i) => isFree(base + i)))
    if (free.every(Boolean)) return base
  }
  throw new Error(`no ${n} consecutive free ports from ${from}`)
}

export interface Runner {
  readonly child: ChildProcess
  /** Everything the runner printed so far (stdout and stderr). */
  readonly output: () => string
  /** SIGTERM, then SIGKILL after 15 s; resolves when it has exited. */
  readonly stop: () => Promise<void>
}

/** Starts `distmt runner ...args` and waits for its "ready" line (or fails with what it printed). */
export const startRunner = async (args: ReadonlyArray<string>, options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Runner> => {
  const child = spawn(process.execPath, [BIN, "runner", ...args], { cwd: options.cwd, env: options.env })
  let output = ""
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
    await exited
    clearTimeout(timer)
  }
  const deadline = Date.now() + 90_000
  while (!output.includes("distmt runner: ready")) {
    if (child.exitCode !== null) throw new Error(`the runner exited (${child.exitCode}): ${output}`)
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`the runner was not ready after 90 s: ${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { child, output: () => output, stop }
}

/** Starts runners with `start` until `count` of `runners` are alive (after a test that killed or stopped some). */
export const topUp = async (runners: Array<Runner>, count: number, start: () => Promise<Runner>): Promise<void> => {
  const alive = runners.filter((r) => r.child.exitCode === null && r.child.signalCode === null).length
  for (let i = alive; i < count; i++) runners.push(await start())
}

/** Starts `distmt runner` for cluster `name` on `db`, listening on a free port of 127.0.0.1, `flags` added. */
export const startRunnerOn = async (
  db: string,
  name: string,
  options: { cwd: string; env: NodeJS.ProcessEnv },
  ...flags: ReadonlyArray<string>
): Promise<Runner> => startRunner(["--db", db, "--cluster-name", name, "--listen", `127.0.0.1:${await freePort()}`, ...flags], options)

/** Drops the tables of cluster `name` and forgets its secret's verifier and its runners' versions (its runners must be stopped). */
export const dropClusterTables = (db: string, name: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_name LIKE ${name.replace(/_/g, "\\_") + "\\_%"}`
    for (const r of rows) yield* sql.unsafe(`DROP TABLE IF EXISTS "${r.table_name}" CASCADE`)
    for (const table of [VERIFIERS_TABLE, VERSIONS_TABLE]) {
      const exists = yield* sql<{ t: string | null }>`SELECT to_regclass(${table})::text AS t`
      if (exists[0].t !== null) yield* sql`DELETE FROM ${sql(table)} WHERE cluster = ${name}`
    }
    return rows.length
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(db) })), Effect.runPromise)

/** Stops every runner of a test file, then drops its cluster's tables (its `afterAll`). */
export const stopAndDrop = async (runners: ReadonlyArray<Runner>, db: string, name: string): Promise<void> => {
  await Promise.all(runners.map((r) => r.stop()))
  await dropClusterTables(db, name)
}

/** The database URL with another password (for the wrong-login test). */
export const withPassword = (db: string, password: string) => {
  const u = new URL(db)
  u.password = password
  return u.toString()
}

/** Rows of a read-only query (the tests look at what the cluster wrote). */
export const queryRows = <A extends object>(db: string, text: string, params: ReadonlyArray<unknown> = []) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    return yield* sql.unsafe<A>(text, params)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(db) })), Effect.runPromise)

export const hasOpenssl = spawnSync("openssl", ["version"]).status === 0

/** A CA, a certificate from it for 127.0.0.1, and a certificate from another CA (docs/cluster.md). */
export const makeCertificates = (dir: string) => {
  const run = (...args: Array<string>) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" })
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`)
  }
  fs.writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
  for (const ca of ["ca", "evil-ca"]) run("req", "-x509", ...ec, "-keyout", `${ca}.key`, "-out", `${ca}.crt`, "-days", "2", "-subj", `/CN=${ca}`)
  for (const [name, ca] of [["runner", "ca"], ["intruder", "evil-ca"]] as const) {
    run("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`)
    run("x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", "ext.cnf")
  }
}

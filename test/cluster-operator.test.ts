/**
 * What an operator is told when the cluster is not what a submission expects:
 * - its cluster loses every runner (`cluster down` in the middle of a run, or all of them dead): it
 *   says so, waits, and says so again when runners are back; the run then goes on to its end. It
 *   used to wait silent: its progress line stopped, and every 2 minutes it said that no agent's
 *   checkpoint had changed, as if the agents had stalled;
 * - its secret is not the runners' because it came from somewhere else than the user thinks (a
 *   stale .distmt/cluster.secret in the folder), or it has none (--insecure): the refusal says so;
 * - a runner up speaks another protocol version (another distmt): the submission stops at once in
 *   one line naming both versions, where its messages used to fail to decode and be retried for
 *   ever; and a runner that joins such runners warns.
 *
 * Needs $DISTMT_TEST_DB (see test/cluster-infra.test.ts).
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PROTOCOL_VERSION } from "../src/coordinator/protocol.ts"
import { VERSIONS_TABLE } from "../src/cluster/peers.ts"
import {
  cleanEnv,
  cli,
  clusterTestsMode,
  failsWithoutDatabase,
  queryRows,
  type Runner,
  root,
  scratch,
  startRunnerOn,
  stopAndDrop,
  TEST_DB
} from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-operator")
const NAME = `oper_${process.pid}`
const SPEC = path.join(root, "test", "fixtures", "cluster-long.spec.ts")

/** Resolves once `read()` matches `pattern`, or fails after `ms` with what it read. */
const waitFor = async (read: () => string, pattern: RegExp, ms: number): Promise<void> => {
  const deadline = Date.now() + ms
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms / 1000} s in:\n${read()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe.skipIf(mode === "skip")("what a submission tells the operator", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  const env = cleanEnv({ DISTMT_CLUSTER_SECRET: randomBytes(24).toString("hex") })
  const runners: Array<Runner> = []
  const start = async () => {
    const r = await startRunnerOn(db, NAME, { cwd, env }, "--threads", "1", "--checkpoint-every", "0.5")
    runners.push(r)
    return r
  }

  beforeAll(start, 120_000)

  afterAll(() => stopAndDrop(runners, db, NAME), 60_000)

  it("a secret refused: names where this process's came from", async () => {
    const folder = path.join(cwd, "stale")
    fs.mkdirSync(path.join(folder, ".distmt"), { recursive: true })
    fs.writeFileSync(path.join(folder, ".distmt", "cluster.secret"), randomBytes(24).toString("hex") + "\n", { mode: 0o600 })
    const { DISTMT_CLUSTER_SECRET: _, ...noSecret } = env
    const r = await cli(["run", SPEC, "--cluster", "--db", db, "--cluster-name", NAME, "--out", "refused"], { cwd: folder, env: noSecret, timeoutMs: 120_000 })
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toMatch(
      /^the cluster refused this process's messages \(.*bad signature.*\): this process's secret is from \.distmt\/cluster\.secret; give it the runners' \(read from --secret-file F, else \$DISTMT_CLUSTER_SECRET, else \.distmt\/cluster\.secret\)$/
    )
  }, 150_000)

  it("--insecure against runners with a secret: says it has none", async () => {
    const r = await cli(["run", SPEC, "--cluster", "--insecure", "--db", db, "--cluster-name", NAME, "--out", "unsigned"], { cwd, env, timeoutMs: 120_000 })
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toMatch(/^the cluster refused this process's messages \(.*unsigned.*\): this process has no secret \(--insecure\); give it the runners' \(/)
  }, 150_000)

  it("no runner left: says that none is up, waits, says when one is back, and ends", async () => {
    const first = runners[0]
    const child = spawn(process.execPath, [path.join(root, "bin", "distmt.mjs"), "run", SPEC, "--cluster", "--db", db, "--cluster-name", NAME, "--out", "out"], {
      cwd,
      env
    })
    let stderr = ""
    let output = "" // both streams: the progress line's among them
    child.stderr.on("data", (d) => (stderr += d, output += d))
    child.stdout.on("data", (d) => (output += d))
    const ended = new Promise<number | null>((resolve) => child.on("close", resolve))
    try {
      // Its first agents have checkpoints: the run is under way.
      await waitFor(() => output, /distmt · seed 0 \(1\/4\): \d+\/20 task instances, [1-9]/, 90_000)
      await first.stop() // SIGTERM: it leaves the cluster's runners at once
      await waitFor(() => stderr, new RegExp(`no runner is up in cluster "${NAME}" any more`), 20_000)
      expect(stderr).not.toMatch(/runners are up again/)
      await start()
      await waitFor(() => stderr, new RegExp(`runners are up again in cluster "${NAME}" \\(127\\.0\\.0\\.1:\\d+\\); the run goes on`), 20_000)
      expect(await ended).toBe(0)
      expect(fs.existsSync(path.join(cwd, "out", "results.csv"))).toBe(true)
      // Said once each way.
      expect(stderr.match(/no runner is up in cluster/g)).toHaveLength(1)
    } finally {
      child.kill("SIGKILL")
    }
  }, 240_000)
})

describe.skipIf(mode === "skip")("runners of another protocol version", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const name = `${NAME}_ver`
  const cwd = scratch()
  const env = cleanEnv()
  const runners: Array<Runner> = []

  afterAll(() => stopAndDrop(runners, db, name), 60_000)

  it("a submission stops in one line naming both versions and what to do; a runner joining them warns", async () => {
    // A runner of another distmt as PostgreSQL lists it: its place renewed now (so up), not healthy
    // (so that the real runner below gives it no shard), and no version recorded.
    const other = "127.0.0.1:1"
    await queryRows(db, `CREATE TABLE ${name}_runners (machine_id SERIAL PRIMARY KEY, address VARCHAR(255) NOT NULL, runner TEXT NOT NULL,
      healthy BOOLEAN NOT NULL DEFAULT TRUE, last_heartbeat TIMESTAMP NOT NULL DEFAULT NOW(), UNIQUE(address))`)
    await queryRows(db, `INSERT INTO ${name}_runners (address, runner, healthy) VALUES ($1, $2, false)`, [
      other,
      JSON.stringify({ address: { host: "127.0.0.1", port: 1 }, groups: ["default"], weight: 1 })
    ])
    const submit = (out: string) =>
      cli(["run", SPEC, "--cluster", "--insecure", "--db", db, "--cluster-name", name, "--out", out], { cwd, env, timeoutMs: 120_000 })
    const todo = "run one distmt everywhere: upgrade the runners to this one and restart them (`distmt cluster down` then `cluster up`, " +
      "or SIGTERM each `distmt runner` and start it again), or submit with the runners' distmt"

    const unversioned = await submit("a")
    expect(unversioned.status).toBe(1)
    expect(unversioned.stderr.trim()).toBe(
      `this distmt speaks protocol version ${PROTOCOL_VERSION}, but in cluster "${name}" ${other} speaks no version ` +
        `(a distmt from before versions were recorded): ${todo}`
    )

    // A runner of this distmt joining it records its version, and warns.
    const runner = await startRunnerOn(db, name, { cwd, env }, "--insecure", "--threads", "1")
    runners.push(runner)
    expect(runner.output()).toContain(
      `distmt runner: WARNING this runner speaks protocol version ${PROTOCOL_VERSION}, but in cluster "${name}" ${other} speaks no version ` +
        "(a distmt from before versions were recorded): submissions to the cluster are refused until every runner runs the same distmt"
    )
    const recorded = await queryRows<{ address: string; protocol: number }>(db, `SELECT address, protocol FROM ${VERSIONS_TABLE} WHERE cluster = $1`, [name])
    expect(recorded).toEqual([{ address: expect.not.stringMatching(other), protocol: PROTOCOL_VERSION }])

    // The other runner of a newer distmt: named with its version, the runner of this one not.
    await queryRows(db, `INSERT INTO ${VERSIONS_TABLE} (cluster, address, protocol) VALUES ($1, $2, $3)`, [name, other, PROTOCOL_VERSION + 1])
    const newer = await submit("b")
    expect(newer.status).toBe(1)
    expect(newer.stderr.trim()).toBe(
      `this distmt speaks protocol version ${PROTOCOL_VERSION}, but in cluster "${name}" ${other} speaks version ${PROTOCOL_VERSION + 1}: ${todo}`
    )

    // Gone (its place no longer renewed), it no longer stops a submission: the run ends.
    await queryRows(db, `UPDATE ${name}_runners SET last_heartbeat = now() - interval '1 minute' WHERE address = $1`, [other])
    const run = await submit("c")
    expect(run.status, run.stderr).toBe(0)
    expect(fs.existsSync(path.join(cwd, "c", "results.csv"))).toBe(true)
  }, 240_000)
})

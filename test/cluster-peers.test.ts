/**
 * A runner is admitted to its cluster only with the secret of the runners of its cluster name that
 * are up (src/cluster/peers.ts), checked before it registers: a runner with another secret, or
 * --insecure beside secured runners (and the other way round), exits with one line saying what to
 * do, never appears in the runners table and never holds a shard. Once every runner of the name has
 * stopped, a new secret is accepted and becomes the reference. Seen before the check: such a runner
 * joined silently, took shards, and a run stopped on refused messages.
 *
 * Needs $DISTMT_TEST_DB (see test/cluster-infra.test.ts).
 */
import { randomBytes } from "node:crypto"
import { afterAll, describe, expect, it } from "vitest"
import {
  cleanEnv,
  cli,
  type CliResult,
  clusterTestsMode,
  dropClusterTables,
  failsWithoutDatabase,
  freePort,
  queryRows,
  type Runner,
  scratch,
  startRunner,
  TEST_DB
} from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-peers")

const SECRET_A = randomBytes(24).toString("hex")
const SECRET_B = randomBytes(24).toString("hex")
const NAME = `peers_${process.pid}` // secured, then re-keyed
const OPEN = `peers_open_${process.pid}` // --insecure
const RACE = `peers_race_${process.pid}` // two runners starting at once
const KILL = `peers_kill_${process.pid}` // runners killed with -9, then a new secret

const WHERE = "a runner reads it from --secret-file F, else \\$DISTMT_CLUSTER_SECRET, else \\.distmt/cluster\\.secret"
const STOP = "stop them first \\(`distmt cluster down` for those it started, or SIGTERM each `distmt runner`\\)"
/** The end of every refusal: runners killed with -9 stay listed for 30 s, and when to try again. */
const KILLED = "; a runner stopped without SIGTERM \\(kill -9, a crash\\) counts as up for 30 s after it last renewed its place: " +
  "if those are gone, start this one again in (\\d+) s"

/** Exit code 1 and exactly one line on stderr (no stack trace), matching `line`. */
const refused = (r: CliResult, line: RegExp) => {
  expect(r.status, r.stderr + r.stdout).toBe(1)
  expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1)
  expect(r.stderr.trim()).toMatch(line)
}

describe.skipIf(mode === "skip")("admission of a runner: the same secret as the runners up", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  const withSecret = (secret: string) => cleanEnv({ DISTMT_CLUSTER_SECRET: secret })
  const started: Array<Runner> = []
  const start = async (name: string, env: NodeJS.ProcessEnv, ...flags: Array<string>) => {
    const port = await freePort()
    const runner = await startRunner(["--db", db, "--cluster-name", name, "--listen", `127.0.0.1:${port}`, ...flags], { cwd, env })
    started.push(runner)
    return { runner, address: `127.0.0.1:${port}` }
  }
  /** A runner that should be refused: its address, and how it ended. */
  const tryRunner = async (name: string, env: NodeJS.ProcessEnv, ...flags: Array<string>) => {
    const address = `127.0.0.1:${await freePort()}`
    const result = await cli(["runner", "--db", db, "--cluster-name", name, "--listen", address, ...flags], { cwd, env, timeoutMs: 60_000 })
    return { address, result }
  }
  /** Never listed as a runner, never held a shard lock. */
  const neverJoined = async (name: string, address: string) => {
    const runners = await queryRows<{ address: string }>(db, `SELECT address FROM ${name}_runners`)
    expect(runners.map((r) => r.address)).not.toContain(address)
    const locks = await queryRows<{ n: number }>(db, `SELECT count(*)::int AS n FROM ${name}_locks WHERE address = $1`, [address])
    expect(locks[0]!.n).toBe(0)
  }

  afterAll(async () => {
    await Promise.all(started.map((r) => r.stop()))
    for (const name of [NAME, OPEN, RACE, KILL]) await dropClusterTables(db, name)
  })

  it("refuses a runner with another secret, and --insecure, beside secured runners; admits the same secret", async () => {
    const first = await start(NAME, withSecret(SECRET_A))
    const same = await start(NAME, withSecret(SECRET_A))
    expect(same.runner.output()).toMatch(/distmt runner: ready on/)

    const other = await tryRunner(NAME, withSecret(SECRET_B))
    refused(
      other.result,
      new RegExp(
        `^distmt runner: this runner's secret \\(from \\$DISTMT_CLUSTER_SECRET\\) is not the one of the runners up in cluster "${NAME}" ` +
          `\\((127\\.0\\.0\\.1:\\d+, )?${first.address.replace(/\./g, "\\.")}(, 127\\.0\\.0\\.1:\\d+)?\\); give it theirs \\(${WHERE}\\), ` +
          `or, to change the cluster's secret, ${STOP}${KILLED}$`
      )
    )
    await neverJoined(NAME, other.address)

    const insecure = await tryRunner(NAME, cleanEnv(), "--insecure")
    refused(
      insecure.result,
      new RegExp(`^distmt runner: this runner has no secret \\(--insecure\\) but the runners up in cluster "${NAME}" \\(.*\\) have one; give it theirs \\(${WHERE}\\) instead of --insecure, or, to run the cluster without a secret, ${STOP}${KILLED}$`)
    )
    await neverJoined(NAME, insecure.address)
  })

  it("cluster up shows the refusing runner's line", async () => {
    const upCwd = scratch() // no secret there: `up` makes a new one, not the cluster's
    const port = await freePort()
    const up = await cli(["cluster", "up", "--runners", "1", "--db", db, "--cluster-name", NAME, "--port", String(port)], { cwd: upCwd, env: cleanEnv() })
    await cli(["cluster", "down"], { cwd: upCwd, env: cleanEnv() }) // nothing to stop, unless it was admitted
    refused(
      up,
      new RegExp(
        `^distmt cluster: the runner for 127\\.0\\.0\\.1:${port} stopped: this runner's secret \\(from \\.distmt/cluster\\.secret\\) is not the one of the runners up in cluster "${NAME}" .*; give it theirs`
      )
    )
    await neverJoined(NAME, `127.0.0.1:${port}`)
  })

  it("refuses a secured runner beside --insecure runners", async () => {
    await start(OPEN, cleanEnv(), "--insecure")
    const secured = await tryRunner(OPEN, withSecret(SECRET_A))
    refused(
      secured.result,
      new RegExp(
        `^distmt runner: the runners up in cluster "${OPEN}" \\(127\\.0\\.0\\.1:\\d+\\) run without a secret \\(--insecure\\) but this one has one \\(from \\$DISTMT_CLUSTER_SECRET\\); ` +
          `give it --insecure too, or, to secure the cluster, ${STOP} and start every runner with the same secret${KILLED}$`
      )
    )
    await neverJoined(OPEN, secured.address)
  })

  it("of two runners with different secrets starting at once, exactly one is admitted", async () => {
    const ports = [await freePort(), await freePort()]
    const runs = [SECRET_A, SECRET_B].map((secret, i) =>
      startRunner(["--db", db, "--cluster-name", RACE, "--listen", `127.0.0.1:${ports[i]}`], { cwd, env: withSecret(secret) })
        .then((runner) => {
          started.push(runner)
          return "admitted"
        }, (e: Error) => e.message)
    )
    const outcomes = await Promise.all(runs)
    expect(outcomes.filter((o) => o === "admitted"), outcomes.join("\n")).toHaveLength(1)
    expect(outcomes.find((o) => o !== "admitted")).toMatch(/^the runner exited \(1\): distmt runner: this runner's secret .* is not the one of the runners up in cluster/)
  })

  it("runners killed with -9, a new secret at once: refused with when to start again, which then works", async () => {
    const killed = await start(KILL, withSecret(SECRET_A))
    killed.runner.child.kill("SIGKILL")
    await new Promise<void>((resolve) => killed.runner.child.once("exit", () => resolve()))
    // At the same address, as `cluster up` given again after its runners were killed.
    const port = killed.address.split(":")[1]!
    const again = await cli(["runner", "--db", db, "--cluster-name", KILL, "--listen", killed.address], { cwd, env: withSecret(SECRET_B), timeoutMs: 60_000 })
    refused(again, new RegExp(`^distmt runner: this runner's secret .* \\(127\\.0\\.0\\.1:${port}\\); .*${KILLED}$`))
    const wait = Number(again.stderr.match(new RegExp(`${KILLED}$`, "m"))![1])
    expect(wait).toBeGreaterThan(0)
    expect(wait).toBeLessThanOrEqual(30)
    await new Promise((r) => setTimeout(r, wait * 1000))
    const later = await startRunner(["--db", db, "--cluster-name", KILL, "--listen", killed.address], { cwd, env: withSecret(SECRET_B) })
    started.push(later)
    expect(later.output()).toMatch(/distmt runner: ready on/)
  }, 90_000)

  it("once every runner of the name has stopped, a new secret is accepted and becomes the reference", async () => {
    const ofName = started.filter((r) => r.child.spawnargs.includes(NAME))
    expect(ofName).toHaveLength(2)
    await Promise.all(ofName.map((r) => r.stop()))
    const renewed = await start(NAME, withSecret(SECRET_B))
    expect(renewed.runner.output()).toMatch(/distmt runner: ready on/)
    const old = await tryRunner(NAME, withSecret(SECRET_A))
    refused(old.result, /^distmt runner: this runner's secret \(from \$DISTMT_CLUSTER_SECRET\) is not the one of the runners up in cluster/)
    await neverJoined(NAME, old.address)
  })
})

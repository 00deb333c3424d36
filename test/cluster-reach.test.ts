/**
 * Runners that cannot reach each other (src/cluster/reach.ts): a runner whose transport cannot talk
 * with its peers' (TLS on one side only, certificates from another CA) is refused at start, with the
 * right secret too, in one line with the cause (peers.ts); it was admitted, and then could mark the
 * genuine runners unhealthy if it held Effect's health-check singleton. A runner admitted that its
 * peers cannot reach otherwise is named in one WARNING line with the likely cause; runners with the
 * same transport print no such line.
 *
 * Needs $DISTMT_TEST_DB (see test/cluster-infra.test.ts) and `openssl`.
 */
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PEER_CHECK_SECONDS } from "../src/cluster/reach.ts"
import {
  cleanEnv,
  cli,
  clusterTestsMode,
  failsWithoutDatabase,
  freePort,
  hasOpenssl,
  makeCertificates,
  queryRows,
  type Runner,
  scratch,
  startRunner,
  startRunnerOn,
  stopAndDrop,
  TEST_DB
} from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-reach")
if (mode === "run" && !hasOpenssl) console.warn("cluster-reach tests SKIPPED: no `openssl` to make the test CA")

const addressOf = (runner: Runner) => /ready on (\S+),/.exec(runner.output())![1]

/** Waits until `done` holds, up to `ms` (the machine may be loaded: generous). */
const waitFor = async (done: () => boolean, ms: number) => {
  const deadline = Date.now() + ms
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500))
}

describe.skipIf(mode === "skip" || (mode === "run" && !hasOpenssl))("runners that cannot reach each other", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  const env = cleanEnv({ DISTMT_CLUSTER_SECRET: randomBytes(24).toString("hex") })
  const tls = (cert: string, ca: string) => ["--tls-cert", path.join(cwd, `${cert}.crt`), "--tls-key", path.join(cwd, `${cert}.key`), "--tls-ca", path.join(cwd, `${ca}.crt`)]
  const MIXED = `reach_mixed_${process.pid}`
  const PLAIN_FIRST = `reach_plain_${process.pid}`
  const SAME = `reach_same_${process.pid}`
  const BACK = `reach_back_${process.pid}`
  const ADVERTISE = `reach_advertise_${process.pid}`
  const mixed: Array<Runner> = []
  const plainFirst: Array<Runner> = []
  const same: Array<Runner> = []
  const back: Array<Runner> = []
  const advertising: Array<Runner> = []

  beforeAll(() => makeCertificates(cwd))

  afterAll(async () => {
    await stopAndDrop(mixed, db, MIXED)
    await stopAndDrop(plainFirst, db, PLAIN_FIRST)
    await stopAndDrop(same, db, SAME)
    await stopAndDrop(back, db, BACK)
    await stopAndDrop(advertising, db, ADVERTISE)
  })

  it("a runner whose transport cannot talk with the runners up is refused at start, with the cause", async () => {
    mixed.push(await startRunnerOn(db, MIXED, { cwd, env }, ...tls("runner", "ca")))
    const good = addressOf(mixed[0])
    const refused = async (...flags: Array<string>) => {
      const r = await cli(["runner", "--db", db, "--cluster-name", MIXED, "--listen", `127.0.0.1:${await freePort()}`, ...flags], {
        cwd,
        env,
        timeoutMs: 90_000
      })
      expect(r.status, r.stdout + r.stderr).toBe(1)
      expect(r.stdout).not.toContain("ready")
      expect(r.stderr.trim().split("\n")).toHaveLength(1)
      return r.stderr.trim()
    }
    // Plain TCP among TLS runners: its ping is dropped at once, and the TLS hello answered.
    expect(await refused()).toBe(
      `distmt runner: this runner (plain TCP) cannot talk with the runner at ${good} of cluster "${MIXED}": it uses mutual TLS and this ` +
        "runner does not; give every runner the same --tls-cert/--tls-key/--tls-ca flags, from one CA, or none; or, to change the " +
        "cluster's transport, stop them first (`distmt cluster down` for those it started, or SIGTERM each `distmt runner`)"
    )
    // A certificate from another CA.
    expect(await refused(...tls("intruder", "evil-ca"))).toMatch(
      new RegExp(`^distmt runner: this runner \\(mutual TLS\\) cannot talk with the runner at ${good} of cluster "${MIXED}": its certificate is not from this runner's CA \\(--tls-ca\\);`)
    )
    // Neither was listed up, nor took a place: the one runner is alone, and warns of nobody.
    const up = await queryRows<{ address: string }>(db, `SELECT address FROM ${MIXED}_runners`)
    expect(up.map((r) => r.address)).toEqual([good])
    expect(mixed[0].output()).not.toMatch(/cannot reach/)
  }, 300_000)

  it("a TLS runner among plain TCP runners is refused too", async () => {
    plainFirst.push(await startRunnerOn(db, PLAIN_FIRST, { cwd, env }))
    const plain = addressOf(plainFirst[0])
    const r = await cli(
      ["runner", "--db", db, "--cluster-name", PLAIN_FIRST, "--listen", `127.0.0.1:${await freePort()}`, ...tls("runner", "ca")],
      { cwd, env, timeoutMs: 120_000 }
    )
    expect(r.status, r.stdout + r.stderr).toBe(1)
    expect(r.stderr.trim()).toMatch(
      new RegExp(`^distmt runner: this runner \\(mutual TLS\\) cannot talk with the runner at ${plain} of cluster "${PLAIN_FIRST}": this runner uses mutual TLS and it does not`)
    )
  }, 300_000)

  it("runners with the same TLS print no warning", async () => {
    same.push(await startRunnerOn(db, SAME, { cwd, env }, ...tls("runner", "ca")))
    same.push(await startRunnerOn(db, SAME, { cwd, env }, ...tls("runner", "ca")))
    // Long enough for several rounds of pings between them: a warning takes two failed ones.
    await new Promise((r) => setTimeout(r, 5 * PEER_CHECK_SECONDS * 1000))
    for (const runner of same) expect(runner.output()).not.toMatch(/cannot reach/)
    expect(same.every((r) => r.child.exitCode === null)).toBe(true)
  }, 180_000)

  it("a runner that nothing answers at the address it advertises says so; one advertising where it listens does not", async () => {
    const [wrongPort, rightPort] = [await freePort(), await freePort()]
    const wrong = `127.0.0.1:${wrongPort}`
    advertising.push(
      await startRunner(["--db", db, "--cluster-name", ADVERTISE, "--listen", `127.0.0.1:${await freePort()}`, "--advertise", wrong], { cwd, env }),
      await startRunner(["--db", db, "--cluster-name", ADVERTISE, "--listen", `0.0.0.0:${rightPort}`, "--advertise", `127.0.0.1:${rightPort}`], { cwd, env })
    )
    await waitFor(() => advertising[0].output().includes("at the address it advertises"), 120_000)
    expect(advertising[0].output()).toMatch(
      new RegExp(`WARNING this runner does not answer a runner ping at the address it advertises, ${wrong} .*: nothing listens at ${wrong} as seen from here \\(connection refused\\)`)
    )
    // its peer cannot reach it either, and says so; but it answers at its own address
    await waitFor(() => advertising[1].output().includes(`cannot reach the runner at ${wrong} `), 120_000)
    expect(advertising[1].output()).not.toContain("at the address it advertises")
  }, 300_000)

  it("a runner listed up where nothing listens is named (connection refused), and told reached once a runner answers there", async () => {
    back.push(await startRunnerOn(db, BACK, { cwd, env }))
    // A runner as PostgreSQL lists it, its place renewed, not healthy (so given no shard), where nothing listens yet.
    const port = await freePort()
    const address = `127.0.0.1:${port}`
    await queryRows(db, `INSERT INTO ${BACK}_runners (address, runner, healthy) VALUES ($1, $2, false)`, [
      address,
      JSON.stringify({ address: { host: "127.0.0.1", port }, groups: ["default"], weight: 1 })
    ])
    const renew = setInterval(() => void queryRows(db, `UPDATE ${BACK}_runners SET last_heartbeat = now() WHERE address = $1`, [address]), 2000)
    try {
      await waitFor(() => back[0].output().includes(`cannot reach the runner at ${address} `), 120_000)
    } finally {
      clearInterval(renew)
    }
    expect(back[0].output()).toMatch(new RegExp(`cannot reach the runner at ${address} .*: nothing listens at ${address} as seen from here \\(connection refused\\)`))
    expect(back[0].output()).not.toContain("reaches the runner")
    // A runner there now (it takes the listed place over): the first one says it reaches it.
    back.push(await startRunner(["--db", db, "--cluster-name", BACK, "--listen", address], { cwd, env }))
    await waitFor(() => back[0].output().includes(`this runner reaches the runner at ${address} again`), 120_000)
    expect(back[0].output()).toContain(`distmt runner: this runner reaches the runner at ${address} again`)
    expect(back[1].output()).not.toMatch(/cannot reach/)
  }, 300_000)
})

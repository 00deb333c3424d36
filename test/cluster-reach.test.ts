/**
 * Runners that cannot reach each other (src/cluster/reach.ts): a runner whose transport differs from
 * its peers' (TLS on one side only, certificates from another CA) is admitted with the right
 * secret; each side then names the other in one WARNING line with the likely cause, whichever runner
 * holds Effect's health-check singleton. Runners with the same transport print no such line.
 *
 * Needs $DISTMT_TEST_DB (see test/cluster-infra.test.ts) and `openssl`.
 */
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PEER_CHECK_SECONDS } from "../src/cluster/reach.ts"
import {
  cleanEnv,
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
  const SAME = `reach_same_${process.pid}`
  const BACK = `reach_back_${process.pid}`
  const mixed: Array<Runner> = []
  const same: Array<Runner> = []
  const back: Array<Runner> = []

  beforeAll(() => makeCertificates(cwd))

  afterAll(async () => {
    await stopAndDrop(mixed, db, MIXED)
    await stopAndDrop(same, db, SAME)
    await stopAndDrop(back, db, BACK)
  })

  it("each of three runners of different TLS names the two others, with the cause", async () => {
    mixed.push(await startRunnerOn(db, MIXED, { cwd, env }))
    mixed.push(await startRunnerOn(db, MIXED, { cwd, env }, ...tls("runner", "ca")))
    mixed.push(await startRunnerOn(db, MIXED, { cwd, env }, ...tls("intruder", "evil-ca")))
    const [plain, good, intruder] = mixed.map(addressOf)
    const warning = (about: string) => new RegExp(`WARNING this runner cannot reach the runner at ${about} of cluster "${MIXED}" \\([^)]*\\): (.*)`)
    const expected: Array<[Runner, string, RegExp]> = [
      [mixed[0], good, /^it uses mutual TLS and this runner does not;/],
      [mixed[0], intruder, /^it uses mutual TLS and this runner does not;/],
      [mixed[1], plain, /^this runner uses mutual TLS and it does not/],
      [mixed[1], intruder, /^its certificate is not from this runner's CA \(--tls-ca\);/],
      [mixed[2], plain, /^this runner uses mutual TLS and it does not/],
      [mixed[2], good, /^its certificate is not from this runner's CA \(--tls-ca\);/]
    ]
    // Two failed rounds of pings (each up to 15 s) after the last runner registered, on a loaded machine.
    await waitFor(() => expected.every(([runner, about]) => warning(about).test(runner.output())), 150_000)
    for (const [runner, about, cause] of expected) {
      const line = warning(about).exec(runner.output())
      expect(line, runner.output()).not.toBeNull()
      expect(line![1]).toMatch(cause)
      // One line per peer, not one per round.
      expect(runner.output().split(`cannot reach the runner at ${about} `).length - 1).toBe(1)
    }
  }, 300_000)

  it("runners with the same TLS print no warning", async () => {
    same.push(await startRunnerOn(db, SAME, { cwd, env }, ...tls("runner", "ca")))
    same.push(await startRunnerOn(db, SAME, { cwd, env }, ...tls("runner", "ca")))
    // Long enough for several rounds of pings between them: a warning takes two failed ones.
    await new Promise((r) => setTimeout(r, 5 * PEER_CHECK_SECONDS * 1000))
    for (const runner of same) expect(runner.output()).not.toMatch(/cannot reach/)
    expect(same.every((r) => r.child.exitCode === null)).toBe(true)
  }, 180_000)

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

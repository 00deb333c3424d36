/**
 * The cluster's infrastructure with real processes and a real PostgreSQL (docs/cluster.md): a runner
 * answers a client-only process; forged and unsigned messages are refused, logged and never handled,
 * over both paths (runner socket and PostgreSQL); a runner refuses to start without a secret, with a
 * bad database or on a taken port, in one line; `cluster up`/`down` start and stop local runners.
 *
 * Needs $DISTMT_TEST_DB (`sudo tools/postgres.sh` prints it). Without it the tests are skipped on a
 * developer machine and fail under CI=true (.ci/run provides it).
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isAlive } from "../src/cluster/localRunners.ts"
import {
  cleanEnv,
  cli,
  clusterTestsMode,
  dropClusterTables,
  failsWithoutDatabase,
  freePort,
  type Runner,
  scratch,
  startRunner,
  TEST_DB,
  withPassword
} from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-infra")

const SECRET = randomBytes(24).toString("hex")
const WRONG = randomBytes(24).toString("hex")
const NAME = `infra_${process.pid}` // this file's own cluster (table prefix)
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m)

describe.skipIf(mode === "skip")("cluster infrastructure (PostgreSQL + runner processes on 127.0.0.1)", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  let runner: Runner
  let port: number
  const withSecret = (secret: string) => cleanEnv({ DISTMT_CLUSTER_SECRET: secret })
  const ping = (env: NodeJS.ProcessEnv, ...args: Array<string>) =>
    cli(["cluster", "ping", "--db", db, "--cluster-name", NAME, "--timeout", "40", ...args], { cwd, env })

  beforeAll(async () => {
    port = await freePort()
    runner = await startRunner(["--db", db, "--cluster-name", NAME, "--listen", `127.0.0.1:${port}`], { cwd, env: withSecret(SECRET) })
  })

  afterAll(async () => {
    await runner?.stop()
    await dropClusterTables(db, NAME)
  })

  it("a client of a cluster name with no runner up is told so at once, with the names that have runners", async () => {
    const r = await cli(["cluster", "ping", "--db", db, "--cluster-name", `${NAME}_none`, "--timeout", "40"], { cwd, env: withSecret(SECRET) })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^distmt cluster ping: no runner is up in cluster "${NAME}_none" \\(--cluster-name\\): .*runners are up with (.* or )?--cluster-name ${NAME}\\b`))
  })

  it("a runner answers signed Pings from a client-only process, volatile and persisted", async () => {
    expect(runner.output()).toMatch(new RegExp(`ready on 127\\.0\\.0\\.1:${port}.*secret: \\$DISTMT_CLUSTER_SECRET`))
    const [volatile, persisted] = await Promise.all([
      ping(withSecret(SECRET), "--entity", "ok-v", "--count", "20", "--concurrency", "4"),
      ping(withSecret(SECRET), "--entity", "ok-p", "--persisted")
    ])
    expect(volatile.status, volatile.stderr).toBe(0)
    expect(volatile.stdout).toMatch(/^20 volatile round trips, 4 in flight: .* msg\/s/m)
    expect(persisted.status, persisted.stderr).toBe(0)
    expect(persisted.stdout).toMatch(/pong from ok-p \(persisted\)/)
  })

  it("refuses forged and unsigned messages, logs where they came from, and never runs their handler", async () => {
    const [wrongV, wrongP, unsigned] = await Promise.all([
      ping(withSecret(WRONG), "--entity", "forged"),
      ping(withSecret(WRONG), "--entity", "forged", "--persisted"),
      ping(cleanEnv(), "--entity", "forged", "--insecure")
    ])
    expect(wrongV.status).toBe(1)
    expect(wrongV.stderr).toMatch(/^distmt cluster ping: refused by the receiving runner: bad signature/)
    expect(wrongP.status).toBe(1)
    expect(wrongP.stderr).toMatch(/refused by the receiving runner: bad signature/)
    expect(unsigned.status).toBe(1)
    expect(unsigned.stderr).toMatch(/refused by the receiving runner: unsigned/)
    for (const r of [wrongV, wrongP, unsigned]) noStack(r.stderr)

    // The runner logged each refusal: what, to whom, by which path, from where.
    const log = runner.output()
    expect(log).toMatch(/REFUSED Ping to Ping\/forged \(request \d+, volatile, via a runner socket\) from client@\S+ pid \d+: bad signature/)
    expect(log).toMatch(/REFUSED PingPersisted to Ping\/forged \(request \d+, persisted, via PostgreSQL\) from client@\S+ pid \d+: bad signature/)
    expect(log).toMatch(/REFUSED Ping to Ping\/forged .* from \(no sender header\): unsigned/)

    // No handler ran for "forged"; the same question to an entity that got one genuine ping says 1.
    const genuine = await ping(withSecret(SECRET), "--entity", "control")
    expect(genuine.status, genuine.stderr).toBe(0)
    const [forgedCount, controlCount] = await Promise.all([
      ping(withSecret(SECRET), "--entity", "forged", "--handled"),
      ping(withSecret(SECRET), "--entity", "control", "--handled")
    ])
    expect(forgedCount.stdout.trim()).toBe("forged: 0 pings handled")
    expect(controlCount.stdout.trim()).toBe("control: 1 ping handled")
  })

  it("a runner without a secret refuses to start", async () => {
    const p = await freePort()
    const r = await cli(["runner", "--db", db, "--cluster-name", NAME, "--listen", `127.0.0.1:${p}`], { cwd, env: cleanEnv(), timeoutMs: 60_000 })
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(
      "distmt runner: no cluster secret: set DISTMT_CLUSTER_SECRET or give --secret-file F (the same on every runner and client), or --insecure to run without authentication"
    )
  })

  it("bad --threads or --checkpoint-every is one line naming the flag, and the runner does not start", async () => {
    const p = await freePort()
    const cases: Array<[Array<string>, string]> = [
      [["--threads", "0"], "distmt runner: --threads: expected a whole number from 1 to 64, got 0"],
      [["--checkpoint-every", "0"], "distmt runner: --checkpoint-every: expected seconds above 0 and at most 60, got 0 (a run takes a unit whose checkpoints " +
        "have not changed for 120 s for lost, and starts its agents again from them)"],
      [["--checkpoint-every", "-3"], "distmt runner: --checkpoint-every: expected seconds above 0 and at most 60, got -3 (a run takes a unit whose checkpoints " +
        "have not changed for 120 s for lost, and starts its agents again from them)"]
    ]
    for (const [flags, line] of cases) {
      const r = await cli(["runner", "--db", db, "--cluster-name", NAME, "--listen", `127.0.0.1:${p}`, ...flags], { cwd, env: withSecret(SECRET), timeoutMs: 60_000 })
      expect(r.status, flags.join(" ")).toBe(1)
      expect(r.stderr.trim()).toBe(line)
    }
  })

  it("a bad, unreachable or refusing database, or a taken port, is one line that says what to do", async () => {
    const dead = await freePort() // nothing listens there once released
    // --insecure where the database is refused first; the cluster's secret where the runner is
    // admitted to its cluster (peers.ts) and only then binds its port.
    const cases: Array<[Array<string>, RegExp, NodeJS.ProcessEnv]> = [
      [["--insecure", "--db", `postgres://distmt:x@127.0.0.1:${dead}/distmt`], /^distmt runner: cannot reach PostgreSQL at postgres:\/\/distmt:\*\*\*@127\.0\.0\.1:\d+\/distmt: nothing listens there; .*tools\/postgres\.sh/, cleanEnv()],
      [["--insecure", "--db", withPassword(db, "wrong-password")], /^distmt runner: PostgreSQL at \S+ refused the login: wrong user or password in --db$/, cleanEnv()],
      [["--insecure", "--db", "not a url"], /^distmt runner: --db "not a url" is not a URL: expected postgres:\/\/USER:PASSWORD@HOST:5432\/DATABASE$/, cleanEnv()],
      [["--db", db, "--cluster-name", NAME, "--listen", `127.0.0.1:${port}`], new RegExp(`^distmt runner: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`), withSecret(SECRET)]
    ]
    const results = await Promise.all(cases.map(([args, , env]) => cli(["runner", ...args], { cwd, env, timeoutMs: 60_000 })))
    results.forEach((r, i) => {
      expect(r.status, r.stderr).toBe(1)
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1)
      expect(r.stderr.trim()).toMatch(cases[i]![1])
    })
    // The runner that could not bind must not have stayed registered.
    const stillOne = await ping(withSecret(SECRET), "--entity", "after-bad-starts")
    expect(stillOne.status, stillOne.stderr).toBe(0)
  })

  it("cluster up starts local runners, records them and waits for their registration; cluster down stops them", async () => {
    const upCwd = scratch()
    const base = await freePort()
    const name = `${NAME}_up`
    const env = cleanEnv() // no secret given: `up` makes .distmt/cluster.secret
    try {
      const up = await cli(["cluster", "up", "--runners", "2", "--db", db, "--cluster-name", name, "--port", String(base)], { cwd: upCwd, env })
      expect(up.status, up.stderr + up.stdout).toBe(0)
      expect(up.stdout).toMatch(/secret: \.distmt\/cluster\.secret/)
      const state = JSON.parse(fs.readFileSync(path.join(upCwd, ".distmt", "cluster.json"), "utf8"))
      expect(state.runners.map((r: { address: string }) => r.address)).toEqual([`127.0.0.1:${base}`, `127.0.0.1:${base + 1}`])
      expect(state.db).not.toContain(new URL(db).password || "\u0000")
      const pids: Array<number> = state.runners.map((r: { pid: number }) => r.pid)
      for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow()
      expect((fs.statSync(path.join(upCwd, ".distmt", "cluster.secret")).mode & 0o777).toString(8)).toBe("600")

      // A second `up` in the same folder with other settings (here the default port) is refused
      // while the first is running (test/cluster-updown.test.ts has the top-up with the same ones).
      const again = await cli(["cluster", "up", "--runners", "1", "--db", db, "--cluster-name", name], { cwd: upCwd, env })
      expect(again.status).toBe(1)
      expect(again.stderr).toMatch(new RegExp(`the runners up here \\(pids \\d+, \\d+\\) were started with --port ${base}, not 34431`))

      // The client finds the same generated secret in .distmt/ and is answered.
      const p = await cli(["cluster", "ping", "--db", db, "--cluster-name", name, "--count", "10", "--concurrency", "5"], { cwd: upCwd, env })
      expect(p.status, p.stderr).toBe(0)

      const down = await cli(["cluster", "down"], { cwd: upCwd, env })
      expect(down.status, down.stderr).toBe(0)
      expect(down.stdout).toMatch(/stopped 2 runners on SIGTERM in \d+\.\d s$/m)
      // Exited (a runner that init has not reaped yet answers signal 0, but is not running).
      for (const pid of pids) expect(isAlive(pid)).toBe(false)
      expect(fs.existsSync(path.join(upCwd, ".distmt", "cluster.json"))).toBe(false)

      // Up again: the last cluster's log is kept beside the new one (the evidence of an incident).
      const log = path.join(upCwd, ".distmt", "runner-0.log")
      const earlier = fs.readFileSync(log, "utf8")
      const up2 = await cli(["cluster", "up", "--runners", "1", "--db", db, "--cluster-name", name, "--port", String(base)], { cwd: upCwd, env })
      expect(up2.status, up2.stderr + up2.stdout).toBe(0)
      expect(fs.readFileSync(`${log}.previous`, "utf8")).toBe(earlier)
      expect(fs.readFileSync(log, "utf8")).not.toBe(earlier)
    } finally {
      await cli(["cluster", "down"], { cwd: upCwd, env })
      await dropClusterTables(db, name)
    }
  })
})

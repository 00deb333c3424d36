/**
 * `distmt cluster up` and `down` on a cluster that is not new (docs/cluster.md, "Commands"), with
 * real runner processes and PostgreSQL:
 * - `up` given again after one of its runners died (kill -9) starts only a replacement, in the dead
 *   one's place, and keeps the runner that was alive (same pid); given with other settings, or
 *   fewer runners than are up, it refuses in one line;
 * - a busy runner stops within seconds of SIGTERM, and so does `down` during a run (their agents
 *   and servers are interrupted, AgentEntity.ts/ServerEntity.ts), where they used to need SIGKILL
 *   after 15 s; the run given again resumes from the interrupted agents' checkpoints. (That a
 *   resumed run writes the in-process run's files is test/cluster-run.test.ts's.)
 *
 * Needs $DISTMT_TEST_DB (`sudo tools/postgres.sh` prints it): skipped without it on a developer
 * machine, a failure under CI=true.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { isAlive } from "../src/cluster/localRunners.ts"
import {
  cleanEnv,
  cli,
  clusterTestsMode,
  dropClusterTables,
  failsWithoutDatabase,
  freePortRange,
  queryRows,
  root,
  scratch,
  TEST_DB
} from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-updown")

const NAME = `updown_${process.pid}` // this file's own clusters (table prefixes)
const SPEC = path.join(root, "test", "fixtures", "cluster-long.spec.ts")

interface State {
  readonly runners: ReadonlyArray<{ readonly pid: number; readonly address: string; readonly log: string }>
}
const readState = (cwd: string): State => JSON.parse(fs.readFileSync(path.join(cwd, ".distmt", "cluster.json"), "utf8"))

const until = async (what: string, test: () => boolean | Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms / 1000} s: ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe.skipIf(mode === "skip")("cluster up/down on a cluster that is already there", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const env = cleanEnv() // no secret given: `up` makes .distmt/cluster.secret, which the others find

  it("up after a runner was killed (kill -9) replaces it and keeps the live one; other settings or fewer runners are refused", async () => {
    const cwd = scratch()
    const name = `${NAME}_topup`
    const port = await freePortRange(2)
    const up = (...more: Array<string>) =>
      cli(["cluster", "up", "--runners", "2", "--db", db, "--cluster-name", name, "--port", String(port), ...more], { cwd, env })
    try {
      const first = await up()
      expect(first.status, first.stderr + first.stdout).toBe(0)
      const [alive, killed] = readState(cwd).runners.map((r) => r.pid)
      process.kill(killed, "SIGKILL")
      await until(`runner pid ${killed} gone after SIGKILL`, () => !isAlive(killed), 10_000)

      const again = await up()
      expect(again.status, again.stderr + again.stdout).toBe(0)
      expect(again.stdout).toContain(`2 runners up, started 1: runner-1 replacing pid ${killed} (gone)`)
      const after = readState(cwd).runners
      expect(after.map((r) => r.address)).toEqual([`127.0.0.1:${port}`, `127.0.0.1:${port + 1}`])
      expect(after[0].pid).toBe(alive)
      expect(after[1].pid).not.toBe(killed)
      expect(isAlive(alive) && isAlive(after[1].pid)).toBe(true)
      // The dead runner's log is kept beside its replacement's.
      expect(fs.existsSync(path.join(cwd, ".distmt", "runner-1.log.previous"))).toBe(true)
      const ping = await cli(["cluster", "ping", "--db", db, "--cluster-name", name, "--count", "20", "--concurrency", "10"], { cwd, env })
      expect(ping.status, ping.stderr).toBe(0)

      // All up and as many as asked: nothing changes.
      const recorded = fs.readFileSync(path.join(cwd, ".distmt", "cluster.json"), "utf8")
      const same = await up()
      expect(same.status, same.stderr).toBe(0)
      expect(same.stdout).toMatch(/2 runners up already \(.*\); nothing to start/)
      expect(fs.readFileSync(path.join(cwd, ".distmt", "cluster.json"), "utf8")).toBe(recorded)

      // Another cluster name, or fewer runners than are up: one line saying what differs and what to do.
      const other = await cli(["cluster", "up", "--runners", "2", "--db", db, "--cluster-name", `${name}_x`, "--port", String(port)], { cwd, env })
      expect(other.status).toBe(1)
      expect(other.stderr.trim().split("\n")).toHaveLength(1)
      expect(other.stderr).toContain(`were started with --cluster-name "${name}", not "${name}_x"`)
      expect(other.stderr).toContain("cluster down")
      const fewer = await cli(["cluster", "up", "--runners", "1", "--db", db, "--cluster-name", name, "--port", String(port)], { cwd, env })
      expect(fewer.status).toBe(1)
      expect(fewer.stderr).toMatch(/2 runners are up here \(pids \d+, \d+\), more than --runners 1/)
      expect(fs.readFileSync(path.join(cwd, ".distmt", "cluster.json"), "utf8")).toBe(recorded)

      const down = await cli(["cluster", "down"], { cwd, env })
      expect(down.stdout).toMatch(/stopped 2 runners on SIGTERM/)
    } finally {
      await cli(["cluster", "down"], { cwd, env })
      await dropClusterTables(db, name)
    }
  }, 180_000)

  it("up does not count a runner stopped with SIGSTOP as up: refused in one line naming it, then its silence in PostgreSQL too", async () => {
    const cwd = scratch()
    const name = `${NAME}_frozen`
    const port = await freePortRange(2)
    const up = () => cli(["cluster", "up", "--runners", "2", "--db", db, "--cluster-name", name, "--port", String(port)], { cwd, env })
    let frozen: number | undefined
    try {
      const first = await up()
      expect(first.status, first.stderr + first.stdout).toBe(0)
      frozen = readState(cwd).runners[1].pid
      const address = `127.0.0.1:${port + 1}`
      process.kill(frozen, "SIGSTOP")

      // At once: its process is stopped (it still counts as up in PostgreSQL for 30 s).
      const stopped = await up()
      expect(stopped.status, stopped.stdout).toBe(1)
      expect(stopped.stderr.trim().split("\n")).toHaveLength(1)
      expect(stopped.stderr).toContain(
        `distmt cluster: runner-1 (pid ${frozen}, ${address}) is stopped (SIGSTOP): not up, and its place (its port) is still taken; ` +
          `resume it (\`kill -CONT ${frozen}\`) or end it (\`kill -9 ${frozen}\`), then give \`cluster up\` again`
      )
      const recent = async () =>
        (await queryRows<{ address: string }>(db, `SELECT address FROM ${name}_runners WHERE last_heartbeat > now() - interval '30 seconds'`))
          .map((r) => r.address)
      // Once its place in PostgreSQL has lapsed, that is said too.
      await until(`${address} no longer renewing its place`, async () => !(await recent()).includes(address), 60_000)
      const silent = await up()
      expect(silent.status).toBe(1)
      expect(silent.stderr).toContain(`runner-1 (pid ${frozen}, ${address}) is stopped (SIGSTOP) and has not renewed its place in PostgreSQL in the last 30 s:`)

      // Resumed, it renews its place, and the cluster is whole again.
      process.kill(frozen, "SIGCONT")
      await until(`${address} renewing its place again`, async () => (await recent()).includes(address), 30_000)
      const whole = await up()
      expect(whole.status, whole.stderr).toBe(0)
      expect(whole.stdout).toMatch(/2 runners up already \(.*\); nothing to start/)
    } finally {
      if (frozen !== undefined && isAlive(frozen)) process.kill(frozen, "SIGCONT")
      await cli(["cluster", "down"], { cwd, env })
      await dropClusterTables(db, name)
    }
  }, 180_000)

  it("a busy runner stops within seconds of SIGTERM; up replaces it mid-run; down stops the rest on SIGTERM; the run given again resumes", async () => {
    const cwd = scratch()
    const name = `${NAME}_busy`
    const port = await freePortRange(2)
    const out = path.join(cwd, "out")
    // Checkpoints inside instances every 0.3 s, so that the interrupted agents have some to resume
    // from. One seed: DistMT-LSVI, whose agents wait on their server (2 s on the cluster), then the
    // independent baseline, whose agents have no server and, with this ε, work for over 10 s: left
    // to end their work, they would hold their runners up for that long.
    const upArgs = ["cluster", "up", "--runners", "2", "--db", db, "--cluster-name", name, "--port", String(port), "--checkpoint-every", "0.3"]
    const runArgs = [
      "run",
      SPEC,
      ...["--seeds", "1", "--set", "epsilon=0.035", "--set", `baselines=["independent"]`],
      ...["--cluster", "--db", db, "--cluster-name", name, "--out", out]
    ]
    let run: ChildProcess | undefined
    const logs = () => readState(cwd).runners.map((r) => path.join(cwd, r.log))
    const logOf = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "")
    const submit = () => {
      const child = spawn(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...runArgs], { cwd, env })
      return { child, exited: new Promise<void>((resolve) => child.on("exit", () => resolve())) }
    }
    try {
      const up = await cli(upArgs, { cwd, env })
      expect(up.status, up.stderr + up.stdout).toBe(0)
      const [a, b] = readState(cwd).runners
      const first = submit()
      run = first.child

      // The runner that holds the server, with agents waiting on it, on either runner: SIGTERM.
      const server = /DistmtServer cluster-long-\S+-distmt-0 \(attempt 1\): started/
      await until("the server started", () => logs().some((log) => server.test(logOf(log))), 120_000)
      const [host, other] = server.test(logOf(path.join(cwd, a.log))) ? [a, b] : [b, a]
      let started = Date.now()
      process.kill(host.pid, "SIGTERM")
      await until(`runner pid ${host.pid} gone after SIGTERM`, () => !isAlive(host.pid), 14_000)
      expect((Date.now() - started) / 1000, "seconds from SIGTERM to the runner's exit").toBeLessThan(5)
      expect(isAlive(other.pid)).toBe(true)

      // Topped up while the run goes on: the stopped runner is replaced, the other kept.
      const topUp = await cli(upArgs, { cwd, env })
      expect(topUp.status, topUp.stderr + topUp.stdout).toBe(0)
      expect(topUp.stdout).toContain(`replacing pid ${host.pid} (gone)`)
      expect(readState(cwd).runners.map((r) => r.pid)).toContain(other.pid)

      // Busy: both runners host agents of the independent unit, inside their instances.
      const unit = /started \{ agent: '(cluster-long-\S+-independent-0)\./
      await until("independent agents on both runners", () => logs().every((log) => unit.test(logOf(log))), 120_000)
      const inside = `SELECT count(*)::int AS n FROM distmt_agents WHERE unit = $1 AND inside AND NOT final`
      const key = unit.exec(logs().map(logOf).join("\n"))![1]
      await until(`a checkpoint inside an instance of ${key}`, async () => (await queryRows<{ n: number }>(db, inside, [key]))[0].n > 0, 60_000)
      expect(run.exitCode, "the run ended before `cluster down`").toBeNull()
      started = Date.now()
      const down = await cli(["cluster", "down"], { cwd, env })
      const seconds = (Date.now() - started) / 1000
      expect(down.status, down.stderr).toBe(0)
      // On SIGTERM, none killed, and soon: the command's own start included, far from the 15 s of
      // SIGKILL, and from the seconds the agents' work had left.
      expect(down.stdout, down.stdout).toMatch(/stopped 2 runners on SIGTERM in \d+\.\d s$/m)
      expect(seconds, down.stdout).toBeLessThan(6)

      // The submission waits for runners that are gone: stopped, and given again on a new cluster,
      // where the interrupted agents resume from their checkpoints (attempt 2 of the unit).
      run.kill("SIGKILL")
      await first.exited
      const up2 = await cli(upArgs, { cwd, env })
      expect(up2.status, up2.stderr + up2.stdout).toBe(0)
      run = submit().child
      const resumed = new RegExp(`resumed from its checkpoint: \\d+ of 4 instances finished.*\\{ agent: '${key}\\.\\d+\\.2'`)
      await until("an agent of the unit resumed from its checkpoint", () => logs().some((log) => resumed.test(logOf(log))), 120_000)
    } finally {
      run?.kill("SIGKILL")
      await cli(["cluster", "down"], { cwd, env })
      await dropClusterTables(db, name)
    }
  }, 400_000)
})

/**
 * `distmt run --cluster` (issue 10): the run's servers are entities on real runner processes, their
 * state in PostgreSQL, the messages signed; the result files equal the in-process run's, byte for
 * byte (the servers order requests by the clocks the messages carry).
 *
 * Needs PostgreSQL ($DISTMT_TEST_DB, from tools/postgres.sh): skipped with a message on a developer
 * machine without it, a failure under CI.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { deserialize } from "node:v8"
import { Cause, Effect, Exit, Layer } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { Agent } from "../src/cluster/AgentEntity.ts"
import type { AgentState } from "../src/cluster/agentState.ts"
import { forgetUnit } from "../src/cluster/runAgents.ts"
import { Server, serverId } from "../src/cluster/ServerEntity.ts"
import { nextAttempt } from "../src/coordinator/postgres.ts"
import { clientLayer } from "../src/cluster/layers.ts"
import {
  cleanEnv,
  cli,
  clusterTestsMode,
  stopAndDrop,
  failsWithoutDatabase,
  queryRows,
  root,
  type Runner,
  scratch,
  startRunnerOn,
  TEST_DB,
  topUp
} from "./cluster-helpers.ts"

/** The two folders' summary.json agree on everything but wall-clock time. */
const expectSameSummaries = (local: string, remote: string) => {
  const [s, t] = [local, remote].map((d) => JSON.parse(fs.readFileSync(path.join(d, "summary.json"), "utf8")))
  for (const alg of Object.keys(s.algorithms)) {
    const { wallSeconds: _a, ...x } = s.algorithms[alg]
    const { wallSeconds: _b, ...y } = t.algorithms[alg]
    expect(y, alg).toEqual(x)
  }
}

/** The files of the two folders are byte for byte the same. */
const expectSameFiles = (local: string, remote: string, files: ReadonlyArray<string>) => {
  for (const file of files) {
    expect(fs.readFileSync(path.join(remote, file), "utf8"), file).toBe(fs.readFileSync(path.join(local, file), "utf8"))
  }
}

const mode = clusterTestsMode("cluster-run")

const SECRET = randomBytes(24).toString("hex")
const NAME = `run_${process.pid}`
const SPEC = path.join(root, "test", "fixtures", "cluster.spec.ts")

describe.skipIf(mode === "skip")("distmt run --cluster", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  const env = cleanEnv({ DISTMT_CLUSTER_SECRET: SECRET })
  const runners: Array<Runner> = []

  // Checkpoints inside instances every 0.2 s, so that a runner killed mid-run takes agents that have one.
  const start = () => startRunnerOn(db, NAME, { cwd, env }, "--threads", "1", "--checkpoint-every", "0.2")

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) runners.push(await start())
  }, 200_000)

  // Each test that kills a runner leaves the next one three again (the killed one's log stays).
  afterEach(() => topUp(runners, 3, start), 200_000)

  afterAll(() => stopAndDrop(runners, db, NAME), 60_000)

  it("writes the in-process run's results and policies, the servers' state in PostgreSQL", async () => {
    const local = path.join(cwd, "local")
    const remote = path.join(cwd, "cluster")
    const a = await cli(["run", SPEC, "--out", local], { cwd, env, timeoutMs: 120_000 })
    expect(a.status, a.stderr).toBe(0)
    // A table not made yet (the suite's schema is new, and this may be its first cluster run) holds no row.
    const count = async (table: string, where: string) =>
      (await queryRows<{ t: string | null }>(db, `SELECT to_regclass('${table}')::text AS t`))[0].t === null
        ? 0
        : (await queryRows<{ n: number }>(db, `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`))[0].n
    const rows = async () =>
      await Promise.all([
        count("distmt_agents", "unit LIKE 'cluster-fixture-%'"),
        count("distmt_models", "run LIKE 'cluster-fixture-%'"),
        ...["distmt_tasks", "distmt_replies", "distmt_traffic"].map((t) => count(t, "run LIKE 'cluster-fixture-%'"))
      ])
    const before = await rows()
    const b = await cli(["run", SPEC, "--cluster", "--db", db, "--cluster-name", NAME, "--out", remote], { cwd, env, timeoutMs: 180_000 })
    expect(b.status, b.stdout + b.stderr).toBe(0)
    // A finished unit leaves nothing in the database but its attempt, and a finished run not even
    // its model: its results are in the folder.
    expect(await rows()).toEqual(before)
    expectSameFiles(local, remote, ["results.csv", "policies.json", "model.json"])
    expectSameSummaries(local, remote)
    // The servers ran on the runners, not here: their decisions are in the tables.
    expect(runners.some((r) => r.output().includes("REFUSED"))).toBe(false)
  }, 400_000)

  /** The folder of `spec` run in this process (the reference), run now unless an earlier test did. */
  const inProcess = async (spec: string, name: string) => {
    const local = path.join(cwd, name)
    if (!fs.existsSync(path.join(local, "results.csv"))) {
      const a = await cli(["run", spec, "--out", local], { cwd, env, timeoutMs: 240_000 })
      expect(a.status, a.stderr).toBe(0)
    }
    return local
  }

  /** The end of each surviving runner's log, for the message of a run that did not finish after a kill. */
  const survivorsLog = (host: Runner | undefined): string =>
    runners.filter((r) => r !== host).map((r, i) => `\n── runner ${i} (last 3000 characters):\n${r.output().slice(-3000)}`).join("")

  /**
   * Runs `spec` in process and on the cluster; during the cluster run, once an agent of DistMT-LSVI
   * (seed 0) has a checkpoint that `inside` accepts, kills (SIGKILL) the runner that hosts it. Then
   * the survivors' logs must match `resumed`, and the files be the in-process run's.
   */
  const killAgentHost = async (name: string, inside: (s: AgentState) => boolean, resumed: RegExp) => {
    const spec = path.join(root, "test", "fixtures", `${name}.spec.ts`)
    const local = await inProcess(spec, `${name}-local`)
    const remote = path.join(cwd, `${name}-cluster`)
    const run = cli(["run", spec, "--cluster", "--db", db, "--cluster-name", NAME, "--out", remote], { cwd, env, timeoutMs: 300_000 })
    let host: Runner | undefined
    for (let i = 0; i < 2400 && host === undefined; i++) {
      const rows = await queryRows<{ unit: string; agent: number; state: Uint8Array }>(
        db,
        `SELECT unit, agent, state FROM distmt_agents WHERE unit LIKE '${name}-%-distmt-0' AND inside AND NOT final ORDER BY agent`
      )
      for (const row of rows) {
        if (!inside(deserialize(row.state) as AgentState)) continue
        const agent = `${row.unit}.${row.agent}.`
        host = runners.find((r) => r.child.exitCode === null && r.child.signalCode === null && r.output().includes(`started { agent: '${agent}`))
        if (host !== undefined) break
      }
      if (host === undefined) await new Promise((r) => setTimeout(r, 50))
    }
    expect(host, "no agent wrote such a checkpoint").toBeDefined()
    host!.child.kill("SIGKILL")
    const b = await run
    expect(b.status, b.stdout + b.stderr + survivorsLog(host)).toBe(0)
    // Its agents went on elsewhere, from their checkpoints.
    expect(runners.filter((r) => r !== host).map((r) => r.output()).join("\n")).toMatch(resumed)
    expectSameFiles(local, remote, ["results.csv", "policies.json", "curves.csv"])
    expectSameSummaries(local, remote)
  }

  it("kill -9 of a runner whose agents are inside an instance: they resume on the others from their checkpoints, the same files", () =>
    killAgentHost(
      "cluster-agents",
      (s) => s.current !== undefined,
      /resumed from its checkpoint: \d+ of 4 instances finished, the next one at episode \d+/
    ), 600_000)

  it("kill -9 of a runner whose agent is inside a pooled phase (experience sharing): it resumes after its last exchange, the same files", () =>
    killAgentHost(
      "cluster-sharing",
      (s) => s.current?.pooled !== undefined,
      /resumed from its checkpoint: \d+ of 2 instances finished, the next one at episode \d+ of its pooled phase/
    ), 600_000)

  it("kill -9 of the runner that holds a server mid-run: the server resumes on another runner, the same files", async () => {
    const spec = path.join(root, "test", "fixtures", "cluster-long.spec.ts")
    const local = path.join(cwd, "long-local")
    const remote = path.join(cwd, "long-cluster")
    const a = await cli(["run", spec, "--out", local], { cwd, env, timeoutMs: 240_000 })
    expect(a.status, a.stderr).toBe(0)
    const run = cli(["run", spec, "--cluster", "--db", db, "--cluster-name", NAME, "--out", remote], { cwd, env, timeoutMs: 300_000 })
    // The runner whose log says it started seed 1's server is killed at once, mid-decisions.
    const started = /DistmtServer cluster-long-\S+-distmt-1 \(attempt \d+\): started/
    let host: Runner | undefined
    for (let i = 0; i < 1200 && host === undefined; i++) {
      host = runners.find((r) => started.test(r.output()))
      if (host === undefined) await new Promise((r) => setTimeout(r, 100))
    }
    expect(host, "no runner started seed 1's server").toBeDefined()
    // At once: with the agents on the runners a seed takes about 2 s, and a later kill could come
    // after its last decision, when no other runner needs to take the server over.
    host!.child.kill("SIGKILL")
    const b = await run
    expect(b.status, b.stdout + b.stderr + survivorsLog(host)).toBe(0)
    // Taken over: another runner started the same server, from the tables.
    const survivors = runners.filter((r) => r !== host)
    expect(survivors.some((r) => started.test(r.output()))).toBe(true)
    expectSameFiles(local, remote, ["results.csv", "policies.json"])
  }, 600_000)

  /**
   * Starts `distmt <args>` and kills it (SIGKILL) once an agent of a unit matching `like` (SQL
   * LIKE) that had no checkpoint before has one: the database then holds part of the run, and the
   * killed process cannot have written those units' results. Resolves once it has exited.
   */
  const submitAndKill = async (args: ReadonlyArray<string>, like: string) => {
    const units = async () =>
      new Set((await queryRows<{ unit: string }>(db, "SELECT DISTINCT unit FROM distmt_agents WHERE unit LIKE $1", [like])).map((r) => r.unit))
    const earlier = await units()
    const first = spawn(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd, env })
    const exited = new Promise<void>((resolve) => first.on("exit", () => resolve()))
    for (let i = 0; i < 4800; i++) {
      if ([...(await units())].some((u) => !earlier.has(u))) break
      await new Promise((r) => setTimeout(r, 25))
    }
    first.kill("SIGKILL")
    await exited
    expect([...(await units())].some((u) => !earlier.has(u)), `no checkpoint of ${like} before the kill`).toBe(true)
  }

  it("the submitting process killed mid-run, the same command given again: the run resumes, the same files", async () => {
    const spec = path.join(root, "test", "fixtures", "cluster-long.spec.ts")
    const local = await inProcess(spec, "long-local")
    const out = path.join(cwd, "resumed")
    const args = ["run", spec, "--cluster", "--db", db, "--cluster-name", NAME, "--out", out]
    // Servers started so far (by the runners still alive), to tell this run's from earlier tests'.
    const starts = (attempt: number) =>
      runners
        .filter((r) => r.child.exitCode === null && r.child.signalCode === null)
        .reduce((n, r) => n + (r.output().match(new RegExp(`DistmtServer cluster-long-\\S+-distmt-1 \\(attempt ${attempt}\\): started`, "g"))?.length ?? 0), 0)
    const before = starts(1)
    // Killed once seed 1's agents have checkpoints, well before they all finish (an earlier test ran
    // the same spec into another folder: its units do not count): the second submission resumes it.
    await submitAndKill(args, "cluster-long-%-distmt-1")
    // Seed 1's server, attempt 1, started (its agents' first messages start it; the log may lag).
    for (let i = 0; i < 600 && starts(1) === before; i++) await new Promise((r) => setTimeout(r, 50))
    expect(starts(1), "no runner started seed 1's server").toBeGreaterThan(before)
    const again = await cli(args, { cwd, env, timeoutMs: 300_000 })
    expect(again.status, again.stdout + again.stderr).toBe(0)
    // The second submission is attempt 2 of the same runs.
    expect(starts(2)).toBeGreaterThan(0)
    // Agents of seed 1 went on from their checkpoints (or had finished) rather than start over: those
    // the first submission had started (one that had written no checkpoint yet starts afresh).
    const logs = runners.map((r) => r.output()).join("\n")
    const again2 = (what: string) => logs.match(new RegExp(`${what} \\{ agent: 'cluster-long-\\S+-distmt-1\\.\\d+\\.2'`, "g"))?.length ?? 0
    expect(again2("resumed from its checkpoint[^\\n]*") + again2("already finished")).toBeGreaterThan(0)
    expectSameFiles(local, out, ["results.csv", "policies.json"])
  }, 600_000)

  it("--fresh in a folder whose cluster run was killed starts its units over: no agent resumes an old checkpoint, the same files", async () => {
    const local = await inProcess(SPEC, "local")
    const out = path.join(cwd, "fresh")
    const args = ["run", SPEC, "--cluster", "--db", db, "--cluster-name", NAME, "--out", out]
    await submitAndKill(args, "cluster-fixture-%")
    await new Promise((r) => setTimeout(r, 1000))
    // This spec's agents as the runners' logs tell them, from now on.
    const lines = (what: string) =>
      runners.map((r) => r.output()).join("\n").match(new RegExp(`${what} \\{ agent: 'cluster-fixture-`, "g"))?.length ?? 0
    const before = { started: lines("started"), resumed: lines("resumed from its checkpoint[^\\n]*"), finished: lines("already finished") }
    const again = await cli([...args, "--fresh"], { cwd, env, timeoutMs: 180_000 })
    expect(again.status, again.stdout + again.stderr).toBe(0)
    // Both units (DistMT-LSVI and oracle, 4 agents each) ran again from the start.
    for (let i = 0; i < 100 && lines("started") - before.started < 8; i++) await new Promise((r) => setTimeout(r, 50))
    expect(lines("started") - before.started).toBe(8)
    expect(lines("resumed from its checkpoint[^\\n]*") - before.resumed).toBe(0)
    expect(lines("already finished") - before.finished).toBe(0)
    expectSameFiles(local, out, ["results.csv", "policies.json"])
  }, 400_000)

  it("an agent whose program fails for good (its run's model is missing) fails its Run at once, typed, and is not restarted", async () => {
    const run = `no-such-run-${Date.now()}`
    const started = performance.now()
    const exit = await Effect.runPromise(
      Effect.gen(function*() {
        const agents = yield* Agent.client
        return yield* Effect.exit(agents(`${run}-unit.0.1`).Run({
          unit: `${run}-unit`, run, attempt: 1, algorithm: "independent", seed: 0, agent: 0, agents: 1, tasks: [0]
        }))
      }).pipe(
        Effect.timeout("60 seconds"),
        Effect.provide(Layer.orDie(clientLayer({ db, clusterName: NAME, secret: Buffer.from(SECRET) })))
      )
    )
    expect(performance.now() - started).toBeLessThan(30_000)
    expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toMatchObject({ _tag: "AgentFailed", message: `no model of run ${run} in distmt_models` })
    // The runner says so once, and does not restart the entity to run it again (each restart would
    // log the defect's message again; they came within a second).
    await new Promise((r) => setTimeout(r, 3000))
    const count = (text: string) => runners.reduce((n, r) => n + r.output().split("\n").filter((l) => l.includes(text)).length, 0)
    expect(count(`failed, not to be run again Error: no model of run ${run}`)).toBe(1)
    expect(count(`no model of run ${run}`)).toBe(1)
  }, 120_000)

  it("agents that wait for each other at a server on the cluster are told so, not left waiting", async () => {
    const unit = `deadlock-${Date.now()}`
    const interval = (lower: number) => ({ lower, upper: lower + 0.1 })
    const exits = await Effect.runPromise(
      Effect.gen(function*() {
        const attempt = yield* nextAttempt(unit)
        const server = (yield* Server.client)(serverId(unit, 3, attempt))
        // Agents 0 and 1 each register a task and run episodes; then each waits for the other's
        // task, and agent 2 for one of them: no agent is left to publish anything.
        expect(yield* server.Identify({ agent: 0, seq: 0, clock: 0, interval: interval(0.1) })).toEqual({ _tag: "Registered", task: 0 })
        yield* server.Advance({ agent: 0, clock: 10 })
        expect(yield* server.Identify({ agent: 1, seq: 0, clock: 0, interval: interval(0.6) })).toEqual({ _tag: "Registered", task: 1 })
        yield* server.Advance({ agent: 1, clock: 10 })
        yield* server.Advance({ agent: 2, clock: 5 })
        const waits = [
          server.AwaitPolicy({ agent: 0, seq: 1, clock: 10, task: 1, epoch: 0 }),
          server.AwaitPolicy({ agent: 1, seq: 1, clock: 10, task: 0, epoch: 0 }),
          server.AwaitPolicy({ agent: 2, seq: 0, clock: 5, task: 0, epoch: 0 })
        ]
        const exits = yield* Effect.forEach(waits, (wait) => Effect.exit(wait), { concurrency: "unbounded" })
        yield* forgetUnit(unit)
        return exits
      }).pipe(
        Effect.timeout("60 seconds"),
        Effect.provide(Layer.orDie(clientLayer({ db, clusterName: NAME, secret: Buffer.from(SECRET) })))
      )
    )
    for (const exit of exits) {
      expect(Exit.isFailure(exit) && String(Cause.squash(exit.cause))).toMatch(
        /no agent can go on \(a deadlock of the protocol\): agent 0 waits for task 1, epoch 0; agent 1 waits for task 0, epoch 0; agent 2 waits for task 0, epoch 0/
      )
    }
  }, 120_000)

  it("a wrong secret is refused with one line and nothing is written", async () => {
    const out = path.join(cwd, "refused")
    const r = await cli(["run", SPEC, "--cluster", "--db", db, "--cluster-name", NAME, "--out", out], {
      cwd,
      env: cleanEnv({ DISTMT_CLUSTER_SECRET: randomBytes(24).toString("hex") }),
      timeoutMs: 120_000
    })
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/the cluster refused this process's messages .*this process's secret is from \$DISTMT_CLUSTER_SECRET; give it the runners'/)
    expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m)
    expect(fs.existsSync(out)).toBe(false)
  }, 200_000)

  /** The units of test/fixtures/cluster-long.spec.ts that have checkpoints (none before the table exists). */
  const longUnits = async () => {
    if ((await queryRows<{ t: string | null }>(db, "SELECT to_regclass('distmt_agents')::text AS t"))[0].t === null) return new Set<string>()
    return new Set((await queryRows<{ unit: string }>(db, "SELECT DISTINCT unit FROM distmt_agents WHERE unit LIKE 'cluster-long-%'")).map((r) => r.unit))
  }

  /**
   * Submits test/fixtures/cluster-long.spec.ts to the cluster into `out` with the stall limit at 3 s,
   * and stops every runner (SIGSTOP) once its first checkpoint is in: its checkpoints stop moving
   * while its calls wait, as after a PostgreSQL outage or when a server fails at each start. The
   * caller lets the runners go on (`resume`); afterEach starts fresh ones for later tests.
   */
  const submitThenStopRunners = async (out: string) => {
    const args = ["run", path.join(root, "test", "fixtures", "cluster-long.spec.ts"), "--cluster", "--db", db, "--cluster-name", NAME, "--out", out]
    const earlier = await longUnits()
    const child = spawn(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd, env: { ...env, DISTMT_CLUSTER_STALL_SECONDS: "3" } })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.resume()
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    for (let i = 0; i < 4800 && ![...(await longUnits())].some((u) => !earlier.has(u)); i++) await new Promise((r) => setTimeout(r, 25))
    const alive = runners.filter((r) => r.child.exitCode === null && r.child.signalCode === null)
    for (const r of alive) r.child.kill("SIGSTOP")
    return {
      args,
      exited,
      stderr: () => stderr,
      resume: () => alive.forEach((r) => r.child.kill("SIGCONT")),
      stop: () => Promise.all(alive.map((r) => r.stop()))
    }
  }

  it("runners that stop answering for longer than the stall limit: the submission starts the agents again from their checkpoints, the same files", async () => {
    // A PostgreSQL outage left `Run`s that never answered and a submission silent for ever; stopped
    // runners leave the same.
    const local = await inProcess(path.join(root, "test", "fixtures", "cluster-long.spec.ts"), "long-local")
    const out = path.join(cwd, "stalled")
    const run = await submitThenStopRunners(out)
    await new Promise((r) => setTimeout(r, 5000))
    run.resume()
    expect(await run.exited, run.stderr()).toBe(0)
    expect(run.stderr()).toMatch(/no agent's checkpoint changed for 3 s; its agents are started again from their checkpoints/)
    expectSameFiles(local, out, ["results.csv", "policies.json"])
    await run.stop()
  }, 600_000)

  it("a unit whose agents never move through three starts in a row is given up with one line, and the same command resumes it", async () => {
    // The runners stay stopped for as long as the submission waits: each start of the agents stalls
    // as the one before.
    const local = await inProcess(path.join(root, "test", "fixtures", "cluster-long.spec.ts"), "given-up-local")
    const out = path.join(cwd, "given-up")
    const run = await submitThenStopRunners(out)
    const code = await run.exited
    run.resume()
    const stderr = run.stderr()
    expect(code, stderr).toBe(1)
    expect(stderr).toMatch(/no agent's checkpoint changed for 3 s; its agents are started again from their checkpoints/)
    expect(stderr).toMatch(/no agent's checkpoint changed through 3 starts in a row \(9 s\), so something fails each time its server or agents start: the runners' logs say what .* the same command resumes it/)
    expect(stderr).not.toMatch(/^\s+at /m)
    // Given again, the unit resumes from the checkpoints it kept, and the run ends as in one process.
    const again = await cli(run.args, { cwd, env, timeoutMs: 300_000 })
    expect(again.status, again.stderr).toBe(0)
    expectSameFiles(local, out, ["results.csv", "policies.json"])
    await run.stop()
  }, 600_000)
})

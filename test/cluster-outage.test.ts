/**
 * A PostgreSQL outage during `distmt run --cluster`, as its first unit starts and in the middle of
 * the run: every connection of the runners and of the submitting process is cut, and no new one is
 * let through, for 5 s. Before the submission
 * followed its units' checkpoints, such an outage left it silent for ever (its agents' `Run`s never
 * answered, 3 times in 3 by hand). Now the run must end by itself with the in-process run's files.
 *
 * The outage is made by a TCP proxy between this test's processes and PostgreSQL, so that the
 * database itself, which the other test files use at the same time, never stops.
 *
 * Needs PostgreSQL ($DISTMT_TEST_DB, from tools/postgres.sh): skipped with a message on a developer
 * machine without it, a failure under CI.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanEnv, cli, clusterTestsMode, dropClusterTables, failsWithoutDatabase, root, type Runner, scratch, startRunnerOn, TEST_DB } from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-outage")

const SECRET = randomBytes(24).toString("hex")
const NAME = `outage_${process.pid}`
const SPEC = path.join(root, "test", "fixtures", "cluster-long.spec.ts")

/** A TCP proxy to `target` on 127.0.0.1; `cut` drops every connection and refuses new ones until `restore`. */
const makeProxy = async (target: URL) => {
  const sockets = new Set<net.Socket>()
  let down = false
  const server = net.createServer((client) => {
    if (down) return client.destroy()
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    const close = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on("error", close)
      s.on("close", close)
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = new URL(target.toString())
  url.hostname = "127.0.0.1"
  url.port = String((server.address() as net.AddressInfo).port)
  return {
    url: url.toString(),
    cut: () => {
      down = true
      for (const s of sockets) s.destroy()
    },
    restore: () => {
      down = false
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

describe.skipIf(mode === "skip")("distmt run --cluster through a PostgreSQL outage", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  const env = cleanEnv({ DISTMT_CLUSTER_SECRET: SECRET })
  const runners: Array<Runner> = []
  let proxy: Awaited<ReturnType<typeof makeProxy>>

  beforeAll(async () => {
    proxy = await makeProxy(new URL(db))
    for (let i = 0; i < 2; i++) runners.push(await startRunnerOn(proxy.url, NAME, { cwd, env }, "--threads", "1", "--checkpoint-every", "0.2"))
  }, 200_000)

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()))
    await proxy.close()
    await dropClusterTables(db, NAME)
  }, 60_000)

  // At 0 s the cut falls as the submission stores the run's model and starts its first unit, whose
  // transaction it broke (the run ended with the driver's stack about half the time, before
  // untilReachable took a defect for the outage it is); at 2 s it falls in the middle of the run.
  for (const [when, afterMs] of [["as the first unit starts", 0], ["mid-run", 2000]] as const) {
    it(`every connection cut for 5 s ${when}: the run ends by itself with the in-process run's files`, async () => {
      const local = path.join(cwd, "local")
      if (!fs.existsSync(path.join(local, "results.csv"))) {
        const a = await cli(["run", SPEC, "--out", local], { cwd, env, timeoutMs: 240_000 })
        expect(a.status, a.stderr).toBe(0)
      }
      const out = path.join(cwd, `cluster-${afterMs}`)
      const submission = cli(["run", SPEC, "--cluster", "--db", proxy.url, "--cluster-name", NAME, "--out", out], {
        cwd,
        env: { ...env, DISTMT_CLUSTER_STALL_SECONDS: "3" },
        timeoutMs: 300_000
      })
      // Cut `afterMs` after the submission made its folder (each seed takes seconds).
      for (let i = 0; i < 4800 && !fs.existsSync(out); i++) await new Promise((r) => setTimeout(r, 25))
      await new Promise((r) => setTimeout(r, afterMs))
      proxy.cut()
      await new Promise((r) => setTimeout(r, 5000))
      proxy.restore()
      const b = await submission
      expect(b.status, b.stdout + b.stderr).toBe(0)
      for (const file of ["results.csv", "policies.json"]) {
        expect(fs.readFileSync(path.join(out, file), "utf8"), file).toBe(fs.readFileSync(path.join(local, file), "utf8"))
      }
    }, 400_000)
  }
})

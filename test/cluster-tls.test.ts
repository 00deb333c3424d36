/**
 * Mutual TLS between runners and clients (src/cluster/transport.ts), with a test CA made by the
 * `openssl` commands of docs/cluster.md: a client with a certificate from the cluster's CA is
 * answered; one without a certificate, or with one from another CA, gets nothing through, and
 * `run --cluster` then says that TLS or the way to the runners is at fault (it asked whether runners
 * were up with that --cluster-name, which they were).
 *
 * Needs $DISTMT_TEST_DB (see test/cluster-infra.test.ts) and `openssl`.
 */
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanEnv, cli, clusterTestsMode, dropClusterTables, failsWithoutDatabase, hasOpenssl, makeCertificates, type Runner, scratch, startRunnerOn, TEST_DB } from "./cluster-helpers.ts"

const mode = clusterTestsMode("cluster-tls")
if (mode === "run" && !hasOpenssl) console.warn("cluster-tls tests SKIPPED: no `openssl` to make the test CA")

describe.skipIf(mode === "skip" || (mode === "run" && !hasOpenssl))("mutual TLS between runners and clients", () => {
  if (failsWithoutDatabase(mode)) return
  const db = TEST_DB!
  const cwd = scratch()
  const NAME = `tls_${process.pid}`
  const env = cleanEnv({ DISTMT_CLUSTER_SECRET: randomBytes(24).toString("hex") })
  const tls = (cert: string, ca = "ca") => ["--tls-cert", path.join(cwd, `${cert}.crt`), "--tls-key", path.join(cwd, `${cert}.key`), "--tls-ca", path.join(cwd, `${ca}.crt`)]
  let runner: Runner

  beforeAll(async () => {
    makeCertificates(cwd)
    runner = await startRunnerOn(db, NAME, { cwd, env }, ...tls("runner"))
  })

  afterAll(async () => {
    await runner?.stop()
    await dropClusterTables(db, NAME)
  })

  it("answers a client with a certificate from the cluster's CA, and nobody else", async () => {
    expect(runner.output()).toMatch(/transport: mutual TLS/)
    const ping = (timeout: number, ...args: Array<string>) =>
      cli(["cluster", "ping", "--db", db, "--cluster-name", NAME, "--entity", "t", "--timeout", String(timeout), ...args], { cwd, env })
    const spec = path.join(import.meta.dirname, "fixtures", "cluster.spec.ts")
    const run = (out: string) => cli(["run", spec, "--cluster", "--db", db, "--cluster-name", NAME, "--out", out], { cwd, env, timeoutMs: 120_000 })
    // At once: run --cluster waits 60 s for its first answer.
    const [good, noCert, otherCa, runNoCert] = await Promise.all([
      ping(40, ...tls("runner")),
      ping(12),
      ping(12, ...tls("intruder")),
      run("no-cert")
    ])
    expect(runNoCert.status).toBe(1)
    const address = /ready on (\S+),/.exec(runner.output())![1]
    expect(runNoCert.stderr.trim()).toBe(
      `no answer within 60 s from the runners of cluster "${NAME}" (${address}), which PostgreSQL lists as up: this process and ` +
        "the runners must both use mutual TLS with certificates from one CA (--tls-cert, --tls-key, --tls-ca), or neither (this process " +
        "does not); and this machine must reach those addresses"
    )
    expect(good.status, good.stderr).toBe(0)
    expect(good.stdout).toMatch(/pong from t \(volatile\)/)
    for (const r of [noCert, otherCa]) {
      expect(r.status).toBe(1)
      expect(r.stderr).toMatch(/no answer within 12 s: .*mutual TLS/)
    }
    // Neither of them reached a handler: only the genuine ping was handled.
    const handled = await ping(40, "--handled", ...tls("runner"))
    expect(handled.stdout.trim()).toBe("t: 1 ping handled")
  })

  it("refuses to start with only some of the TLS files", async () => {
    const r = await cli(["runner", "--db", db, "--tls-cert", path.join(cwd, "runner.crt")], { cwd, env, timeoutMs: 60_000 })
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe("distmt runner: mutual TLS needs all three of --tls-cert, --tls-key and --tls-ca (see docs/cluster.md)")
  })
})

/**
 * The cluster's connection flags given to `run` or `sweep` without `--cluster` are refused in one
 * line, before anything is written: ignored, they left the user believing the run was on the
 * cluster while it ran in this process; likewise `--threads` with `--cluster`. A cluster name
 * that is distmt's own table prefix is refused by every command that takes it, and a
 * --checkpoint-every longer than half the stall limit. No database needed.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })

describe("cluster flags without --cluster", () => {
  for (const command of ["run", "sweep"]) {
    it(`${command}: refused, naming them, and nothing written`, () => {
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-cluster-flags-")), "out")
      const r = distmt(command, "test/fixtures/cluster-sweep.spec.ts", "--out", out, "--db", "postgres://u:p@127.0.0.1:1/db", "--cluster-name", "lab")
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe("--db, --cluster-name: only with --cluster, which runs on the cluster's runners; without it, everything runs in this process")
      expect(fs.existsSync(out)).toBe(false)
    })
  }

  it("run --cluster --threads: refused, the threads being the runners'", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-cluster-flags-")), "out")
    const r = distmt("run", "test/fixtures/cluster.spec.ts", "--out", out, "--cluster", "--threads", "2", "--db", "postgres://u:p@127.0.0.1:1/db")
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toMatch(/^--threads: a cluster run's episodes run on the runners' learner threads/)
    expect(fs.existsSync(out)).toBe(false)
  })
})

describe("--cluster-name distmt", () => {
  // distmt's own tables are distmt_…: a cluster named distmt shares distmt_replies with them, so its
  // runners failed on every entity and a run on it waited for ever. Refused before any connection.
  const db = "postgres://u:p@127.0.0.1:1/db"
  const refused = (name: string) =>
    `--cluster-name ${name}: the prefix distmt_ is distmt's own tables' (distmt_replies, distmt_tasks…); choose another name`
  const commands: ReadonlyArray<[string, Array<string>, string]> = [
    ["runner", ["runner", "--insecure", "--db", db, "--listen", "127.0.0.1:35990"], "distmt runner: "],
    ["cluster up", ["cluster", "up", "--insecure", "--db", db, "--port", "35990", "--runners", "1"], "distmt cluster: "],
    ["cluster ping", ["cluster", "ping", "--insecure", "--db", db], "distmt cluster ping: "],
    ["run --cluster", ["run", "test/fixtures/cluster.spec.ts", "--cluster", "--insecure", "--db", db], ""]
  ]
  for (const [what, args, prefix] of commands) {
    for (const name of ["distmt", "distmt_lab"]) {
      it(`${what} --cluster-name ${name}: refused in one line`, () => {
        const r = distmt(...args, "--cluster-name", name)
        expect(r.status).toBe(1)
        expect(r.stderr.trim()).toBe(prefix + refused(name))
      })
    }
  }

  it("another name is still accepted (the refusal is the name's, not the flag's)", () => {
    const r = distmt("runner", "--insecure", "--db", db, "--listen", "127.0.0.1:35990", "--cluster-name", "distmtlab")
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toMatch(/^distmt runner: cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db: nothing listens there/)
  })
})

describe("--checkpoint-every above the stall limit's half", () => {
  // A run takes a unit whose checkpoints have not changed for 120 s for lost and starts its agents
  // again from them: agents that checkpointed less often restarted for ever inside a long instance.
  const db = "postgres://u:p@127.0.0.1:1/db"
  const refused = (s: string) =>
    `--checkpoint-every: expected seconds above 0 and at most 60, got ${s} (a run takes a unit whose checkpoints have not changed ` +
    "for 120 s for lost, and starts its agents again from them)"
  const runner = (s: string) => distmt("runner", "--insecure", "--db", db, "--listen", "127.0.0.1:35991", "--checkpoint-every", s)
  it("runner: 61 and 300 refused in one line, 60 accepted", () => {
    for (const s of ["61", "300"]) {
      const r = runner(s)
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(`distmt runner: ${refused(s)}`)
    }
    expect(runner("60").stderr.trim()).toMatch(/^distmt runner: cannot reach PostgreSQL at /)
  })

  it("cluster up: refused before any runner starts", () => {
    const r = distmt("cluster", "up", "--insecure", "--db", db, "--port", "35991", "--runners", "1", "--checkpoint-every", "300")
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`distmt cluster: ${refused("300")}`)
  })
})

describe("cluster up on a port that is taken", () => {
  // Another cluster's runner there: the runner's own line said "choose another with --listen
  // HOST:PORT", a flag of `distmt runner` that `cluster up` does not have.
  it("names --port, before any runner starts or anything is written", async () => {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const port = (server.address() as net.AddressInfo).port
    try {
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-cluster-flags-"))
      const r = spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), "cluster", "up", "--insecure", "--db", "postgres://u:p@127.0.0.1:1/db", "--port", String(port), "--runners", "1"], {
        cwd,
        encoding: "utf8",
        timeout: 120_000
      })
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(
        `distmt cluster: --port: 127.0.0.1:${port} is in use (another cluster's runner?); give another first port with --port, the runners take it and the next ones`
      )
      expect(fs.existsSync(path.join(cwd, ".distmt"))).toBe(false)
    } finally {
      server.close()
    }
  })
})

describe("cluster up --checkpoint-every", () => {
  // It was passed on to each runner unchecked: with a database reached, every runner failed on it,
  // one log each. It is checked as `distmt runner` checks it, before the database is asked.
  it("is refused in one line before the database is reached, and nothing is started or written", () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-cluster-up-"))
    for (const seconds of ["0", "-1", "61"]) {
      const r = spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), "cluster", "up", "--insecure", "--port", "35992", "--checkpoint-every", seconds, "--db", "postgres://u:p@127.0.0.1:1/db"], {
        cwd,
        encoding: "utf8",
        timeout: 60_000
      })
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toMatch(new RegExp(`^distmt cluster: --checkpoint-every: expected seconds above 0 and at most 60, got ${seconds} `))
    }
    expect(fs.readdirSync(cwd)).toEqual([])
  })
})

describe("cluster ping's flags", () => {
  // --timeout 0 or below gave up at once once runners were found, an empty --entity was sent as an
  // id, and --handled (which sends no ping) dropped --watch in silence; each was seen only with a
  // database. Each is now one line before the database is asked.
  it("a timeout below a second, an empty entity and --handled with --watch are refused in one line", () => {
    for (const [args, line] of [
      [["--timeout", "0"], "--timeout: from 1 to 86400 seconds, got 0"],
      [["--timeout", "-5"], "--timeout: from 1 to 86400 seconds, got -5"],
      [["--entity", " "], "--entity: expected an entity id, got an empty one"],
      [["--handled", "--watch", "5"], "--handled sends no ping, so it does not go with --watch; give one of them"]
    ] as const) {
      const r = distmt("cluster", "ping", "--insecure", "--db", "postgres://u:p@127.0.0.1:1/db", ...args)
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(`distmt cluster ping: ${line}`)
    }
  })
})

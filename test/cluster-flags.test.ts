/**
 * The cluster's connection flags given to `run` or `sweep` without `--cluster` are refused in one
 * line, before anything is written: ignored, they left the user believing the run was on the
 * cluster while it ran in this process; likewise `--threads` with `--cluster`. No database needed.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
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

describe("cluster up --checkpoint-every", () => {
  // It was passed on to each runner unchecked: with a database reached, every runner failed on it,
  // one log each. It is checked as `distmt runner` checks it, before the database is asked.
  it("is refused in one line before the database is reached, and nothing is started or written", () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-cluster-up-"))
    for (const seconds of ["0", "-1", "86401"]) {
      const r = spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), "cluster", "up", "--insecure", "--checkpoint-every", seconds, "--db", "postgres://u:p@127.0.0.1:1/db"], {
        cwd,
        encoding: "utf8",
        timeout: 60_000
      })
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(`distmt cluster: --checkpoint-every: expected seconds above 0 (at most 86400), got ${seconds}`)
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

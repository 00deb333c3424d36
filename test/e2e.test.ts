/**
 * The main job end to end, as a user runs it: `distmt run specs/linear-chain.spec.ts`, then the
 * acceptance criteria of the run (success, identification, the 1/N saving) and an independent
 * re-check of the written policies against the written model (tools/check-policies.mjs).
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 300_000 })

describe("distmt run specs/linear-chain.spec.ts", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-e2e-"))
  let stdout = ""
  let summary: any

  beforeAll(() => {
    const r = distmt("run", "specs/linear-chain.spec.ts", "--out", out)
    stdout = r.stdout
    expect(r.stderr).not.toMatch(/Error|at .*\.ts:\d+/)
    expect(r.status).toBe(0)
    summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"))
  }, 300_000)

  it("prints a summary table per algorithm", () => {
    expect(stdout).toMatch(/DistMT-LSVI\s+1\.00/)
    expect(stdout).toMatch(/independent/)
    expect(stdout).toMatch(/oracle/)
  })

  it("meets the paper's claims on this spec: ε-optimal everywhere, right identities, ≥ 5× fewer episodes than independent", () => {
    const a = summary.algorithms
    expect(summary.spec.agents).toBeGreaterThan(summary.tasks.length) // several agents meet each hidden task
    expect(a.distmt.successRate).toBe(1)
    expect(a.distmt.identificationAccuracy).toBe(1)
    expect(a.independent.meanEpisodesPerAgent / a.distmt.meanEpisodesPerAgent).toBeGreaterThanOrEqual(5)
    expect(summary.complete).toBe(true)
  })

  it("writes summary.json with the documented fields", () => {
    for (const name of ["distmt", "independent", "oracle"]) {
      const s = summary.algorithms[name]
      for (const k of ["successRate", "meanEpisodesPerAgent", "maxEpisodesPerAgent", "identificationAccuracy", "messages", "bytes", "wallSeconds"]) {
        expect(s, `${name}.${k}`).toHaveProperty(k)
      }
    }
    expect(summary.algorithms.distmt.messages).toBeGreaterThan(0)
    expect(summary.algorithms.independent.identificationAccuracy).toBeNull()
  })

  it("writes results.csv with one row per (algorithm, seed, agent, task instance), and one per task an agent fetched", () => {
    const lines = fs.readFileSync(path.join(out, "results.csv"), "utf8").trim().split("\n")
    const header = lines[0].split(",")
    const rows = lines.slice(1).map((l) => l.split(","))
    const { agents, seeds } = summary.spec
    const M = summary.tasks.length
    // distmt and oracle: max(N, M) instances per seed under partition; independent: N·M.
    const instances = rows.filter((r) => r[header.indexOf("slot")] !== "")
    expect(instances.length).toBe(seeds * (2 * Math.max(agents, M) + agents * M))
    // Every agent of every algorithm holds a policy of each of the M tasks (§3 step 4).
    expect(rows.length).toBe(seeds * 3 * agents * M)
    expect(rows.filter((r) => r[header.indexOf("source")] === "fetched").length).toBe(seeds * 2 * (agents * M - Math.max(agents, M)))
    expect(header).toContain("gap")
  })

  it("writes model.json and policies.json that an outside program re-checks to the same success rates", () => {
    const model = JSON.parse(fs.readFileSync(path.join(out, "model.json"), "utf8"))
    expect(model.tasks).toHaveLength(summary.tasks.length)
    expect(model.tasks[0].transition).toHaveLength(model.horizon)
    expect(model.features[0][0]).toHaveLength(model.states * model.actions)
    const check = execFileSync(process.execPath, [path.join(root, "tools", "check-policies.mjs"), out], { encoding: "utf8" })
    expect(check).toMatch(/distmt: .* agree/)
    expect(check).not.toMatch(/DISAGREE/)
  })

  it("leaves no temporary files behind", () => {
    expect(fs.readdirSync(out).sort()).toEqual(["curves.csv", "model.json", "policies.json", "results.csv", "summary.json", "units"])
    // units/ holds one file per finished (algorithm, seed), for resuming; none half-written.
    expect(fs.readdirSync(path.join(out, "units")).filter((f) => !f.endsWith(".json"))).toEqual([])
  })
})

describe("distmt on bad input", () => {
  it("a missing spec file gets a one-line error and exit code 1", () => {
    const r = distmt("validate", "specs/no-such.spec.ts")
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe("Cannot load spec specs/no-such.spec.ts: no such file")
  })

  it("a module without a spec gets a one-line error", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-bad-"))
    const file = path.join(dir, "empty.spec.ts")
    fs.writeFileSync(file, "export const x = 1\n")
    const r = distmt("validate", file)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(
      `Cannot load spec ${file}: it has no default export, so it is not a spec and was not run (a spec file ends with \`export default Experiment.make({ ... })\`)`
    )
  })

  it("a bad spec names the field, and a run with it changes nothing already written", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-bad-"))
    const file = path.join(root, "specs", `.bad-${process.pid}.spec.ts`)
    const source = fs.readFileSync(path.join(root, "specs", "linear-chain.spec.ts"), "utf8").replace("agents: 12", "agents: -3")
    fs.writeFileSync(file, source)
    const out = path.join(dir, "out")
    fs.mkdirSync(out)
    fs.writeFileSync(path.join(out, "summary.json"), "earlier results")
    try {
      const r = distmt("run", file, "--out", out)
      expect(r.status).toBe(1)
      expect(r.stderr).toMatch(/agents: expected a value greater than 0, got -3/)
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/) // no stack trace
      expect(fs.readdirSync(out)).toEqual(["summary.json"])
      expect(fs.readFileSync(path.join(out, "summary.json"), "utf8")).toBe("earlier results")
    } finally {
      fs.rmSync(file)
    }
  })
})

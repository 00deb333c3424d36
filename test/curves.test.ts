/**
 * Learning curves (issue 13, item 1): each instance's certificate and the exact gap of its greedy
 * policy at log-spaced episodes (src/agent/curve.ts, src/run/curves.ts), written to curves.csv and
 * drawn by `distmt plot`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { onGrid } from "../src/agent/curve.ts"
import { curveBands, curvesCsv, parseCurvesCsv, type RunCurvePoint } from "../src/report/curves.ts"
import { curveColumns, curveFromColumns } from "../src/run/curves.ts"
import { type AlgorithmRun, runAlgorithm } from "../src/run/runExperiment.ts"
import { Contexts } from "../src/index.ts"
import { CHAIN_CONTEXTS, chain as chainOf } from "./chain.ts"

const root = path.resolve(import.meta.dirname, "..")

// Two tasks, four agents meeting both in turn, and the `independent` baseline.
const chain = (over: Record<string, unknown> = {}) =>
  chainOf("curves", { contexts: Contexts.list(CHAIN_CONTEXTS.slice(0, 2)), agents: 4, baselines: ["independent"], ...over })

describe("the grid of sampled episodes", () => {
  it("every one of the first ten, then about five per decade: a 200,000-episode phase keeps under 40 points", () => {
    const grid = Array.from({ length: 200_001 }, (_, k) => k).filter(onGrid)
    expect(grid.slice(0, 16)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 25, 40, 63, 100])
    expect(grid.length).toBeLessThan(40)
    // Log-spaced: consecutive points past ten grow by a factor near 10^(1/5).
    for (let i = 12; i < grid.length; i++) expect(grid[i] / grid[i - 1]).toBeCloseTo(10 ** 0.2, 1)
  })
})

describe("a run's curves", () => {
  const runs = (c: ReturnType<typeof chain>) =>
    Effect.runPromise(Effect.all([runAlgorithm(c, "distmt", 5), runAlgorithm(c, "independent", 5)]))

  it("end where the rows end: an instance that learned its own policy ends on that policy's certificate and exact gap", async () => {
    const c = chain()
    for (const run of await runs(c)) {
      expect(run.curve.length).toBeGreaterThan(0)
      for (const row of run.rows.filter((r) => r.slot !== undefined)) {
        const points = run.curve.filter((p) => p.agent === row.agent && p.slot === row.slot)
        const last = points.at(-1)!
        // Episodes on the instance over both phases are the row's.
        expect(last.episode).toBe(row.identificationEpisodes + row.learningEpisodes)
        expect(last.task).toBe(row.task)
        if (row.source === "learned") {
          expect(last.width).toBe(row.certificate.width)
          expect(last.gap).toBe(row.gap)
        }
        // Identification first, then learning; episodes go forward within a phase, and a phase
        // starts where the one before ended (its first point is the same learner, re-backed-up).
        const phases = points.map((p) => p.phase)
        if (phases.includes("learn")) expect(phases.lastIndexOf("identify")).toBeLessThan(phases.indexOf("learn"))
        for (let i = 1; i < points.length; i++) {
          if (points[i].phase === points[i - 1].phase) expect(points[i].episode).toBeGreaterThan(points[i - 1].episode)
          else expect(points[i].episode).toBe(points[i - 1].episode)
        }
      }
      // An agent's episodes add up over its instances, in order.
      for (const agent of new Set(run.rows.map((r) => r.agent))) {
        const own = run.rows.filter((r) => r.agent === agent && r.slot !== undefined)
        const total = own.reduce((n, r) => n + r.identificationEpisodes + r.learningEpisodes, 0)
        const points = run.curve.filter((p) => p.agent === agent)
        expect(Math.max(...points.map((p) => p.agentEpisode))).toBe(total)
        for (const p of points) {
          const before = own.filter((r) => r.slot! < p.slot).reduce((n, r) => n + r.identificationEpisodes + r.learningEpisodes, 0)
          expect(p.agentEpisode).toBe(before + p.episode)
        }
      }
    }
  }, 120_000)

  it("the gap at a sampled episode is that of the greedy policy then: it falls to within ε by the end, from above ε at the start", async () => {
    const [distmt] = await runs(chain())
    const first = distmt.curve.filter((p) => p.episode === 0)
    expect(Math.max(...first.map((p) => p.gap))).toBeGreaterThan(0.3)
    for (const p of distmt.curve) expect(p.gap).toBeGreaterThanOrEqual(-1e-9)
  }, 120_000)

  it("round-trip through run files (columns) and curves.csv without a change", async () => {
    const rs: ReadonlyArray<AlgorithmRun> = await runs(chain())
    for (const r of rs) expect(curveFromColumns(JSON.parse(JSON.stringify(curveColumns(r.curve))))).toEqual(r.curve)
    const parsed = parseCurvesCsv(curvesCsv(rs))
    expect(typeof parsed).not.toBe("string")
    expect((parsed as Array<RunCurvePoint>).length).toBe(rs.reduce((n, r) => n + r.curve.length, 0))
    expect((parsed as Array<RunCurvePoint>).map(({ algorithm: _a, seed: _s, ...p }) => p)).toEqual(rs.flatMap((r) => r.curve))
    expect(parseCurvesCsv("a,b\n1,2\n")).toMatch(/header/)
  }, 120_000)
})

describe("bands", () => {
  const point = (algorithm: "distmt" | "oracle", agent: number, agentEpisode: number, width: number): RunCurvePoint => ({
    algorithm, seed: 0, agent, slot: 0, task: 0, episode: agentEpisode, agentEpisode, phase: "learn", lower: 0, upper: width, width, gap: 0
  })

  it("the median at x is over the curves still running, each at its last point at or before x", () => {
    const points = [point("distmt", 0, 0, 4), point("distmt", 0, 10, 2), point("distmt", 0, 100, 1), point("distmt", 1, 0, 8), point("distmt", 1, 10, 6)]
    const [band] = curveBands(points, (p) => p.width)
    const at = (x: number) => band.points.find((p) => p.x === x)
    expect(at(1)).toMatchObject({ median: 6, running: 2 })
    expect(at(10)).toMatchObject({ median: 4, running: 2 })
    // Agent 1 stopped at 10 episodes: from then on only agent 0 counts.
    expect(at(100)).toMatchObject({ median: 1, running: 1 })
  })
})

describe("distmt plot", () => {
  it("draws the width and gap plots of a run folder; a folder without curves gets one line, nothing written", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-plot-"))
    const run = spawnSync(process.execPath, [path.join(root, "bin/distmt.mjs"), "run", "test/fixtures/tiny.spec.ts", "--out", path.join(dir, "run")], {
      cwd: root,
      encoding: "utf8"
    })
    expect(run.status, run.stderr).toBe(0)
    expect(fs.readFileSync(path.join(dir, "run", "curves.csv"), "utf8").split("\n").length).toBeGreaterThan(10)
    const plot = spawnSync(process.execPath, [path.join(root, "bin/distmt.mjs"), "plot", path.join(dir, "run")], { cwd: root, encoding: "utf8" })
    expect(plot.status, plot.stderr).toBe(0)
    for (const f of ["curves-width.svg", "curves-gap.svg"]) {
      const svg = fs.readFileSync(path.join(dir, "run", "plots", f), "utf8")
      expect(svg).toMatch(/^<svg/)
      expect(svg).toContain("episodes per agent")
      expect(svg).toContain("ε = ")
    }
    fs.rmSync(path.join(dir, "run", "curves.csv"))
    const bad = spawnSync(process.execPath, [path.join(root, "bin/distmt.mjs"), "plot", path.join(dir, "run")], { cwd: root, encoding: "utf8" })
    expect(bad.status).toBe(1)
    expect(bad.stderr.trim().split("\n")).toHaveLength(1)
    expect(bad.stderr).toMatch(/no curves\.csv/)
  }, 120_000)
})

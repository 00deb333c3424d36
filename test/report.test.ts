/**
 * The report: statistics checked by hand, the E3 analysis (log–log slope of learning episodes per
 * agent against N with its interval over seeds, the ratio to `independent`) on data whose answer is
 * known, built on the plan of the shipped E3 quick spec; the plots are valid SVG; report.md and a
 * self-contained report.html are written; a result that disagrees with the paper is said to.
 */
import { noTraffic } from "../src/coordinator/Coordinator.ts"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { AlgorithmRun, Row } from "../src/run/runExperiment.ts"
import { planUnits, type SweepUnit } from "../src/run/sweepPlan.ts"
import { analyse, type SweepData } from "../src/report/analysis/index.ts"
import { toMarkdown } from "../src/report/document.ts"
import { lineChartSvg } from "../src/report/plots.ts"
import { writeReport } from "../src/report/report.ts"
import { type Manifest, manifestOf, parseRunFile, runFileJson, type RunRecord } from "../src/report/sweepFiles.ts"
import { interval95, leastSquares, logLogFit, slopeOverSeeds, tQuantile975 } from "../src/report/stats.ts"
import { decode } from "../src/spec/schema.ts"
import { expandSweep } from "../src/spec/sweep.ts"
import { Assignment } from "../src/spec/Spec.ts"
import scaling from "../specs/scaling.spec.ts"

describe("statistics", () => {
  it("t intervals and least squares, by hand", () => {
    expect(tQuantile975(1)).toBe(12.706)
    expect(tQuantile975(4)).toBe(2.776)
    expect(tQuantile975(1000)).toBeCloseTo(1.96, 2)
    const i = interval95([1, 2, 3])
    expect(i.mean).toBe(2)
    expect(i.hi - i.mean).toBeCloseTo(4.303 / Math.sqrt(3), 10) // sd = 1
    expect(interval95([5])).toEqual({ mean: 5, lo: 5, hi: 5, n: 1 })
    expect(leastSquares([0, 1, 2], [1, 3, 5])).toEqual({ slope: 2, intercept: 1 })
    expect(logLogFit([{ x: 1, y: 100 }, { x: 10, y: 10 }, { x: 100, y: 1 }]).slope).toBeCloseTo(-1, 12)
    // Points that a log cannot take are left out.
    expect(logLogFit([{ x: 1, y: 8 }, { x: 2, y: 4 }, { x: 4, y: 0 }]).slope).toBeCloseTo(-1, 12)
  })

  it("a slope over seeds: one fit per seed, then a t interval over the seeds", () => {
    // Seed s has y = (1/x)^(1 + a_s) with a = −0.05, 0, +0.05: slopes −0.95, −1, −1.05.
    const obs = [-0.05, 0, 0.05].flatMap((a, seed) => [1, 2, 5, 10].map((x) => ({ seed, x, y: 1000 * x ** -(1 + a) })))
    const s = slopeOverSeeds(obs)
    expect(s.perSeed.map((p) => p.slope)).toEqual([expect.closeTo(-0.95, 10), expect.closeTo(-1, 10), expect.closeTo(-1.05, 10)])
    expect(s.slope.mean).toBeCloseTo(-1, 10)
    expect(s.slope.hi - s.slope.mean).toBeCloseTo(4.303 * 0.05 / Math.sqrt(3), 10)
  })
})

/**
 * Runs with known numbers for the units of a plan: DistMT-LSVI's learning episodes per agent are
 * C·(M/N)^(1 + a_seed) (so the per-seed slope is −(1 + a_seed)), identification costs `kid` per
 * instance, `independent` learns every task at `solo` episodes.
 */
const fakeRun = (u: SweepUnit, a: (seed: number) => number, kid = 500, solo = 3000): AlgorithmRun => {
  const N = u.point.compiled.spec.agents
  const M = u.point.compiled.tasks.length
  const cert = { lower: 0.9, upper: 1.0, width: 0.1 }
  const row = (agent: number, slot: number, task: number, id: number, learn: number, role: Row["role"]): Row => ({
    algorithm: u.algorithm, seed: u.seed, agent, slot, task, identificationEpisodes: id, learningEpisodes: learn,
    entry: u.algorithm === "independent" ? undefined : task, role,
    source: role === "downloaded" ? "downloaded" : "learned",
    identificationCorrect: u.algorithm === "independent" ? undefined : true,
    vStar: 1, vPi: 0.99, gap: 0.01, success: true, certificate: cert, certificateHeld: true, reachedTarget: true, actions: new Int32Array(0)
  })
  const rows: Array<Row> = []
  if (u.algorithm === "independent") {
    for (let i = 0; i < N; i++) for (let m = 0; m < M; m++) rows.push(row(i, m, m, 0, solo, "solo"))
  } else {
    // Partition: instance j → agent j mod N, task j mod M; the first instance of each task learns it.
    const perInstance = 1000 * (M / N) ** (1 + a(u.seed)) * N / M
    for (let j = 0; j < Math.max(N, M); j++) {
      const owner = j < M
      rows.push(row(j % N, Math.floor(j / N), j % M, u.algorithm === "oracle" ? 0 : kid, owner ? perInstance : 0, owner ? "owner" : "downloaded"))
    }
  }
  return { algorithm: u.algorithm, seed: u.seed, rows, traffic: { ...noTraffic, messages: 4 * Math.max(N, M) + 2 * N, bytes: 1000 * N }, registered: M, wallSeconds: 0.1, virtualEpisodes: 0, curve: [] }
}

/** The E3 quick spec's plan (its assignment replaced by `over`'s, if any) with fake, known results for every unit. */
const e3Quick = (a: (seed: number) => number, only?: (u: SweepUnit) => boolean, over: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const spec = yield* decode({ ...scaling, ...over }, "specs/scaling.spec.ts", { quick: true })
    const units = planUnits(spec, yield* expandSweep(spec, "specs/scaling.spec.ts"))
    const manifest: Manifest = JSON.parse(JSON.stringify(manifestOf("specs/scaling.spec.ts", spec, true, units)))
    const records = new Map<string, RunRecord>()
    for (const u of units) {
      if (only !== undefined && !only(u)) continue
      // Through the run file format, as the report reads it.
      records.set(u.key, parseRunFile(runFileJson(u, fakeRun(u, a)), u.key)!)
    }
    return { dir: "unused", manifest, records } satisfies SweepData
  })

const paragraphWith = (md: string, start: string) => md.split("\n\n").find((p) => p.startsWith(start)) ?? ""

describe("unidentified instances in the report (capped identification)", () => {
  it.effect("are counted apart from misidentified ones, in the identification paragraph and the table", () =>
    Effect.gen(function*() {
      const data = yield* e3Quick(() => 0)
      const clean = toMarkdown((yield* Effect.promise(() => analyse(data))).blocks)
      expect(paragraphWith(clean, "**Identification.**")).toContain("no instance was left unidentified")
      // The first DistMT-LSVI instance of every run hit its cap: unidentified, neither right nor wrong.
      const records = new Map([...data.records].map(([key, rec]): [string, RunRecord] => {
        if (rec.run.algorithm !== "distmt") return [key, rec]
        const rows = rec.run.rows.map((r, i) => (i === 0 ? { ...r, role: "unidentified" as const, identificationCorrect: undefined, entry: undefined } : r))
        return [key, { ...rec, run: { ...rec.run, rows } }]
      }))
      const md = toMarkdown((yield* Effect.promise(() => analyse({ ...data, records }))).blocks)
      const p = paragraphWith(md, "**Identification.**")
      expect(p).toMatch(/of instances were left \*\*unidentified\*\*/)
      // Accuracy is over the instances that asked: still every one right.
      expect(p).toContain("every run identified every instance right")
      expect(md).toContain("| unidentified |")
    }))
})

describe("the E3 analysis on known data", () => {
  it.effect("states the slope of learning episodes per agent with its 95% interval over seeds, and the ratio at each N", () =>
    Effect.gen(function*() {
      const data = yield* e3Quick((seed) => [-0.05, 0, 0.05][seed])
      expect(data.manifest.seeds).toEqual([0, 1, 2])
      expect(data.manifest.points.map((p) => p.agents)).toEqual([1, 2, 4, 8])
      const { blocks, headline } = yield* Effect.promise(() => analyse(data))
      const md = toMarkdown(blocks)
      const p = paragraphWith(md, "**Scaling with N.**")
      // Fitted over N ≤ M = 4: per-seed slopes −0.95, −1, −1.05.
      const half = 4.303 * 0.05 / Math.sqrt(3)
      expect(p).toContain(`the fitted slope is **−1.000 (95% CI −${(1 + half).toFixed(3)} to −${(1 - half).toFixed(3)})**`)
      expect(p).toContain("N = 1, 2, 4)")
      // Partition with N ≤ M: each task is learned once, so −1 is arithmetic, not a measured agreement (issue 9).
      expect(p).toContain("a slope of −1 **follows by arithmetic**")
      expect(p).toContain("The measured slope is −1, as the arithmetic requires.")
      expect(p).not.toContain("the measurement **agrees**")
      // Ratio independent / DistMT at N = 1: 4·3000 / (4·500 + 1000·4^(1+a))·…: computed per seed, then averaged.
      const ratioAt = (N: number) => {
        const M = 4
        const per = [-0.05, 0, 0.05].map((a) => (M * 3000) / ((Math.max(N, M) / N) * 500 + 1000 * (M / N) ** (1 + a)))
        return (per.reduce((x, y) => x + y, 0) / 3).toFixed(2)
      }
      expect(p).toContain(`by a factor of ${ratioAt(1)} at N = 1, ${ratioAt(2)} at N = 2, ${ratioAt(4)} at N = 4, ${ratioAt(8)} at N = 8`)
      expect(p).toContain("The ratio **grows with N** at every step")
      expect(p).toContain("Success rate 1.00 at every N")
      expect(headline.join("; ")).toMatch(/learning episodes per agent ∝ N\^−1\.000 \(95% CI/)
      // Every plot is there and is an SVG.
      const plots = blocks.filter((b) => b._tag === "Plot")
      expect(plots.map((b) => b._tag === "Plot" && b.file)).toEqual(expect.arrayContaining([
        "plots/episodes-vs-agents.svg", "plots/ratio-vs-agents.svg", "plots/messages-vs-agents.svg", "plots/bytes-vs-agents.svg",
        "plots/wall-vs-agents.svg", "plots/gaps.svg"
      ]))
      for (const b of plots) if (b._tag === "Plot") expect(b.svg).toMatch(/^<svg [^>]*width="\d+" height="\d+"[\s\S]*<\/svg>$/)
    }))

  it.effect("says so when the slope is not the paper's, and when the ratio does not grow", () =>
    Effect.gen(function*() {
      const flat = yield* e3Quick(() => -0.5)
      const md = toMarkdown((yield* Effect.promise(() => analyse(flat))).blocks)
      expect(paragraphWith(md, "**Scaling with N.**")).toMatch(/fitted slope is \*\*−0\.500.*the measurement \*\*disagrees\*\*: −0\.500 is outside the band −1\.2 to −0\.8/)
      // A sweep with runs missing says it is incomplete and reports what it has.
      const partial = yield* e3Quick(() => 0, (u) => u.seed === 0)
      const pmd = toMarkdown((yield* Effect.promise(() => analyse(partial))).blocks)
      expect(pmd).toMatch(/Runs: 12 of 36 finished — \*\*incomplete\*\*/)
      expect(pmd).toMatch(/a single seed: no interval/)
    }))
})

describe("honest wording: arithmetic or a measured effect (issue 9)", () => {
  it.effect("partition with N ≤ M says the slope and the ratio follow by arithmetic; N > M and stream say measured", () =>
    Effect.gen(function*() {
      const partition = yield* e3Quick(() => 0)
      const md = toMarkdown((yield* Effect.promise(() => analyse(partition))).blocks)
      const p = paragraphWith(md, "**Scaling with N.**")
      expect(p).toContain("Under `partition` with N ≤ M each task is learned exactly once")
      expect(p).toContain("At N = 1, 2, 4 (N ≤ M under `partition`) each task is learned exactly once, so a ratio of about N **follows by arithmetic**")
      // N = 8 > M = 4: several agents meet each task, so that ratio is measured.
      expect(p).toMatch(/At N = 8 the ratio is a \*\*measured effect\*\* of sharing: N > M/)
      // The same sweep under `stream`: agents meet tasks at overlapping times, nothing follows by arithmetic.
      const stream = yield* e3Quick((seed) => [-0.05, 0, 0.05][seed], undefined, { assignment: Assignment.stream() })
      expect(stream.manifest.points.every((pt) => (pt.spec as { assignment: { _tag: string } }).assignment._tag === "Stream")).toBe(true)
      const sp = paragraphWith(toMarkdown((yield* Effect.promise(() => analyse(stream))).blocks), "**Scaling with N.**")
      expect(sp).not.toContain("arithmetic")
      expect(sp).toContain("Under `stream` agents meet tasks at overlapping times, so the slope is a **measured effect** of sharing: the measurement **agrees**.")
      expect(sp).toMatch(/At N = 1, 2, 4, 8 the ratio is a \*\*measured effect\*\* of sharing: under `stream`/)
    }))
})

/** A sweep folder as `distmt sweep` leaves it: sweep.json and the finished runs' files. */
const writeSweepFolder = (dir: string, data: SweepData) => {
  fs.mkdirSync(path.join(dir, "runs"), { recursive: true })
  fs.writeFileSync(path.join(dir, "sweep.json"), JSON.stringify(data.manifest))
  for (const u of data.manifest.units) {
    const rec = data.records.get(u.key)
    if (rec === undefined) continue
    // Without a curve (a run file written before curves existed, which parseRunFile reads as an empty one).
    fs.writeFileSync(path.join(dir, u.file), JSON.stringify({ ...rec, run: { ...rec.run, curve: undefined, rows: rec.run.rows.map(({ actions: _a, ...r }) => r) } }))
  }
}

describe("a sweep with few or no finished runs", () => {
  it.effect("with none, says there are no results yet and how many runs are done, never a verdict or an empty table", () =>
    Effect.gen(function*() {
      // It used to say "Every run reached success 1.00: this **agrees**" over no run, and the terminal line "scaling: .".
      const none = yield* e3Quick(() => 0, () => false)
      const { blocks, headline } = yield* Effect.promise(() => analyse(none))
      const md = toMarkdown(blocks)
      expect(headline).toEqual(["no results yet: 0 of 36 runs finished"])
      expect(md).toContain("- Runs: 0 of 36 finished — **no results yet**.")
      expect(paragraphWith(md, "**No results yet.**")).toContain("0 of the sweep's 36 runs have finished, so nothing is measured and no claim of the paper is checked")
      expect(md).not.toMatch(/agree|Every run|exactly optimal|\| algorithm \||NaN/)
      expect(blocks.filter((b) => b._tag === "Plot" || b._tag === "Table")).toEqual([])
    }))

  it.effect("with some, states its verdicts as over the runs done, in the report and in the terminal's line", () =>
    Effect.gen(function*() {
      const partial = yield* e3Quick(() => 0, (u) => u.seed === 0)
      const { blocks, headline } = yield* Effect.promise(() => analyse(partial))
      expect(headline[0]).toBe("incomplete: 12 of 36 runs finished, the figures are over these")
      expect(paragraphWith(toMarkdown(blocks), "**Success.**")).toContain("Every one of the 12 runs finished (of 36) reached success 1.00: this **agrees** over the runs done.")
    }))

  it.effect("where no instance asked the server, gives no identification accuracy and no verdict", () =>
    Effect.gen(function*() {
      const data = yield* e3Quick(() => 0)
      // Every DistMT-LSVI instance hit its identification cap: accuracy is a mean over nothing.
      const records = new Map([...data.records].map(([key, rec]): [string, RunRecord] => {
        if (rec.run.algorithm !== "distmt") return [key, rec]
        const rows = rec.run.rows.map((r) => (r.slot === undefined ? r : { ...r, role: "unidentified" as const, identificationCorrect: undefined, entry: undefined }))
        return [key, { ...rec, run: { ...rec.run, rows } }]
      }))
      const { blocks, headline } = yield* Effect.promise(() => analyse({ ...data, records }))
      const p = paragraphWith(toMarkdown(blocks), "**Identification.**")
      expect(p).toContain("no instance asked the server, so there is no identification accuracy to measure")
      expect(p).toContain("with no identification to check, there is no verdict.")
      expect(p).not.toMatch(/NaN|agrees|every run identified/)
      expect(headline).toContain("no instance identified")
    }))

  it.effect("where a setting has finished only its baselines, reports the others' scaling rather than failing", () =>
    Effect.gen(function*() {
      // Two settings of ε; DistMT-LSVI's runs at ε = 0.2 not finished yet (a resumed or parallel sweep finishes in any order).
      const over = { quick: { ...scaling.quick, sweep: { agents: [1, 2, 4, 8], epsilon: [0.15, 0.2] } } }
      const data = yield* e3Quick(() => 0, (u) => !(u.algorithm === "distmt" && u.point.compiled.spec.epsilon === 0.2), over)
      const md = toMarkdown((yield* Effect.promise(() => analyse(data))).blocks)
      expect(paragraphWith(md, "**Scaling with N (ε = 0.15).**")).toContain("the fitted slope is")
      expect(md).not.toContain("**Scaling with N (ε = 0.2).**")
    }))
})

describe("plots and report files", () => {
  it.effect("a line chart is a valid SVG with its title, axes and no NaN, on log axes too", () =>
    Effect.gen(function*() {
      const svg = yield* Effect.promise(() =>
        lineChartSvg({
          title: "A test chart",
          x: { title: "agents N", log: true },
          y: { title: "episodes", log: true },
          series: [
            { name: "data", points: [{ x: 1, y: 100, lo: 80, hi: 120 }, { x: 10, y: 10, lo: -5, hi: 15 }] },
            { name: "reference", kind: "line", style: "dot", points: [{ x: 1, y: 100, lo: 0, hi: 0 }, { x: 10, y: 10, lo: 0, hi: 0 }] }
          ]
        })
      )
      expect(svg.startsWith("<svg")).toBe(true)
      expect(svg.trim().endsWith("</svg>")).toBe(true)
      expect(svg).toContain("A test chart")
      expect(svg).toContain("agents N")
      expect(svg).not.toMatch(/NaN|Infinity|undefined/)
      // Balanced elements: every <g …> is closed.
      expect((svg.match(/<g[ >]/g) ?? []).length).toBe((svg.match(/<\/g>/g) ?? []).length)
    }))

  it.effect("writeReport writes report.md, a self-contained report.html and the SVGs", () =>
    Effect.gen(function*() {
      const data = yield* e3Quick(() => 0)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-report-"))
      writeSweepFolder(dir, data)
      const r = yield* writeReport(dir).pipe(Effect.provide(NodeServices.layer))
      expect(r.headline).toMatch(/^scaling: /)
      const md = fs.readFileSync(path.join(dir, "report.md"), "utf8")
      expect(md).toMatch(/^# scaling \(quick\): sweep report/)
      expect(md).toContain("![Episodes per agent against N (log–log), with the fitted slope and the 1/N reference](plots/episodes-vs-agents.svg)")
      expect(md).toMatch(/\| N \| M\/N \| DistMT learning\/agent/)
      const html = fs.readFileSync(path.join(dir, "report.html"), "utf8")
      expect(html).toMatch(/^<!DOCTYPE html>/)
      expect((html.match(/<svg /g) ?? []).length).toBe(6)
      expect(html).not.toMatch(/src=|href="plots|<script/)
      expect(html).toContain("<strong>Scaling with N.</strong>")
      for (const f of fs.readdirSync(path.join(dir, "plots"))) {
        expect(fs.readFileSync(path.join(dir, "plots", f), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>$/)
      }
      // No temporary files are left behind.
      expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([])
    }))

  it.effect("a combined report over two sweeps of one spec names each one's folder in its heading", () =>
    Effect.gen(function*() {
      const data = yield* e3Quick(() => 0, (u) => u.seed === 0)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-report-combined-"))
      writeSweepFolder(path.join(dir, "a"), data)
      writeSweepFolder(path.join(dir, "b"), data)
      yield* writeReport(dir).pipe(Effect.provide(NodeServices.layer))
      // Both used to be "## scaling (quick): sweep report", which could not be told apart.
      const headings = fs.readFileSync(path.join(dir, "report.md"), "utf8").split("\n").filter((l) => l.startsWith("## scaling"))
      expect(headings).toEqual(["## scaling (quick): sweep report in `a`", "## scaling (quick): sweep report in `b`"])
      // Each sweep's own report keeps its title.
      expect(fs.readFileSync(path.join(dir, "a", "report.md"), "utf8")).toMatch(/^# scaling \(quick\): sweep report\n/)
    }))
})

/**
 * The whole-run benchmark of `npm run bench -- --runs BASE` (docs/performance-runs.md, "Whole runs"):
 * `distmt run SPEC` with this checkout and with another one at BASE (say a `git worktree` of the
 * commit before a change), alternating (base, this, then this, base, …) so that a slow spell of the
 * shared machine hits both. Each run is timed by `/usr/bin/time`: wall, user and system seconds and
 * the peak resident memory. Each side runs its own copy of the spec (BASE/SPEC), so that the spec's
 * `import "distmt"` loads that side's code. The result files must be the same on both sides:
 * results.csv, policies.json (a linear-stage run's), curves.csv and summary.json but its wall
 * times, byte for byte; the table says which differ (a change that moves the numbers, such as a new
 * floating-point order in the deep stage's engine, is then timed but not called identical).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { median } from "../src/bench/lsviBench.ts"
import { comparableSummary, SUMMARY_COMPARED } from "./threads.ts"

export interface RunTiming {
  readonly side: "base" | "this"
  readonly wallSeconds: number
  readonly userSeconds: number
  readonly systemSeconds: number
  readonly peakMiB: number
}

export interface RunsResult {
  readonly spec: string
  readonly args: ReadonlyArray<string>
  readonly runs: ReadonlyArray<RunTiming>
  readonly identical: boolean
  readonly differences: ReadonlyArray<string>
}

const TIME = "/usr/bin/time"
const COMPARED = ["results.csv", "policies.json", "curves.csv"] as const

const runOnce = (
  checkout: string,
  side: RunTiming["side"],
  spec: string,
  args: ReadonlyArray<string>,
  fail: (m: string) => never
): { readonly timing: RunTiming; readonly files: Readonly<Record<string, string>> } => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `distmt-runs-${side}-`))
  const timeFile = path.join(out, "time.txt")
  try {
    const command = [process.execPath, path.join(checkout, "bin/distmt.mjs"), "run", path.join(checkout, spec), ...args, "--out", path.join(out, "run")]
    const r = spawnSync(TIME, ["-f", "%e %U %S %M", "-o", timeFile, ...command], { cwd: checkout, encoding: "utf8", maxBuffer: 1 << 26 })
    if (r.status !== 0) fail(`${command.slice(1).join(" ")} failed (${side}):\n${r.stderr}${r.stdout}`)
    const [wall, user, system, kib] = fs.readFileSync(timeFile, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number)
    const files: Record<string, string> = {}
    // A deep-stage run writes no policies.json: compare the files the run wrote.
    for (const f of COMPARED) if (fs.existsSync(path.join(out, "run", f))) files[f] = fs.readFileSync(path.join(out, "run", f), "utf8")
    files[SUMMARY_COMPARED] = comparableSummary(fs.readFileSync(path.join(out, "run", "summary.json"), "utf8"))
    return { timing: { side, wallSeconds: wall, userSeconds: user, systemSeconds: system, peakMiB: kib / 1024 }, files }
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
}

/** `repeat` runs of each side, alternating, and the comparison of their result files. */
export const benchRuns = (
  root: string,
  base: string,
  spec: string,
  args: ReadonlyArray<string>,
  repeat: number,
  fail: (m: string) => never,
  onRun: (t: RunTiming) => void
): RunsResult => {
  if (!fs.existsSync(TIME)) fail(`--runs needs ${TIME} (GNU time) to measure user time and peak memory`)
  if (!fs.existsSync(path.join(base, spec))) fail(`--runs: the base checkout has no ${spec} (${path.join(base, spec)})`)
  const all: Array<ReturnType<typeof runOnce>> = []
  for (let i = 0; i < repeat; i++) {
    for (const side of i % 2 === 0 ? (["base", "this"] as const) : (["this", "base"] as const)) {
      const one = runOnce(side === "base" ? base : root, side, spec, args, fail)
      onRun(one.timing)
      all.push(one)
    }
  }
  const reference = all[0].files
  const differences = all.flatMap((one) =>
    Object.keys(reference).flatMap((f) => (one.files[f] === reference[f] ? [] : [`${f} of a ${one.timing.side} run differs from the first run's`]))
  )
  return { spec, args, runs: all.map((o) => o.timing), identical: differences.length === 0, differences: [...new Set(differences)] }
}

/** The table: per side the median wall and user seconds and the largest peak memory; then base / this. */
export const runsTable = (r: RunsResult): Array<string> => {
  const sides = (["base", "this"] as const).map((side) => {
    const mine = r.runs.filter((t) => t.side === side)
    return {
      side,
      wall: median(mine.map((t) => t.wallSeconds)),
      user: median(mine.map((t) => t.userSeconds)),
      peak: Math.max(...mine.map((t) => t.peakMiB))
    }
  })
  const [b, t] = sides
  const cols = ["side", "wall s (median)", "user s (median)", "peak MiB (max)"]
  const row = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === 0 ? c.padEnd(8) : c.padStart(cols[i].length))).join("  ")
  return [
    row(cols),
    row(cols.map((c, i) => "─".repeat(i === 0 ? 8 : c.length))),
    ...sides.map((s) => row([s.side, s.wall.toFixed(2), s.user.toFixed(2), s.peak.toFixed(0)])),
    row(["base/this", `${(b.wall / t.wall).toFixed(2)}×`, `${(b.user / t.user).toFixed(2)}×`, `${(b.peak / t.peak).toFixed(2)}×`]),
    "",
    `results identical (results.csv, policies.json, curves.csv, summary.json but wall times and threads): ${r.identical ? "yes" : `NO: ${r.differences.join("; ")}`}`
  ]
}

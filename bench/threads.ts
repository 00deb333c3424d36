/**
 * The threads benchmark of `npm run bench` (docs/performance.md): `distmt run SPEC` with one thread
 * and with two, in the same bench run, alternating (1, 2, then 2, 1, …) so that a slow spell of the
 * machine hits both. For each thread count it reports the best process wall time (start-up, run,
 * ground truth and files: what a user waits for) and the best time of the runs themselves (the
 * summary's wall seconds, summed over algorithms and seeds), and it checks that every run wrote the
 * same results: results.csv, policies.json and summary.json but its wall times and thread count, byte for byte.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export interface ThreadsRow {
  readonly threads: number
  /** Best process wall time over the repetitions, seconds. */
  readonly processSeconds: number
  /** Best total of the runs' wall seconds, and per algorithm in that repetition. */
  readonly runSeconds: number
  readonly perAlgorithm: Readonly<Record<string, number>>
}

export interface ThreadsResult {
  readonly spec: string
  readonly repeat: number
  readonly rows: ReadonlyArray<ThreadsRow>
  readonly identical: boolean
  readonly differences: ReadonlyArray<string>
}

interface One {
  readonly threads: number
  readonly processSeconds: number
  readonly runSeconds: number
  readonly perAlgorithm: Record<string, number>
  /** The files that must not depend on threads, as compared. */
  readonly results: Readonly<Record<string, string>>
}

/**
 * summary.json without what two runs of the same results may write differently: the wall times, and
 * the learner threads the run used (`threads`, at the top and in the spec's record, which say what
 * happened; src/report/files.ts).
 */
export const comparableSummary = (text: string): string =>
  JSON.stringify(JSON.parse(text), (k, v) => (k === "wallSeconds" || k === "threads" ? undefined : v))

/** The label of summary.json in a comparison of runs' files. */
export const SUMMARY_COMPARED = "summary.json (wall times and threads aside)"

const runOnce = (root: string, spec: string, threads: number, fail: (m: string) => never): One => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `distmt-threads-${threads}-`))
  try {
    const started = performance.now()
    const r = spawnSync(process.execPath, [path.join(root, "bin/distmt.mjs"), "run", spec, "--threads", `${threads}`, "--out", out], {
      encoding: "utf8",
      maxBuffer: 1 << 26
    })
    const processSeconds = (performance.now() - started) / 1000
    if (r.status !== 0) fail(`distmt run ${spec} --threads ${threads} failed:\n${r.stderr}${r.stdout}`)
    const summaryText = fs.readFileSync(path.join(out, "summary.json"), "utf8")
    const summary = JSON.parse(summaryText) as {
      readonly algorithms: Record<string, { readonly wallSeconds: number; readonly seeds: number }>
    }
    const perAlgorithm: Record<string, number> = {}
    for (const [a, s] of Object.entries(summary.algorithms)) perAlgorithm[a] = s.wallSeconds * s.seeds
    return {
      threads,
      processSeconds,
      runSeconds: Object.values(perAlgorithm).reduce((x, y) => x + y, 0),
      perAlgorithm,
      results: {
        "results.csv": fs.readFileSync(path.join(out, "results.csv"), "utf8"),
        "policies.json": fs.readFileSync(path.join(out, "policies.json"), "utf8"),
        [SUMMARY_COMPARED]: comparableSummary(summaryText)
      }
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
}

/** Runs the spec `repeat` times with each of 1 and 2 threads, alternating, and compares. */
export const benchThreads = (
  root: string,
  spec: string,
  repeat: number,
  fail: (m: string) => never,
  onRun: (one: { readonly threads: number; readonly processSeconds: number; readonly runSeconds: number }) => void
): ThreadsResult => {
  const all: Array<One> = []
  for (let i = 0; i < repeat; i++) {
    for (const threads of i % 2 === 0 ? [1, 2] : [2, 1]) {
      const one = runOnce(root, spec, threads, fail)
      onRun(one)
      all.push(one)
    }
  }
  const reference = all[0].results
  const differences = all.flatMap((one) =>
    Object.keys(reference).flatMap((file) =>
      one.results[file] === reference[file] ? [] : [`${file} with ${one.threads} thread(s) differs from the first run's`]
    )
  )
  const rows = [1, 2].map((threads): ThreadsRow => {
    const mine = all.filter((o) => o.threads === threads)
    const best = mine.reduce((a, b) => (b.runSeconds < a.runSeconds ? b : a))
    return {
      threads,
      processSeconds: Math.min(...mine.map((o) => o.processSeconds)),
      runSeconds: best.runSeconds,
      perAlgorithm: best.perAlgorithm
    }
  })
  return { spec, repeat, rows, identical: differences.length === 0, differences: [...new Set(differences)] }
}

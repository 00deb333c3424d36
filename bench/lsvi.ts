/**
 * The LSVI part of `npm run bench` (bench/run.ts): distmt's incremental LSVI-UCB learner and its
 * references on the same data, size after size, in rounds.
 *
 * A round of one size: `distmt bench lsvi --json` in a child process (so that its memory figures
 * are its own; the first round also dumps the data set with `--dump DIR`, the same in every round),
 * then on DIR the NumPy reference (bench/lsvi_numpy.py) with one BLAS thread and with the default
 * threads, the faster of the two being NumPy's time in that round, then the second peer,
 * bench/lsvi_numba.py (rlberry's scalar loops compiled with numba), where a python3 with numba exists
 * (skipped with a message otherwise). From the second round on, the order alternates (the references
 * first in odd rounds), so that the machine's drift, 15 to 30 % within minutes on the project's
 * machine, hits both sides alike. The table gives the median of each time over the rounds and, for
 * each ratio, the median of its per-round ratios; the targets print each round's ratio too.
 *
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (set on some machines as a guard for old OpenBLAS builds)
 * are removed from the references' environment alone, so that OpenBLAS picks its own kernel for this
 * processor; the table's header names that kernel. NumPy recomputes the whole backup every episode,
 * as LSVI-UCB implementations do, so "speed-up" is NumPy's full backup over distmt's per-episode
 * update. Without python3 and NumPy the table still has distmt's figures.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type BenchResult, median } from "../src/bench/lsviBench.ts"

export interface Size {
  readonly K: number
  readonly d: number
  readonly A: number
  readonly H: number
}

export const TARGET: Size = { K: 2000, d: 32, A: 4, H: 20 }
export const DEFAULT_SIZES: ReadonlyArray<Size> = [{ K: 500, d: 32, A: 4, H: 20 }, TARGET, { K: 8000, d: 32, A: 4, H: 20 }]
export const SCALING: ReadonlyArray<Size> = [
  ...[500, 1000, 2000, 5000, 10000, 20000].map((K) => ({ K, d: 32, A: 4, H: 20 })),
  ...[4, 8, 16, 64].map((d) => ({ K: 2000, d, A: 4, H: 20 })),
  ...[2, 8].map((A) => ({ K: 2000, d: 32, A, H: 20 }))
]

/** Targets of issue 14 at the target size (and, for the full backup, at K = 500, 2000 and 8000). */
const UPDATE_VS_NUMPY = 5
const UPDATE_VS_FLOOR = 1.5
const FULL_VS_NUMPY = 1

interface NumpyRun {
  readonly fullBackupSeconds: number
  readonly runs: number
  readonly maxRelDiff: number
  readonly numpy: string
  readonly blasThreads: string
  /** The kernel OpenBLAS runs (openblas_get_corename or threadpoolctl), and how it was found. */
  readonly blasCore: string
  readonly blasLibrary: string
  readonly blasCoreFrom: string
  readonly numba?: string
}

/** One round of one size. */
interface Round {
  readonly distmt: BenchResult
  /** The faster of NumPy's runs with one BLAS thread and with the default. */
  readonly numpy: NumpyRun | undefined
  readonly numpyThreads: ReadonlyArray<NumpyRun>
  readonly numba: NumpyRun | undefined
}

export interface Row {
  readonly size: Size
  /** One-minute load average just before the row's first round. */
  readonly load: number
  readonly rounds: ReadonlyArray<Round>
}

/** The environment variables removed from the references' environment (and only theirs). */
const OPENBLAS_GUARDS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"] as const

/** The median over the rounds of f, over the rounds where f is defined (NaN if none). */
const over = (rounds: ReadonlyArray<Round>, f: (r: Round) => number | undefined): number => {
  const xs = rounds.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x))
  return xs.length === 0 ? Number.NaN : median(xs)
}

const label = (s: Size): string => `K=${s.K} d=${s.d} A=${s.A} H=${s.H}`
const ms = (x: number): string => (1000 * x).toFixed(2)
const times = (x: number, digits = 2): string => (Number.isNaN(x) ? "—" : `${x.toFixed(digits)}×`)

/** The measures of one size, each a function of a round. */
const updateVsNumpy = (r: Round) => (r.numpy === undefined ? undefined : r.numpy.fullBackupSeconds / r.distmt.episodeUpdateSeconds)
const updateVsFloor = (r: Round) => r.distmt.episodeUpdateSeconds / r.distmt.floorSeconds
const fullVsNumpy = (r: Round) => (r.numpy === undefined ? undefined : r.distmt.fullBackupSeconds / r.numpy.fullBackupSeconds)

const COLUMNS: ReadonlyArray<readonly [string, number]> = [
  ["size", 26],
  ["load", 5],
  ["distmt update ms", 16],
  ["× floor", 8],
  ["distmt full ms", 14],
  ["NumPy full ms", 13],
  ["BLAS thr.", 10],
  ["NumPy full / update", 19],
  ["full / NumPy full", 17],
  ["numba full ms", 13],
  ["numba / update", 14],
  ["max rel diff w", 14],
  ["learner MiB", 11],
  ["× features", 10]
]

const header = (): string =>
  [COLUMNS.map(([n, w], i) => (i === 0 ? n.padEnd(w) : n.padStart(w))).join("  "), COLUMNS.map(([, w]) => "─".repeat(w)).join("  ")].join("\n")

const line = (row: Row): string => {
  const rs = row.rounds
  const first = rs[0].distmt
  const threads = [...new Set(rs.flatMap((r) => (r.numpy === undefined ? [] : [r.numpy.blasThreads])))].join(", ")
  const numpyFull = over(rs, (r) => r.numpy?.fullBackupSeconds)
  const numbaFull = over(rs, (r) => r.numba?.fullBackupSeconds)
  const diffs = rs.flatMap((r) => [r.numpy?.maxRelDiff, r.numba?.maxRelDiff]).filter((x): x is number => x !== undefined)
  const cells: Array<string> = [
    label(row.size),
    row.load.toFixed(2),
    ms(over(rs, (r) => r.distmt.episodeUpdateSeconds)),
    over(rs, updateVsFloor).toFixed(2),
    ms(over(rs, (r) => r.distmt.fullBackupSeconds)),
    Number.isNaN(numpyFull) ? "—" : ms(numpyFull),
    threads === "" ? "—" : threads,
    times(over(rs, updateVsNumpy)),
    times(over(rs, fullVsNumpy)),
    Number.isNaN(numbaFull) ? "—" : ms(numbaFull),
    times(over(rs, (r) => (r.numba === undefined ? undefined : r.numba.fullBackupSeconds / r.distmt.episodeUpdateSeconds)), 1),
    diffs.length === 0 ? "—" : Math.max(...diffs).toExponential(1),
    (first.learnerBytes / 2 ** 20).toFixed(1),
    first.memoryRatio.toFixed(3)
  ]
  return cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i][1]) : c.padStart(COLUMNS[i][1]))).join("  ")
}

/** The LSVI part: `rounds` rounds per size, the table, and the targets of issue 14. */
export const lsviPart = (root: string, sizes: ReadonlyArray<Size>, rounds: number, fail: (message: string) => never): Array<Row> => {
  const runDistmt = (s: Size, dir: string, dump: boolean): BenchResult => {
    const args = [
      path.join(root, "bin/distmt.mjs"), "bench", "lsvi", "--episodes", `${s.K}`, "--dim", `${s.d}`, "--actions", `${s.A}`,
      "--horizon", `${s.H}`, "--seed", "1", "--json", ...(dump ? ["--dump", dir] : [])
    ]
    const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 })
    if (r.status !== 0) fail(`distmt bench lsvi failed for ${label(s)}:\n${r.stderr}${r.stdout}`)
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as BenchResult
  }
  /** A reference's environment: this one without the OpenBLAS guards, with `threads` BLAS threads if given. */
  const referenceEnv = (threads: string | undefined): NodeJS.ProcessEnv => {
    const env = { ...process.env }
    for (const v of OPENBLAS_GUARDS) delete env[v]
    if (threads !== undefined) {
      for (const v of ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]) env[v] = threads
    }
    return env
  }
  const runPython = (python: string, script: string, dir: string, threads: string | undefined): NumpyRun | undefined => {
    const r = spawnSync(python, [path.join(root, "bench", script), dir], { encoding: "utf8", env: referenceEnv(threads), maxBuffer: 1 << 24 })
    if (r.status !== 0) fail(`bench/${script} failed on ${dir}:\n${r.stderr}`)
    const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as NumpyRun | { readonly skipped: string }
    return "skipped" in out ? undefined : out
  }

  const np = numpyStatus()
  const nb = np.ok ? numbaPython() : { why: "no NumPy" }
  const guards = OPENBLAS_GUARDS.filter((v) => process.env[v] !== undefined).map((v) => `${v}=${process.env[v]}`)
  console.log(`distmt LSVI-UCB backup vs NumPy: ${os.cpus().length} cores, Node ${process.version}, ` +
    (np.ok ? `NumPy ${np.version}` : `NO NumPy reference: ${np.why}; only distmt's figures follow`))
  if (np.ok) {
    console.log(`references run with ${OPENBLAS_GUARDS.join(" and ")} unset ` +
      `(${guards.length === 0 ? "neither is set here" : `here: ${guards.join(", ")}`})`)
  }
  console.log("numba".padEnd(5) + ": " + ("why" in nb ? `skipped: ${nb.why}` : `${nb.python} (numba ${nb.version.split(" ")[0]}, NumPy ${nb.version.split(" ")[1]})`))
  console.log("(update: one more episode added + incremental backup; full: backup from scratch; both Q̄ only, median of runs;")
  console.log(` ${rounds} round(s) per size, distmt and the references in turn, the order alternating: each time the median over`)
  console.log(" the rounds, each ratio the median of the per-round ratios; load: one-minute load average before the row)\n")
  let printedHeader = false
  const rows: Array<Row> = []
  for (const s of sizes) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-bench-"))
    try {
      const load = os.loadavg()[0]
      const done: Array<Round> = []
      for (let r = 0; r < rounds; r++) {
        const references = () => {
          const numpyThreads = np.ok ? [runPython("python3", "lsvi_numpy.py", dir, "1"), runPython("python3", "lsvi_numpy.py", dir, undefined)]
            .filter((x): x is NumpyRun => x !== undefined) : []
          const numpy = numpyThreads.length === 0
            ? undefined
            : numpyThreads.reduce((a, b) => (b.fullBackupSeconds < a.fullBackupSeconds ? b : a))
          const numba = "python" in nb ? runPython(nb.python, "lsvi_numba.py", dir, "1") : undefined
          return { numpy, numpyThreads, numba }
        }
        // the first round dumps the data set the references read, so distmt goes first there
        const distmtFirst = r % 2 === 0
        const early = distmtFirst ? runDistmt(s, dir, r === 0) : undefined
        const refs = references()
        const distmt = early ?? runDistmt(s, dir, false)
        done.push({ distmt, ...refs })
      }
      if (!printedHeader) {
        const { numpy, numba } = done[0]
        if (numpy !== undefined) console.log(`NumPy's BLAS: ${numpy.blasLibrary}; kernel ${numpy.blasCore} (from ${numpy.blasCoreFrom})`)
        if (numba !== undefined) console.log(`numba's NumPy BLAS: ${numba.blasLibrary}; kernel ${numba.blasCore} (from ${numba.blasCoreFrom})`)
        console.log(`\n${header()}`)
        printedHeader = true
      }
      const row: Row = { size: s, load, rounds: done }
      rows.push(row)
      console.log(line(row))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  targets(rows)
  return rows
}

/** Whether python3 with NumPy runs here, and if not, why. */
const numpyStatus = (): { readonly ok: true; readonly version: string } | { readonly ok: false; readonly why: string } => {
  const r = spawnSync("python3", ["-c", "import numpy; print(numpy.__version__)"], { encoding: "utf8" })
  if (r.error !== undefined) return { ok: false, why: `python3 not found (${r.error.message})` }
  if (r.status !== 0) return { ok: false, why: `python3 cannot import numpy (${r.stderr.trim().split("\n").pop() ?? ""})` }
  return { ok: true, version: r.stdout.trim() }
}

/** The first python3 that imports numba (the pyenv or PATH one, then Debian's), or why there is none. */
const numbaPython = (): { readonly python: string; readonly version: string } | { readonly why: string } => {
  const tried: Array<string> = []
  for (const python of ["python3", "/usr/bin/python3"]) {
    const r = spawnSync(python, ["-c", "import numba, numpy; print(numba.__version__, numpy.__version__)"], { encoding: "utf8" })
    if (r.status === 0) return { python, version: r.stdout.trim() }
    tried.push(r.error !== undefined ? `${python}: not found` : `${python}: ${r.stderr.trim().split("\n").pop() ?? ""}`)
  }
  return { why: `no python3 with numba (${tried.join("; ")}); on Debian: apt-get install python3-numba` }
}

/** The targets of issue 14, each on the median of its per-round ratios, with every round's ratio. */
const targets = (rows: ReadonlyArray<Row>): void => {
  const mark = (ok: boolean): string => (ok ? "met" : "MISSED")
  const each = (rs: ReadonlyArray<Round>, f: (r: Round) => number | undefined): string =>
    rs.length < 2 ? "" : ` (rounds: ${rs.map((r) => f(r)?.toFixed(2) ?? "—").join(", ")})`
  const t = rows.find((r) => r.size.K === TARGET.K && r.size.d === TARGET.d && r.size.A === TARGET.A && r.size.H === TARGET.H)
  if (t !== undefined) {
    const rs = t.rounds
    const floor = over(rs, updateVsFloor)
    console.log(`\ntargets at ${label(TARGET)}:`)
    if (rs.some((r) => r.numpy !== undefined)) {
      const speed = over(rs, updateVsNumpy)
      const diff = Math.max(...rs.map((r) => r.numpy?.maxRelDiff ?? 0))
      console.log(`  per-episode update ≥ ${UPDATE_VS_NUMPY}× faster than NumPy's best full backup: ${speed.toFixed(2)}×  ` +
        `${mark(speed >= UPDATE_VS_NUMPY)}${each(rs, updateVsNumpy)}`)
      console.log(`  w equal to 1e-8 relative: ${diff.toExponential(2)}  ${mark(diff <= 1e-8)}`)
    } else {
      console.log("  (no NumPy: the speed targets cannot be checked here)")
    }
    console.log(`  per-episode update ≤ ${UPDATE_VS_FLOOR}× its floor: ${floor.toFixed(2)}×  ${mark(floor <= UPDATE_VS_FLOOR)}${each(rs, updateVsFloor)}`)
    const reads = over(rs, (r) => r.distmt.readsFloorSeconds / r.distmt.floorSeconds)
    const vsReads = over(rs, (r) => r.distmt.episodeUpdateSeconds / r.distmt.readsFloorSeconds)
    console.log(`    (not a target: one read of all the update reads (next-state rows, forms, φ_h rows not read as taken rows) takes ` +
      `${reads.toFixed(2)}× the floor; the update takes ${vsReads.toFixed(2)}× that)`)
    const memory = rs[0].distmt.memoryRatio
    console.log(`  memory ≤ 1.5× the stored features: ${memory.toFixed(3)}×  ${mark(memory <= 1.5)}`)
  }
  const fullRows = rows.filter((r) => r.rounds.some((x) => x.numpy !== undefined) && r.size.d === TARGET.d && r.size.A === TARGET.A &&
    r.size.H === TARGET.H && [500, 2000, 8000].includes(r.size.K))
  for (const r of fullRows) {
    const full = over(r.rounds, fullVsNumpy)
    console.log(`  full backup no slower than NumPy's at K=${r.size.K}: ${full.toFixed(2)}× NumPy's time  ` +
      `${mark(full <= FULL_VS_NUMPY)}${each(r.rounds, fullVsNumpy)}`)
  }
}

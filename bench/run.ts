/**
 * `npm run bench`: distmt's LSVI-UCB kernels and the NumPy reference (bench/lsvi_numpy.py) on the
 * same data in the same run, one size after another, and a table of the results.
 *
 *   npm run bench                        the target size (K=2000, d=32, A=4, H=20) and a few others
 *   npm run bench -- --scaling           the scaling table of docs/performance.md (K, d and A swept)
 *   npm run bench -- --sizes 2000x32x4x20,500x8x2x10  chosen sizes, K×d×A×H
 *   npm run bench -- --json FILE         also write every row as JSON
 *   npm run bench -- --only lsvi|threads one of the two parts
 *   npm run bench -- --repeat N          runs of each thread count in the threads part (default 2)
 *   npm run bench -- --spec FILE         the threads part on another spec (default specs/twenty-agents.spec.ts)
 *   npm run bench -- --dqn [--seconds S] only the DQN learner beside PyTorch on CPU (bench/dqn.ts)
 *   npm run bench -- --startup           only the commands' start-up beside bare Node (bench/startup.ts)
 *   npm run bench -- --runs BASE [--spec FILE] [--repeat N] [--run-args "ARGS"]
 *                                        only whole runs of a spec (default specs/linear-chain.spec.ts)
 *                                        against another checkout BASE, alternating (bench/runs.ts)
 *
 * Then the threads part (bench/threads.ts): `distmt run specs/twenty-agents.spec.ts` with one
 * thread and with two, alternating, with the speed-up and a byte-for-byte check of the results.
 *
 * For each size: `distmt bench lsvi --json --dump DIR` in a child process (so that its memory
 * figures are its own), then the NumPy reference on DIR with one BLAS thread and with the default
 * threads; the faster of the two is NumPy's time. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (set on
 * some machines as a guard for old OpenBLAS builds) are removed from the reference's environment
 * alone, so that OpenBLAS picks its own kernel for this processor; the table's header names that
 * kernel. Then the second peer, bench/lsvi_numba.py (rlberry's scalar loops compiled with numba),
 * where a python3 with numba exists (skipped with a message otherwise). NumPy recomputes the whole
 * backup every episode, as LSVI-UCB implementations do, so "speed-up" is NumPy's full backup over
 * distmt's per-episode update. Without python3 and NumPy the table still has distmt's figures.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { BenchResult } from "../src/bench/lsviBench.ts"
import { dqnPart } from "./dqn.ts"
import { benchRuns, runsTable } from "./runs.ts"
import { startupPart } from "./startup.ts"
import { benchThreads, type ThreadsResult } from "./threads.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

interface Size {
  readonly K: number
  readonly d: number
  readonly A: number
  readonly H: number
}

const THREADS_SPEC = "specs/twenty-agents.spec.ts"
/** Two threads must run the 20-agent spec at least this many times faster than one (issue 5). */
const THREADS_TARGET = 1.6

const TARGET: Size = { K: 2000, d: 32, A: 4, H: 20 }
const DEFAULT_SIZES: ReadonlyArray<Size> = [{ K: 500, d: 32, A: 4, H: 20 }, TARGET, { K: 8000, d: 32, A: 4, H: 20 }]
const SCALING: ReadonlyArray<Size> = [
  ...[500, 1000, 2000, 5000, 10000, 20000].map((K) => ({ K, d: 32, A: 4, H: 20 })),
  ...[4, 8, 16, 64].map((d) => ({ K: 2000, d, A: 4, H: 20 })),
  ...[2, 8].map((A) => ({ K: 2000, d: 32, A, H: 20 }))
]

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

interface Row {
  readonly size: Size
  /** One-minute load average just before the row was measured. */
  readonly load: number
  readonly distmt: BenchResult
  readonly numpy: NumpyRun | undefined
  readonly numpyThreads: ReadonlyArray<NumpyRun>
  readonly numba: NumpyRun | undefined
}

/** The environment variables removed from the references' environment (and only theirs). */
const OPENBLAS_GUARDS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"] as const

/** Targets of issue 14 at the target size (and, for the full backup, at K = 500, 2000 and 8000). */
const UPDATE_VS_NUMPY = 5
const UPDATE_VS_FLOOR = 1.5
const FULL_VS_NUMPY = 1

const fail = (message: string): never => {
  console.error(`npm run bench: ${message}`)
  process.exit(1)
}

const parseArgs = (argv: ReadonlyArray<string>) => {
  let sizes: ReadonlyArray<Size> = DEFAULT_SIZES
  let json: string | undefined
  let only: "lsvi" | "threads" | undefined
  let repeat = 2
  let spec = THREADS_SPEC
  let dqn = false
  let startup = false
  let seconds = 3
  let runs: string | undefined
  let runArgs: ReadonlyArray<string> = []
  let specGiven = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === "--dqn") dqn = true
    else if (a === "--runs") {
      runs = path.resolve(argv[++i] ?? fail("--runs needs the folder of the checkout to compare with"))
      if (!fs.existsSync(path.join(runs, "bin/distmt.mjs"))) fail(`--runs: ${runs} is not a distmt checkout (no bin/distmt.mjs)`)
    } else if (a === "--run-args") runArgs = (argv[++i] ?? fail("--run-args needs the arguments of distmt run, in one string")).split(/\s+/).filter((x) => x !== "")
    else if (a === "--startup") startup = true
    else if (a === "--seconds") {
      const v = Number(argv[++i])
      if (!(v > 0 && v <= 600)) fail(`--seconds: expected a number of seconds in (0, 600], got ${argv[i] ?? "nothing"}`)
      seconds = v
    } else if (a === "--scaling") sizes = SCALING
    else if (a === "--only") {
      const v = argv[++i]
      if (v !== "lsvi" && v !== "threads") fail(`--only: expected lsvi or threads, got ${v ?? "nothing"}`)
      only = v as "lsvi" | "threads"
    } else if (a === "--repeat") {
      const v = argv[++i] ?? ""
      if (!/^[1-9][0-9]*$/.test(v)) fail(`--repeat: expected a positive whole number, got ${v === "" ? "nothing" : v}`)
      repeat = Number(v)
    } else if (a === "--spec") {
      spec = argv[++i] ?? fail("--spec needs a spec file")
      specGiven = true
      if (!fs.existsSync(spec)) fail(`--spec: no file ${spec}`)
    }
    else if (a === "--sizes") {
      const v = argv[++i] ?? fail("--sizes needs a value like 2000x32x4x20,500x8x2x10")
      sizes = v.split(",").map((s) => {
        const m = /^(\d+)x(\d+)x(\d+)x(\d+)$/.exec(s.trim())
        if (m === null) return fail(`--sizes: "${s}" is not K×d×A×H (e.g. 2000x32x4x20)`)
        return { K: Number(m[1]), d: Number(m[2]), A: Number(m[3]), H: Number(m[4]) }
      })
    } else if (a === "--json") json = argv[++i] ?? fail("--json needs a file name")
    else fail(`unknown argument ${a} (expected --scaling, --sizes LIST, --json FILE, --only lsvi|threads, --repeat N, --spec FILE, --dqn, --seconds S --startup, --runs BASE or --run-args ARGS)`)
  }
  if (runs !== undefined && !specGiven) spec = "specs/linear-chain.spec.ts"
  return { sizes, json, only, repeat, spec, dqn, seconds, startup, runs, runArgs }
}

/** Whether python3 with NumPy runs here, and if not, why. */
const numpyStatus = (): { readonly ok: true; readonly version: string } | { readonly ok: false; readonly why: string } => {
  const r = spawnSync("python3", ["-c", "import numpy; print(numpy.__version__)"], { encoding: "utf8" })
  if (r.error !== undefined) return { ok: false, why: `python3 not found (${r.error.message})` }
  if (r.status !== 0) return { ok: false, why: `python3 cannot import numpy (${r.stderr.trim().split("\n").pop() ?? ""})` }
  return { ok: true, version: r.stdout.trim() }
}

const runDistmt = (s: Size, dir: string): BenchResult => {
  const args = [
    path.join(root, "bin/distmt.mjs"), "bench", "lsvi", "--episodes", `${s.K}`, "--dim", `${s.d}`, "--actions", `${s.A}`,
    "--horizon", `${s.H}`, "--seed", "1", "--json", "--dump", dir
  ]
  const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 })
  if (r.status !== 0) fail(`distmt bench lsvi failed for ${label(s)}:\n${r.stderr}${r.stdout}`)
  const last = r.stdout.trim().split("\n").pop() ?? ""
  return JSON.parse(last) as BenchResult
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

const runNumpy = (dir: string, threads: string | undefined): NumpyRun => {
  const r = spawnSync("python3", [path.join(root, "bench/lsvi_numpy.py"), dir], { encoding: "utf8", env: referenceEnv(threads), maxBuffer: 1 << 24 })
  if (r.status !== 0) fail(`the NumPy reference failed on ${dir}:\n${r.stderr}`)
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as NumpyRun
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

const runNumba = (python: string, dir: string): NumpyRun | undefined => {
  const r = spawnSync(python, [path.join(root, "bench/lsvi_numba.py"), dir], { encoding: "utf8", env: referenceEnv("1"), maxBuffer: 1 << 24 })
  if (r.status !== 0) fail(`the numba peer failed on ${dir}:\n${r.stderr}`)
  const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as NumpyRun | { readonly skipped: string }
  return "skipped" in out ? undefined : out
}

const label = (s: Size): string => `K=${s.K} d=${s.d} A=${s.A} H=${s.H}`
const ms = (x: number): string => (1000 * x).toFixed(2)
const pad = (s: string, n: number): string => (s.length >= n ? s : " ".repeat(n - s.length) + s)

const COLUMNS: ReadonlyArray<readonly [string, number]> = [
  ["size", 26],
  ["load", 5],
  ["distmt update ms", 16],
  ["× floor", 8],
  ["distmt full ms", 14],
  ["NumPy full ms", 13],
  ["BLAS thr.", 9],
  ["NumPy full / update", 19],
  ["full / NumPy full", 17],
  ["numba full ms", 13],
  ["numba / update", 14],
  ["max rel diff w", 14],
  ["learner MiB", 11],
  ["× features", 10]
]

const header = (): string =>
  [COLUMNS.map(([n, w], i) => (i === 0 ? n.padEnd(w) : pad(n, w))).join("  "), COLUMNS.map(([, w]) => "─".repeat(w)).join("  ")].join("\n")

const line = (r: Row): string => {
  const d = r.distmt
  const n = r.numpy
  const nb = r.numba
  const cells: Array<string> = [
    label(r.size),
    r.load.toFixed(2),
    ms(d.episodeUpdateSeconds),
    (d.episodeUpdateSeconds / d.floorSeconds).toFixed(2),
    ms(d.fullBackupSeconds),
    n === undefined ? "—" : ms(n.fullBackupSeconds),
    n === undefined ? "—" : n.blasThreads,
    n === undefined ? "—" : `${(n.fullBackupSeconds / d.episodeUpdateSeconds).toFixed(2)}×`,
    n === undefined ? "—" : `${(d.fullBackupSeconds / n.fullBackupSeconds).toFixed(2)}×`,
    nb === undefined ? "—" : ms(nb.fullBackupSeconds),
    nb === undefined ? "—" : `${(nb.fullBackupSeconds / d.episodeUpdateSeconds).toFixed(1)}×`,
    n === undefined ? "—" : Math.max(n.maxRelDiff, nb?.maxRelDiff ?? 0).toExponential(1),
    (d.learnerBytes / 2 ** 20).toFixed(1),
    d.memoryRatio.toFixed(3)
  ]
  return cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i][1]) : pad(c, COLUMNS[i][1]))).join("  ")
}

const lsviPart = (sizes: ReadonlyArray<Size>): Array<Row> => {
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
  console.log(" load: one-minute load average before the row)\n")
  let printedHeader = false
  const rows: Array<Row> = []
  for (const s of sizes) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-bench-"))
    try {
      const load = os.loadavg()[0]
      const distmt = runDistmt(s, dir)
      const numpyThreads = np.ok ? [runNumpy(dir, "1"), runNumpy(dir, undefined)] : []
      const numpy = numpyThreads.length === 0
        ? undefined
        : numpyThreads.reduce((a, b) => (b.fullBackupSeconds < a.fullBackupSeconds ? b : a))
      const numba = "python" in nb ? runNumba(nb.python, dir) : undefined
      if (!printedHeader) {
        if (numpy !== undefined) console.log(`NumPy's BLAS: ${numpy.blasLibrary}; kernel ${numpy.blasCore} (from ${numpy.blasCoreFrom})`)
        if (numba !== undefined) console.log(`numba's NumPy BLAS: ${numba.blasLibrary}; kernel ${numba.blasCore} (from ${numba.blasCoreFrom})`)
        console.log(`\n${header()}`)
        printedHeader = true
      }
      const row: Row = { size: s, load, distmt, numpy, numpyThreads, numba }
      rows.push(row)
      console.log(line(row))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  const mark = (ok: boolean): string => (ok ? "met" : "MISSED")
  const t = rows.find((r) => r.size.K === TARGET.K && r.size.d === TARGET.d && r.size.A === TARGET.A && r.size.H === TARGET.H)
  if (t !== undefined) {
    const d = t.distmt
    const n = t.numpy
    const floor = d.episodeUpdateSeconds / d.floorSeconds
    console.log(`\ntargets at ${label(TARGET)}:`)
    if (n !== undefined) {
      const speed = n.fullBackupSeconds / d.episodeUpdateSeconds
      console.log(`  per-episode update ≥ ${UPDATE_VS_NUMPY}× faster than NumPy's best full backup: ${speed.toFixed(2)}×  ${mark(speed >= UPDATE_VS_NUMPY)}`)
      console.log(`  w equal to 1e-8 relative: ${n.maxRelDiff.toExponential(2)}  ${mark(n.maxRelDiff <= 1e-8)}`)
    } else {
      console.log("  (no NumPy: the speed targets cannot be checked here)")
    }
    console.log(`  per-episode update ≤ ${UPDATE_VS_FLOOR}× its floor: ${floor.toFixed(2)}×  ${mark(floor <= UPDATE_VS_FLOOR)}`)
    console.log(`  memory ≤ 1.5× the stored features: ${d.memoryRatio.toFixed(3)}×  ${mark(d.memoryRatio <= 1.5)}`)
  }
  const fullRows = rows.filter((r) => r.numpy !== undefined && r.size.d === TARGET.d && r.size.A === TARGET.A && r.size.H === TARGET.H &&
    [500, 2000, 8000].includes(r.size.K))
  for (const r of fullRows) {
    const full = r.distmt.fullBackupSeconds / (r.numpy?.fullBackupSeconds ?? Number.NaN)
    console.log(`  full backup no slower than NumPy's at K=${r.size.K}: ${full.toFixed(2)}× NumPy's time  ${mark(full <= FULL_VS_NUMPY)}`)
  }
  return rows
}

const threadsPart = (spec: string, repeat: number): ThreadsResult => {
  console.log(`\nthreads: distmt run ${spec} with 1 and 2 threads, ${repeat} run(s) each, alternating`)
  const r = benchThreads(root, spec, repeat, fail, (one) =>
    console.log(`  ${one.threads} thread(s): process ${one.processSeconds.toFixed(2)} s, runs ${one.runSeconds.toFixed(2)} s`))
  const [one, two] = r.rows
  const algorithms = Object.keys(one.perAlgorithm)
  const cols = ["threads", "process s", "runs s", ...algorithms.map((a) => `${a} s`)]
  const widths = cols.map((c) => Math.max(9, c.length))
  const row = (cells: ReadonlyArray<string>) => cells.map((c, i) => pad(c, widths[i])).join("  ")
  console.log(`\n${row(cols)}\n${widths.map((w) => "─".repeat(w)).join("  ")}`)
  for (const t of r.rows) {
    console.log(row([`${t.threads}`, t.processSeconds.toFixed(2), t.runSeconds.toFixed(2), ...algorithms.map((a) => t.perAlgorithm[a].toFixed(2))]))
  }
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
  console.log(row(["1 / 2", ratio(one.processSeconds, two.processSeconds), ratio(one.runSeconds, two.runSeconds), ...algorithms.map((a) => ratio(one.perAlgorithm[a], two.perAlgorithm[a]))]))
  const speed = one.processSeconds / two.processSeconds
  console.log(`\n  results identical with 1 and 2 threads: ${r.identical ? "yes" : `NO: ${r.differences.join("; ")}`}`)
  if (spec === THREADS_SPEC) {
    console.log(`  two threads ≥ ${THREADS_TARGET}× faster than one (process wall time, best of ${repeat}): ${speed.toFixed(2)}×  ` +
      `${speed >= THREADS_TARGET ? "met" : "MISSED"}`)
  } else {
    console.log(`  two threads against one (process wall time, best of ${repeat}): ${speed.toFixed(2)}× faster`)
  }
  if (os.availableParallelism() < 2) console.log(`  (this machine has ${os.availableParallelism()} core: two threads cannot be faster here)`)
  return r
}

const main = (): void => {
  const { json, sizes, only, repeat, spec, dqn, seconds, startup, runs, runArgs } = parseArgs(process.argv.slice(2))
  if (runs !== undefined) {
    console.log(`whole runs: distmt run ${[spec, ...runArgs].join(" ")}, base ${runs} against this checkout, ${repeat} run(s) each, alternating`)
    const r = benchRuns(root, runs, spec, runArgs, repeat, fail, (t) =>
      console.log(`  ${t.side.padEnd(4)}: wall ${t.wallSeconds.toFixed(2)} s, user ${t.userSeconds.toFixed(2)} s, peak ${t.peakMiB.toFixed(0)} MiB`))
    console.log(`\n${runsTable(r).join("\n")}`)
    if (json !== undefined) fs.writeFileSync(json, JSON.stringify({ runs: r }, null, 2) + "\n")
    if (!r.identical) process.exitCode = 1
    return
  }
  if (startup) {
    const rows = startupPart(root, Math.max(5, repeat))
    if (json !== undefined) fs.writeFileSync(json, JSON.stringify({ startup: rows }, null, 2) + "\n")
    return
  }
  if (dqn) {
    const result = dqnPart(root, seconds, fail)
    if (json !== undefined) {
      fs.writeFileSync(json, JSON.stringify({ dqn: result }, null, 2) + "\n")
      console.log(`\nrows written to ${json}`)
    }
    return
  }
  const rows = only === "threads" ? [] : lsviPart(sizes)
  const threads = only === "lsvi" ? undefined : threadsPart(spec, repeat)
  if (json !== undefined) {
    fs.writeFileSync(json, JSON.stringify({ lsvi: rows, threads }, null, 2) + "\n")
    console.log(`\nrows written to ${json}`)
  }
  if (threads !== undefined && !threads.identical) process.exitCode = 1
}

main()

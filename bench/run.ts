/**
 * `npm run bench`: distmt's LSVI-UCB kernels and the NumPy reference (bench/lsvi_numpy.py) on the
 * same data in the same run, one size after another, and a table of the results.
 *
 *   npm run bench                        the target size (K=2000, d=32, A=4, H=20) and a few others
 *   npm run bench -- --scaling           the scaling table of docs/performance.md (K, d and A swept)
 *   npm run bench -- --sizes 2000x32x4x20,500x8x2x10  chosen sizes, K×d×A×H
 *   npm run bench -- --json FILE         also write every row as JSON
 *   npm run bench -- --only lsvi|threads one of the two parts
 *   npm run bench -- --rounds N          rounds per size in the LSVI part (default 3)
 *   npm run bench -- --repeat N          runs of each thread count in the threads part (default 2)
 *   npm run bench -- --spec FILE         the threads part on another spec (default specs/twenty-agents.spec.ts)
 *   npm run bench -- --dqn [--seconds S] only the DQN learner beside PyTorch on CPU (bench/dqn.ts)
 *   npm run bench -- --startup           only the commands' start-up beside bare Node (bench/startup.ts)
 *   npm run bench -- --runs BASE [--spec FILE] [--repeat N] [--run-args "ARGS"]
 *                                        only whole runs of a spec (default specs/linear-chain.spec.ts)
 *                                        against another checkout BASE, alternating (bench/runs.ts)
 *
 * The LSVI part (bench/lsvi.ts), for each size, in rounds (`--rounds N`, default 3): `distmt bench
 * lsvi --json` in a child process, then the NumPy reference and the numba peer on its dumped data
 * set, the order alternating round by round; medians over the rounds, each ratio the median of its
 * per-round ratios.
 *
 * Then the threads part (bench/threads.ts): `distmt run specs/twenty-agents.spec.ts` with one
 * thread and with two, alternating, with the speed-up and a byte-for-byte check of the results.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { dqnPart } from "./dqn.ts"
import { DEFAULT_SIZES, lsviPart, SCALING, type Size } from "./lsvi.ts"
import { benchRuns, runsTable } from "./runs.ts"
import { startupPart } from "./startup.ts"
import { benchThreads, type ThreadsResult } from "./threads.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

const THREADS_SPEC = "specs/twenty-agents.spec.ts"
/** Two threads must run the 20-agent spec at least this many times faster than one (issue 5). */
const THREADS_TARGET = 1.6

/** The value of `flag`, a positive whole number, or a failure that names the flag. */
const positive = (flag: string, v = ""): number => {
  if (!/^[1-9][0-9]*$/.test(v)) fail(`${flag}: expected a positive whole number, got ${v === "" ? "nothing" : v}`)
  return Number(v)
}

const fail = (message: string): never => {
  console.error(`npm run bench: ${message}`)
  process.exit(1)
}

const parseArgs = (argv: ReadonlyArray<string>) => {
  let sizes: ReadonlyArray<Size> = DEFAULT_SIZES
  let json: string | undefined
  let only: "lsvi" | "threads" | undefined
  let repeat = 2
  let rounds = 3
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
    } else if (a === "--repeat") repeat = positive(a, argv[++i])
    else if (a === "--rounds") rounds = positive(a, argv[++i])
    else if (a === "--spec") {
      spec = argv[++i] ?? fail("--spec needs a spec file")
      specGiven = true
      if (!fs.existsSync(spec)) fail(`--spec: no file ${spec}`)
    } else if (a === "--sizes") {
      const v = argv[++i] ?? fail("--sizes needs a value like 2000x32x4x20,500x8x2x10")
      sizes = v.split(",").map((s) => {
        const m = /^(\d+)x(\d+)x(\d+)x(\d+)$/.exec(s.trim())
        if (m === null) return fail(`--sizes: "${s}" is not K×d×A×H (e.g. 2000x32x4x20)`)
        return { K: Number(m[1]), d: Number(m[2]), A: Number(m[3]), H: Number(m[4]) }
      })
    } else if (a === "--json") json = argv[++i] ?? fail("--json needs a file name")
    else fail(`unknown argument ${a} (expected --scaling, --sizes LIST, --json FILE, --only lsvi|threads, --rounds N, --repeat N, --spec FILE, --dqn, --seconds S --startup, --runs BASE or --run-args ARGS)`)
  }
  if (runs !== undefined && !specGiven) spec = "specs/linear-chain.spec.ts"
  return { sizes, json, only, repeat, rounds, spec, dqn, seconds, startup, runs, runArgs }
}

const threadsPart = (spec: string, repeat: number): ThreadsResult => {
  console.log(`\nthreads: distmt run ${spec} with 1 and 2 threads, ${repeat} run(s) each, alternating`)
  const r = benchThreads(root, spec, repeat, fail, (one) =>
    console.log(`  ${one.threads} thread(s): process ${one.processSeconds.toFixed(2)} s, runs ${one.runSeconds.toFixed(2)} s`))
  const [one, two] = r.rows
  const algorithms = Object.keys(one.perAlgorithm)
  const cols = ["threads", "process s", "runs s", ...algorithms.map((a) => `${a} s`)]
  const widths = cols.map((c) => Math.max(9, c.length))
  const row = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padStart(widths[i])).join("  ")
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
  const { json, sizes, only, repeat, rounds, spec, dqn, seconds, startup, runs, runArgs } = parseArgs(process.argv.slice(2))
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
  const rows = only === "threads" ? [] : lsviPart(root, sizes, rounds, fail)
  const threads = only === "lsvi" ? undefined : threadsPart(spec, repeat)
  if (json !== undefined) {
    fs.writeFileSync(json, JSON.stringify({ lsvi: rows, threads }, null, 2) + "\n")
    console.log(`\nrows written to ${json}`)
  }
  if (threads !== undefined && !threads.identical) process.exitCode = 1
}

main()

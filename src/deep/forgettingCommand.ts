/**
 * `distmt bench forgetting`: one DQN agent trained on a stream of tasks, with and without EWC; prints
 * the return matrices R[i][j] (return on task j after learning task i) and the forgetting, and with
 * `--csv FILE` writes them (src/deep/forgetting.ts, docs/deep.md "Forgetting: EWC on a stream of tasks").
 *
 *   distmt bench forgetting [--tasks breakout,breakout:paddleWidth=2,asterix] [--frames 100000]
 *                           [--lambdas 0,10] [--seeds 1] [--seed 1] [--hidden 64] [--train-every 4]
 *                           [--epsilon-frames N] [--eval-episodes 30] [--eval-epsilon 0.01]
 *                           [--eval-max-frames 2000] [--engine onnx|ts] [--csv FILE] [--json]
 */
import { seedProblem } from "../cli/seedFlag.ts"
import { Console, Data, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { outDirProblem } from "../cli/outDir.ts"
import { enclosingResultsProblem } from "../report/folderKind.ts"
import { dqnConfig, trainEveryTooLong } from "./config.ts"
import { trainEveryProblem } from "./trainCommand.ts"
import { commaEntries } from "../cli/commaEntries.ts"
import { writeFileAtomic } from "../report/temporary.ts"
import { checkStream, FORGETTING_CSV_HEADER, formatSummary, parseTasks, runStream, type StreamResult, type StreamSummary, summariesCsv, summarise, taskName } from "./forgetting.ts"
import { ENGINES } from "./makeEngine.ts"

class ForgettingError extends Data.TaggedError("ForgettingError")<{ readonly message: string }> {}

/** The default stream: standard Breakout, a Breakout with a wide paddle and a slow ball, then an Asterix with more gold and no ramp (all 4 channels). */
export const DEFAULT_TASKS = "breakout,breakout:paddleWidth=3:ballSpeed=0.5,asterix:goldFraction=0.7:ramp=0"
/** The λ_EWC chosen by measurement (docs/deep.md). */
export const DEFAULT_LAMBDAS = "0,10"

const flags = {
  tasks: Flag.String("tasks").pipe(
    Flag.withDefault(DEFAULT_TASKS),
    Flag.withDescription(`the stream: tasks separated by commas, each game[:field=value:...] as in bench simnet --task (default ${DEFAULT_TASKS})`)
  ),
  frames: Flag.Int("frames").pipe(Flag.withDefault(100_000), Flag.withDescription("frames of training per task (default 100,000)")),
  lambdas: Flag.String("lambdas").pipe(Flag.withDefault(DEFAULT_LAMBDAS), Flag.withDescription(`λ_EWC values to compare, by commas; 0 is plain fine-tuning (default ${DEFAULT_LAMBDAS})`)),
  seeds: Flag.Int("seeds").pipe(Flag.withDefault(1), Flag.withDescription("independent streams per λ (default 1)")),
  seed: Flag.Int("seed").pipe(Flag.withDefault(1), Flag.withDescription("the first seed (default 1)")),
  hidden: Flag.Int("hidden").pipe(Flag.withDefault(64), Flag.withDescription("hidden units of the dense layer (default 64; MinAtar: 128)")),
  trainEvery: Flag.Int("train-every").pipe(Flag.withDefault(4), Flag.withDescription("one update every N frames (default 4)")),
  epsilonFrames: Flag.Int("epsilon-frames").pipe(
    Flag.optional,
    Flag.withDescription("frames over which ε falls from 1 to 0.1 in each task, after min(5,000, frames/10) random ones (default: a quarter of --frames)")
  ),
  evalEpisodes: Flag.Int("eval-episodes").pipe(Flag.withDefault(30), Flag.withDescription("greedy episodes per task at each evaluation (default 30)")),
  evalEpsilon: Flag.Finite("eval-epsilon").pipe(Flag.withDefault(0.01), Flag.withDescription("ε of the evaluated policy (default 0.01)")),
  evalMaxFrames: Flag.Int("eval-max-frames").pipe(Flag.withDefault(2_000), Flag.withDescription("frame cap of an evaluation episode (default 2,000)")),
  engine: Flag.Literals("engine", ENGINES).pipe(Flag.withDefault("onnx" as const), Flag.withDescription("onnx (fast; the default) or ts (the reference)")),
  csv: Flag.String("csv").pipe(Flag.optional, Flag.withDescription("write the matrices and the forgetting to this CSV file")),
  json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print one JSON object (the summaries, without per-episode returns)"))
}

/**
 * Why `file` cannot be written as the CSV, or undefined: a folder, a path whose folder cannot be
 * made or written in (outDir.ts's checks, for the folder that will hold it), or a path inside a
 * results folder (folderKind.ts), or an existing file that is not a CSV this command wrote: it was
 * written over in silence, whatever it held. Its own CSV (the same command again) is written anew.
 */
const csvFileProblem = (file: string): string | undefined => {
  if (file.trim() === "") return "expected a file name, got an empty path"
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) return "is a folder; give a file name"
  const dir = path.dirname(path.resolve(file))
  const problem = outDirProblem(dir)
  if (problem !== undefined) return `its folder ${dir}: ${problem}`
  // Not a file of a run's or a sweep's folder: `--csv RUN/results.csv` wrote over the run's results.
  const enclosing = enclosingResultsProblem(file)
  if (enclosing !== undefined) return enclosing
  if (fs.existsSync(file) && firstLine(file) !== FORGETTING_CSV_HEADER) {
    return "the file exists and is not a CSV of bench forgetting's; give a new file name (one this command wrote is written anew)"
  }
  return undefined
}

/** The first line of a file, from its first bytes only (a file of the user's may be large). */
const firstLine = (file: string): string => {
  const fd = fs.openSync(file, "r")
  try {
    const head = Buffer.alloc(FORGETTING_CSV_HEADER.length + 2)
    const n = fs.readSync(fd, head, 0, head.length, 0)
    return head.subarray(0, n).toString("utf8").split(/\r?\n/)[0]
  } finally {
    fs.closeSync(fd)
  }
}

export const forgettingCommand = Command.make("forgetting", flags, (f) =>
  Effect.gen(function*() {
    const fail = (message: string) => new ForgettingError({ message: `distmt bench forgetting: ${message}` })
    const tasks = yield* Effect.try({ try: () => parseTasks(f.tasks), catch: (e) => fail(`--tasks: ${(e as Error).message}`) })
    yield* Effect.try({ try: () => checkStream(tasks), catch: (e) => fail(`--tasks: ${(e as Error).message}`) })
    const lambdas = yield* Effect.try({ try: () => commaEntries(f.lambdas).map(Number), catch: (e) => fail(`--lambdas: ${(e as Error).message}`) })
    const problems: Array<string> = []
    if (lambdas.length === 0 || lambdas.some((l) => !(Number.isFinite(l) && l >= 0))) problems.push(`--lambdas must be numbers ≥ 0, got ${JSON.stringify(f.lambdas)}`)
    if (f.frames < 100 || f.frames > 100_000_000) problems.push(`--frames must be in [100, 100000000], got ${f.frames}`)
    if (f.seeds < 1 || f.seeds > 100) problems.push(`--seeds must be in [1, 100], got ${f.seeds}`)
    const seed = seedProblem(f.seed, f.seeds >= 1 && f.seeds <= 100 ? f.seeds : 1)
    if (seed !== undefined) problems.push(seed)
    if (f.hidden < 1 || f.hidden > 4096) problems.push(`--hidden must be in [1, 4096], got ${f.hidden}`)
    if (f.trainEvery < 1) problems.push(`--train-every must be ≥ 1, got ${f.trainEvery}`)
    // Each task's warm-up: a tenth of its frames, within [32, 5,000].
    const replayStart = Math.min(5_000, Math.max(32, Math.round(f.frames / 10)))
    const after = trainEveryTooLong(dqnConfig({ trainEvery: f.trainEvery, replayStart }), f.frames)
    if (after !== undefined) problems.push(trainEveryProblem(f.trainEvery, after))
    if (f.evalEpisodes < 1 || f.evalEpisodes > 10_000) problems.push(`--eval-episodes must be in [1, 10000], got ${f.evalEpisodes}`)
    if (!(f.evalEpsilon >= 0 && f.evalEpsilon <= 1)) problems.push(`--eval-epsilon must be in [0, 1], got ${f.evalEpsilon}`)
    if (f.evalMaxFrames < 1) problems.push(`--eval-max-frames must be ≥ 1, got ${f.evalMaxFrames}`)
    const epsilonFrames = Option.getOrElse(f.epsilonFrames, () => Math.max(1, Math.round(f.frames / 4)))
    if (epsilonFrames < 1) problems.push(`--epsilon-frames must be ≥ 1, got ${epsilonFrames}`)
    // The CSV is written after every stream has run (24 minutes for the documented command): a
    // path that cannot take it is refused now, not once the results exist only on the screen.
    if (Option.isSome(f.csv)) {
      const csvProblem = csvFileProblem(f.csv.value)
      if (csvProblem !== undefined) problems.push(`--csv ${f.csv.value}: ${csvProblem}`)
    }
    if (problems.length > 0) return yield* fail(problems.join("; "))
    const base = { hidden: f.hidden, trainEvery: f.trainEvery, epsilonFrames, replayStart, replayCapacity: Math.max(1_000, Math.min(100_000, f.frames)) }
    const tty = process.stderr.isTTY === true
    const progress = (line: string) => (f.json ? undefined : process.stderr.write(tty ? `\r\x1b[2K  ${line}` : `  ${line}\n`))
    yield* Console.error(
      `distmt bench forgetting: ${tasks.map(taskName).join(" → ")}, ${f.frames.toLocaleString("en-US")} frames per task, ` +
        `λ_EWC ∈ {${lambdas.join(", ")}}, seeds ${f.seed}..${f.seed + f.seeds - 1}, hidden ${f.hidden}, one update every ${f.trainEvery} frames, ` +
        `ε 1 → 0.1 over ${epsilonFrames.toLocaleString("en-US")} frames after ${replayStart.toLocaleString("en-US")} random ones in each task, engine ${f.engine}`
    )
    const summaries: Array<StreamSummary> = []
    for (const lambda of lambdas) {
      const runs: Array<StreamResult> = []
      for (let s = 0; s < f.seeds; s++) {
        const run = yield* Effect.tryPromise({
          try: () =>
            runStream({
              tasks,
              framesPerTask: f.frames,
              config: dqnConfig({ ...base, ewcLambda: lambda }),
              engine: f.engine,
              seed: f.seed + s,
              evalEpisodes: f.evalEpisodes,
              evalEpsilon: f.evalEpsilon,
              evalMaxFrames: f.evalMaxFrames,
              progress
            }),
          catch: (e) => fail(e instanceof Error ? e.message : String(e))
        })
        runs.push(run)
      }
      if (tty && !f.json) process.stderr.write("\r\x1b[2K")
      const summary = summarise(runs)
      summaries.push(summary)
      if (!f.json) yield* Console.log(formatSummary(summary) + "\n")
    }
    if (f.json) {
      yield* Console.log(JSON.stringify({
        tasks: tasks.map(taskName),
        framesPerTask: f.frames,
        config: base,
        summaries: summaries.map((s) => ({
          lambda: s.lambda,
          seeds: s.seeds,
          returns: s.returns,
          forgetting: s.forgetting,
          forgettingFromLearned: s.forgettingFromLearned,
          meanForgetting: s.meanForgetting,
          finalMean: s.finalMean,
          runs: s.runs.map((r) => ({ seed: r.seed, returns: r.returns, forgetting: r.forgetting, log: r.log }))
        }))
      }))
    } else if (summaries.length > 1) {
      yield* Console.log(
        "mean forgetting over tasks 1..last−1, and the final row's mean:\n" +
          summaries.map((s) => `  λ_EWC = ${String(s.lambda).padEnd(8)} forgetting ${s.meanForgetting.mean.toFixed(2)}` +
            `${Number.isFinite(s.meanForgetting.ci) ? ` ± ${s.meanForgetting.ci.toFixed(2)}` : ""}, final mean ${s.finalMean.mean.toFixed(2)}` +
            `${Number.isFinite(s.finalMean.ci) ? ` ± ${s.finalMean.ci.toFixed(2)}` : ""}`).join("\n")
      )
    }
    if (Option.isSome(f.csv)) {
      const file = f.csv.value
      // Checked again: a file may have been put there while the streams ran. Written aside, then
      // renamed, so that a kill leaves the earlier file or the new one whole.
      const csvProblem = csvFileProblem(file)
      if (csvProblem !== undefined) return yield* fail(`--csv ${file}: ${csvProblem}; the results are printed above`)
      yield* Effect.try({
        try: () => {
          fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
          writeFileAtomic(file, summariesCsv(summaries))
        },
        catch: (e) => fail(`cannot write --csv ${file}: ${(e as Error).message}`)
      })
      if (!f.json) yield* Console.log(`CSV in ${file}`)
    }
  }).pipe(
    Effect.catchTag("ForgettingError", (e) =>
      Effect.andThen(Console.error(e.message), Effect.sync(() => {
        process.exitCode = 1
      })))
  )).pipe(Command.withDescription("Forgetting of one DQN agent on a stream of tasks, with and without EWC (docs/deep.md)."))

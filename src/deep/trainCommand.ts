/**
 * `distmt train-dqn --game breakout [--frames N] [--seeds K] [--out DIR] [--train-every N] [--engine onnx|ts]`:
 * trains one DQN agent per seed on one game with a progress line, and writes curve.csv, curve.svg
 * and summary.json (docs/deep.md, "Training").
 *
 * One update every 4 frames by default, not MinAtar's every frame: on a shared 2-core machine that
 * is what fits 500k frames in well under an hour; `--train-every 1` is MinAtar's setting.
 */
import { outFolderProblem } from "../report/folderKind.ts"
import { seedProblem } from "../cli/seedFlag.ts"
import { Console, Data, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { isLockFile, lockDir } from "../cli/outDir.ts"
import { readSummary } from "../report/files.ts"
import { isOwnTemporary } from "../report/temporary.ts"
import { GAME_NAMES } from "../env/minatar/Game.ts"
import { dqnConfig, epsilonAt, trainEveryTooLong } from "./config.ts"
import { ENGINES } from "./makeEngine.ts"
import { TRAIN_FILES, trainDqn } from "./train.ts"

class TrainError extends Data.TaggedError("TrainError")<{ readonly message: string }> {}

const flags = {
  game: Flag.Literals("game", GAME_NAMES).pipe(Flag.withDescription("the game to train on")),
  frames: Flag.Int("frames").pipe(Flag.withDefault(500_000), Flag.withDescription("frames per seed (default 500,000)")),
  seeds: Flag.Int("seeds").pipe(Flag.withDefault(1), Flag.withDescription("independent agents, one after another (default 1)")),
  seed: Flag.Int("seed").pipe(Flag.withDefault(1), Flag.withDescription("the first seed (default 1)")),
  trainEvery: Flag.Int("train-every").pipe(Flag.withDefault(4), Flag.withDescription("one update every N frames (default 4; MinAtar: 1)")),
  engine: Flag.Literals("engine", ENGINES).pipe(Flag.withDefault("onnx" as const), Flag.withDescription("onnx (fast; the default) or ts (the reference)")),
  out: Flag.String("out").pipe(Flag.optional, Flag.withDescription("output folder (default runs/dqn/<game>-<timestamp>)"))
}

/**
 * What --out may be: new, empty, or the folder of an earlier train-dqn run of the same game
 * (written over: the same command again). A file, a folder it cannot write in, a folder of anything
 * else (another command's summary.json, the user's files), or another game's run (whose results it
 * wrote over, in silence) is refused before anything is written.
 */
const trainOutProblem = (out: string, game: string): string | undefined => {
  const problem = outFolderProblem(out)
  if (problem !== undefined) return problem
  if (!fs.existsSync(out)) return undefined
  // A killed run's lock and temporaries (train.ts writes each file aside, then renames it) are its own; it replaces or removes them.
  const files = fs.readdirSync(out).filter((f) => !isLockFile(f) && !isOwnTemporary(f, (file) => TRAIN_FILES.has(file)))
  // A run stopped after a seed leaves its curve and no summary.json yet (train.ts writes the curve
  // after every seed): curve.svg's title names its game, and another game's was written over. A
  // curve.csv alone (stopped within its first seed) does not name it; the rerun writes it anew.
  if (files.every((f) => f === "curve.csv" || f === "curve.svg")) {
    const drawn = files.includes("curve.svg") ? curveGame(path.join(out, "curve.svg")) : undefined
    return drawn === undefined || drawn === game
      ? undefined
      : `it holds a stopped train-dqn run of ${drawn} (its curve.svg), not ${game}; give another folder (a run of the same game is written again)`
  }
  const s = readSummary(out)
  if (typeof s?.game === "string" && Array.isArray(s.perSeed) && files.every((f) => TRAIN_FILES.has(f))) {
    return s.game === game ? undefined : `it holds a train-dqn run of ${s.game}, not ${game}; give another folder (a run of the same game is written again)`
  }
  return "the folder is not empty and holds no train-dqn run; give a new or empty folder, or an earlier train-dqn run's folder to write it again"
}

/** --train-every past the frames after warm-up, in the words of train-dqn and bench forgetting (their budget is --frames). */
export const trainEveryProblem = (trainEvery: number, after: number): string =>
  `--train-every must be at most the ${after.toLocaleString("en-US")} frames of --frames after the random warm-up, got ${trainEvery}: ` +
  "one update at most would happen, perhaps none"

/** The game curve.svg's title names (`DQN on breakout: …`, deep/curve.ts), if it names one. */
const curveGame = (svg: string): string | undefined => {
  const title = /DQN on ([a-z_]+):/.exec(fs.readFileSync(svg, "utf8"))
  return title === null ? undefined : title[1]
}

export const trainDqnCommand = Command.make("train-dqn", flags, (f) =>
  Effect.gen(function*() {
    const problems: Array<string> = []
    if (f.frames < 1 || f.frames > 100_000_000) problems.push(`--frames must be in [1, 100000000], got ${f.frames}`)
    if (f.seeds < 1 || f.seeds > 100) problems.push(`--seeds must be in [1, 100], got ${f.seeds}`)
    const seed = seedProblem(f.seed, f.seeds >= 1 && f.seeds <= 100 ? f.seeds : 1)
    if (seed !== undefined) problems.push(seed)
    if (f.trainEvery < 1) problems.push(`--train-every must be ≥ 1, got ${f.trainEvery}`)
    const after = trainEveryTooLong(dqnConfig({ trainEvery: f.trainEvery }), f.frames)
    if (after !== undefined) problems.push(trainEveryProblem(f.trainEvery, after))
    if (problems.length > 0) return yield* new TrainError({ message: `distmt train-dqn: ${problems.join("; ")}` })
    const out = Option.getOrElse(f.out, () => path.join("runs", "dqn", `${f.game}-${new Date().toISOString().replace(/[:]/g, "-").replace(/\.\d+Z$/, "Z")}`))
    const outProblem = trainOutProblem(out, f.game)
    if (outProblem !== undefined) return yield* new TrainError({ message: `distmt train-dqn: --out ${out}: ${outProblem}` })
    // One writer per folder, as for run and sweep: two runs given one --out wrote their curves and
    // summaries over each other's, leaving a summary of one run beside the curve of the other.
    yield* lockDir(out, `distmt train-dqn: --out ${out}`).pipe(Effect.mapError((e) => new TrainError({ message: e.message })))
    const config = dqnConfig({ trainEvery: f.trainEvery })
    const tty = process.stderr.isTTY === true
    yield* Console.log(`distmt train-dqn: ${f.game}, ${f.frames.toLocaleString("en-US")} frames × ${f.seeds} seed(s), engine ${f.engine}, ` +
      `one update every ${f.trainEvery} frame(s), output in ${out}/`)
    // MinAtar's ε schedule is fixed in frames: a short run ends exploring more than the curve's reader expects.
    const annealed = config.replayStart + config.epsilonFrames
    if (f.frames < annealed) {
      yield* Console.log(`note: ε falls to ${config.epsilonEnd} only after ${annealed.toLocaleString("en-US")} frames (MinAtar's schedule); ` +
        `this run ends at ε = ${epsilonAt(config, f.frames).toFixed(2)}`)
    }
    const summary = yield* Effect.tryPromise({
      try: () =>
        trainDqn({
          game: f.game,
          frames: f.frames,
          seeds: f.seeds,
          firstSeed: f.seed,
          out,
          engine: f.engine,
          config,
          progress: (line, final) => {
            if (tty) process.stderr.write(`\r\x1b[2K  ${line}${final ? "\n" : ""}`)
            else process.stderr.write(`  ${line}\n`)
          }
        }),
      catch: (e) => new TrainError({ message: `distmt train-dqn: ${e instanceof Error ? e.message : String(e)}` })
    })
    yield* Console.log(
      `\n${f.game}: mean return of the last 100 episodes ${summary.finalReturnMean.toFixed(2)} over ${f.seeds} seed(s) ` +
        `(${summary.perSeed.map((s) => s.finalReturn.toFixed(2)).join(", ")}); a uniform random policy: ${summary.randomPolicyReturn.toFixed(2)}\n` +
        `curve.csv, curve.svg and summary.json in ${out}/`
    )
  }).pipe(
    Effect.scoped,
    Effect.catchTag("TrainError", (e) =>
      Effect.andThen(Console.error(e.message), Effect.sync(() => {
        process.exitCode = 1
      })))
  )).pipe(Command.withDescription("Train a DQN agent on one MinAtar-style game and write its learning curve (docs/deep.md)."))

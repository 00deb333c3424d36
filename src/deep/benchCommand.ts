/**
 * `distmt bench dqn [--json] [--seconds S] [--frames N] [--engine onnx|ts] [--dump DIR]`: the DQN
 * learner's speed, engine against the TypeScript reference (src/deep/bench.ts). `npm run bench -- --dqn`
 * runs it beside PyTorch (bench/dqn.ts).
 */
import { seedProblem } from "../cli/seedFlag.ts"
import { outDirProblem } from "../cli/outDir.ts"
import { Console, Data, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { type DqnBenchResult, type Rate, runDqnBench } from "./bench.ts"
import { ENGINES } from "./makeEngine.ts"

class DqnBenchError extends Data.TaggedError("DqnBenchError")<{ readonly message: string }> {}

const n0 = (x: number): string => Math.round(x).toLocaleString("en-US")

export const formatDqnBench = (r: DqnBenchResult): string => {
  const rows = r.engines.map((e) => {
    const cell = (x: Rate) => `${n0(x.perCpuSecond).padStart(8)} (${n0(x.perWallSecond)} wall)`.padEnd(24)
    return `  ${e.engine.padEnd(6)}  ${cell(e.trainSteps)}  ${cell(e.inferences)}  ${cell(e.endToEndFrames)}  ` +
      `${(100 * e.endToEndFrames.trainShare).toFixed(0)}% of the loop in training`
  })
  const [a, b] = r.engines
  const ratio = a !== undefined && b !== undefined
    ? [`  ${a.engine} / ${b.engine}: training ${(a.trainSteps.perCpuSecond / b.trainSteps.perCpuSecond).toFixed(1)}×, ` +
      `acting ${(a.inferences.perCpuSecond / b.inferences.perCpuSecond).toFixed(1)}×, ` +
      `end to end ${(a.endToEndFrames.perCpuSecond / b.endToEndFrames.perCpuSecond).toFixed(1)}×`]
    : []
  return [
    `distmt bench dqn: MinAtar network (${r.shape.channels}×10×10 → conv ${r.shape.convChannels} → ${r.shape.hidden} → ${r.shape.actions}), ` +
      `batch ${r.batch}, one thread, Node ${r.node}, load average ${r.loadAverage.toFixed(1)}`,
    `  rates per CPU-second of the process (per wall-clock second in brackets)`,
    `  engine  ${"training steps/s".padEnd(24)}  ${"inferences/s (batch 1)".padEnd(24)}  ${`end-to-end frames/s (1 update / ${r.trainEvery})`.padEnd(24)}`,
    ...rows,
    ...ratio
  ].join("\n")
}

const flags = {
  json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print one JSON object instead of the table")),
  seconds: Flag.Finite("seconds").pipe(Flag.withDefault(3), Flag.withDescription("seconds per timed part (training, acting; default 3)")),
  frames: Flag.Int("frames").pipe(Flag.withDefault(10_000), Flag.withDescription("end-to-end frames timed for onnx (the reference: a tenth; default 10,000)")),
  engine: Flag.Literals("engine", ENGINES).pipe(Flag.optional, Flag.withDescription("only this engine (default: onnx, then ts)")),
  seed: Flag.Int("seed").pipe(Flag.withDefault(1), Flag.withDescription("seed of the data and weights (default 1)")),
  dump: Flag.String("dump").pipe(Flag.optional, Flag.withDescription("write weights, a batch and the reference's gradients as .npy for bench/dqn_torch.py"))
}

export const dqnBenchCommand = Command.make("dqn", flags, (f) =>
  Effect.gen(function*() {
    if (!(f.seconds > 0 && f.seconds <= 600)) return yield* new DqnBenchError({ message: `distmt bench dqn: --seconds must be in (0, 600], got ${f.seconds}` })
    if (f.frames < 100 || f.frames > 10_000_000) return yield* new DqnBenchError({ message: `distmt bench dqn: --frames must be in [100, 10000000], got ${f.frames}` })
    const seed = seedProblem(f.seed)
    if (seed !== undefined) return yield* new DqnBenchError({ message: `distmt bench dqn: ${seed}` })
    // A --dump that cannot be a folder, in one line before anything runs (it was mkdir's raw EEXIST).
    const dumpProblem = Option.match(f.dump, { onNone: () => undefined, onSome: outDirProblem })
    if (dumpProblem !== undefined) return yield* new DqnBenchError({ message: `distmt bench dqn: --dump ${Option.getOrUndefined(f.dump)}: ${dumpProblem}` })
    const result = yield* Effect.tryPromise({
      try: () =>
        runDqnBench(
          {
            seconds: f.seconds,
            frames: f.frames,
            engines: Option.match(f.engine, { onNone: () => ENGINES, onSome: (e) => [e] }),
            seed: f.seed,
            dump: Option.getOrUndefined(f.dump)
          },
          f.json ? () => {} : (line) => console.error(line)
        ),
      catch: (e) => new DqnBenchError({ message: `distmt bench dqn: ${e instanceof Error ? e.message : String(e)}` })
    })
    yield* Console.log(f.json ? JSON.stringify(result) : formatDqnBench(result))
  }).pipe(
    Effect.catchTag("DqnBenchError", (e) =>
      Effect.andThen(Console.error(e.message), Effect.sync(() => {
        process.exitCode = 1
      })))
  )).pipe(Command.withDescription("Time the DQN learner: training steps, acting and the end-to-end loop, engine against the reference (docs/performance-deep.md)."))

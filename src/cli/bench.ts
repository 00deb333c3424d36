/**
 * `distmt bench lsvi`: the numeric core's benchmark (issue 5, docs/performance.md).
 * `distmt bench dqn`: the DQN learner's (issue 11), in src/deep/benchCommand.ts.
 *
 *   distmt bench lsvi --episodes K --dim d --actions A --horizon H --seed s [--beta b] [--lambda l]
 *                     [--twin] [--kernel wasm|js] [--json] [--dump DIR]
 *
 * Prints the median time of the full optimistic backup from scratch and of the per-episode update,
 * the memory figures, and with `--dump DIR` writes the data set and w̄ as NumPy files for an outside
 * implementation (bench/lsvi_numpy.py is the one `npm run bench` runs beside it).
 */
import { seedProblem } from "./seedFlag.ts"
import { Console, Data, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { type BenchOptions, type BenchResult, dump, estimatedBytes, featureBytesOf, makeDirectory, runBench } from "../bench/lsviBench.ts"
import { dqnBenchCommand } from "../deep/benchCommand.ts"
import { simnetBenchCommand } from "../deep/simnetBenchCommand.ts"
import { forgettingCommand } from "../deep/forgettingCommand.ts"

export class BenchError extends Data.TaggedError("BenchError")<{ readonly message: string }> {}

const MAX_BYTES = 3.5 * 2 ** 30 // a 32-bit WebAssembly memory holds 4 GiB; leave room for slack

/** Checks the flags and names the bad one; every error says what was expected. */
export const checkOptions = (o: BenchOptions): Effect.Effect<BenchOptions, BenchError> => {
  const problems: Array<string> = []
  const int = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`--${name} must be an integer in [${min}, ${max}], got ${v}`)
  }
  int("episodes", o.episodes, 2, 10_000_000)
  int("dim", o.dim, 1, 1024)
  int("actions", o.actions, 1, 1024)
  int("horizon", o.horizon, 1, 10_000)
  const seed = seedProblem(o.seed)
  if (seed !== undefined) problems.push(seed)
  if (!(Number.isFinite(o.beta) && o.beta >= 0)) problems.push(`--beta must be a finite number ≥ 0, got ${o.beta}`)
  if (!(Number.isFinite(o.lambda) && o.lambda > 0)) problems.push(`--lambda must be a finite number > 0, got ${o.lambda}`)
  if (problems.length === 0) {
    const need = estimatedBytes(o)
    if (need > MAX_BYTES) {
      problems.push(
        `K·A·d·H too large: the learner would need about ${(need / 2 ** 30).toFixed(1)} GiB ` +
          `(${(featureBytesOf(o) / 2 ** 30).toFixed(1)} GiB of features); the limit is ${MAX_BYTES / 2 ** 30} GiB`
      )
    }
  }
  return problems.length === 0 ? Effect.succeed(o) : Effect.fail(new BenchError({ message: `distmt bench lsvi: ${problems.join("; ")}` }))
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`
const ms = (s: number): string => `${(1000 * s).toFixed(3)} ms`

export const formatResult = (r: BenchResult): string =>
  [
    `distmt bench lsvi: K = ${r.episodes}, d = ${r.dim}, A = ${r.actions}, H = ${r.horizon}, seed = ${r.seed}, ` +
      `β = ${r.beta}, λ = ${r.lambda}, kernel ${r.kernel}${r.twin ? ", with the pessimistic twin" : ""}`,
    `  full backup from scratch  ${ms(r.fullBackupSeconds)}  (median of ${r.fullBackupRuns})`,
    `  per-episode update        ${ms(r.episodeUpdateSeconds)}  (median of ${r.episodeUpdateRuns}; mean ${ms(r.episodeUpdateMeanSeconds)})`,
    `  floor: one read of the stored next-state features ${ms(r.floorSeconds)} ` +
      `(the update takes ${(r.episodeUpdateSeconds / r.floorSeconds).toFixed(2)}× that)`,
    `  one read of all the update reads (next-state rows, forms, φ_h) ${ms(r.readsFloorSeconds)} ` +
      `(${(r.readsFloorSeconds / r.floorSeconds).toFixed(2)}× the floor; the update takes ` +
      `${(r.episodeUpdateSeconds / r.readsFloorSeconds).toFixed(2)}× that)`,
    `  memory: learner ${mib(r.learnerBytes)} = ${r.memoryRatio.toFixed(3)}× the stored features (${mib(r.featureBytes)}); ` +
      `peak RSS growth ${mib(r.peakBytes)}, process peak ${mib(r.processPeakBytes)}`,
    `  w̄ incremental vs from scratch: max relative difference ${r.incrementalVsFullMaxRelDiff.toExponential(2)}`
  ].join("\n")

const flags = {
  episodes: Flag.Int("episodes").pipe(Flag.withDefault(2000), Flag.withDescription("K, the number of stored episodes (default 2000)")),
  dim: Flag.Int("dim").pipe(Flag.withDefault(32), Flag.withDescription("d, the feature dimension (default 32)")),
  actions: Flag.Int("actions").pipe(Flag.withDefault(4), Flag.withDescription("A, the number of actions (default 4)")),
  horizon: Flag.Int("horizon").pipe(Flag.withDefault(20), Flag.withDescription("H, the horizon (default 20)")),
  seed: Flag.Int("seed").pipe(Flag.withDefault(0), Flag.withDescription("seed of the synthetic data set (default 0)")),
  beta: Flag.Finite("beta").pipe(Flag.withDefault(1), Flag.withDescription("β ≥ 0, the bonus scale (default 1)")),
  lambda: Flag.Finite("lambda").pipe(Flag.withDefault(1), Flag.withDescription("λ > 0, the ridge of Λ_h = λI + Σ φφᵀ (default 1)")),
  twin: Flag.Boolean("twin").pipe(Flag.withDefault(false), Flag.withDescription("also compute the pessimistic twin Q̲ in every timing")),
  kernel: Flag.Literals("kernel", ["wasm", "wasm-plain", "js"]).pipe(
    Flag.optional,
    Flag.withDescription("wasm: the SIMD kernels (default); wasm-plain: the same without fused multiply-adds; js: the same loops in TypeScript")
  ),
  json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print one JSON object instead of the text report")),
  dump: Flag.String("dump").pipe(
    Flag.optional,
    Flag.withDescription("write phi.npy, reward.npy, phi_next.npy, w.npy and meta.json to this folder")
  )
}

const lsvi = Command.make("lsvi", flags, (f) =>
  Effect.gen(function*() {
    const options = yield* checkOptions({
      episodes: f.episodes,
      dim: f.dim,
      actions: f.actions,
      horizon: f.horizon,
      seed: f.seed,
      beta: f.beta,
      lambda: f.lambda,
      twin: f.twin,
      ...Option.match(f.kernel, { onNone: () => ({}), onSome: (kernel) => ({ kernel }) })
    })
    if (Option.isSome(f.dump)) {
      // Fail before the benchmark, not after it, if the folder cannot be made.
      const dir = f.dump.value
      yield* Effect.try({
        try: () => makeDirectory(dir),
        catch: (e) => new BenchError({ message: `distmt bench lsvi: cannot write --dump ${dir}: ${e instanceof Error ? e.message : String(e)}` })
      })
    }
    const run = yield* Effect.try({
      try: () => runBench(options, f.json ? () => {} : (line) => console.error(line)),
      catch: (e) => new BenchError({ message: `distmt bench lsvi: ${e instanceof Error ? e.message : String(e)}` })
    })
    if (Option.isSome(f.dump)) {
      const dir = f.dump.value
      yield* Effect.try({
        try: () => dump(dir, run),
        catch: (e) => new BenchError({ message: `distmt bench lsvi: cannot write --dump ${dir}: ${e instanceof Error ? e.message : String(e)}` })
      })
    }
    yield* Console.log(f.json ? JSON.stringify({ ...run.result, dump: Option.getOrNull(f.dump) }) : formatResult(run.result))
  }).pipe(
    Effect.catchTag("BenchError", (e) =>
      Effect.andThen(Console.error(e.message), Effect.sync(() => {
        process.exitCode = 1
      })))
  )).pipe(Command.withDescription("Time the incremental LSVI-UCB backup on a synthetic data set (docs/performance.md)."))

export const bench = Command.make("bench").pipe(
  Command.withDescription("Benchmarks: the LSVI-UCB core (lsvi) and the deep stage (dqn, simnet, forgetting)."),
  Command.withSubcommands([lsvi, dqnBenchCommand, simnetBenchCommand, forgettingCommand])
)

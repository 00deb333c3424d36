/**
 * `distmt bench simnet`: identification accuracy of SimNet against the random policy's return
 * interval (src/deep/simnet/bench.ts, docs/deep.md "SimNet: identifying tasks from experience").
 *
 *   distmt bench simnet [--task game[:field=value:...]]... [--agents N] [--frames F] [--c-sep C]
 *                       [--max-frames X] [--seed S] [--k K] [--pretrain N] [--method m]... [--json]
 */
import { seedProblem } from "../cli/seedFlag.ts"
import { Console, Data, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { type Method, METHODS, type MethodResult, runSimnetBench, type SimnetBenchResult } from "./simnet/bench.ts"
import { DEFAULT_TASKS, parseTask, randomTasks } from "./simnet/tasks.ts"

class SimnetBenchError extends Data.TaggedError("SimnetBenchError")<{ readonly message: string }> {}

const NAMES: Record<Method, string> = {
  simnet: "SimNet",
  learned: "SimNet, learned only",
  features: "input features only",
  return: "return interval"
}

export const formatSimnetBench = (r: SimnetBenchResult, pretrained: number): string => {
  const row = (m: MethodResult) =>
    `  ${NAMES[m.method].padEnd(20)}  ${m.accuracy.toFixed(2).padStart(8)}  ${`${m.entries} / ${m.trueTasks}`.padStart(11)}  ` +
    `${String(m.unidentified).padStart(12)}  ${Math.round(m.framesPerInstance).toLocaleString("en-US").padStart(16)}  ${m.seconds.toFixed(1).padStart(6)}`
  return [
    `distmt bench simnet: ${r.tasks.length} tasks, ${r.agents} instances (one per agent), ${r.frames} random-policy frames each, ` +
      `c_Sep ${r.cSep} for the return interval, seed ${r.seed}${pretrained > 0 ? `, SimNet pretrained on ${pretrained} random variants per game` : ""}`,
    `  ${"statistic".padEnd(20)}  ${"accuracy".padStart(8)}  ${"entries / M".padStart(11)}  ${"unidentified".padStart(12)}  ${"frames / instance".padStart(16)}  ${"wall s".padStart(6)}`,
    ...r.results.map(row)
  ].join("\n")
}

const flags = {
  task: Flag.String("task").pipe(
    Flag.atLeast(0),
    Flag.withDescription("a hidden task, game[:field=value:...] as in bench forgetting --tasks (e.g. breakout:paddleSpeed=2:ballSpeed=0.5); repeatable; default: 5 Breakout and 5 Space Invaders variants")
  ),
  agents: Flag.Int("agents").pipe(Flag.withDefault(20), Flag.withDescription("instances, one per agent; agent i gets task i mod M, in a seeded order (default 20)")),
  frames: Flag.Int("frames").pipe(
    Flag.withDefault(5000),
    Flag.withDescription("F: random-policy frames each instance explores before it asks the server (default 5,000, the DQN's replay warm-up)")
  ),
  cSep: Flag.Finite("c-sep").pipe(Flag.withDefault(0.5), Flag.withDescription("c_Sep: the return interval is narrowed to width ≤ c_Sep/2 (more frames if needed; default 0.5)")),
  maxFrames: Flag.Int("max-frames").pipe(Flag.withDefault(300_000), Flag.withDescription("the return statistic's frame cap per instance (then: unidentified; default 300,000)")),
  seed: Flag.Int("seed").pipe(Flag.withDefault(1), Flag.withDescription("seed of the instances, the order and the network (default 1)")),
  k: Flag.Int("k").pipe(Flag.withDefault(12), Flag.withDescription("SimNet's embedding dimension (default 12)")),
  pretrain: Flag.Int("pretrain").pipe(
    Flag.withDefault(0),
    Flag.withDescription("pretrain SimNet on this many random variants of each game of the run (earlier runs' registries; never the run's tasks); 0 (the default): none")
  ),
  method: Flag.Literals("method", METHODS).pipe(Flag.atLeast(0), Flag.withDescription("only these statistics (repeatable; default: simnet, learned, features, return)")),
  json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print one JSON object instead of the table"))
}

export const simnetBenchCommand = Command.make("simnet", flags, (f) =>
  Effect.gen(function*() {
    const fail = (message: string) => new SimnetBenchError({ message: `distmt bench simnet: ${message}` })
    const tasks = yield* Effect.try({ try: () => f.task.length > 0 ? f.task.map(parseTask) : DEFAULT_TASKS, catch: (e) => fail(e instanceof Error ? e.message : String(e)) })
    if (tasks.length < 1) return yield* fail("need at least one task")
    if (f.agents < 1 || f.agents > 10_000) return yield* fail(`--agents must be in [1, 10000], got ${f.agents}`)
    if (f.frames < 64 || f.frames > 1_000_000) return yield* fail(`--frames must be in [64, 1000000], got ${f.frames}`)
    if (!(f.cSep > 0)) return yield* fail(`--c-sep must be > 0, got ${f.cSep}`)
    if (f.maxFrames < f.frames) return yield* fail(`--max-frames must be ≥ --frames (${f.frames}), got ${f.maxFrames}`)
    if (f.k < 1 || f.k > 256) return yield* fail(`--k must be in [1, 256], got ${f.k}`)
    if (f.pretrain < 0 || f.pretrain > 1000) return yield* fail(`--pretrain must be in [0, 1000], got ${f.pretrain}`)
    const seed = seedProblem(f.seed)
    if (seed !== undefined) return yield* fail(seed)
    const result = yield* Effect.try({
      try: () =>
        runSimnetBench(
          {
            tasks,
            agents: f.agents,
            frames: f.frames,
            cSep: f.cSep,
            maxFrames: f.maxFrames,
            seed: f.seed,
            k: f.k,
            ...(f.pretrain > 0 ? { pretrainTasks: [...new Set(tasks.map((t) => t.game))].flatMap((g) => randomTasks(g, f.pretrain, f.seed, tasks)) } : {}),
            ...(f.method.length > 0 ? { methods: f.method } : {})
          },
          f.json ? () => {} : (line) => console.error(line)
        ),
      catch: (e) => fail(e instanceof Error ? e.message : String(e))
    })
    yield* Console.log(f.json ? JSON.stringify(result) : formatSimnetBench(result, f.pretrain))
  }).pipe(
    Effect.catchTag("SimnetBenchError", (e) =>
      Effect.andThen(Console.error(e.message), Effect.sync(() => {
        process.exitCode = 1
      })))
  )).pipe(Command.withDescription("Identification accuracy of SimNet against the random policy's return interval (docs/deep.md, SimNet)."))

/**
 * The `distmt` command (README.md, "Commands"); `tsx run <spec>` (the root file `run`) is `distmt run <spec>`:
 *
 *   distmt run <spec> [--out DIR] [--threads N|auto] [--set path=value]... [--seeds N] [--fresh]
 *                                   validate, run with progress, print the summary, write results; an --out
 *                                   folder holding a run of the same spec is resumed (src/api/run.ts)
 *   distmt validate <spec>          decode and check only
 *   distmt sweep <spec> [--quick]   every point of the spec's sweep axes × seeds, then the report (sweep.ts)
 *   distmt report <dir>             rewrite a sweep's report from its saved rows (report.ts)
 *   distmt bench lsvi …             time the LSVI-UCB kernels (bench.ts)
 *   distmt bench dqn [--json]       time the DQN learner's engines (bench.ts, src/deep/benchCommand.ts)
 *   distmt train-dqn --game G …     train a DQN agent on one game, write its learning curve (src/deep/trainCommand.ts)
 *   distmt runner --db URL …        start an Effect Cluster runner (src/cluster/runnerCommand.ts, docs/cluster.md)
 *   distmt cluster up|down|ping …   local runners in the background; a signed round-trip check (src/cluster/clusterCommand.ts)
 *
 * Errors in the user's input are printed as one clear message (no stack trace) with exit code 1.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Data, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { executeRun, type Prepared, prepareRun, type Servers } from "../api/run.ts"
import { summaryTable } from "../report/summary.ts"
import { trainDqnCommand } from "../deep/trainCommand.ts"
import { clusterCommand } from "../cluster/clusterCommand.ts"
import { runnerCommand } from "../cluster/runnerCommand.ts"
import { clusterRunFlags, clusterRunKey, withClusterServers } from "../cluster/runCluster.ts"
import { costLine } from "../spec/cost.ts"
import { MAX_THREADS } from "../spec/schema.ts"
import { bench } from "./bench.ts"
import { checkOutDir } from "./outDir.ts"
import { overrideFlags, overridesFromFlags } from "./overrideFlags.ts"
import { rangesLine, sampleFlags, sampleFromFlags } from "./sampleFlags.ts"
import { checkedSpec, forceFlag, specTimeoutFlag } from "./specCheck.ts"
import { terminalProgress } from "./progress.ts"
import { plotCommand } from "./plot.ts"
import { reportCommand } from "./report.ts"
import { reportUserErrors, sweepCommand } from "./sweep.ts"

const VERSION = "0.1.0"

const specArgument = Argument.String("spec").pipe(Argument.withDescription("path of a spec module, e.g. specs/linear-chain.spec.ts"))

/** A bad command-line option (the spec's own errors are `SpecError`s). */
class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** `--threads`: a positive integer or "auto"; anything else is the user's error, named as such. */
const parseThreads = (flag: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isNone(flag)) return undefined
    const v = flag.value.trim()
    if (v === "auto") return "auto" as const
    if (/^[0-9]+$/.test(v) && Number(v) >= 1 && Number(v) <= MAX_THREADS) return Number(v)
    return yield* new UsageError({
      message: `--threads: expected a whole number of threads from 1 to ${MAX_THREADS}, or "auto" (one per core); got ${JSON.stringify(flag.value)}`
    })
  })

const validate = Command.make("validate", { spec: specArgument, specTimeout: specTimeoutFlag, ...overrideFlags, ...sampleFlags }, ({ spec, specTimeout, sample: sampleFlag, sampleSeed, ...flags }) =>
  reportUserErrors(
    Effect.gen(function*() {
      const overrides = yield* overridesFromFlags(flags)
      const sample = yield* sampleFromFlags({ sample: sampleFlag, sampleSeed })
      // Decoded, compiled and every sweep point checked, all in the time-limited worker (specCheck.ts).
      const c = yield* checkedSpec(spec, specTimeout, { sweep: true, allVariants: true, overrides, sample })
      // Ranges without --sample are checked at their ends only: those are not the points a sweep runs.
      const points = c.points > 1 && (c.rangeAxes === undefined || sample !== undefined) ? `; all ${c.points} sweep points checked` : ""
      const quick = c.quickPoints !== undefined && c.quickPoints > 1 ? ` (and the ${c.quickPoints} of --quick)` : ""
      yield* Console.log(
        `${spec}: valid. ${c.tasks} tasks (separation ${c.separation.toPrecision(4)} ≥ cSep ${c.cSep}), ` +
          `${c.agents} agents, d = ${c.dim}, H = ${c.horizon}, β = ${c.beta.toPrecision(4)}${points}${quick}`
      )
      if (c.rangeAxes !== undefined) yield* Console.log(rangesLine(c.rangeAxes, sample))
      // The estimate run and sweep check against the machine's memory (src/spec/cost.ts).
      yield* Console.log(costLine(c.cost))
    })
  )).pipe(Command.withDescription("Decode and check a spec (and every point of its sweep) without running it."))

/** The line `run` prints before the first unit: what runs, where, and what was already done there. */
const startLine = (p: Prepared, resumed: number, units: number) => {
  const s = p.spec
  const c = p.compiled
  return `distmt: ${s.name}: N = ${s.agents} agents, M = ${c.tasks.length} tasks, ε = ${s.epsilon}, ` +
    `cSep = ${s.cSep} (actual ${c.separation.value.toPrecision(4)}), β = ${c.beta.toPrecision(4)}, ` +
    `${s.seeds} seed${s.seeds === 1 ? "" : "s"}, algorithms: distmt${s.baselines.map((b) => `, ${b}`).join("")}, ` +
    `${p.threads} thread${p.threads === 1 ? "" : "s"}` +
    (p.overrides.length === 0 ? "" : `; overrides: ${p.overrides.map((o) => `${o.path} = ${JSON.stringify(o.value)}`).join(", ")}`) +
    (resumed === 0 ? "" : `\nresuming: ${resumed} of ${units} (algorithm, seed) units already finished in this folder`)
}

const run = Command.make(
  "run",
  {
    spec: specArgument,
    out: Flag.String("out").pipe(
      Flag.optional,
      Flag.withDescription("results folder (default runs/<name>/<timestamp>); a run of the same spec there is resumed")
    ),
    threads: Flag.String("threads").pipe(
      Flag.optional,
      Flag.withDescription(`threads for the agents' numeric work: a number, or "auto" for one per core (default: the spec's \`threads\`, else "auto"); results do not depend on it`)
    ),
    ...overrideFlags,
    fresh: Flag.Boolean("fresh").pipe(
      Flag.withDefault(false),
      Flag.withDescription("start over in an --out folder that holds a run, instead of resuming it")
    ),
    cluster: Flag.Boolean("cluster").pipe(
      Flag.withDefault(false),
      Flag.withDescription("run each server on the cluster's runners, its state in PostgreSQL (docs/cluster.md); same results")
    ),
    specTimeout: specTimeoutFlag,
    force: forceFlag,
    ...clusterRunFlags
  },
  ({ spec, out, threads: threadsFlag, set, seeds, fresh, cluster, specTimeout, force, ...connection }) =>
    reportUserErrors(
      Effect.gen(function*() {
        const threadsOption = yield* parseThreads(threadsFlag)
        const overrides = yield* overridesFromFlags({ set, seeds })
        if (Option.isSome(out)) yield* checkOutDir(out.value, "--out")
        // Checked in a time-limited worker first; only then loaded and compiled here (specCheck.ts, src/api/run.ts).
        const prepared = yield* prepareRun(spec, {
          overrides,
          force,
          ...(threadsOption === undefined ? {} : { threads: threadsOption }),
          check: (file, overrides) => checkedSpec(file, specTimeout, { overrides })
        })
        const progress = terminalProgress()
        let dir: string | undefined
        const execute = (servers?: (dir: string) => Servers) =>
          executeRun(prepared, {
            out: Option.isSome(out) ? out.value : { newUnder: "runs" },
            outLabel: (d) => (Option.isSome(out) ? `--out ${d}` : d),
            fresh,
            progress,
            ...(servers === undefined ? {} : { servers }),
            onStart: (start) => {
              dir = start.dir
              return Console.log(startLine(prepared, start.resumed, start.units))
            }
          })
        // With --cluster the connection and the secret are checked before anything is written.
        const result = yield* (cluster
          ? withClusterServers(connection, (servers) => execute((d) => servers(clusterRunKey(prepared.spec, d)))).pipe(
            Effect.mapError((e) => (e._tag === "ClusterUsageError" ? new UsageError({ message: e.message }) : e))
          )
          : execute()).pipe(
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                progress.finish()
                if (dir !== undefined) {
                  process.stderr.write(`\ninterrupted: the finished units are saved in ${dir}/; run again with --out ${dir} to resume\n`)
                }
              })
            )
          )
        progress.finish()
        yield* Console.log("")
        yield* Console.log(summaryTable(result.summary.algorithms))
        for (const warning of result.warnings) yield* Console.log(warning)
        yield* Console.log(`\nResults in ${result.dir}/ (summary.json, results.csv, model.json, policies.json)`)
      })
    )
).pipe(Command.withDescription("Run an experiment end to end and write its results."))

const distmt = Command.make("distmt").pipe(
  Command.withDescription("Distributed multi-task reinforcement learning experiments (DistMT-LSVI)."),
  Command.withSubcommands([run, validate, sweepCommand, reportCommand, plotCommand, bench, trainDqnCommand, runnerCommand, clusterCommand])
)

Command.run(distmt, { version: VERSION }).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)

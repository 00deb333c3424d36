/**
 * The `distmt` command (README.md, "Commands"); `tsx run <spec>` (the root file `run`) is `distmt run <spec>`:
 *
 *   distmt run <spec> [--out DIR] [--threads N|auto]   validate, run with progress, print the summary, write results
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
import * as path from "node:path"
import { prepareOutput, writeResults } from "../report/files.ts"
import { capWarnings, summarize, summaryTable } from "../report/summary.ts"
import { runExperiment, threadsFor } from "../run/runExperiment.ts"
import { trainDqnCommand } from "../deep/trainCommand.ts"
import { clusterCommand } from "../cluster/clusterCommand.ts"
import { runnerCommand } from "../cluster/runnerCommand.ts"
import { clusterRunFlags, clusterRunKey, withClusterServers } from "../cluster/runCluster.ts"
import { compile } from "../spec/compile.ts"
import { costLine, costProblem, estimateCost } from "../spec/cost.ts"
import { MAX_THREADS } from "../spec/schema.ts"
import { bench } from "./bench.ts"
import { loadSpec } from "./loadSpec.ts"
import { checkOutDir, checkRunDirOwner, lockDir, newRunDir, removeStaleTemporaries } from "./outDir.ts"
import { checkedSpec, forceFlag, specTimeoutFlag } from "./specCheck.ts"
import { terminalProgress } from "./progress.ts"
import { reportCommand } from "./report.ts"
import { sweepCommand } from "./sweep.ts"

const VERSION = "0.1.0"

const specArgument = Argument.String("spec").pipe(Argument.withDescription("path of a spec module, e.g. specs/linear-chain.spec.ts"))

/** A bad command-line option (the spec's own errors are `SpecError`s). */
class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** Prints a user-facing error and sets a failing exit code; anything else is a bug and surfaces as such. */
const reportUserErrors = <A, R>(
  effect: Effect.Effect<A, { readonly _tag: "SpecError" | "SpecLoadError" | "PlatformError" | "UsageError" | "OutDirError"; readonly message: string }, R>
) =>
  effect.pipe(
    Effect.catch((e) =>
      Effect.andThen(Console.error(e.message), Effect.sync(() => {
        process.exitCode = 1
      }))
    )
  )

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

const timestamp = () => new Date().toISOString().replace(/[:]/g, "-").replace(/\.\d+Z$/, "Z")

const validate = Command.make("validate", { spec: specArgument, specTimeout: specTimeoutFlag }, ({ spec, specTimeout }) =>
  reportUserErrors(
    Effect.gen(function*() {
      // Decoded, compiled and every sweep point checked, all in the time-limited worker (specCheck.ts).
      const c = yield* checkedSpec(spec, specTimeout, { sweep: true, allVariants: true })
      const points = c.points > 1 ? `; all ${c.points} sweep points checked` : ""
      const quick = c.quickPoints !== undefined && c.quickPoints > 1 ? ` (and the ${c.quickPoints} of --quick)` : ""
      yield* Console.log(
        `${spec}: valid. ${c.tasks} tasks (separation ${c.separation.toPrecision(4)} ≥ cSep ${c.cSep}), ` +
          `${c.agents} agents, d = ${c.dim}, H = ${c.horizon}, β = ${c.beta.toPrecision(4)}${points}${quick}`
      )
      // The estimate run and sweep check against the machine's memory (src/spec/cost.ts).
      yield* Console.log(costLine(c.cost))
    })
  )).pipe(Command.withDescription("Decode and check a spec (and every point of its sweep) without running it."))

const run = Command.make(
  "run",
  {
    spec: specArgument,
    out: Flag.String("out").pipe(Flag.optional, Flag.withDescription("results folder (default runs/<name>/<timestamp>)")),
    threads: Flag.String("threads").pipe(
      Flag.optional,
      Flag.withDescription(`threads for the agents' numeric work: a number, or "auto" for one per core (default: the spec's \`threads\`, else "auto"); results do not depend on it`)
    ),
    cluster: Flag.Boolean("cluster").pipe(
      Flag.withDefault(false),
      Flag.withDescription("run each server on the cluster's runners, its state in PostgreSQL (docs/cluster.md); same results")
    ),
    specTimeout: specTimeoutFlag,
    force: forceFlag,
    ...clusterRunFlags
  },
  ({ spec, out, threads: threadsFlag, cluster, specTimeout, force, ...connection }) =>
    reportUserErrors(
      Effect.gen(function*() {
        const threadsOption = yield* parseThreads(threadsFlag)
        if (Option.isSome(out)) yield* checkOutDir(out.value, "--out")
        // Checked in a time-limited worker first; only then loaded and compiled here (specCheck.ts).
        yield* checkedSpec(spec, specTimeout, {})
        const decoded = yield* loadSpec(spec)
        const c = yield* compile(decoded, spec)
        // Refused before anything is written if it cannot fit in memory or would never finish (src/spec/cost.ts).
        const tooCostly = force ? undefined : costProblem(estimateCost(c))
        if (tooCostly !== undefined) return yield* new UsageError({ message: `${spec}: ${tooCostly}` })
        const threads = threadsFor(c, threadsOption ?? decoded.threads)
        // With --cluster the connection and the secret are checked before anything is written.
        type Servers = Parameters<Parameters<typeof withClusterServers>[1]>[0]
        const body = (servers?: Servers) => Effect.gen(function*() {
          // A default folder is created here, under a name no other run has taken (outDir.ts).
          const dir = Option.isSome(out) ? out.value : yield* newRunDir(path.join("runs", decoded.name), timestamp())
          yield* Console.log(
            `distmt: ${decoded.name}: N = ${decoded.agents} agents, M = ${c.tasks.length} tasks, ε = ${decoded.epsilon}, ` +
              `cSep = ${decoded.cSep} (actual ${c.separation.value.toPrecision(4)}), β = ${c.beta.toPrecision(4)}, ` +
              `${decoded.seeds} seed${decoded.seeds === 1 ? "" : "s"}, algorithms: distmt${decoded.baselines.map((b) => `, ${b}`).join("")}, ` +
              `${threads} thread${threads === 1 ? "" : "s"}`
          )
          const label = Option.isSome(out) ? `--out ${dir}` : dir
          // One writer per folder (a lock naming its PID); then the temporaries a killed run left behind go.
          yield* lockDir(dir, label)
          yield* checkRunDirOwner(dir, decoded.name, label)
          removeStaleTemporaries(dir)
          yield* prepareOutput(dir, c, threads)
          const progress = terminalProgress()
          const results = yield* runExperiment(c, progress, (runs) => writeResults(dir, c, runs, false, threads), {
            threads,
            ...(servers === undefined ? {} : { servers: servers(clusterRunKey(decoded, dir)) })
          })
          progress.finish()
          yield* writeResults(dir, c, results.runs, true, threads)
          yield* Console.log("")
          const summary = summarize(results.runs, decoded.stopping._tag === "Adaptive")
          yield* Console.log(summaryTable(summary))
          for (const warning of capWarnings(results.runs, decoded.stopping, decoded.cSep)) yield* Console.log(warning)
          yield* Console.log(`\nResults in ${dir}/ (summary.json, results.csv, model.json, policies.json)`)
        }).pipe(Effect.scoped)
        yield* cluster
          ? withClusterServers(connection, (servers) => body(servers)).pipe(
            Effect.mapError((e) => (e._tag === "ClusterUsageError" ? new UsageError({ message: e.message }) : e))
          )
          : body()
      })
    )
).pipe(Command.withDescription("Run an experiment end to end and write its results."))

const distmt = Command.make("distmt").pipe(
  Command.withDescription("Distributed multi-task reinforcement learning experiments (DistMT-LSVI)."),
  Command.withSubcommands([run, validate, sweepCommand, reportCommand, bench, trainDqnCommand, runnerCommand, clusterCommand])
)

Command.run(distmt, { version: VERSION }).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)

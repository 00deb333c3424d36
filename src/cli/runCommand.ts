/**
 * `distmt run <spec>`: validate, run DistMT-LSVI and the baselines for every seed with a live
 * progress line, print the summary, write the results; an --out folder holding a run of the same
 * spec is resumed. The work is src/api/run.ts's, shared with the library API; this file is the
 * flags and the printing.
 */
import { enclosingResultsProblem } from "../report/folderKind.ts"
import { Console, Data, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { executeRun, type Prepared, prepareRun, type Units } from "../api/run.ts"
import { changedUnitsLine } from "../report/digest.ts"
import { connectionFlags, withoutCluster } from "../cluster/flags.ts"
import { summaryTable } from "../report/summary.ts"
import { MAX_THREADS } from "../spec/schema.ts"
import { DESCRIPTIONS } from "./commands.ts"
import { checkOutDir, OutDirError } from "./outDir.ts"
import { overrideFlags, overridesFromFlags } from "./overrideFlags.ts"
import { overridesRecord } from "../spec/overrides.ts"
import { terminalProgress } from "./progress.ts"
import { checkedSpec, forceFlag, specArgument, specTimeoutFlag } from "./specCheck.ts"
import { reportUserErrors } from "./userErrors.ts"

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

/** The line `run` prints before the first unit: what runs, where, and what was already done there. */
/** `cluster`: the agents run on the cluster's runners, with their threads, not this process's. */
const startLine = (p: Prepared, resumed: number, units: number, cluster: boolean) => {
  const s = p.spec
  const c = p.compiled
  const M = c.tasks.length
  return `distmt: ${s.name}: N = ${s.agents} agent${s.agents === 1 ? "" : "s"}, M = ${M} task${M === 1 ? "" : "s"}, ε = ${s.epsilon}, ` +
    `cSep = ${s.cSep} (${M === 1 ? "one task: nothing to separate" : `actual ${c.separation.value.toPrecision(4)}`}), β = ${c.beta.toPrecision(4)}, ` +
    `${s.seeds} seed${s.seeds === 1 ? "" : "s"}, algorithms: distmt${s.baselines.map((b) => `, ${b}`).join("")}, ` +
    (cluster ? "on the cluster's runners" : `${p.threads} thread${p.threads === 1 ? "" : "s"}`) +
    (p.overrides.length === 0 ? "" : `; overrides: ${p.overrides.map((o) => `${o.path} = ${JSON.stringify(o.value)}`).join(", ")}`) +
    (resumed === 0 ? "" : `\nresuming: ${resumed} of ${units} (algorithm, seed) units already finished in this folder`)
}

export const runCommand = Command.make(
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
      Flag.withDescription("run on the cluster's runners (docs/cluster.md): a linear spec's servers and agents, their state in PostgreSQL; a deep spec's units, one per runner thread; same results")
    ),
    quick: Flag.Boolean("quick").pipe(
      Flag.withDefault(false),
      Flag.withDescription("run the spec's `quick` variant (a CI-sized run), merged over it")
    ),
    specTimeout: specTimeoutFlag,
    force: forceFlag,
    ...connectionFlags
  },
  ({ spec, out, threads: threadsFlag, set, seeds, fresh, cluster, quick, specTimeout, force, ...connection }) =>
    reportUserErrors(
      Effect.gen(function*() {
        const clusterOnly = cluster ? undefined : withoutCluster(connection)
        if (clusterOnly !== undefined) return yield* new UsageError({ message: clusterOnly })
        // Ignored on the cluster, where the agents' episodes run on the runners' learner threads.
        if (cluster && Option.isSome(threadsFlag)) {
          return yield* new UsageError({
            message: "--threads: a cluster run's episodes run on the runners' learner threads (`distmt runner --threads T`; `cluster up` shares the cores among its runners)"
          })
        }
        const threadsOption = yield* parseThreads(threadsFlag)
        const overrides = yield* overridesFromFlags({ set, seeds })
        if (Option.isSome(out)) {
          yield* checkOutDir(out.value, "--out")
          // Not inside another run's or sweep's folder, for either stage (folderKind.ts).
          const inside = enclosingResultsProblem(out.value)
          if (inside !== undefined) return yield* new OutDirError({ label: `--out ${out.value}`, reason: inside })
        }
        // Checked in a time-limited worker first; only then loaded and compiled here (specCheck.ts, src/api/run.ts).
        const ready = yield* prepareRun(spec, {
          overrides,
          force,
          quick,
          ...(threadsOption === undefined ? {} : { threads: threadsOption }),
          check: (file, overrides) => checkedSpec(file, specTimeout, { overrides, quick })
        }).pipe(Effect.catchTag("DeepStageSpec", (deep) => Effect.succeed(deep)))
        if ("_tag" in ready) {
          const { runDeep } = yield* Effect.promise(() => import("../deep/distmt/runDeep.ts"))
          const deep = { threads: threadsOption ?? ready.spec.threads, fresh, force, overrides: overridesRecord(overrides) }
          if (!cluster) return yield* Effect.asVoid(runDeep(ready.spec, Option.getOrUndefined(out), deep))
          // Each unit on one of the cluster's runners (src/cluster/runDeepUnits.ts), after the same
          // checks of the connection and the secret as a linear run's.
          const { clusterRunKey, userFacing, withCluster } = yield* Effect.promise(() => import("../cluster/runCluster.ts"))
          const { deepUnitsOnCluster } = yield* Effect.promise(() => import("../cluster/runDeepUnits.ts"))
          return yield* withCluster(connection, () =>
            Effect.flatMap(deepUnitsOnCluster, (units) =>
              runDeep(ready.spec, Option.getOrUndefined(out), { ...deep, onCluster: (dir) => units(ready.spec, clusterRunKey(ready.spec, dir ?? ".")) })
            )).pipe(Effect.asVoid, userFacing("distmt run"))
        }
        const prepared = ready
        const progress = terminalProgress()
        let dir: string | undefined
        const execute = (units?: (dir: string) => Effect.Effect<Units>) =>
          executeRun(prepared, {
            out: Option.isSome(out) ? out.value : { newUnder: "runs" },
            outLabel: (d) => (Option.isSome(out) ? `--out ${d}` : d),
            fresh,
            progress,
            ...(units === undefined ? {} : { units }),
            onStart: (start) => {
              dir = start.dir
              // Unit files edited since they were written are run again, and said so in one line.
              const changed = changedUnitsLine(start.changed ?? [])
              return Console.log(startLine(prepared, start.resumed, start.units, cluster) + (changed === undefined ? "" : `\n${changed}`))
            }
          })
        // With --cluster the connection and the secret are checked before anything is written. The
        // cluster's code (Effect Cluster, SQL, PostgreSQL's client) loads only then.
        const onCluster = Effect.gen(function*() {
          const { clusterRun, userFacing, withCluster } = yield* Effect.promise(() => import("../cluster/runCluster.ts"))
          // --fresh starts the run over on the cluster too: the database forgets its units (runAgents.ts).
          return yield* withCluster(connection, (units) => execute((d) => units(prepared.compiled, clusterRun(prepared.spec, d), progress, fresh))).pipe(
            userFacing("distmt run")
          )
        })
        const result = yield* (cluster ? onCluster : execute()).pipe(
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
        yield* Console.log(`\nResults in ${result.dir}/ (summary.json, results.csv, curves.csv, model.json, policies.json; \`distmt plot ${result.dir}\` draws the learning curves)`)
      })
    )
).pipe(Command.withDescription(DESCRIPTIONS.run))


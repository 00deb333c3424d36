/**
 * `distmt run <spec> --cluster`: each unit of the run is a server entity and N agent entities on the
 * cluster's runners (ServerEntity.ts, AgentEntity.ts), their state and checkpoints in PostgreSQL;
 * this process submits the units, shows their progress and writes the same files as an in-process
 * run (runAgents.ts). The results are those of the in-process run: the server orders requests by the
 * clocks they carry.
 */
import { Cause, Console, Data, Effect, Fiber, Option, Schedule } from "effect"
import { createHash, randomUUID } from "node:crypto"
import { realFolder } from "../cli/outDir.ts"
import { specJson } from "../report/files.ts"
import type { Units } from "../api/run.ts"
import type { ProgressSink } from "../run/runExperiment.ts"
import type { Compiled } from "../spec/compile.ts"
import type { Experiment } from "../spec/Spec.ts"
import { PROTOCOL_VERSION } from "../coordinator/protocol.ts"
import { checkDatabase, checkRunnersUp, ClusterUsageError, describeDbError, pgLayer, RUNNER_UP_SECONDS, runnersUp } from "./database.ts"
import type { ConnectionFlags } from "./flags.ts"
import { clientLayer } from "./layers.ts"
import { dbUrlFrom, parseClusterName, readTls } from "./runnerCommand.ts"
import { describeVersions, versionsUp } from "./peers.ts"
import { loadSecret } from "./secret.ts"
import { forgetModel } from "./agentState.ts"
import { buildUntilReachable, type ClusterRun, clusterUnits, storeModel, UnitFailed } from "./runAgents.ts"
import { Server, serverId } from "./ServerEntity.ts"

/**
 * A run's key on the cluster: its spec (decoded, defaults filled in) and its results folder, by its
 * real path (realFolder). The same command given again (same spec, the same folder by any path to
 * it) is the same run, and resumes it.
 */
export const clusterRunKey = (spec: Experiment, dir: string): string =>
  `${spec.name.replace(/[^A-Za-z0-9_-]/g, "_")}-${
    createHash("sha256").update(JSON.stringify(specJson(spec))).update("\u0000").update(realFolder(dir)).digest("hex").slice(0, 16)
  }`

/** The run of `spec` written to `dir` on the cluster: its key, and the folder (`distmt cluster runs` shows it). */
export const clusterRun = (spec: Experiment, dir: string): ClusterRun => ({ key: clusterRunKey(spec, dir), folder: realFolder(dir) })

/** What a run on the cluster needs from the submitting process: the cluster's client services. */
type ClusterServices = Effect.Services<ReturnType<typeof clusterUnits>>

/**
 * The way to run a compiled spec's (algorithm, seed) units on the cluster, as run `run`
 * (`clusterRun`); `fresh` forgets what the database holds of them first.
 */
export type ClusterUnits = (c: Compiled, run: ClusterRun, progress: ProgressSink, fresh: boolean) => Effect.Effect<Units>

/** A command's failure on the cluster that the user can act on, as one line. */
export class ClusterCommandError extends Data.TaggedError("ClusterCommandError")<{ readonly message: string }> {}

/**
 * A command's cluster errors as one line each: a flag, the database or the runners (ClusterUsageError),
 * and a unit that failed for good (UnitFailed, a defect inside the units), rather than a stack.
 */
export const userFacing = (command: string) => <A, E, R>(effect: Effect.Effect<A, E | ClusterUsageError, R>) =>
  effect.pipe(
    Effect.mapError((e) => (isClusterUsageError(e) ? new ClusterCommandError({ message: e.message }) : e as Exclude<E, ClusterUsageError>)),
    Effect.catchDefect((d) => (d instanceof UnitFailed ? Effect.fail(new ClusterCommandError({ message: `${command}: ${d.message}` })) : Effect.die(d)))
  )

const isClusterUsageError = (e: unknown): e is ClusterUsageError => e instanceof ClusterUsageError

/**
 * How often a submission reads whether its cluster still has runners up (`watchRunners`): often, so
 * that runners back are told before the run they let go on has ended (one cheap read a second).
 */
const RUNNERS_EVERY = "1 second"

/**
 * Says on stderr when cluster `clusterName` has no runner up any more, and when it has again. A
 * submission waits for runners that come back (its agents resume from their checkpoints), but it
 * waited silent: after `cluster down`, or every runner dead, its progress line just stopped, and
 * every 2 minutes it said that no agent's checkpoint had changed, as if the agents had stalled.
 */
const watchRunners = (clusterName: string) =>
  Effect.gen(function*() {
    let gone = false
    const look = Effect.gen(function*() {
      const up = yield* runnersUp(clusterName)
      if (up.length === 0 && !gone) {
        process.stderr.write(
          `\ndistmt: no runner is up in cluster "${clusterName}" any more (none has renewed its place in PostgreSQL in the last ` +
            `${RUNNER_UP_SECONDS} s); the run waits for runners (\`distmt cluster up\`, \`distmt runner\`), or stop it (Ctrl-C) and ` +
            "give the same command again once they are up: it resumes\n"
        )
      } else if (up.length > 0 && gone) {
        process.stderr.write(`\ndistmt: runners are up again in cluster "${clusterName}" (${up.join(", ")}); the run goes on\n`)
      }
      gone = up.length === 0
    })
    // A failed read (the database down for a moment) tells nothing either way.
    yield* Effect.repeat(Effect.ignore(look), Schedule.spaced(RUNNERS_EVERY))
  })

/**
 * Fails in one line when a runner up in cluster `clusterName` speaks another protocol version than
 * this process (or recorded none): its messages would fail to decode on one side or the other, and
 * the cluster would retry them for ever, the submission waiting without a word.
 */
const checkProtocol = (db: string, clusterName: string) =>
  Effect.gen(function*() {
    const versions = yield* versionsUp(clusterName)
    if ([...versions.values()].every((v) => v === PROTOCOL_VERSION)) return
    const others = new Map([...versions].filter(([, v]) => v !== PROTOCOL_VERSION))
    return yield* new ClusterUsageError({
      message: `this distmt speaks protocol version ${PROTOCOL_VERSION}, but in cluster "${clusterName}" ${describeVersions(others)}: ` +
        "run one distmt everywhere: upgrade the runners to this one and restart them (`distmt cluster down` then `cluster up`, or " +
        "SIGTERM each `distmt runner` and start it again), or submit with the runners' distmt"
    })
  }).pipe(
    Effect.provide(pgLayer(db)),
    Effect.mapError((e) => e instanceof ClusterUsageError ? e : new ClusterUsageError({ message: describeDbError(db, e) }))
  )

/**
 * Checks the flags and the database, then gives `use` the way to run units on the cluster: given a
 * compiled spec, its run and a progress display, the `unit` runner of `runExperiment`.
 */
export const withCluster = <A, E, R>(
  flags: ConnectionFlags,
  /**
   * The run's key is `clusterRunKey`'s: the same spec written to the same folder is the same run,
   * so that a submission killed and given again resumes it (below).
   */
  use: (units: ClusterUnits) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const secret = yield* loadSecret({ secretFile: Option.getOrUndefined(flags.secretFile), insecure: flags.insecure })
    const db = yield* dbUrlFrom(flags.db)
    const tls = yield* readTls(flags.tlsCert, flags.tlsKey, flags.tlsCa)
    const clusterName = yield* parseClusterName(flags.clusterName)
    yield* checkDatabase(db)
    const addresses = yield* checkRunnersUp(db, clusterName)
    yield* checkProtocol(db, clusterName)
    return yield* Effect.gen(function*() {
      const client = yield* Server.client
      // One signed round trip before anything is written: a wrong secret, or no runner, is told in
      // one line here rather than as an agent's failure in the middle of the run.
      yield* client(serverId(`check-${randomUUID()}`, 1, 0)).Inspect().pipe(
        Effect.timeoutOrElse({
          duration: "60 seconds",
          orElse: () =>
            Effect.fail(new ClusterUsageError({
              // The runners are up (checkRunnersUp): what keeps their answer away is the way to them.
              message: `no answer within 60 s from the runners of cluster "${clusterName}" (${addresses.join(", ")}), which ` +
                "PostgreSQL lists as up: this process and the runners must both use mutual TLS with certificates from one CA " +
                `(--tls-cert, --tls-key, --tls-ca), or neither (this process ${tls === undefined ? "does not" : "does"}); ` +
                "and this machine must reach those addresses"
            }))
        }),
        Effect.mapError((e) =>
          e._tag === "ClusterUsageError"
            ? e
            : new ClusterUsageError({
              message: e._tag === "AuthError"
                // Where this process's secret came from: a stale .distmt/cluster.secret in the folder,
                // or a $DISTMT_CLUSTER_SECRET left set, wins over what the user thinks they gave.
                ? `the cluster refused this process's messages (${e.message}): ` +
                  (secret.key === undefined ? "this process has no secret (--insecure); give it " : `this process's secret is from ${secret.source}; give it `) +
                  "the runners' (read from --secret-file F, else $DISTMT_CLUSTER_SECRET, else .distmt/cluster.secret)"
                : `the cluster could not be reached: ${e._tag}`
            })
        )
      )
      // Resuming: a submission given again starts a new attempt of each unit (runAgents.ts); its
      // agents resume from their checkpoints and its server from its tables, so the run goes on
      // where it stopped, with the same numbers.
      const context = yield* Effect.context<ClusterServices>()
      // The runs this submission ran, each with its model stored once, before its first unit (a
      // sweep asks for a point's run once per unit, several at once: they wait for the one write).
      // Once they are over and their files written, the database forgets their models (a run
      // stopped before that keeps it, to be resumed).
      const runs = new Map<string, Effect.Effect<void>>()
      const watching = yield* Effect.forkChild(watchRunners(clusterName))
      // Stopped however `use` ends: a failed run must not go on saying that no runner is up.
      const result = yield* use((c, run, progress, fresh) => {
        let stored = runs.get(run.key)
        if (stored === undefined) {
          stored = Effect.runSync(Effect.cached(Effect.provide(storeModel(c, run), context)))
          runs.set(run.key, stored)
        }
        return Effect.andThen(stored, Effect.provide(clusterUnits(c, run, progress, fresh), context))
      }).pipe(Effect.ensuring(Fiber.interrupt(watching)))
      for (const run of runs.keys()) {
        yield* Effect.provide(forgetModel(run), context).pipe(
          Effect.catchCause((cause) =>
            Console.error(`distmt: the run's model stays in distmt_models (it could not be deleted: ${Cause.pretty(cause).split("\n")[0]})`)
          )
        )
      }
      return result
    }).pipe(Effect.provide(buildUntilReachable("connecting to the cluster", clientLayer({ db, clusterName, tls, secret: secret.key }))))
  })


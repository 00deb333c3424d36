/**
 * Checks a spec in a worker thread (specCheckWorker.ts) before the main process loads it: a spec
 * is user code, and the main process must stay in charge whatever that code does.
 *
 * - A step of user code (the module's top-level code, a getter, one call of `environment.build`
 *   or `features.map`) that runs longer than the time limit stops the worker, and the error names
 *   the step: "environment.build(context 2) did not return within 30 s". distmt's own work between
 *   those steps is not timed (it is bounded by the size checks of compile).
 * - The main thread stays free while it waits, so Ctrl-C interrupts the check and stops the worker.
 * - A spec that ends its thread (`process.exit`) or throws outside distmt's calls is refused.
 *
 * Only a spec that passed is then loaded in the main process (loadSpec.ts), whose compile and run
 * call the same functions again: they returned in the worker, and a spec's functions are pure.
 *
 * The limit: `--spec-timeout SECONDS`, else the environment variable DISTMT_SPEC_TIMEOUT, else 30 s.
 */
import { Data, Effect, Option } from "effect"
import { Argument, Flag } from "effect/cli"
import * as os from "node:os"
import { Worker } from "node:worker_threads"
import { entry } from "../run/threads/pool.ts"
import { exitCalled, newActivityBuffer, readActivity } from "../spec/activity.ts"
import { type Override, OverrideError } from "../spec/overrides.ts"
import { SpecError } from "../spec/SpecError.ts"
import type { SampleOptions } from "../spec/sweepSample.ts"
import { SpecLoadError } from "./loadSpec.ts"
import type { CheckReply, CheckRequest, CheckSummary } from "./specCheckWorker.ts"

export type { CheckSummary } from "./specCheckWorker.ts"

export const DEFAULT_SPEC_TIMEOUT_SECONDS = 30
/** The environment variable that sets the limit when the flag is not given. */
export const SPEC_TIMEOUT_ENV = "DISTMT_SPEC_TIMEOUT"

const workerModule = new URL("./specCheckWorker.ts", import.meta.url).href

/** The check's heap: half the machine's memory, at most 4 GiB (a spec is small; its tables are bounded by compile). */
const CHECK_HEAP_MB = Math.min(4096, Math.floor(os.totalmem() / 2 / 2 ** 20))

/** How often the parent looks at the worker's current step. */
const POLL_MS = 100

/** The limit in seconds from the flag or the environment, or why it is not a valid one. */
export const specTimeoutSeconds = (flag: Option.Option<string>): number | string => {
  const [given, from] = Option.isSome(flag)
    ? [flag.value, "--spec-timeout"]
    : [process.env[SPEC_TIMEOUT_ENV], SPEC_TIMEOUT_ENV]
  if (given === undefined || given.trim() === "") return DEFAULT_SPEC_TIMEOUT_SECONDS
  const n = Number(given)
  if (!Number.isFinite(n) || n <= 0) return `${from}: expected a number of seconds > 0, got ${JSON.stringify(given)}`
  return n
}

const seconds = (s: number) => `${Number.isInteger(s) ? s : s.toPrecision(3)} s`

export interface CheckOptions {
  readonly quick?: boolean
  readonly sweep?: boolean
  readonly allVariants?: boolean
  readonly overrides?: ReadonlyArray<Override>
  /** `--sample K --sample-seed S`: check the points drawn (src/spec/sweepSample.ts). */
  readonly sample?: SampleOptions | undefined
  readonly timeoutSeconds: number
}

export const checkSpec = (file: string, options: CheckOptions): Effect.Effect<CheckSummary, SpecLoadError | SpecError | OverrideError> =>
  Effect.callback<CheckSummary, SpecLoadError | SpecError | OverrideError>((resume) => {
    const activity = newActivityBuffer()
    const data: CheckRequest & { readonly module: string; readonly preload: ReadonlyArray<string> } = {
      module: workerModule,
      // Effect's index, loaded ahead of tsx's hooks (src/run/threads/entry.mjs).
      preload: ["effect"],
      file,
      quick: options.quick ?? false,
      sweep: options.sweep ?? false,
      allVariants: options.allVariants ?? false,
      overrides: options.overrides ?? [],
      ...(options.sample === undefined ? {} : { sample: options.sample }),
      activity
    }
    // The spec's own output is not shown here: the main process loads it again and shows it then.
    // A heap limit, so that a spec that allocates without end fails here, in one line, not in a V8 crash of the command.
    const worker = new Worker(entry, { workerData: data, stdout: true, stderr: true, resourceLimits: { maxOldGenerationSizeMb: CHECK_HEAP_MB } })
    worker.stdout.resume()
    worker.stderr.resume()
    let done = false
    const finish = (result: Effect.Effect<CheckSummary, SpecLoadError | SpecError | OverrideError>) => {
      if (done) return
      done = true
      clearInterval(timer)
      void worker.terminate()
      resume(result)
    }
    const fail = (reason: string) => finish(Effect.fail(new SpecLoadError({ source: file, reason })))
    let sequence = -1
    let since = Date.now()
    const timer = setInterval(() => {
      const now = readActivity(activity)
      if (now.sequence !== sequence) {
        sequence = now.sequence
        since = Date.now()
      } else if (now.timed && Date.now() - since > options.timeoutSeconds * 1000) {
        fail(
          `${now.label} did not return within ${seconds(options.timeoutSeconds)} ` +
            `(a longer limit: --spec-timeout SECONDS or ${SPEC_TIMEOUT_ENV})`
        )
      }
    }, POLL_MS)
    worker.on("message", (reply: CheckReply) => {
      switch (reply._tag) {
        case "Valid":
          return finish(Effect.succeed(reply.summary))
        case "SpecError":
          return finish(Effect.fail(new SpecError({ source: file, issues: reply.issues })))
        case "SpecLoadError":
          return fail(reply.reason)
        case "OverrideError":
          return finish(Effect.fail(new OverrideError({ origin: reply.origin, reason: reply.reason })))
      }
    })
    worker.on("error", (e) => {
      const during = readActivity(activity).label
      if ((e as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY") {
        return fail(`the spec ran out of memory (more than ${CHECK_HEAP_MB} MB) during ${during}`)
      }
      fail(`the spec threw outside distmt's calls, during ${during}: ${e.message.split("\n")[0]}`)
    })
    worker.on("exit", (code) => {
      const during = readActivity(activity).label
      const called = exitCalled(activity)
      // Without a process.exit call, the thread ended because nothing was left to run: a top-level
      // await (or a promise of the check) that can never settle.
      fail(
        called !== undefined
          ? `the spec called process.exit(${called}) during ${during}; a spec must not end the process`
          : `the spec stopped without finishing (exit code ${code}) during ${during}: a top-level await or a promise that never settles?`
      )
    })
    return Effect.sync(() => {
      done = true
      clearInterval(timer)
      void worker.terminate()
    })
  })

/** A bad `--spec-timeout` (or DISTMT_SPEC_TIMEOUT). */
export class SpecTimeoutUsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** `--spec-timeout SECONDS`, shared by run, validate and sweep. */
/** The spec file of `run` and `validate`. */
export const specArgument = Argument.String("spec").pipe(Argument.withDescription("path of a spec module, e.g. specs/linear-chain.spec.ts"))

export const specTimeoutFlag = Flag.String("spec-timeout").pipe(
  Flag.optional,
  Flag.withDescription(
    `seconds one step of the spec's own code (its top-level code, a getter, one environment.build or features.map call) may take ` +
      `before the spec is refused (default: ${SPEC_TIMEOUT_ENV}, else ${DEFAULT_SPEC_TIMEOUT_SECONDS})`
  )
)

/** The spec checked in the worker, with the limit from the flag or the environment. */
export const checkedSpec = (file: string, flag: Option.Option<string>, options: Omit<CheckOptions, "timeoutSeconds">) =>
  Effect.gen(function*() {
    const timeout = specTimeoutSeconds(flag)
    if (typeof timeout === "string") return yield* new SpecTimeoutUsageError({ message: timeout })
    return yield* checkSpec(file, { ...options, timeoutSeconds: timeout })
  })

/** `--force` (run and sweep; src/spec/cost.ts): run a spec whose estimate exceeds the machine's memory or any sane episode count. */
export const forceFlag = Flag.Boolean("force").pipe(
  Flag.withDefault(false),
  Flag.withDescription("run even if the estimate (validate prints it) exceeds this machine's memory (or DISTMT_MEMORY_LIMIT) or 1e12 episodes")
)

/**
 * Checks a spec in a child process (specCheckChild.ts) before the main process loads it: a spec is
 * user code, and the main process must stay in charge whatever that code does. A worker thread is
 * not enough: it shares the process, which a spec's `process.abort()`, `process.kill(process.pid,
 * "SIGKILL")` or native crash ends with the tool in it.
 *
 * - A step of user code (the module's top-level code, a getter, one call of `environment.build`
 *   or `features.map`) that runs longer than the time limit stops the check, and the error names
 *   the step: "environment.build(context 2) did not return within 30 s". distmt's own work between
 *   those steps is not timed (it is bounded by the size checks of compile). The child reports its
 *   step on a pipe from a thread of its own, so the step is known even while the spec's loop holds
 *   the child's main thread.
 * - This process stays free while it waits, so Ctrl-C interrupts the check and kills the child.
 * - A spec that ends the child (`process.exit`, a signal, an abort, running out of memory) or
 *   throws outside distmt's calls is refused, in one line that says how and during which step.
 *
 * Only a spec that passed is then loaded in the main process (loadSpec.ts), whose compile and run
 * call the same functions again: they returned in the check, and a spec's functions are pure.
 *
 * The limit: `--spec-timeout SECONDS`, else the environment variable DISTMT_SPEC_TIMEOUT, else 30 s.
 */
import { Data, Effect, Option } from "effect"
import { Argument, Flag } from "effect/cli"
import type { Readable } from "node:stream"
import * as v8 from "node:v8"
import { activityOf, Step } from "../spec/activity.ts"
import { type Override, OverrideError } from "../spec/overrides.ts"
import { SpecError } from "../spec/SpecError.ts"
import type { SampleOptions } from "../spec/sweepSample.ts"
import { SpecLoadError } from "./loadSpec.ts"
import { CHECK_HEAP_MB, takeCheckProcess } from "./specCheckProcess.mjs"
import type { CheckReply, CheckRequest, CheckSummary } from "./specCheckChild.ts"

export type { CheckSummary } from "./specCheckChild.ts"

export const DEFAULT_SPEC_TIMEOUT_SECONDS = 30
/** The environment variable that sets the limit when the flag is not given. */
export const SPEC_TIMEOUT_ENV = "DISTMT_SPEC_TIMEOUT"

/** How often the tool compares the time in the check's current step with the limit. */
const POLL_MS = 100

/** The end of the check process's stderr kept, for V8's out-of-memory message. */
const STDERR_KEPT = 4096

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

type CheckError = SpecLoadError | SpecError | OverrideError

/** How a signal that ended the check process came about, as far as its name tells. */
const signalCause = (signal: NodeJS.Signals): string =>
  signal === "SIGABRT"
    ? "process.abort / signal SIGABRT"
    : ["SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE"].includes(signal)
    ? `a native crash / signal ${signal}`
    : `signal ${signal}`

export const checkSpec = (file: string, options: CheckOptions): Effect.Effect<CheckSummary, CheckError> =>
  Effect.callback<CheckSummary, CheckError>((resume) => {
    const request: CheckRequest = {
      file,
      quick: options.quick ?? false,
      sweep: options.sweep ?? false,
      allVariants: options.allVariants ?? false,
      overrides: options.overrides ?? [],
      ...(options.sample === undefined ? {} : { sample: options.sample })
    }
    // Started ahead by bin/distmt.mjs, or now (specCheckProcess.mjs). The stopping is ours: a Ctrl-C
    // at the terminal reaches only the tool, and the check may be stuck, unable to take a signal.
    const child = takeCheckProcess()
    child.stdin!.on("error", () => {}) // a process that already ended: "close" below says how
    child.stdin!.end(`${v8.serialize(request).toString("base64")}\n`)
    let stderr = ""
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEPT)
    })
    let done = false
    const stop = () => {
      done = true
      clearInterval(timer)
      // The whole group: whatever the spec started goes too.
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL")
      } catch {
        child.kill("SIGKILL")
      }
    }
    const finish = (result: Effect.Effect<CheckSummary, CheckError>) => {
      if (done) return
      stop()
      resume(result)
    }
    const fail = (reason: string) => finish(Effect.fail(new SpecLoadError({ source: file, reason })))
    let activity = activityOf(-1, Step.idle, 0, 0)
    let since = Date.now()
    const timer = setInterval(() => {
      if (activity.timed && Date.now() - since > options.timeoutSeconds * 1000) {
        fail(
          `${activity.label} did not return within ${seconds(options.timeoutSeconds)} ` +
            `(a longer limit: --spec-timeout SECONDS or ${SPEC_TIMEOUT_ENV})`
        )
      }
    }, POLL_MS)
    let pending = ""
    ;(child.stdio[3] as Readable).setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n")
      pending = lines.pop()!
      for (const line of lines) {
        if (line.startsWith("s ")) {
          const [sequence, step, a, b] = line.slice(2).split(" ").map(Number)
          if (sequence !== activity.sequence) since = Date.now()
          activity = activityOf(sequence, step, a, b)
        } else if (line.startsWith("r ")) {
          answer(v8.deserialize(Buffer.from(line.slice(2), "base64")) as CheckReply)
        }
      }
    })
    const answer = (r: CheckReply) => {
      switch (r._tag) {
        case "Valid":
          return finish(Effect.succeed(r.summary))
        case "SpecError":
          return finish(Effect.fail(new SpecError({ source: file, issues: r.issues })))
        case "SpecLoadError":
          return fail(r.reason)
        case "OverrideError":
          return finish(Effect.fail(new OverrideError({ origin: r.origin, reason: r.reason })))
        case "Exit":
          return fail(`the spec called process.exit(${r.code}) during ${r.during}; a spec must not end the process`)
        case "Threw":
          return fail(`the spec threw outside distmt's calls, during ${r.during}: ${r.message}`)
      }
    }
    child.on("error", (e) => fail(`the check process did not start: ${e.message}`))
    // On "close", not "exit": the pipe is read to its end first, so a last record is not missed. But
    // a process the spec started may hold the pipes open after the check process ended: not waited
    // for long (and killed with the group).
    child.on("exit", (code, signal) => setTimeout(() => ended(code, signal), 1000).unref())
    child.on("close", (code, signal) => ended(code, signal))
    const ended = (code: number | null, signal: NodeJS.Signals | null) => {
      if (/heap out of memory/.test(stderr)) {
        return fail(`the spec ran out of memory (more than ${CHECK_HEAP_MB} MB) during ${activity.label}`)
      }
      if (signal !== null) return fail(`the spec's code ended the check process (${signalCause(signal)}) during ${activity.label}`)
      // Ended by itself without a reply: nothing was left to run, a top-level await (or a promise of
      // the check) that can never settle.
      fail(`the spec stopped without finishing (exit code ${code}) during ${activity.label}: a top-level await or a promise that never settles?`)
    }
    return Effect.sync(stop)
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

/** The spec checked in the child process, with the limit from the flag or the environment. */
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

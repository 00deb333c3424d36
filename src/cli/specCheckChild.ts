/**
 * The spec-check process (a child process started by specCheck.ts through specCheckEntry.mjs):
 * loads the spec module, decodes it, compiles it and, when asked, every point of its sweep, and
 * writes one reply. Everything a spec can do to a process (loop forever, exit, throw, abort, send
 * itself a signal, crash natively) happens here, where the tool can time it out, see the process
 * end and how, or stop it on Ctrl-C, and goes on running.
 *
 * The tool reads one pipe, fd 3, a line per record, each written with fs.writeSync so that it is
 * out before whatever the spec does next:
 * - `s <sequence> <step> <a> <b>`: the current step (src/spec/activity.ts);
 * - `r <base64>`: the reply, v8-serialized (what a worker's message was: Infinity and undefined survive).
 *
 * Steps are marked in memory shared with a reporter thread (three integer writes, so compile can
 * mark every call of a user function), which copies the cell to the pipe every REPORT_MS. The
 * reporter runs even while the main thread is stuck in a spec's loop, so the tool can name the step
 * that did not return; and when the tool is gone (its end of the pipe closed) it ends this process,
 * which no one would stop otherwise (it runs in a process group of its own).
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as v8 from "node:v8"
import { Worker } from "node:worker_threads"
import { newActivityBuffer, readActivity, shareActivity } from "../spec/activity.ts"
import { type CheckRequestOptions, checkSpecWith, type CheckSummary } from "../spec/check.ts"
import type { Override } from "../spec/overrides.ts"
import type { SpecIssue } from "../spec/SpecError.ts"
import { hasQuickVariant } from "../api/specSource.ts"
import { loadSpec, unguardExit } from "./loadSpec.ts"

export type { CheckSummary } from "../spec/check.ts"

export interface CheckRequest extends CheckRequestOptions {
  readonly file: string
  /** `--set` and `--seeds` (src/spec/overrides.ts): the spec checked is the one that will run. */
  readonly overrides: ReadonlyArray<Override>
}

export type CheckReply =
  | { readonly _tag: "Valid"; readonly summary: CheckSummary }
  | { readonly _tag: "SpecError"; readonly issues: ReadonlyArray<SpecIssue> }
  | { readonly _tag: "SpecLoadError"; readonly reason: string }
  | { readonly _tag: "OverrideError"; readonly origin: string; readonly reason: string }
  /** The spec called `process.exit(code)`. */
  | { readonly _tag: "Exit"; readonly code: number; readonly during: string }
  /** An exception (or a rejection) no call of distmt's caught: a timer or callback of the spec's. */
  | { readonly _tag: "Threw"; readonly message: string; readonly during: string }

/** The pipe to the tool (the fourth entry of the stdio specCheck.ts gives the process). */
const CHANNEL = 3

const REPORT_MS = 50

/** Writes all of `text`, waiting while the pipe is full (its end here may be non-blocking). */
const writeAll = (text: string): void => {
  let bytes = Buffer.from(text)
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(fs.writeSync(CHANNEL, bytes))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
    }
  }
}

const cell = newActivityBuffer()
shareActivity(cell)

/** The step record; the reporter's copy (below) writes the same line. */
const stepRecord = (c: Int32Array) => `s ${Atomics.load(c, 3)} ${Atomics.load(c, 0)} ${Atomics.load(c, 1)} ${Atomics.load(c, 2)}\n`

// An error other than a full pipe means the tool is gone: nothing will read a reply or stop a spec
// that loops, so the reporter ends the process.
const reporter = new Worker(
  `const fs = require("node:fs")
  const { workerData } = require("node:worker_threads")
  const c = new Int32Array(workerData.cell)
  const report = () => {
    try {
      fs.writeSync(${CHANNEL}, \`s \${Atomics.load(c, 3)} \${Atomics.load(c, 0)} \${Atomics.load(c, 1)} \${Atomics.load(c, 2)}\\n\`)
    } catch (e) {
      if (e.code !== "EAGAIN") process.kill(process.pid, "SIGKILL")
    }
  }
  report()
  setInterval(report, ${REPORT_MS})`,
  { eval: true, workerData: { cell } }
)
// The reporter must not keep the process alive: a spec whose top-level await never settles ends it.
reporter.unref()

const during = () => readActivity(cell).label
const reply = (r: CheckReply) => writeAll(`r ${v8.serialize(r).toString("base64")}\n`)
const firstLine = (e: unknown): string => {
  try {
    return (e instanceof Error ? e.message : String(e)).split("\n")[0]
  } catch {
    return "an unprintable error"
  }
}

// The main process's guard of process.exit (loadSpec.ts) is not for here: the tool is told instead.
unguardExit()
const exit = process.exit.bind(process)
process.exit = ((code?: number | string | null) => {
  reply({ _tag: "Exit", code: Number(code ?? 0) || 0, during: during() })
  return exit(code)
}) as typeof process.exit
// process.abort and a signal to itself end the process before the reporter's next copy: the step
// is written first, so that the tool names the step that did it, not the one before.
const abort = process.abort.bind(process)
process.abort = (): never => {
  writeAll(stepRecord(new Int32Array(cell)))
  return abort()
}
const kill = process.kill.bind(process)
process.kill = (pid: number, signal?: string | number) => {
  if (pid === process.pid || pid === 0 || pid === -process.pid) writeAll(stepRecord(new Int32Array(cell)))
  return kill(pid, signal)
}
// Also at the end of a process that ran out of work (a top-level await that never settles).
process.on("exit", () => writeAll(stepRecord(new Int32Array(cell))))
process.on("uncaughtException", (e) => {
  reply({ _tag: "Threw", message: firstLine(e), during: during() })
  exit(1)
})

/**
 * The first line of stdin. The process may have been started ahead of its request
 * (specCheckProcess.mjs), so it waits here, with its modules loaded; the tool's end closed without a
 * request means it was not needed.
 */
const readRequestLine = (): string => {
  const chunks: Array<Buffer> = []
  const buffer = Buffer.alloc(1 << 16)
  for (;;) {
    let n: number
    try {
      n = fs.readSync(0, buffer)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return ""
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
      continue
    }
    if (n === 0) break
    chunks.push(Buffer.from(buffer.subarray(0, n)))
    if (buffer.subarray(0, n).includes(10)) break
  }
  return Buffer.concat(chunks).toString("utf8").split("\n")[0]
}

// The request, v8-serialized and base64-encoded, on one line of stdin.
const line = readRequestLine()
if (line === "") exit(0)
const request = v8.deserialize(Buffer.from(line, "base64")) as CheckRequest

const check = checkSpecWith(
  request.file,
  (quick) => loadSpec(request.file, { quick, overrides: request.overrides }),
  hasQuickVariant(request.file),
  request,
  request.overrides
)

Effect.runPromise(Effect.result(check)).then(
  (r) => {
    reply(
      r._tag === "Success"
        ? { _tag: "Valid", summary: r.success }
        : r.failure._tag === "SpecError"
        ? { _tag: "SpecError", issues: r.failure.issues }
        : r.failure._tag === "OverrideError"
        ? { _tag: "OverrideError", origin: r.failure.origin, reason: r.failure.reason }
        : { _tag: "SpecLoadError", reason: r.failure.reason }
    )
    // Timers the spec's code left must not run after the reply.
    exit(0)
  },
  (e: unknown) => {
    reply({ _tag: "SpecLoadError", reason: `checking it failed: ${firstLine(e)}` })
    exit(0)
  }
)

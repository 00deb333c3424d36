/**
 * The spec-check worker (a worker thread started by specCheck.ts): loads the spec module, decodes
 * it, compiles it and, when asked, every point of its sweep, and posts one reply. Everything a spec
 * can do to a process (loop forever, exit, throw from a getter) happens here, where the parent can
 * time it out, see the thread end, or stop it on Ctrl-C. Each step is published in shared memory
 * (src/spec/activity.ts) so that a timeout names the call that did not return.
 */
import { Effect } from "effect"
import { parentPort, workerData } from "node:worker_threads"
import { markExit, shareActivity } from "../spec/activity.ts"
import { type CheckRequestOptions, checkSpecWith, type CheckSummary } from "../spec/check.ts"
import type { Override } from "../spec/overrides.ts"
import type { SpecIssue } from "../spec/SpecError.ts"
import { hasQuickVariant } from "../api/specSource.ts"
import { loadSpec } from "./loadSpec.ts"

export type { CheckSummary } from "../spec/check.ts"

export interface CheckRequest extends CheckRequestOptions {
  readonly file: string
  /** `--set` and `--seeds` (src/spec/overrides.ts): the spec checked is the one that will run. */
  readonly overrides: ReadonlyArray<Override>
  readonly activity: SharedArrayBuffer
}

export type CheckReply =
  | { readonly _tag: "Valid"; readonly summary: CheckSummary }
  | { readonly _tag: "SpecError"; readonly issues: ReadonlyArray<SpecIssue> }
  | { readonly _tag: "SpecLoadError"; readonly reason: string }
  | { readonly _tag: "OverrideError"; readonly origin: string; readonly reason: string }

const request = workerData as CheckRequest & { readonly module: string }
shareActivity(request.activity)
// A spec's process.exit ends this thread only; it is recorded so that the parent can say so.
const exit = process.exit.bind(process)
process.exit = ((code?: number | string | null) => {
  markExit(Number(code ?? 0) || 0)
  return exit(code)
}) as typeof process.exit

const check = checkSpecWith(
  request.file,
  (quick) => loadSpec(request.file, { quick, overrides: request.overrides }),
  hasQuickVariant(request.file),
  request,
  request.overrides
)

Effect.runPromise(Effect.result(check)).then(
  (r) => {
    const reply: CheckReply = r._tag === "Success"
      ? { _tag: "Valid", summary: r.success }
      : r.failure._tag === "SpecError"
      ? { _tag: "SpecError", issues: r.failure.issues }
      : r.failure._tag === "OverrideError"
      ? { _tag: "OverrideError", origin: r.failure.origin, reason: r.failure.reason }
      : { _tag: "SpecLoadError", reason: r.failure.reason }
    parentPort!.postMessage(reply)
  },
  (e: unknown) => parentPort!.postMessage({ _tag: "SpecLoadError", reason: `checking it failed: ${e instanceof Error ? e.message : String(e)}` } satisfies CheckReply)
)

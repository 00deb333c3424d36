/**
 * The spec-check worker (a worker thread started by specCheck.ts): loads the spec module, decodes
 * it, compiles it and, when asked, every point of its sweep, and posts one reply. Everything a spec
 * can do to a process (loop forever, exit, throw from a getter) happens here, where the parent can
 * time it out, see the thread end, or stop it on Ctrl-C. Each step is published in shared memory
 * (src/spec/activity.ts) so that a timeout names the call that did not return.
 */
import { Effect } from "effect"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { parentPort, workerData } from "node:worker_threads"
import { mark, markExit, shareActivity, Step } from "../spec/activity.ts"
import { compile } from "../spec/compile.ts"
import { type Cost, estimateCost } from "../spec/cost.ts"
import type { Experiment } from "../spec/Spec.ts"
import { SpecError, type SpecIssue } from "../spec/SpecError.ts"
import { expandSweep } from "../spec/sweep.ts"
import { loadSpec } from "./loadSpec.ts"

export interface CheckRequest {
  readonly file: string
  /** Check the spec's `quick` variant (`sweep --quick`). */
  readonly quick: boolean
  /** Also expand and check every sweep point (and those of the quick variant, if `allVariants`). */
  readonly sweep: boolean
  /** `validate`: check the spec as written and its quick variant, if it has one. */
  readonly allVariants: boolean
  readonly activity: SharedArrayBuffer
}

/** What validate prints about a valid spec. */
export interface CheckSummary {
  readonly tasks: number
  readonly separation: number
  readonly cSep: number
  readonly agents: number
  readonly dim: number
  readonly horizon: number
  readonly beta: number
  /** Sweep points checked (1 without sweep axes), per variant checked. */
  readonly points: number
  readonly quickPoints?: number
  /** The estimate of the spec as written (src/spec/cost.ts). */
  readonly cost: Cost
}

export type CheckReply =
  | { readonly _tag: "Valid"; readonly summary: CheckSummary }
  | { readonly _tag: "SpecError"; readonly issues: ReadonlyArray<SpecIssue> }
  | { readonly _tag: "SpecLoadError"; readonly reason: string }

const request = workerData as CheckRequest & { readonly module: string }
shareActivity(request.activity)
// A spec's process.exit ends this thread only; it is recorded so that the parent can say so.
const exit = process.exit.bind(process)
process.exit = ((code?: number | string | null) => {
  markExit(Number(code ?? 0) || 0)
  return exit(code)
}) as typeof process.exit

const hasQuickVariant = (file: string): Effect.Effect<boolean> =>
  Effect.promise(() => import(pathToFileURL(path.resolve(file)).href) as Promise<Record<string, unknown>>).pipe(
    Effect.map((mod) => {
      const spec = (mod.default ?? mod.spec) as { readonly quick?: unknown }
      return spec !== null && typeof spec === "object" && spec.quick !== undefined
    })
  )

/**
 * The spec as written is compiled when it runs as written (`run`, and `validate` checks what `run`
 * would do); a sweep runs only its points, so a spec with axes checked for `sweep` compiles those.
 */
const check = Effect.gen(function*() {
  const { file } = request
  const spec: Experiment = yield* loadSpec(file, { quick: request.quick })
  const hasAxes = Object.keys(spec.sweep).length > 0
  const points = request.sweep && hasAxes ? yield* expandSweep(spec, file) : []
  const c = points.length > 0 && !request.allVariants ? points[0].compiled : yield* compile(spec, file)
  let quickPoints: number | undefined
  if (request.allVariants && (yield* hasQuickVariant(file))) {
    const quick = yield* loadSpec(file, { quick: true })
    const check = request.sweep && Object.keys(quick.sweep).length > 0
      ? Effect.map(expandSweep(quick, file), (ps) => ps.length)
      : Effect.as(compile(quick, file), 1)
    quickPoints = yield* check.pipe(Effect.mapError((e) => withQuickNote(e)))
  }
  mark(Step.idle)
  return {
    tasks: c.tasks.length,
    separation: c.separation.value,
    cSep: spec.cSep,
    agents: spec.agents,
    dim: c.features.dim,
    horizon: c.horizon,
    beta: c.beta,
    points: Math.max(points.length, 1),
    cost: estimateCost(c),
    ...(quickPoints === undefined ? {} : { quickPoints })
  } satisfies CheckSummary
})

/** An issue found only in the quick variant says so. */
const withQuickNote = (e: SpecError): SpecError =>
  new SpecError({ source: e.source, issues: e.issues.map((i) => ({ ...i, message: `${i.message} (in the quick variant, sweep --quick)` })) })

Effect.runPromise(Effect.result(check)).then(
  (r) => {
    const reply: CheckReply = r._tag === "Success"
      ? { _tag: "Valid", summary: r.success }
      : r.failure._tag === "SpecError"
      ? { _tag: "SpecError", issues: r.failure.issues }
      : { _tag: "SpecLoadError", reason: r.failure.reason }
    parentPort!.postMessage(reply)
  },
  (e: unknown) => parentPort!.postMessage({ _tag: "SpecLoadError", reason: `checking it failed: ${e instanceof Error ? e.message : String(e)}` } satisfies CheckReply)
)

/**
 * The spec the library API is given: the path of a spec module (`"specs/linear-chain.spec.ts"`),
 * loaded as the CLI loads it, or the value of `Experiment.make({...})` itself, which is copied and
 * decoded the same way (snapshotSpec, overrides, decode), so that a script's spec gets the same
 * checks and the same path-named errors as a file's.
 */
import { Effect } from "effect"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { decodeWithOverrides, type LoadOptions, loadSpec, type SpecLoadError } from "../cli/loadSpec.ts"
import type { OverrideError } from "../spec/overrides.ts"
import { snapshotSpec } from "../spec/snapshot.ts"
import type { Experiment, ExperimentInput } from "../spec/Spec.ts"
import { SpecError } from "../spec/SpecError.ts"

/** A spec module's path, or a spec value (`Experiment.make({...})`). */
export type SpecSource = string | ExperimentInput

/** How errors name a spec: its path, or its name for a value. */
export const sourceName = (spec: SpecSource): string => {
  if (typeof spec === "string") return spec
  const name = (spec as { readonly name?: unknown } | null)?.name
  return typeof name === "string" ? `${name} (given as a value)` : "(a spec given as a value)"
}

/** The decoded spec, with its `quick` variant merged if asked and the overrides applied. */
export const loadSpecSource = (spec: SpecSource, options: LoadOptions = {}): Effect.Effect<Experiment, SpecError | SpecLoadError | OverrideError> => {
  if (typeof spec === "string") return loadSpec(spec, options)
  const source = sourceName(spec)
  const copy = snapshotSpec(spec)
  if (copy.issues.length > 0) return Effect.fail(new SpecError({ source, issues: copy.issues }))
  return decodeWithOverrides(copy.value, source, options)
}

/** Whether the spec has a `quick` variant (validate checks it too). */
export const hasQuickVariant = (spec: SpecSource): Effect.Effect<boolean> => {
  const has = (u: unknown) => u !== null && typeof u === "object" && (u as { readonly quick?: unknown }).quick !== undefined
  if (typeof spec !== "string") return Effect.succeed(has(spec))
  return Effect.promise(() => import(pathToFileURL(path.resolve(spec)).href) as Promise<Record<string, unknown>>).pipe(
    Effect.map((mod) => has(mod.default ?? mod.spec))
  )
}

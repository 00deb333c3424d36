/**
 * `validate` of the library API: what `distmt validate` checks (src/spec/check.ts), in this
 * process, for a spec module's path or a spec value, with the overrides applied.
 */
import { checkOptions } from "./options.ts"
import { Effect } from "effect"
import type { CheckSummary } from "../spec/check.ts"
import { checkSpecWith } from "../spec/check.ts"
import { API_REMEDIES } from "../spec/cost.ts"
import { overridesOfOptions } from "../spec/overrides.ts"
import { hasQuickVariant, loadSpecSource, sourceName, type SpecSource } from "./specSource.ts"

export interface ValidateOptions {
  /** Fields to override, by path (as `--set`). */
  readonly set?: Readonly<Record<string, unknown>>
  /** Shorthand for `set: { seeds }`. */
  readonly seeds?: number
}

/**
 * A linear-stage spec's summary (d, H, β, the cost estimate) or a deep-stage one's (`deep`: frames,
 * games, units, replay memory; no d, H, β or cost), told apart by `deep` (docs/api.md, "validate").
 */
export type ValidateResult = CheckSummary & {
  /** The spec's path, or its name for a spec given as a value. */
  readonly source: string
}

export const validateApi = (spec: SpecSource, options: ValidateOptions = {}) =>
  Effect.gen(function*() {
    yield* checkOptions("validate", options)
    const overrides = overridesOfOptions(options.set, options.seeds)
    const summary = yield* checkSpecWith(
      sourceName(spec),
      (quick) => loadSpecSource(spec, { quick, overrides, remedies: API_REMEDIES }),
      hasQuickVariant(spec),
      { quick: false, sweep: true, allVariants: true, remedies: API_REMEDIES },
      overrides
    )
    return { source: sourceName(spec), ...summary } satisfies ValidateResult
  })

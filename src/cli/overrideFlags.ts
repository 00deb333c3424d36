/**
 * `--set path=value` (repeatable) and `--seeds N`, shared by run, validate and sweep: fields of
 * the spec overridden without editing it (src/spec/overrides.ts, docs/guide.md, "Overrides").
 */
import { Option } from "effect"
import { Flag } from "effect/cli"
import { parseOverrideFlags } from "../spec/overrides.ts"

export const overrideFlags = {
  set: Flag.String("set").pipe(
    Flag.atLeast(0),
    Flag.withDescription(
      "override a field of the spec: path=value, the value read as JSON when it parses, else as text; repeatable " +
        "(--set epsilon=0.05 --set learner.lambda=0.5 --set sharing=experience)"
    )
  ),
  seeds: Flag.String("seeds").pipe(Flag.optional, Flag.withDescription("the number of seeds: shorthand for --set seeds=N"))
}

/** The overrides the flags give, or the first malformed one as a one-line error. */
export const overridesFromFlags = (flags: { readonly set: ReadonlyArray<string>; readonly seeds: Option.Option<string> }) =>
  parseOverrideFlags(flags.set, Option.getOrUndefined(flags.seeds))

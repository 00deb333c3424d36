/**
 * `--sample K [--sample-seed S]` on `sweep` and `validate`: a random search of K points drawn from
 * the sweep's ranges and lists (src/spec/sweepSample.ts), the same points for the same K and S.
 */
import { Data, Effect, Option } from "effect"
import { Flag } from "effect/cli"
import { sampleIssue, type SampleOptions } from "../spec/sweepSample.ts"

export class SampleUsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

export const sampleFlags = {
  sample: Flag.Int("sample").pipe(
    Flag.optional,
    Flag.withDescription("random search: draw K points from the sweep's ranges (Sweep.range) and lists instead of running the grid")
  ),
  sampleSeed: Flag.Int("sample-seed").pipe(
    Flag.optional,
    Flag.withDescription("seed of the draw (default 0): the same K and seed draw the same points, so the sweep resumes")
  )
}

/** Why `sweep` and `validate` refuse `--sample` for a deep-stage spec, in one wording for both. */
export const SAMPLE_OF_DEEP_SPEC = "--sample is for linear-stage sweeps; a deep-stage sweep runs the grid of its lists"

/** The sample asked for, or undefined; a bad K or S is the user's error, named by its flag. */
export const sampleFromFlags = (flags: { readonly sample: Option.Option<number>; readonly sampleSeed: Option.Option<number> }) =>
  Effect.gen(function*() {
    const seed = Option.getOrElse(flags.sampleSeed, () => 0)
    if (Option.isNone(flags.sample)) {
      if (Option.isSome(flags.sampleSeed)) return yield* new SampleUsageError({ message: "--sample-seed: it seeds --sample K, which was not given" })
      return undefined
    }
    const sample: SampleOptions = { count: flags.sample.value, seed }
    const issue = sampleIssue(sample)
    if (issue !== undefined) {
      const flag = issue.field === "count" ? "--sample" : "--sample-seed"
      return yield* new SampleUsageError({ message: `${flag}: expected ${issue.expected}, got ${sample[issue.field]}` })
    }
    return sample
  })

/** What `validate` says of a sweep's ranges: checked at their ends, or at the points drawn. */
export const rangesLine = (axes: ReadonlyArray<string>, sample: SampleOptions | undefined): string =>
  sample === undefined
    ? `range axes ${axes.join(", ")}: checked at both ends; \`distmt sweep --sample K\` draws points from them (add --sample K here to check those points)`
    : `range axes ${axes.join(", ")}: the ${sample.count} points drawn by --sample ${sample.count} --sample-seed ${sample.seed} checked`

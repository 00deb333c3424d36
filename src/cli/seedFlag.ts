/**
 * The one check of a command's `--seed` flag (bench, train-dqn): a whole number from 0 to 2³² − 1,
 * as `bench lsvi --seed` and `--sample-seed` always were, and with `count` seeds run from it
 * (`--seed`, `--seed` + 1, …) the last one too. Without it, bench dqn and bench simnet ran a
 * negative seed as the stream of seed + 2³² (Rng.make reads it as an unsigned word), and train-dqn
 * and bench forgetting ran `--seeds 3` from `--seed` 2⁵³ − 1 as two identical seeds (2⁵³ + 1
 * rounds to 2⁵³).
 */
import { MAX_SAMPLE_SEED } from "../spec/sweepSample.ts"

/** The largest seed a command takes: one 32-bit word, the limit of `--sample-seed` too (one constant for both). */
export const MAX_SEED = MAX_SAMPLE_SEED

/** Why `--seed seed` (with `count` seeds from it) is refused; undefined when it is fine. */
export const seedProblem = (seed: number, count = 1): string | undefined => {
  const max = MAX_SEED - (count - 1)
  return Number.isInteger(seed) && seed >= 0 && seed <= max
    ? undefined
    : `--seed must be a whole number from 0 to ${max}${count > 1 ? ` (so that its ${count} seeds stay at most ${MAX_SEED})` : ""}, got ${seed}`
}

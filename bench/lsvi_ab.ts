/**
 * Side by side: the incremental LSVI-UCB learner of two checkouts in one process, alternating, so
 * that the machine's drift (±15 % over minutes here) hits both alike (docs/performance.md).
 *
 *   npx tsx bench/lsvi_ab.ts BASE_CHECKOUT NEW_CHECKOUT [ROUNDS=12] [--full] [--episodes K]
 *
 * Each checkout gets two learners over the bench's synthetic data (synthetic.ts, d = 32, A = 4,
 * H = 20, seed 1), built to K − 40 episodes, made in the order base, new, new, base: a learner's
 * place in memory changes its time by up to 10 % here, and the two places of each side cancel that.
 * Each round times three per-episode updates (one more episode added, then the incremental backup)
 * of each learner, or with --full three backups from scratch, and keeps the middle one; a side's
 * time is the sum over its two learners. Prints each checkout's median time (per learner), the
 * median and range of the per-round ratios BASE / NEW, the largest relative difference between the
 * w̄ of the learners, and how much each side's two learners differ (first made / last made).
 */
import { alternate, median } from "./ab.ts"
import { checkoutLearner, episodesFlag, roundsFlag } from "./lsviLearner.ts"

const args = process.argv.slice(2)
const episodes = episodesFlag(args)
const full = args.includes("--full")
if (full) args.splice(args.indexOf("--full"), 1)
const [base, next, roundsText] = args
if (base === undefined || next === undefined) {
  throw new Error("usage: npx tsx bench/lsvi_ab.ts BASE_CHECKOUT NEW_CHECKOUT [ROUNDS] [--full] [--episodes K]")
}
const rounds = roundsFlag(roundsText, 12)
const setup = async (tree: string) => {
  const { learner, update } = await checkoutLearner(tree, episodes, 40)
  const once = (): number => {
    if (!full) return update()
    const t = performance.now()
    learner.fullBackup()
    return performance.now() - t
  }
  return { learner, once }
}

// Two learners a side, made in the order base, new, new, base: where a learner's memory lies changes
// its time by up to 10 % here (the same checkout on both sides of a one-learner comparison measured
// 1.10), and the two placements of each side cancel that to first order.
const made = [await setup(base), await setup(next), await setup(next), await setup(base)]
const sides = [[made[0], made[3]], [made[1], made[2]]] as const
for (const learner of made) for (let i = 0; i < 3; i++) learner.once()
const middleOf3 = (once: () => number): number => median([once(), once(), once()])
const parts: Array<Array<number>> = made.map(() => [])
const side = (which: 0 | 1) => (): number =>
  sides[which].reduce((sum, learner) => {
    const t = middleOf3(learner.once)
    parts[made.indexOf(learner)].push(t)
    return sum + t
  }, 0)
const times = await alternate(rounds, [side(0), side(1)])
const ratios = times[0].map((t, i) => t / times[1][i])
const w0 = made[0].learner.wUpper as Float64Array
let diff = 0
for (const other of made.slice(1)) {
  const w1 = other.learner.wUpper as Float64Array
  for (let i = 0; i < w0.length; i++) diff = Math.max(diff, Math.abs(w0[i] - w1[i]) / Math.max(Math.abs(w0[i]), 1e-300))
}
const placement = (a: number, b: number): string => median(parts[a].map((t, i) => t / parts[b][i])).toFixed(3)
console.log(
  `${full ? "backup from scratch" : "per-episode update"}, K = ${episodes}: base ${(median(times[0]) / 2).toFixed(2)} ms, ` +
    `new ${(median(times[1]) / 2).toFixed(2)} ms; base / new ${median(ratios).toFixed(3)} ` +
    `(${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}, ${rounds} rounds); max rel diff w̄ ${diff.toExponential(2)}; ` +
    `each side's two learners, first made / last made: base ${placement(0, 3)}, new ${placement(1, 2)}`
)

/**
 * Side by side: the incremental LSVI-UCB learner of two checkouts in one process, alternating, so
 * that the machine's drift (±15 % over minutes here) hits both alike (docs/performance.md).
 *
 *   npx tsx bench/lsvi_ab.ts BASE_CHECKOUT NEW_CHECKOUT [ROUNDS=12] [--full] [--episodes K]
 *
 * Each checkout gets its own learner over the bench's synthetic data (synthetic.ts, d = 32, A = 4,
 * H = 20, seed 1), built to K − 40 episodes. Each round times three per-episode updates (one more
 * episode added, then the incremental backup) of each checkout, or with --full three backups from
 * scratch, and keeps the middle one. Prints each checkout's median time, the median and range of
 * the per-round ratios BASE / NEW, and the largest relative difference between the two w̄.
 */
import { alternate, fromCheckout, median } from "./ab.ts"
import { syntheticLearner } from "./lsviLearner.ts"

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i < 0 ? undefined : args.splice(i, name === "--full" ? 1 : 2)[1] ?? ""
}
const full = flag("--full") !== undefined
const episodes = Number(flag("--episodes") ?? 2000)
const [base, next, roundsText] = args
if (base === undefined || next === undefined) {
  throw new Error("usage: npx tsx bench/lsvi_ab.ts BASE_CHECKOUT NEW_CHECKOUT [ROUNDS] [--full] [--episodes K]")
}
const rounds = Number(roundsText ?? 12)
const setup = async (tree: string) => {
  const load = fromCheckout(tree)
  const { LsviIncremental } = await load("src/learner/LsviIncremental.ts")
  const { episode } = await load("src/bench/synthetic.ts")
  const { learner, update } = syntheticLearner({ LsviIncremental, episode }, episodes, 40)
  const once = (): number => {
    if (!full) return update()
    const t = performance.now()
    learner.fullBackup()
    return performance.now() - t
  }
  return { learner, once }
}

const sides = [await setup(base), await setup(next)]
for (const side of sides) for (let i = 0; i < 3; i++) side.once()
const middleOf3 = (once: () => number) => (): number => median([once(), once(), once()])
const times = await alternate(rounds, [middleOf3(sides[0].once), middleOf3(sides[1].once)])
const ratios = times[0].map((t, i) => t / times[1][i])
const [w0, w1] = sides.map((s) => s.learner.wUpper as Float64Array)
let diff = 0
for (let i = 0; i < w0.length; i++) diff = Math.max(diff, Math.abs(w0[i] - w1[i]) / Math.max(Math.abs(w0[i]), 1e-300))
console.log(
  `${full ? "backup from scratch" : "per-episode update"}, K = ${episodes}: base ${median(times[0]).toFixed(2)} ms, ` +
    `new ${median(times[1]).toFixed(2)} ms; base / new ${median(ratios).toFixed(3)} ` +
    `(${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}, ${rounds} rounds); max rel diff w̄ ${diff.toExponential(2)}`
)

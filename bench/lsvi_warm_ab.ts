/**
 * The update against its floor as `npm run bench` times them (right after the same learner's
 * previous update, and right after a read of the same rows), for two checkouts side by side in one
 * process, alternating (docs/performance-floor.md, "What bounds the update here"):
 *
 *   npx tsx bench/lsvi_warm_ab.ts BASE_CHECKOUT NEW_CHECKOUT [ROUNDS=10] [--episodes K]
 *
 * One learner a side over the bench's synthetic data (synthetic.ts, d = 32, A = 4, H = 20, seed 1),
 * built to K − 400 episodes. Each round, for each side in turn: seven per-episode updates in a row
 * (the median of the last five), then nine reads of the stored next-state rows, the floor (the
 * median of the last seven). bench/lsvi_ab.ts times each update after three other learners' instead,
 * as a run of many agents meets it. Prints each side's medians over the rounds and the median of
 * its per-round ratios update / floor, then base / new of the updates.
 */
import { alternate, median } from "./ab.ts"
import { checkoutLearner, episodesFlag, roundsFlag } from "./lsviLearner.ts"

const args = process.argv.slice(2)
const episodes = episodesFlag(args)
const [base, next, roundsText] = args
if (base === undefined || next === undefined) {
  throw new Error("usage: npx tsx bench/lsvi_warm_ab.ts BASE_CHECKOUT NEW_CHECKOUT [ROUNDS] [--episodes K]")
}
const rounds = roundsFlag(roundsText, 10)
const sides = [await checkoutLearner(base, episodes, 400), await checkoutLearner(next, episodes, 400)] as const
let sink = 0
const seen = sides.map(() => ({ update: [] as Array<number>, floor: [] as Array<number>, ratio: [] as Array<number> }))
const measure = (i: 0 | 1) => (): number => {
  const { learner, update } = sides[i]
  const updates = Array.from({ length: 7 }, () => update()).slice(2)
  const floors = Array.from({ length: 9 }, () => {
    const t = performance.now()
    sink += learner.sweepNextStates()
    return performance.now() - t
  }).slice(2)
  const u = median(updates)
  const f = median(floors)
  seen[i].update.push(u)
  seen[i].floor.push(f)
  seen[i].ratio.push(u / f)
  return u
}
await alternate(rounds, [measure(0), measure(1)])
if (Number.isNaN(sink)) console.log("(the stored features hold NaN)")
seen.forEach((s, i) => {
  console.log(
    `${i === 0 ? "base" : "new "}: update ${median(s.update).toFixed(3)} ms, floor ${median(s.floor).toFixed(3)} ms, ` +
      `update / floor ${median(s.ratio).toFixed(3)} (rounds ${s.ratio.map((r) => r.toFixed(2)).join(" ")})`
  )
})
console.log(`per-episode update, K = ${episodes}: base / new ${(median(seen[0].update) / median(seen[1].update)).toFixed(3)} (${rounds} rounds)`)

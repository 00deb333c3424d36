/**
 * What comes between two per-episode updates changes the update's time on a machine whose
 * last-level cache is shared (docs/performance-floor.md, "On the Intel machine"):
 *
 *   npx tsx bench/lsvi_gaps.ts [ROUNDS=3] [--episodes K]
 *
 * One learner over the bench's synthetic data (synthetic.ts, d = 32, A = 4, H = 20, seed 1), built
 * to K − 400 episodes. Each round times 12 updates (one more episode added, then the incremental
 * backup) in each of four ways, in turn: one right after the other, as `npm run bench` times them;
 * after 5 ms of a loop that reads no memory; after one read of the stored next-state rows (the
 * floor); after a read of other memory twice the last-level cache (as bench/lsvi_floors.ts evicts).
 * Prints each way's median per round. Where the cache keeps the learner's rows only for as long as
 * the update takes, the update after a read of the floor (which ends on the rows the update starts
 * with) is the fast one.
 */
import { episode } from "../src/bench/synthetic.ts"
import { LsviIncremental } from "../src/learner/LsviIncremental.ts"
import { median } from "./ab.ts"
import { otherMemory } from "./cache.ts"
import { episodesFlag, roundsFlag, syntheticLearner } from "./lsviLearner.ts"

const args = process.argv.slice(2)
const episodes = episodesFlag(args)
const rounds = roundsFlag(args[0], 3)
const { learner, update } = syntheticLearner({ LsviIncremental, episode }, episodes, 400)

const other = otherMemory()
let sink = 0
const between: Record<string, () => void> = {
  "right after the last update": () => {},
  "after 5 ms reading no memory": () => {
    const t = performance.now()
    while (performance.now() - t < 5) sink++
  },
  "after one read of the floor": () => {
    sink += learner.sweepNextStates()
  },
  "after reading other memory": () => {
    sink += other.evict()
  }
}
for (let i = 0; i < 30; i++) update() // warm-up: a new process's memory is slower for its first second here
console.log(`K = ${episodes}, d = 32, A = 4, H = 20: per-episode update, median of 12 (ms)`)
for (let r = 0; r < rounds; r++) {
  for (const [name, gap] of Object.entries(between)) {
    const times: Array<number> = []
    for (let i = 0; i < 12; i++) {
      gap()
      times.push(update())
    }
    console.log(`  round ${r + 1}  ${name.padEnd(30)} ${median(times).toFixed(2)}`)
  }
}
if (Number.isNaN(sink)) console.log("(NaN in the data)")

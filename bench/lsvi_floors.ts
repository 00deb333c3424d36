/**
 * The update against its floors, warm and cold, in one process (docs/performance.md, "Against the
 * floor"):
 *
 *   npx tsx bench/lsvi_floors.ts [ROUNDS=12] [--episodes K]
 *
 * One learner over the bench's synthetic data (synthetic.ts, d = 32, A = 4, H = 20, seed 1), built
 * to K − 60 episodes. Each round times, in turn: the per-episode update (one more episode added, then
 * the incremental backup) after the previous update, as the bench times it; the floor (one read of
 * the stored next-state rows) and the reads floor (one read of all the update reads: those rows,
 * their forms and the φ_h rows), each the second of two reads in a row, as the bench times them; and
 * the same three "cold", right after a read of other memory twice the size of the last-level cache
 * (as Linux reports it; 96 MiB where it does not), which leaves none of the learner's data there.
 * Prints the medians and the median of the per-round ratios.
 */
import { episode } from "../src/bench/synthetic.ts"
import { LsviIncremental } from "../src/learner/LsviIncremental.ts"
import { median } from "./ab.ts"
import { otherMemory } from "./cache.ts"
import { episodesFlag, roundsFlag, syntheticLearner } from "./lsviLearner.ts"

const args = process.argv.slice(2)
const episodes = episodesFlag(args)
const rounds = roundsFlag(args[0], 12)
const { learner, update } = syntheticLearner({ LsviIncremental, episode }, episodes, 60)

const other = otherMemory()
let sink = 0
const evict = (): void => {
  sink += other.evict()
}
const timed = (f: () => number | void): number => {
  const t = performance.now()
  sink += f() ?? 0
  return performance.now() - t
}
const floor = () => learner.sweepNextStates()
const reads = () => learner.sweepUpdateReads()
const measures: Record<string, () => number> = {
  update,
  floor: () => (floor(), timed(floor)),
  reads: () => (reads(), timed(reads)),
  "update cold": () => (evict(), update()),
  "floor cold": () => (evict(), timed(floor)),
  "reads cold": () => (evict(), timed(reads))
}
const names = Object.keys(measures)
for (const n of names) measures[n]() // warm-up
const times: Record<string, Array<number>> = Object.fromEntries(names.map((n) => [n, []]))
for (let r = 0; r < rounds; r++) {
  for (let j = 0; j < names.length; j++) {
    const n = names[(j + r) % names.length]
    times[n].push(measures[n]())
  }
}
const ratio = (a: string, b: string): string => median(times[a].map((t, i) => t / times[b][i])).toFixed(2)
console.log(`K = ${episodes}, d = 32, A = 4, H = 20: medians of ${rounds} rounds (ms); cold: after a read of ${other.mib.toFixed(0)} MiB`)
for (const n of names) console.log(`  ${n.padEnd(12)} ${median(times[n]).toFixed(3)}`)
console.log(`update / floor ${ratio("update", "floor")}, update / reads ${ratio("update", "reads")}, reads / floor ${ratio("reads", "floor")}`)
console.log(`cold: update / floor ${ratio("update cold", "floor cold")}, update / reads ${ratio("update cold", "reads cold")}, ` +
  `reads / floor ${ratio("reads cold", "floor cold")}; update cold / update ${ratio("update cold", "update")}, ` +
  `floor cold / floor ${ratio("floor cold", "floor")}`)
if (Number.isNaN(sink)) console.log("(NaN in the data)")

/**
 * What bench/lsvi_ab.ts and bench/lsvi_floors.ts share: an incremental learner (Q̄ only) over the
 * bench's synthetic data (src/bench/synthetic.ts: d = 32, A = 4, H = 20, seed 1), built to
 * K − `held` episodes and backed up from scratch, and the timed per-episode update that adds the
 * next episode (its generation not timed). The two modules come from a checkout (lsvi_ab.ts) or
 * from this one.
 */
import type { LsviIncremental as Learner } from "../src/learner/LsviIncremental.ts"
import type { episode as Episode } from "../src/bench/synthetic.ts"
import { fromCheckout } from "./ab.ts"

export interface Modules {
  readonly LsviIncremental: typeof Learner
  readonly episode: typeof Episode
}

export const syntheticLearner = ({ LsviIncremental, episode }: Modules, episodes: number, held: number) => {
  const shape = { episodes, dim: 32, actions: 4, horizon: 20, seed: 1 }
  const { horizon: H, actions: A, dim: d } = shape
  const learner = new LsviIncremental({ horizon: H, dim: d, actions: A, beta: 1, lambda: 1 }, () => {
    throw new Error("bench: features are given directly")
  }, { twin: false })
  const buffer = episode(shape, 0)
  let k = 0
  const add = (): void => {
    for (let h = 0; h < H; h++) learner.addTransitionFeatures(h, buffer.phi, h * d, buffer.reward[h], buffer.next, h * A * d)
  }
  for (; k < episodes - held; k++) {
    episode(shape, k, buffer)
    add()
  }
  learner.fullBackup()
  /** Milliseconds of one per-episode update: the next episode added, then the incremental backup. */
  const update = (): number => {
    episode(shape, k++, buffer) // generating the data is not timed
    const t = performance.now()
    add()
    learner.backup()
    return performance.now() - t
  }
  return { learner, update }
}

/** `syntheticLearner` with the two modules of the checkout at `tree` (the side-by-side benches). */
export const checkoutLearner = async (tree: string, episodes: number, held: number) => {
  const load = fromCheckout(tree)
  const { LsviIncremental } = await load("src/learner/LsviIncremental.ts")
  const { episode } = await load("src/bench/synthetic.ts")
  return syntheticLearner({ LsviIncremental, episode }, episodes, held)
}

/** `--episodes K`, taken out of `args`: K of the synthetic learner, 2000 without the flag; at least 500. */
export const episodesFlag = (args: Array<string>): number => {
  const at = args.indexOf("--episodes")
  if (at < 0) return 2000
  const text = args.splice(at, 2)[1]
  const K = Number(text)
  // The tools build the learner to K − 400 episodes (lsvi_gaps, lsvi_warm_ab) and time what follows.
  if (!Number.isInteger(K) || K < 500) throw new Error(`--episodes: expected a whole number of at least 500, got ${JSON.stringify(text ?? "")}`)
  return K
}

/** The ROUNDS argument of a bench tool: a whole number from 1, `fallback` when not given. */
export const roundsFlag = (text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new Error(`ROUNDS: expected a whole number from 1, got ${JSON.stringify(text)}`)
  return n
}

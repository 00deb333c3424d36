/**
 * `distmt bench lsvi`: times the incremental LSVI-UCB backup (src/learner/LsviIncremental.ts) on the
 * synthetic data set of synthetic.ts, and dumps the data and the weights for outside tools.
 *
 * What is timed, each as the median of repeated runs after warm-up runs:
 * - the full optimistic backup from scratch (start-up, resume): Λ_h from the stored features, a
 *   direct inverse, every bonus form φᵀΛ⁻¹φ, the backward pass (`fullBackup`);
 * - the per-episode update: adding one more episode (H transitions, Sherman–Morrison) and the
 *   incremental backward pass (`backup`). The data set is built up to K − R episodes and the last R
 *   episodes are added one at a time, so that the final state holds exactly K episodes.
 * Both are of Q̄ alone (`twin: false`), like the NumPy reference; `twin: true` adds Q̲.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { maxRelativeError } from "../linalg/kernels.ts"
import { writeNpy } from "../linalg/npy.ts"
import { type IncrementalKernel, LsviIncremental } from "../learner/LsviIncremental.ts"
import { chunkGrowth, valuesPerTransition } from "../learner/incremental/Store.ts"
import { episode, type SyntheticShape } from "./synthetic.ts"

export interface BenchOptions extends SyntheticShape {
  readonly beta: number
  readonly lambda: number
  /** Include the pessimistic twin Q̲ in every timing (default false: Q̄ alone, like the NumPy reference). */
  readonly twin?: boolean
  readonly kernel?: IncrementalKernel
  /** Timed per-episode updates (default 15, fewer if K is small) after `warmup` untimed ones (default 5). */
  readonly updates?: number
  readonly warmup?: number
}

export interface BenchResult {
  readonly episodes: number
  readonly dim: number
  readonly actions: number
  readonly horizon: number
  readonly seed: number
  readonly beta: number
  readonly lambda: number
  readonly twin: boolean
  readonly kernel: IncrementalKernel
  /** Median seconds of the full backup from scratch. */
  readonly fullBackupSeconds: number
  readonly fullBackupRuns: number
  /** Median seconds of one episode's update (add H transitions + incremental backup). */
  readonly episodeUpdateSeconds: number
  /** Mean of the same runs (it includes any periodic refresh that fell in them). */
  readonly episodeUpdateMeanSeconds: number
  readonly episodeUpdateRuns: number
  /** Median seconds of one read of every stored next-state value: the floor of the update's pass. */
  readonly floorSeconds: number
  /**
   * Median seconds of one read of everything the update reads (next-state rows, their forms, the φ_h
   * rows): the floor of the whole update, timed like `floorSeconds`, right after it.
   */
  readonly readsFloorSeconds: number
  /** Peak resident memory of the process minus its resident memory before the learner existed. */
  readonly peakBytes: number
  /** Peak resident memory of the whole process (Node itself included). */
  readonly processPeakBytes: number
  /** What the learner allocated: stored data, kept forms, slack of its chunks, matrices. */
  readonly learnerBytes: number
  /** The stored features as float64: K·H·d (φ) + K·(H − 1)·A·d (next states). */
  readonly featureBytes: number
  /** learnerBytes / featureBytes. */
  readonly memoryRatio: number
  /** Largest relative difference between w̄ after the incremental updates and after a backup from scratch. */
  readonly incrementalVsFullMaxRelDiff: number
}

export const featureBytesOf = (o: SyntheticShape): number =>
  8 * o.episodes * o.dim * (o.horizon + Math.max(o.horizon - 1, 0) * o.actions)

/**
 * Bytes of the learner for this shape, roughly (for refusing sizes that cannot fit before
 * allocating): the stored values, and the last chunks' slack of at most 1/g (`chunkGrowth`).
 */
export const estimatedBytes = (o: SyntheticShape): number => {
  const dp = o.dim + (o.dim & 1)
  const slack = 1 / chunkGrowth(o.dim, o.actions, dp)
  return Math.ceil(8 * o.episodes * o.horizon * valuesPerTransition(o.actions, dp) * (1.005 + slack))
}

/** The median (the mean of the two middle values of an even count); every bench tool uses it (bench/ab.ts). */
export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  return n % 2 === 1 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2
}

const now = (): number => performance.now() / 1000

const rss = (): number => process.memoryUsage.rss()
const peakRss = (): number => process.resourceUsage().maxRSS * 1024

export interface BenchRun {
  readonly result: BenchResult
  readonly learner: LsviIncremental
  /** w̄ after the incremental updates, at h·d (what `--dump` writes to w.npy). */
  readonly w: Float64Array
}

/** Builds the data set, times the two backups and the floor, and returns the learner for `dump`. */
export const runBench = (o: BenchOptions, log: (line: string) => void = () => {}): BenchRun => {
  const { actions: A, dim: d, episodes: K, horizon: H } = o
  const twin = o.twin ?? false
  const rssBefore = rss()
  const learner = new LsviIncremental(
    { horizon: H, dim: d, actions: A, beta: o.beta, lambda: o.lambda },
    () => {
      throw new Error("bench: features are given directly")
    },
    { twin, ...(o.kernel === undefined ? {} : { kernel: o.kernel }) }
  )
  const warmup = Math.min(o.warmup ?? 5, Math.floor(K / 4))
  const updates = Math.max(1, Math.min(o.updates ?? 15, Math.floor(K / 2) - warmup))
  const tail = warmup + updates
  const buffer = episode(o, 0)
  const add = (k: number): void => {
    episode(o, k, buffer)
    for (let h = 0; h < H; h++) {
      learner.addTransitionFeatures(h, buffer.phi, h * d, buffer.reward[h], buffer.next, h * A * d)
    }
  }
  log(`building ${K - tail} episodes…`)
  for (let k = 0; k < K - tail; k++) add(k)
  learner.fullBackup()

  log(`timing ${updates} per-episode updates after ${warmup} warm-up updates…`)
  const updateTimes: Array<number> = []
  for (let k = K - tail; k < K; k++) {
    episode(o, k, buffer) // generating the data is not part of the update
    const t0 = now()
    for (let h = 0; h < H; h++) {
      learner.addTransitionFeatures(h, buffer.phi, h * d, buffer.reward[h], buffer.next, h * A * d)
    }
    learner.backup()
    const t = now() - t0
    if (k >= K - updates) updateTimes.push(t)
  }
  const w = Float64Array.from(learner.wUpper)

  log("timing the full backup from scratch…")
  const t0 = now()
  learner.fullBackup() // warm-up, and a first measure to choose the number of runs
  const first = now() - t0
  learner.fullBackup()
  const runs = Math.max(3, Math.min(11, Math.ceil(3 / Math.max(first, 1e-6))))
  const fullTimes: Array<number> = []
  for (let r = 0; r < runs; r++) {
    const s = now()
    learner.fullBackup()
    fullTimes.push(now() - s)
  }
  const diff = maxRelativeError(w, learner.wUpper)

  // Each floor the same way: two reads to warm up, then nine timed, one after the other (so the
  // floor of the next-state rows is timed as before the second floor existed).
  let sink = 0
  const floor = (sweep: () => number): Array<number> => {
    const times: Array<number> = []
    for (let r = 0; r < 2 + 9; r++) {
      const s = now()
      sink += sweep()
      if (r >= 2) times.push(now() - s)
    }
    return times
  }
  const floorTimes = floor(() => learner.sweepNextStates())
  const readsTimes = floor(() => learner.sweepUpdateReads())
  if (Number.isNaN(sink)) log("(the stored features hold NaN)")

  const learnerBytes = learner.bytes()
  const featureBytes = featureBytesOf(o)
  const processPeak = peakRss()
  return {
    learner,
    w,
    result: {
      episodes: K,
      dim: d,
      actions: A,
      horizon: H,
      seed: o.seed,
      beta: o.beta,
      lambda: o.lambda,
      twin,
      kernel: learner.kernel,
      fullBackupSeconds: median(fullTimes),
      fullBackupRuns: fullTimes.length,
      episodeUpdateSeconds: median(updateTimes),
      episodeUpdateMeanSeconds: updateTimes.reduce((s, x) => s + x, 0) / updateTimes.length,
      episodeUpdateRuns: updateTimes.length,
      floorSeconds: median(floorTimes),
      readsFloorSeconds: median(readsTimes),
      peakBytes: Math.max(processPeak - rssBefore, 0),
      processPeakBytes: processPeak,
      learnerBytes,
      featureBytes,
      memoryRatio: learnerBytes / featureBytes,
      incrementalVsFullMaxRelDiff: diff
    }
  }
}

/**
 * `mkdir -p`, one level at a time: Node's `mkdirSync(dir, { recursive: true })` never returns on
 * some paths it cannot create (e.g. under /proc), where a plain mkdir fails at once.
 */
export const makeDirectory = (dir: string): void => {
  const absolute = path.resolve(dir)
  const missing: Array<string> = []
  let at = absolute
  while (!fs.existsSync(at)) {
    missing.push(at)
    const up = path.dirname(at)
    if (up === at) break
    at = up
  }
  if (fs.existsSync(at) && !fs.statSync(at).isDirectory()) throw new Error(`${at} is not a directory`)
  for (const d of missing.reverse()) fs.mkdirSync(d)
}

/**
 * Writes the data set and w̄ as NumPy files (float64, little-endian, C order) and meta.json:
 * phi.npy (H, K, d), reward.npy (H, K), phi_next.npy (H, K, A, d) with the block h = H − 1 zero
 * (unused: V̄_{H+1} ≡ 0), w.npy (H, d).
 */
export const dump = (dir: string, run: BenchRun): void => {
  const { learner, result: r, w } = run
  const { actions: A, dim: d, episodes: K, horizon: H } = r
  makeDirectory(dir)
  const chunks = (h: number) => [...learner.storedChunks(h)]
  writeNpy(path.join(dir, "phi.npy"), [H, K, d], (function*() {
    for (let h = 0; h < H; h++) for (const c of chunks(h)) yield c.phi
  })())
  writeNpy(path.join(dir, "reward.npy"), [H, K], (function*() {
    for (let h = 0; h < H; h++) for (const c of chunks(h)) yield c.reward
  })())
  writeNpy(path.join(dir, "phi_next.npy"), [H, K, A, d], (function*() {
    for (let h = 0; h + 1 < H; h++) {
      for (const c of learner.storedChunks(h)) if (c.next !== undefined) yield c.next
    }
    // The last step has no next state: K·A·d zeros, written in pieces.
    const zeros = new Float64Array(Math.min(K * A * d, 1 << 16))
    for (let left = K * A * d; left > 0; left -= zeros.length) yield zeros.subarray(0, Math.min(left, zeros.length))
  })())
  writeNpy(path.join(dir, "w.npy"), [H, d], [w])
  const meta = {
    lambda: r.lambda,
    beta: r.beta,
    episodes: K,
    dim: d,
    actions: A,
    horizon: H,
    seed: r.seed,
    backup: "docs/algorithm.md §2 with 0-based steps h = 0..H-1: Lambda_h = lambda I + sum_k phi[h,k] phi[h,k]^T; " +
      "for h < H-1, Q[k,a] = min(w[h+1] . phi_next[h,k,a] + beta sqrt(phi_next[h,k,a]^T Lambda_{h+1}^-1 phi_next[h,k,a]), H-h-1), " +
      "V[k] = max_a Q[k,a]; V = 0 at h = H-1; w[h] = Lambda_h^-1 sum_k phi[h,k] (reward[h,k] + V[k])",
    files: {
      "phi.npy": "(H, K, d) features of (s_h, a_h) of episode k",
      "reward.npy": "(H, K) rewards r_h of episode k, in [0, 1]",
      "phi_next.npy": "(H, K, A, d) features of (s_{h+1}, a) for every action a; the block h = H-1 is zero and unused",
      "w.npy": "(H, d) the optimistic weights w̄_h computed by distmt (incremental updates)"
    }
  }
  fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify(meta, null, 2) + "\n")
}

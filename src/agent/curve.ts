/**
 * Learning curves: an instance's certificate (docs/algorithm.md §2) and greedy policy sampled at
 * logarithmically spaced episodes of each phase, so that a 200,000-episode phase keeps about 35
 * points. The points are taken where the learner is (the agent's fiber or a learner thread) and
 * are data only; the exact gap of each sampled policy is computed by the run, which alone knows the
 * instance's true task (src/run/curves.ts).
 */
import type { Certificate, LsviLearner } from "../learner/Lsvi.ts"

export type Phase = "identify" | "learn"

/** One sample of a phase: its episodes so far, the certificate after the backup, the greedy policy. */
export interface PhasePoint {
  /** Episodes of this phase so far (0: before its first episode). */
  readonly episode: number
  readonly phase: Phase
  readonly certificate: Certificate
  /** The greedy policy of Q̄ as a table actions[h·S + s] (§2); empty when not tabulated. */
  readonly actions: Int32Array
}

/** Points per decade past the first ten episodes. */
const PER_DECADE = 5

/**
 * Whether episode `k` of a phase is sampled: every one of the first ten, then the episodes nearest
 * to 10^(j/5) (16, 25, 40, 63, 100, 158, …). The same for any chunking of a phase, so curves do not
 * depend on threads.
 */
export const onGrid = (k: number): boolean => k <= 10 || (k < SMALL ? SMALL_GRID[k] === 1 : GRID.has(k))

/** The episodes past ten on the grid, up to 10¹⁵: a look-up per episode rather than a logarithm. */
const GRID: ReadonlySet<number> = new Set(Array.from({ length: 15 * PER_DECADE + 1 }, (_, j) => Math.round(10 ** (j / PER_DECADE))))

/** The same below 2¹⁶ as a table: this runs after every episode, and most phases end below it. */
const SMALL = 1 << 16
const SMALL_GRID = new Uint8Array(SMALL)
for (const k of GRID) if (k < SMALL) SMALL_GRID[k] = 1

/** Samples a learner for a curve: the certificate given, the greedy action of every (h, s). */
export const samplePoint = (
  learner: LsviLearner,
  states: number,
  phase: Phase,
  episode: number,
  certificate: Certificate
): PhasePoint => {
  const H = learner.config.horizon
  const actions = new Int32Array(H * states)
  for (let h = 0; h < H; h++) for (let s = 0; s < states; s++) actions[h * states + s] = learner.act(h, s)
  return { episode, phase, certificate, actions }
}

/** A curve point as kept by the run: the policy replaced by its exact gap. */
export interface InstancePoint {
  /** Episodes on this instance so far, over all its phases. */
  readonly episode: number
  readonly phase: Phase
  readonly certificate: Certificate
  /** V*(s0) − V^π(s0) of the sampled greedy policy (NaN where there is no exact model). */
  readonly gap: number
}

/**
 * The curve of one instance across its phases: each phase's points arrive with the phase's own
 * episode count and are shifted by the episodes of the phases before. `gapOf` turns a sampled
 * policy into its exact gap at once, so policy tables are never kept.
 */
export class InstanceCurve {
  readonly points: Array<InstancePoint> = []
  /** Episodes of this instance's finished phases. */
  private base = 0

  constructor(private readonly gapOf: (actions: Int32Array) => number) {}

  add(points: ReadonlyArray<PhasePoint>): void {
    for (const p of points) {
      this.points.push({ episode: this.base + p.episode, phase: p.phase, certificate: p.certificate, gap: this.gapOf(p.actions) })
    }
  }

  /** A phase of `episodes` episodes has ended: the next phase's points come after it. */
  endPhase(episodes: number): void {
    this.base += episodes
  }

  /** Episodes on this instance over all its phases so far. */
  get episodes(): number {
    return this.base
  }
}

/**
 * The next-state groups of one step h of `Lsvi` (src/learner/Lsvi.ts): the transitions of step h
 * grouped by their next state s'_j, with Σ_{τ : s_{h+1}^τ = s'_j} φ_h^τ per group, so that the
 * backup evaluates Q̄_{h+1} once per distinct next state (docs/algorithm.md §2, "same numbers, any
 * implementation").
 *
 * A group keeps its next state's features φ(s'_j, ·) and their non-zeros, so that the backup looks
 * nothing up. When every action's row of φ(s'_j, ·) has one non-zero (one-hot features, every
 * finite built-in environment), it also keeps that entry's index and value per action: the backup
 * then computes the row's form and dot product as the single term the row kernels would
 * (`hotForm`, `hotDot` in src/learner/sparse.ts), without reading the row.
 */
export class StepGroups {
  /** Next-state key → group index (states of a finite space are small integers). */
  readonly groupOf: Array<number | undefined> = []
  readonly nextStates: Array<number> = []
  /** The group sums Σ φ_h^τ at j·d, the array grown by doubling. */
  sums: Float64Array
  readonly features: Array<Float64Array> = []
  readonly nonZeros: Array<Int32Array> = []
  /**
   * At j·A + a: the index of the one non-zero of φ(s'_j, a) and its value, or −1 in `hot[j·A]`
   * when some action's row of φ(s'_j, ·) has more than one non-zero (or d = 1, where the row
   * kernels take the full loops). Grown by doubling.
   */
  hot: Int32Array
  hotValue: Float64Array
  /**
   * argmax_a Q̄_{h+1}(s'_j, a) of each group j, as the last backup computed it for the first
   * `greedyCount` groups (Lsvi keeps when it still holds).
   */
  readonly greedy: Array<number> = []
  greedyCount = 0

  constructor(private readonly d: number, private readonly actions: number) {
    this.sums = new Float64Array(4 * d)
    this.hot = new Int32Array(4 * actions)
    this.hotValue = new Float64Array(4 * actions)
  }

  get size(): number {
    return this.nextStates.length
  }

  /** A new, empty group for next state `next`, with its features φ and their non-zeros `nz`; its index. */
  add(next: number, phi: Float64Array, nz: Int32Array): number {
    const { d, actions: A } = this
    const j = this.nextStates.length
    this.groupOf[next] = j
    this.nextStates.push(next)
    this.features.push(phi)
    this.nonZeros.push(nz)
    if ((j + 1) * d > this.sums.length) this.sums = grown(this.sums)
    if ((j + 1) * A > this.hot.length) {
      this.hot = grown(this.hot)
      this.hotValue = grown(this.hotValue)
    }
    let oneHot = d > 1
    for (let a = 0; a < A; a++) if (nz[a * (d + 1)] !== 1) oneHot = false
    for (let a = 0; a < A; a++) {
      const i = nz[a * (d + 1) + 1]
      this.hot[j * A + a] = oneHot ? i : -1
      this.hotValue[j * A + a] = oneHot ? phi[a * d + i] : 0
    }
    return j
  }
}

const grown = <T extends Float64Array | Int32Array>(a: T): T => {
  const b = new (a.constructor as new (n: number) => T)(2 * a.length)
  b.set(a)
  return b
}

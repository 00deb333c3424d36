/**
 * Transitions as plain numbers, the unit of experience sharing (docs/algorithm.md §3 step 3):
 * `(h, s, a, r, s')` five float64s each, packed in one `Float64Array` so that a batch moves between
 * threads, or through the server, as one buffer. States are the environment's integer keys, which
 * every agent on the same environment reads φ through, so a transition gathered by one agent means
 * the same to every other agent on that task.
 */

/** Numbers per transition: h, s, a, r, s'. */
export const WIDTH = 5

/** Bytes of one transition on the wire: five 8-byte numbers. */
export const TRANSITION_BYTES = 8 * WIDTH

/** The number of transitions in a packed batch. */
export const count = (batch: Float64Array): number => batch.length / WIDTH

/** An append-only record of transitions that grows by doubling. */
export class TransitionLog {
  private data = new Float64Array(64 * WIDTH)
  private size = 0

  /** Transitions recorded so far. */
  get length(): number {
    return this.size / WIDTH
  }

  push(h: number, state: number, action: number, reward: number, next: number): void {
    this.reserve(WIDTH)
    const d = this.data
    const i = this.size
    d[i] = h
    d[i + 1] = state
    d[i + 2] = action
    d[i + 3] = reward
    d[i + 4] = next
    this.size += WIDTH
  }

  /** Appends a packed batch. */
  append(batch: Float64Array): void {
    this.reserve(batch.length)
    this.data.set(batch, this.size)
    this.size += batch.length
  }

  /** A copy of everything recorded, packed. */
  toArray(): Float64Array {
    return this.data.slice(0, this.size)
  }

  clear(): void {
    this.size = 0
  }

  private reserve(more: number): void {
    if (this.size + more <= this.data.length) return
    let capacity = this.data.length
    while (capacity < this.size + more) capacity *= 2
    const grown = new Float64Array(capacity)
    grown.set(this.data.subarray(0, this.size))
    this.data = grown
  }
}

/** What can absorb transitions: an LSVI-UCB learner (§2), one rank-1 update of Λ⁻¹ each. */
export interface Absorbs {
  addTransition(h: number, state: number, action: number, reward: number, next: number): void
}

/** Adds a packed batch to a learner, in order. */
export const absorb = (learner: Absorbs, batch: Float64Array): void => {
  for (let i = 0; i < batch.length; i += WIDTH) {
    learner.addTransition(batch[i], batch[i + 1], batch[i + 2], batch[i + 3], batch[i + 4])
  }
}

/** Concatenates packed batches. */
export const concat = (batches: ReadonlyArray<Float64Array>): Float64Array => {
  let n = 0
  for (const b of batches) n += b.length
  const out = new Float64Array(n)
  let at = 0
  for (const b of batches) {
    out.set(b, at)
    at += b.length
  }
  return out
}

/**
 * The layout of the stored rows of `LsviIncremental` (src/learner/LsviIncremental.ts): one
 * `WebAssembly.Memory` per learner, filled by a bump allocator, and per step h a list of chunks of
 * flat float64 arrays. Every pointer is a byte offset into that memory, so the SIMD kernels
 * (src/linalg/wasm/lsvi.wat, lsviFull.wat) read the rows in place.
 *
 * A chunk of step h holds, for up to `capacity` transitions τ, in this order (the order the step
 * kernel reads them): the next-state rows φ(s_{h+1}^τ, a) of A − 1 actions ("other" rows, row
 * τ·(A − 1) + k) and their kept forms q = φᵀΛ_{h+1}⁻¹φ; the row of the remaining action ("taken"
 * row τ) and its form; φ_h^τ (dp); r_h^τ; and which action the taken row is (`takenAction`). A
 * feature row has d entries stored with stride dp = d rounded up to even; the padding entry is 0.
 * Chunks grow by 1/g of what the step already stores (`chunkGrowth`), so the slack is at most 1/g.
 *
 * The taken row is φ_{h+1}^τ when the transitions come as episodes, in order: then step h + 1's
 * φ rows are a copy of step h's taken rows, and the backup reads them there (`shared`), right
 * before its pass over step h reads them again, so that they come from memory once
 * (docs/performance-floor.md, "One read of φ_h"). Otherwise the taken row is the last action's, and
 * step h + 1 reads its own φ rows.
 *
 * The next-state rows (other and taken) are in panels of four rows (`panelIndex`): entries i, i+1
 * (i even) of the four rows 4P … 4P + 3 lie side by side, so that the step kernel's sweep of four
 * rows at once reads memory in order (docs/performance.md). The φ_h rows are plain rows of dp.
 */
import type { SimdKernels } from "../../linalg/wasm/simd.ts"

const PAGE = 65536
const MIN_CHUNK = 32
/** What the stored rows, their forms and the slack of the last chunks may take, over the features. */
const MEMORY_BUDGET = 1.4

/** The float64 values a chunk stores per transition: A next-state rows of dp, their A forms, φ_h (dp), r_h, the taken action (a quarter). */
export const valuesPerTransition = (actions: number, dp: number): number => actions * (dp + 1) + dp + 1.25

/**
 * How fast the chunks of a step grow: a new chunk holds 1/g of what the step already stores, so the
 * last chunk leaves at most 1/g of it empty. Every chunk costs a few µs per backup beyond its rows
 * (its streams start cold; docs/performance-floor.md, "Against the floor"), so g is the smallest in 2 … 8 for which the stored
 * values (`valuesPerTransition`) against the A·d + d features per transition, with the slack, stay
 * within MEMORY_BUDGET.
 */
export const chunkGrowth = (dim: number, actions: number, dp: number): number => {
  const features = actions * dim + dim
  const slack = MEMORY_BUDGET / (valuesPerTransition(actions, dp) / features) - 1
  return slack <= 1 / 8 ? 8 : Math.max(2, Math.ceil(1 / slack))
}

/**
 * Where entry i of next-state row r lies in its chunk's panels, in float64 values from the chunk's
 * `next`: panel P = ⌊r/4⌋ holds 4·dp values, pair ⌊i/2⌋ of the panel holds 8 (two of each of its
 * four rows), and row r mod 4 has the two values at 2·(r mod 4) in it.
 */
export const panelIndex = (dp: number, r: number, i: number): number =>
  (r >> 2) * 4 * dp + (i >> 1) * 8 + (r & 3) * 2 + (i & 1)

/** The float64 values that n next-state rows take in panels (a last, partial panel counts whole). */
export const panelValues = (dp: number, n: number): number => ((n + 3) >> 2) * 4 * dp

/** A bump allocator over a growable WebAssembly memory; offsets are bytes, 16-byte aligned. */
export class Arena {
  readonly memory: WebAssembly.Memory
  f64: Float64Array
  u16: Uint16Array
  top = 16 // offset 0 stays unused
  constructor(initialBytes: number) {
    this.memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(initialBytes / PAGE)) })
    this.f64 = new Float64Array(this.memory.buffer)
    this.u16 = new Uint16Array(this.memory.buffer)
  }
  /** Room for `count` float64 values, zeroed; returns the byte offset. */
  alloc(count: number): number {
    const at = this.top
    const end = at + ((count * 8 + 15) & ~15)
    const have = this.memory.buffer.byteLength
    if (end > have) {
      // Grow by at least a quarter of what is there, so that growing is rare; untouched pages cost
      // address space, not memory.
      const need = Math.ceil((end - have) / PAGE)
      const more = Math.max(need, Math.ceil(have / PAGE / 4))
      const max = 65536 // 4 GiB: the limit of a 32-bit WebAssembly memory
      const pages = have / PAGE
      if (pages + need > max) throw new RangeError(`LsviIncremental: the data need more than 4 GiB (${end} bytes)`)
      this.memory.grow(Math.min(more, max - pages))
      this.f64 = new Float64Array(this.memory.buffer)
      this.u16 = new Uint16Array(this.memory.buffer)
    }
    this.top = end
    return at
  }
}

/** One chunk of stored transitions of one step: byte offsets of its arrays. */
export interface Chunk {
  readonly capacity: number
  count: number
  readonly next: number // capacity × (A − 1) other rows of dp, in panels (0 at the last step)
  readonly q: number // capacity × (A − 1): their forms (0 at the last step)
  readonly taken: number // capacity taken rows of dp, in panels (0 at the last step)
  readonly qt: number // capacity: their forms (0 at the last step)
  readonly phi: number // capacity × dp
  readonly reward: number // capacity
  readonly takenAction: number // capacity uint16: the action of taken row τ (0 at the last step)
}

/**
 * Where the row of action a of transition τ is: the taken row, or other row τ·(A − 1) + k. The other
 * rows are the actions 0 … A − 2 in order, but for the taken action t < A − 1, whose slot holds
 * action A − 1 (the two rows were swapped when t became known).
 */
export const rowOfAction = (A: number, t: number, tau: number, a: number): { readonly taken: boolean; readonly row: number } =>
  a === t ? { taken: true, row: tau } : { taken: false, row: tau * (A - 1) + (a === A - 1 ? t : a) }

/** The stored transitions of every step, and the step kernel's scratch. */
export class Store {
  readonly arena = new Arena(PAGE * 4)
  readonly chunks: Array<Array<Chunk>>
  readonly count: Array<number>
  /**
   * Per step h ≥ 1: every φ_h row stored is step h − 1's taken row of the same transition, in a chunk
   * of the same place (so the backup may read it there). Turns false for good at the first
   * transition of step h for which that is not so.
   */
  readonly shared: Array<boolean>
  /** Scratch of the step kernel for one chunk (Q̄ of every row, then V̄ and V̲ of every transition). */
  val = 0
  private valRows = 0
  private readonly growth: number

  constructor(readonly horizon: number, readonly dim: number, readonly actions: number, readonly dp: number) {
    this.chunks = Array.from({ length: horizon }, () => [])
    this.count = new Array(horizon).fill(0)
    this.shared = Array.from({ length: horizon }, (_, h) => h > 0)
    this.growth = chunkGrowth(dim, actions, dp)
  }

  /** The chunk that takes the next transition of step h (a new one when the last is full). */
  chunkWithRoom(h: number): Chunk {
    const list = this.chunks[h]
    const tail = list[list.length - 1]
    if (tail !== undefined && tail.count < tail.capacity) return tail
    const { horizon: H, actions: A, dp } = this
    // A multiple of four transitions, so that a full chunk's taken rows and other rows fill whole
    // panels: the rows of a partial panel take a slower path of the step kernel.
    const capacity = (Math.max(MIN_CHUNK, Math.ceil(this.count[h] / this.growth)) + 3) & ~3
    const last = h + 1 >= H
    const a = this.arena
    // In the order the step kernel reads them: the other rows, their forms, the taken rows, theirs, φ_h.
    const next = last ? 0 : a.alloc(panelValues(dp, capacity * (A - 1)))
    const q = last ? 0 : a.alloc(capacity * (A - 1))
    const taken = last ? 0 : a.alloc(panelValues(dp, capacity))
    const qt = last ? 0 : a.alloc(capacity)
    const phi = a.alloc(capacity * dp)
    const reward = a.alloc(capacity)
    const takenAction = last ? 0 : a.alloc((capacity + 3) >> 2)
    const chunk: Chunk = { capacity, count: 0, next, q, taken, qt, phi, reward, takenAction }
    list.push(chunk)
    if (!last && capacity * (A + 1) > this.valRows) {
      this.valRows = capacity * (A + 1)
      this.val = a.alloc(this.valRows)
    }
    return chunk
  }

  /**
   * Stores one transition of step h: φ_h from the arena at `x` (byte offset, dp entries), the reward,
   * and at h < H − 1 the next state's block nextPhi[nextOff..+A·d) (A rows of d).
   */
  append(h: number, x: number, reward: number, nextPhi: ArrayLike<number> | undefined, nextOff: number): void {
    const { dim: d, actions: A, dp } = this
    const chunk = this.chunkWithRoom(h)
    const f = this.arena.f64 // read after chunkWithRoom, which may grow the memory
    const t = chunk.count
    const po = (chunk.phi >> 3) + t * dp
    const xo = x >> 3
    for (let i = 0; i < d; i++) f[po + i] = f[xo + i]
    f[(chunk.reward >> 3) + t] = reward
    if (h > 0 && this.shared[h]) this.shared[h] = this.takeRow(h, chunk, t, x)
    if (h + 1 < this.horizon && nextPhi !== undefined) {
      // Rows 0 … A − 2 to the other rows, row A − 1 to the taken row, until φ_{h+1} tells which it is.
      this.arena.u16[(chunk.takenAction >> 1) + t] = A - 1
      for (let a = 0; a < A; a++) {
        const at = this.locate(chunk, t, a).row
        for (let i = 0; i < d; i++) f[at + panelIndex(dp, 0, i)] = nextPhi[nextOff + a * d + i]
      }
    }
    chunk.count = t + 1
    this.count[h]++
  }

  /**
   * Whether φ_h of transition t of `chunk` (step h ≥ 1; at byte offset x) is a row of the next state
   * of step h − 1's transition in the same place, that one being the last stored there; if so, that
   * row becomes its taken row (swapped with the last action's, forms and all). Exact equality: a
   * φ_h that only looks alike is stored and read on its own.
   */
  private takeRow(h: number, chunk: Chunk, t: number, x: number): boolean {
    const { dim: d, actions: A, dp } = this
    const list = this.chunks[h]
    const before = this.chunks[h - 1][list.length - 1]
    if (before === undefined || before.capacity !== chunk.capacity || before.count !== t + 1) return false
    const f = this.arena.f64
    const ta = (before.takenAction >> 1) + t
    const xo = x >> 3
    let found = -1
    for (let a = A - 1; a >= 0 && found < 0; a--) {
      const ro = this.locate(before, t, a).row
      let i = 0
      while (i < d && f[ro + panelIndex(dp, 0, i)] === f[xo + i]) i++
      if (i === d) found = a
    }
    if (found < 0) return false
    if (found !== this.arena.u16[ta]) {
      // Swap the row of `found` (an other row) with the taken row, and their forms.
      const from = this.locate(before, t, found)
      const to = this.locate(before, t, this.arena.u16[ta])
      for (let i = 0; i < dp; i++) {
        const k = panelIndex(dp, 0, i)
        const v = f[from.row + k]
        f[from.row + k] = f[to.row + k]
        f[to.row + k] = v
      }
      const v = f[from.form]
      f[from.form] = f[to.form]
      f[to.form] = v
      this.arena.u16[ta] = found
    }
    return true
  }

  /**
   * Where action a of transition τ of `chunk` is kept (`rowOfAction`), in float64 indices into the
   * arena: the first entry of its row in the panels (entry i is `panelIndex(dp, 0, i)` on), and its form.
   */
  private locate(chunk: Chunk, tau: number, a: number): { readonly row: number; readonly form: number } {
    const { taken, row } = rowOfAction(this.actions, this.arena.u16[(chunk.takenAction >> 1) + tau], tau, a)
    return {
      row: ((taken ? chunk.taken : chunk.next) >> 3) + panelIndex(this.dp, row, 0),
      form: ((taken ? chunk.qt : chunk.q) >> 3) + row
    }
  }

  /**
   * Reads every stored next-state row once and returns their sum: the memory floor that the
   * backup's one pass per step over those rows cannot beat (timed by the bench). A last, partial
   * panel is read whole, as the step kernel reads it.
   */
  sweepNextStates(simd: SimdKernels | undefined): number {
    const { actions: A, horizon: H, dp } = this
    let total = 0
    for (let h = 0; h + 1 < H; h++) {
      for (const ch of this.chunks[h]) {
        total += this.sum(simd, ch.next, panelValues(dp, ch.count * (A - 1))) + this.sum(simd, ch.taken, panelValues(dp, ch.count))
      }
    }
    return total
  }

  /**
   * Reads once every value that the step kernel of an incremental backup reads (the next-state
   * rows, their forms, and the φ_h rows of every step but the last that does not read them as step
   * h − 1's taken rows) and returns their sum: the floor of the whole update's reads, beside
   * `sweepNextStates` (the bench and bench/lsvi_floors.ts).
   */
  sweepUpdateReads(simd: SimdKernels | undefined): number {
    const { actions: A, horizon: H, dp } = this
    let total = 0
    for (let h = 0; h + 1 < H; h++) {
      for (const ch of this.chunks[h]) {
        total += this.sum(simd, ch.next, panelValues(dp, ch.count * (A - 1))) + this.sum(simd, ch.q, ch.count * (A - 1)) +
          this.sum(simd, ch.taken, panelValues(dp, ch.count)) + this.sum(simd, ch.qt, ch.count)
        if (!this.shared[h]) total += this.sum(simd, ch.phi, ch.count * dp)
      }
    }
    return total
  }

  /**
   * The sum of the n float64 values at byte offset `at`, read once (the SIMD sweep, or a loop), with
   * one more value when n is odd: the arrays are allocated in 16-byte steps, so it is there.
   */
  private sum(simd: SimdKernels | undefined, at: number, n: number): number {
    if (n === 0) return 0
    const even = (n + 1) & ~1
    if (simd !== undefined) return simd.sweep(at, even)
    const f = this.arena.f64
    let total = 0
    for (let i = 0; i < even; i++) total += f[(at >> 3) + i]
    return total
  }

  /**
   * The stored data of step h, chunk by chunk: copies of φ (count × d) and, at h < H − 1, of the
   * next-state rows (count × A × d, row τ·A + a, out of their panels); r (count) as a view, valid
   * until the next append, which may grow the memory.
   */
  *storedChunks(h: number): Generator<{ readonly phi: Float64Array; readonly reward: Float64Array; readonly next: Float64Array | undefined }> {
    const { dim: d, actions: A, horizon: H, dp } = this
    for (const ch of this.chunks[h]) {
      const f = this.arena.f64
      const phi = new Float64Array(ch.count * d)
      for (let t = 0; t < ch.count; t++) phi.set(f.subarray((ch.phi >> 3) + t * dp, (ch.phi >> 3) + t * dp + d), t * d)
      let next: Float64Array | undefined
      if (h + 1 < H) {
        next = new Float64Array(ch.count * A * d)
        for (let tau = 0; tau < ch.count; tau++) {
          for (let a = 0; a < A; a++) {
            const o = this.locate(ch, tau, a).row
            for (let i = 0; i < d; i++) next[(tau * A + a) * d + i] = f[o + panelIndex(dp, 0, i)]
          }
        }
      }
      yield { phi, reward: f.subarray(ch.reward >> 3, (ch.reward >> 3) + ch.count), next }
    }
  }
}

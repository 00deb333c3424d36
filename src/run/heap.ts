/**
 * A binary min-heap under a strict order `before(a, b)`. The learner pool's waiting chunks
 * (threads/jobQueue.ts) and virtual time's next request (VirtualTime.ts) take their earliest
 * element in O(log n), where a scan of thousands of agents would cost O(n) each time.
 */
export class Heap<T> {
  private readonly items: Array<T> = []

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length
  }

  push(item: T): void {
    const h = this.items
    h.push(item)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(h[i], h[parent])) break
      ;[h[i], h[parent]] = [h[parent], h[i]]
      i = parent
    }
  }

  /** The earliest element, left in place. */
  peek(): T | undefined {
    return this.items[0]
  }

  /** The earliest element, removed. */
  pop(): T | undefined {
    const h = this.items
    if (h.length === 0) return undefined
    const top = h[0]
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.before(h[l], h[m])) m = l
        if (r < h.length && this.before(h[r], h[m])) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m], h[i]]
        i = m
      }
    }
    return top
  }

  includes(item: T): boolean {
    return this.items.includes(item)
  }
}

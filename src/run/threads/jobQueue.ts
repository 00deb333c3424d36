/**
 * The learner pool's waiting chunks (pool.ts), earliest first: a binary heap ordered by
 * `earlier`, so that taking the next chunk costs O(log n) rather than a scan of every waiting agent
 * (a run of thousands of agents has thousands waiting). A job whose agent was interrupted is
 * marked and skipped when it reaches the top.
 */
export class JobQueue<J> {
  private readonly heap: Array<J> = []
  private readonly dropped = new Set<J>()

  constructor(private readonly earlier: (a: J, b: J) => boolean) {}

  push(job: J): void {
    const h = this.heap
    h.push(job)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.earlier(h[i], h[parent])) break
      ;[h[i], h[parent]] = [h[parent], h[i]]
      i = parent
    }
  }

  /** The earliest job still wanted, removed; undefined when none is left. */
  pop(): J | undefined {
    for (;;) {
      const job = this.take()
      if (job === undefined || !this.dropped.delete(job)) return job
    }
  }

  /** Marks a queued job as no longer wanted (its agent was interrupted). */
  drop(job: J): void {
    if (this.heap.includes(job)) this.dropped.add(job)
  }

  private take(): J | undefined {
    const h = this.heap
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
        if (l < h.length && this.earlier(h[l], h[m])) m = l
        if (r < h.length && this.earlier(h[r], h[m])) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m], h[i]]
        i = m
      }
    }
    return top
  }
}

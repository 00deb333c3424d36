/**
 * The learner pool's waiting chunks (pool.ts), earliest first (a heap, src/run/heap.ts): a run of
 * thousands of agents has thousands waiting. A job whose agent was interrupted is marked and
 * skipped when it reaches the top.
 */
import { Heap } from "../heap.ts"

export class JobQueue<J> {
  private readonly heap: Heap<J>
  private readonly dropped = new Set<J>()

  constructor(earlier: (a: J, b: J) => boolean) {
    this.heap = new Heap(earlier)
  }

  push(job: J): void {
    this.heap.push(job)
  }

  /** The earliest job still wanted, removed; undefined when none is left. */
  pop(): J | undefined {
    for (;;) {
      const job = this.heap.pop()
      if (job === undefined || !this.dropped.delete(job)) return job
    }
  }

  /** Marks a queued job as no longer wanted (its agent was interrupted). */
  drop(job: J): void {
    if (this.heap.includes(job)) this.dropped.add(job)
  }
}

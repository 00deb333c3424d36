/**
 * Warns when a runner's event loop was blocked long enough to endanger its shards: a runner that
 * cannot renew its shard locks within `shardLockExpiration` loses all of them to the others
 * (when the cluster was first tried here, a 12 s block with a 6 s expiry moved 150 shards). CPU-bound work belongs in
 * worker threads; this makes a violation visible in the runner's log instead of a silent take-over.
 */
import { Duration, Effect } from "effect"
import { takeOver } from "./settings.ts"

const TICK_MS = 250

/** Blocks longer than this are reported: a third of the lock expiry, well before it is reached. */
export const BLOCK_WARNING_MS = Duration.toMillis(takeOver.shardLockExpiration) / 3

/** A scoped watchdog: a timer that measures how late it fires. */
export const eventLoopWatchdog = Effect.acquireRelease(
  Effect.sync(() => {
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      const blocked = now - last - TICK_MS
      last = now
      if (blocked > BLOCK_WARNING_MS) {
        // A plain console line: the Effect logger may itself be behind the blocked work.
        console.warn(
          `distmt runner: WARNING the event loop was blocked for ${(blocked / 1000).toFixed(1)} s; the shard locks expire after ` +
            `${Duration.toSeconds(takeOver.shardLockExpiration)} s, after which this runner loses its shards: run CPU-bound work in worker threads`
        )
      }
    }, TICK_MS)
    timer.unref()
    return timer
  }),
  (timer) => Effect.sync(() => clearInterval(timer))
)

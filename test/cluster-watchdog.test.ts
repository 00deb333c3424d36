/**
 * The runner's event-loop watchdog (src/cluster/watchdog.ts): a block long enough to endanger the
 * shard locks is reported; ordinary activity is not.
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { BLOCK_WARNING_MS, eventLoopWatchdog } from "../src/cluster/watchdog.ts"

const busy = (ms: number) => {
  const end = performance.now() + ms
  while (performance.now() < end) { /* block the event loop, as a CPU-bound handler would */ }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("the event-loop watchdog", () => {
  afterEach(() => vi.restoreAllMocks())

  it("warns after the loop was blocked longer than a third of the lock expiry, and not otherwise", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {})
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      yield* eventLoopWatchdog
      yield* Effect.promise(async () => {
        await sleep(600)
        busy(BLOCK_WARNING_MS / 4) // short blocks: no warning
        await sleep(600)
        expect(warn).not.toHaveBeenCalled()
        busy(BLOCK_WARNING_MS + 500)
        await sleep(600)
      })
    })))
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]![0])).toMatch(/event loop was blocked for \d+\.\d s; the shard locks expire after 6 s/)
  })
})

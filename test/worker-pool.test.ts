/**
 * The worker pool (src/cli/workerPool.ts) that runs a sweep's and a deep run's units: a unit
 * interrupted while it runs stops on its worker, and the next unit is not given to that worker.
 * Before, the worker went back to the pool still running the interrupted unit: on a cluster runner,
 * a deep unit replaced by a newer attempt kept its thread busy until it would have finished, and the
 * runner's next unit ran beside it. A worker that crashed is replaced. Runs beyond the pool's size
 * wait for a free worker.
 */
import { Effect, Fiber } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeWorkerPool } from "../src/cli/workerPool.ts"

const MODULE = new URL("./fixtures/poolWorker.ts", import.meta.url).href
type Request = { readonly file: string; readonly ms: number }

const size = (file: string): number => (fs.existsSync(file) ? fs.statSync(file).size : 0)

describe("the worker pool", () => {
  it("stops a unit interrupted while it runs, and gives the next unit a worker that runs nothing else", () =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-pool-"))
      const [first, second] = [path.join(dir, "first"), path.join(dir, "second")]
      const pool = yield* makeWorkerPool<Request, number>(MODULE, 1, "a test worker")
      const running = yield* Effect.forkChild(pool.run({ file: first, ms: 60_000 }, () => {}))
      while (size(first) < 5) yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(running)
      const atInterrupt = size(first)
      // The next unit runs, alone.
      const dots = yield* pool.run({ file: second, ms: 1_000 }, () => {})
      expect(dots).toBeGreaterThan(10)
      // The interrupted unit wrote nothing more (a dot every 20 ms while it ran: 50 more in that second).
      expect(size(first) - atInterrupt).toBeLessThanOrEqual(1)
    }))), 60_000)

  it("replaces a worker that crashed: its next unit runs, where it waited for ever", () =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-pool-"))
      const pool = yield* makeWorkerPool<Request, number>(MODULE, 1, "a test worker")
      const crash = yield* Effect.flip(pool.run({ file: path.join(dir, "crash"), ms: -1 }, () => {}))
      expect(crash.reason).toMatch(/a test worker stopped \(exit code 3\)/)
      const dots = yield* Effect.timeout(pool.run({ file: path.join(dir, "next"), ms: 200 }, () => {}), "20 seconds")
      expect(dots).toBeGreaterThanOrEqual(5)
    }))), 60_000)

  it("runs more units than workers, each when a worker is free", () =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-pool-"))
      const pool = yield* makeWorkerPool<Request, number>(MODULE, 2, "a test worker")
      const dots = yield* Effect.forEach([0, 1, 2, 3, 4], (i) => pool.run({ file: path.join(dir, `u${i}`), ms: 200 }, () => {}), { concurrency: "unbounded" })
      expect(dots.every((n) => n >= 5)).toBe(true)
    }))), 60_000)
})

/**
 * The time left that a sweep's progress line estimates (src/cli/sweepProgress.ts): a unit is
 * predicted from the runs of its algorithm at its own point once one has finished, since points can
 * differ in cost per instance by far more than their instances tell.
 */
import { describe, expect, it } from "vitest"
import { type ProgressUnit, sweepProgress } from "../src/cli/sweepProgress.ts"

/** A log, not a terminal: one line per finished run, which the test does not read. */
const log = () => ({ isTTY: false, write: () => true }) as unknown as NodeJS.WriteStream

const unit = (point: string, seed: number, algorithm: ProgressUnit["algorithm"] = "oracle"): ProgressUnit => ({
  key: `${algorithm}/${point}/${seed}`,
  algorithm,
  point,
  instances: 4,
  label: `${algorithm} · ${point} · seed ${seed}`
})

describe("sweep progress", () => {
  it("predicts a unit from its algorithm's runs at its own point, not at the others'", () => {
    const progress = sweepProgress(5, 1, log())
    const [cheap0, dear0, cheap1, cheap2, dear1] = [unit("sharing=policy", 0), unit("sharing=experience", 0), unit("sharing=policy", 1), unit("sharing=policy", 2), unit("sharing=experience", 1)]
    for (const u of [cheap0, dear0, cheap1, cheap2, dear1]) progress.planned(u)
    expect(progress.status()).toMatch(/estimating time left/)
    for (const [u, seconds] of [[cheap0, 1], [dear0, 100]] as const) {
      progress.started(u)
      progress.finished(u, seconds)
    }
    // Left: two cheap runs (1 s each) and a dear one (100 s), one worker.
    expect(progress.status()).toMatch(/about 1m42s left/)
    progress.started(dear1)
    progress.finished(dear1, 100)
    // Two cheap runs left: 2 s, where the algorithm's mean over both points would say 2 × 67 s.
    expect(progress.status()).toMatch(/about 2s left/)
  })

  it("falls back to the algorithm's runs at other points, then to every run", () => {
    const progress = sweepProgress(3, 1, log())
    const done = unit("agents=4", 0, "independent")
    const otherPoint = unit("agents=8", 0, "independent")
    const otherAlgorithm = unit("agents=4", 0, "distmt")
    for (const u of [done, otherPoint, otherAlgorithm]) progress.planned(u)
    progress.started(done)
    progress.finished(done, 10)
    // Both left are predicted at the one rate known: 10 s each.
    expect(progress.status()).toMatch(/about 20s left/)
  })
})

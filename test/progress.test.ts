/**
 * The live progress line (issue 13, item 1): episodes per second, instances done of total, the
 * widest certificate of the phases running now, and an estimate of the time left
 * (src/cli/eta.ts, src/cli/progress.ts), on a clock the test moves by hand.
 */
import { describe, expect, it } from "vitest"
import { phaseRemaining, RunClock } from "../src/cli/eta.ts"
import { progressLine } from "../src/cli/progress.ts"
import type { PhaseProgress } from "../src/run/runExperiment.ts"

const at = (agent: number, episodes: number, width: number, untilWidth = 0.1, maxEpisodes = 100_000): PhaseProgress => ({
  agent,
  state: { episodes, certificate: { lower: 0, upper: width, width } },
  budget: { untilWidth, maxEpisodes }
})

describe("episodes a phase still needs", () => {
  it("by the width: k·(w/target)² in all, the 1/√k shrinkage of the certificate", () => {
    expect(phaseRemaining(at(0, 100, 0.2))).toBeCloseTo(300)
    expect(phaseRemaining(at(0, 100, 0.05))).toBe(0)
  })
  it("never past the cap; under a schedule, the schedule's K", () => {
    expect(phaseRemaining(at(0, 100, 10, 0.1, 5000))).toBe(4900)
    expect(phaseRemaining(at(0, 40, 10, -Infinity, 150))).toBe(110)
  })
})

describe("the run's clock", () => {
  const clock = () => {
    let t = 0
    const c = new RunClock(() => t)
    return { c, advance: (ms: number) => (t += ms) }
  }

  it("the unit's time left: running phases by their widths, instances not started at the mean of those finished", () => {
    const { c, advance } = clock()
    c.plan([{ algorithm: "distmt", seed: 0 }])
    c.start("distmt · seed 0", 4)
    advance(1000)
    // Agent 0 finished an instance in 400 episodes; agent 1 is at width 0.2 after 100 (about 300 to go).
    c.episodesRun(400, at(0, 400, 0.1))
    c.instanceDone(0)
    c.episodesRun(100, at(1, 100, 0.2))
    expect(c.widest).toBeCloseTo(0.2)
    const e = c.estimate()
    // 500 episodes in 1 s; left: 300 (agent 1) + 2 not started × 400 = 1100 episodes, 2.2 s.
    expect(e.unitSeconds).toBeCloseTo(2.2)
    expect(e.runSeconds).toBeCloseTo(2.2)
    expect(e.untimed).toBe(0)
  })

  it("later units take the mean time of finished units of their algorithm; an algorithm not yet timed is counted, not guessed", () => {
    const { c, advance } = clock()
    c.plan([
      { algorithm: "distmt", seed: 0 },
      { algorithm: "oracle", seed: 0 },
      { algorithm: "distmt", seed: 1 },
      { algorithm: "oracle", seed: 1 },
      { algorithm: "independent", seed: 1 }
    ])
    c.start("distmt · seed 0", 1)
    advance(10_000)
    c.start("oracle · seed 0", 1)
    advance(1000)
    c.episodesRun(100, at(0, 100, 0.2))
    const e = c.estimate()
    // 3 s left of this unit (300 episodes at 100/s), then distmt (10 s) and oracle (not yet timed), independent (not yet timed).
    expect(e.unitSeconds).toBeCloseTo(3)
    expect(e.runSeconds).toBeCloseTo(13)
    expect(e.untimed).toBe(2)
    expect(progressLine("oracle · seed 0", c, true)).toBe(
      "  oracle · seed 0 (2/5): 0/1 task instances, 100 episodes (100/s), widest certificate 0.200, ETA ≈ 13 s + 2 runs not yet timed, 1.0 s"
    )
  })

  it("a finished instance leaves the widest certificate; before any episode there is no estimate", () => {
    const { c, advance } = clock()
    c.start("distmt · seed 0", 2)
    expect(c.estimate().unitSeconds).toBeUndefined()
    advance(500)
    c.episodesRun(10, at(0, 10, 2))
    c.episodesRun(10, at(1, 10, 0.5))
    expect(c.widest).toBe(2)
    c.instanceDone(0)
    expect(c.widest).toBe(0.5)
    expect(c.done).toBe(1)
  })
})

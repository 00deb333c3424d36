/**
 * SimNet (src/deep/simnet/, docs/deep.md "SimNet: identifying tasks from experience"): the box rule,
 * the batch-means intervals, the backward pass against finite differences, determinism from seeds,
 * and that training on labelled pools makes held-out instances identifiable (which fails when the
 * labels are shuffled: checked below).
 */
import { describe, expect, it } from "vitest"
import { batchMeansBox, type Box, intersect, overlaps, separation, tQuantile } from "../src/deep/simnet/box.ts"
import { assignTasks, runSimnetBench, scoreIdentification } from "../src/deep/simnet/bench.ts"
import { Explorer, FEATURES, type SimTask } from "../src/deep/simnet/features.ts"
import { embedExperience, matchBox } from "../src/deep/simnet/identify.ts"
import { embedTransitions, initSimNet, type SimNet } from "../src/deep/simnet/network.ts"
import { returnBox } from "../src/deep/simnet/returnInterval.ts"
import { parseTask } from "../src/deep/simnet/tasks.ts"
import { type LabelledPool, protoLoss, trainSimNet, type Window } from "../src/deep/simnet/train.ts"
import * as Rng from "../src/rng/Rng.ts"

const box = (lo: ReadonlyArray<number>, hi: ReadonlyArray<number>): Box => ({
  lo: Float64Array.from(lo),
  hi: Float64Array.from(hi),
  mean: Float64Array.from(lo.map((l, i) => (l + hi[i]) / 2))
})

describe("SimNet box rule", () => {
  it("boxes overlap iff every coordinate's intervals overlap (touching counts)", () => {
    expect(overlaps(box([0, 0], [1, 1]), box([0.5, 0.5], [2, 2]))).toBe(true)
    expect(overlaps(box([0, 0], [1, 1]), box([1, 1], [2, 2]))).toBe(true)
    expect(overlaps(box([0, 0], [1, 1]), box([0.5, 1.01], [2, 2]))).toBe(false) // apart in one coordinate only
    expect(overlaps(box([0, 0], [1, 1]), box([-3, -3], [-2, 0.5]))).toBe(false)
  })

  it("intersect narrows; separation is < 1 iff overlapping; matchBox takes the nearest overlapping entry or says new", () => {
    const n = intersect(box([0, 0], [2, 2]), box([1, -1], [3, 1]))
    expect([...n.lo, ...n.hi]).toEqual([1, 0, 2, 1])
    const a = box([0], [2])
    expect(separation(a, box([1.5], [3]))).toBeLessThan(1)
    expect(separation(a, box([2.5], [3]))).toBeGreaterThan(1)
    const entries = [box([0, 0], [4, 4]), box([2, 2], [3, 3]), box([10, 10], [11, 11])]
    expect(matchBox(entries, box([2.4, 2.4], [2.6, 2.6]))).toEqual({ kind: "match", entry: 1 })
    expect(matchBox(entries, box([0.1, 0.1], [0.2, 0.2]))).toEqual({ kind: "match", entry: 0 })
    expect(matchBox(entries, box([5, 5], [6, 6]))).toEqual({ kind: "new" })
    expect(matchBox([], box([5], [6]))).toEqual({ kind: "new" })
  })

  it("Student's t quantiles are right to 1e-2", () => {
    expect(tQuantile(0.025, 1e9)).toBeCloseTo(1.95996, 3)
    expect(tQuantile(0.025, 15)).toBeCloseTo(2.1314, 2)
    expect(tQuantile(0.005, 15)).toBeCloseTo(2.9467, 2)
    expect(tQuantile(0.025, 7)).toBeCloseTo(2.3646, 2)
  })

  it("batch-means boxes cover the mean at about their level, also on autocorrelated data", () => {
    const rng = Rng.make(5)
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
    let covered = 0
    const reps = 300
    for (let r = 0; r < reps; r++) {
      // AR(1) with φ = 0.9 in coordinate 0 (a block of 100 spans many correlation times), i.i.d. in 1.
      const n = 1600
      const v = new Float64Array(2 * n)
      let y = 0
      for (let t = 0; t < n; t++) {
        y = 0.9 * y + gauss()
        v[2 * t] = y
        v[2 * t + 1] = 3 + gauss()
      }
      const b = batchMeansBox(v, n, 2, 16, 0.1)
      if (b.lo[0] <= 0 && 0 <= b.hi[0] && b.lo[1] <= 3 && 3 <= b.hi[1]) covered++
    }
    expect(covered / reps).toBeGreaterThan(0.84) // nominal 0.9
  })

  it("the return box is a t interval, infinite with fewer than two episodes", () => {
    const b = returnBox([1, 2, 3, 4], 0.05)
    expect(b.mean[0]).toBe(2.5)
    expect(b.hi[0] - b.mean[0]).toBeCloseTo(tQuantile(0.025, 3) * Math.sqrt(5 / 3 / 4), 12)
    expect(returnBox([1]).hi[0]).toBe(Infinity)
  })
})

const T = (s: string): SimTask => parseTask(s)
const EASY = [T("breakout"), T("breakout:paddleSpeed=2"), T("space_invaders"), T("space_invaders:alienPeriod=6")]

const pools = (tasks: ReadonlyArray<SimTask>, frames: number, stream: number): Array<LabelledPool> =>
  tasks.map((t, i) => ({ segments: [new Explorer(t, 1, stream + i).explore(frames).features()] }))

describe("SimNet network", () => {
  it("the prototypical loss's gradient matches central finite differences", () => {
    const net0 = initSimNet(3, { hidden: 5, k: 3 })
    const data = pools([T("breakout"), T("space_invaders")], 40, 0)
    // A non-trivial standardisation, so its folding into the first layer is checked too.
    const rng = Rng.make(9)
    const net: SimNet = { ...net0, shift: net0.shift.map(() => 0.2 * rng.next()), scale: net0.scale.map(() => 0.5 + rng.next()) }
    for (let i = 0; i < net.params.length; i++) net.params[i] *= 2
    const w = (p: number, from: number, len: number): Window => ({ x: data[p].segments[0], from, to: from + len })
    const protos = [w(0, 0, 7), w(1, 3, 6)]
    const queries = [w(0, 10, 5), w(1, 20, 8), w(0, 30, 9)]
    const labels = [0, 1, 0]
    const grad = new Float64Array(net.params.length)
    const loss = protoLoss(net, protos, queries, labels, grad)
    expect(loss).toBeGreaterThan(0)
    const h = 1e-5
    let worst = 0
    let checked = 0
    for (let i = 0; i < net.params.length; i += 7) {
      const keep = net.params[i]
      net.params[i] = keep + h
      const up = protoLoss(net, protos, queries, labels)
      net.params[i] = keep - h
      const down = protoLoss(net, protos, queries, labels)
      net.params[i] = keep
      const fd = (up - down) / (2 * h)
      worst = Math.max(worst, Math.abs(fd - grad[i]) / Math.max(1e-3, Math.abs(fd) + Math.abs(grad[i])))
      checked++
    }
    expect(checked).toBeGreaterThan(60)
    expect(worst).toBeLessThan(1e-5)
  })

  it("is deterministic from its seeds, and the seed matters", () => {
    const data = pools(EASY.slice(0, 2), 300, 0)
    const a = trainSimNet(initSimNet(1, { hidden: 8, k: 4 }), data, { seed: 2, steps: 5, window: 32 })
    const b = trainSimNet(initSimNet(1, { hidden: 8, k: 4 }), data, { seed: 2, steps: 5, window: 32 })
    const c = trainSimNet(initSimNet(1, { hidden: 8, k: 4 }), data, { seed: 3, steps: 5, window: 32 })
    expect([...a.net.params]).toEqual([...b.net.params])
    expect(a.losses).toEqual(b.losses)
    expect([...a.net.params]).not.toEqual([...c.net.params])
    expect([...initSimNet(1).params]).not.toEqual([...initSimNet(2).params])
    // The same instances from the same seed and stream.
    expect([...new Explorer(EASY[2], 4, 1).explore(200).features()]).toEqual([...new Explorer(EASY[2], 4, 1).explore(200).features()])
  })

  it("features have a fixed length whatever the game's channel count", () => {
    for (const t of [T("breakout"), T("space_invaders"), T("seaquest"), T("freeway"), T("asterix")]) {
      const e = new Explorer(t, 1, 0).explore(50)
      expect(e.features().length).toBe(50 * FEATURES)
      expect(e.features().every(Number.isFinite)).toBe(true)
    }
  })
})

/**
 * Trained on one instance per task (labels = pool index), SimNet's learned coordinates alone must
 * put windows of 128 transitions of *other* instances of those tasks nearest their own task's mean.
 * With the labels shuffled (a planted bug) this accuracy falls to chance level or so.
 */
const heldOutAccuracy = (shuffleLabels: boolean): number => {
  const train = pools(EASY, 1500, 0)
  const net = trainSimNet(initSimNet(1, { hidden: 16, k: 6 }), train, { seed: 1, steps: 60, window: 96, shuffleLabels }).net
  const centre = train.map((p) => {
    const n = p.segments[0].length / FEATURES
    const z = embedTransitions(net, p.segments[0], n)
    const m = new Float64Array(net.k)
    for (let t = 0; t < n; t++) for (let i = 0; i < net.k; i++) m[i] += z[t * net.k + i] / n
    return m
  })
  let right = 0
  let total = 0
  pools(EASY, 1280, 100).forEach((p, label) => {
    const x = p.segments[0]
    for (let from = 0; from + 128 <= x.length / FEATURES; from += 128) {
      const z = embedTransitions(net, x.subarray(from * FEATURES, (from + 128) * FEATURES), 128)
      const m = new Float64Array(net.k)
      for (let t = 0; t < 128; t++) for (let i = 0; i < net.k; i++) m[i] += z[t * net.k + i] / 128
      let best = -1
      let bestD = Infinity
      centre.forEach((c, j) => {
        let d = 0
        for (let i = 0; i < net.k; i++) d += (m[i] - c[i]) ** 2
        if (d < bestD) [best, bestD] = [j, d]
      })
      if (best === label) right++
      total++
    }
  })
  return right / total
}

describe("SimNet identification", () => {
  it("training on labelled pools makes held-out windows identifiable, and shuffled labels do not", () => {
    const trained = heldOutAccuracy(false)
    const shuffled = heldOutAccuracy(true)
    expect(trained).toBeGreaterThan(0.9)
    expect(shuffled).toBeLessThan(trained - 0.2)
  })

  it("the protocol identifies every instance of an easy task set, learned coordinates only, deterministically", () => {
    const options = {
      tasks: EASY,
      agents: 8,
      frames: 1500,
      seed: 1,
      k: 6,
      hidden: 16,
      trainSteps: 60,
      retrainSteps: 20,
      window: 96,
      withInputs: false,
      methods: ["simnet" as const]
    }
    const a = runSimnetBench(options)
    const b = runSimnetBench(options)
    expect(a.results[0].instances).toEqual(b.results[0].instances)
    expect(a.results[0].accuracy).toBeGreaterThanOrEqual(7 / 8)
  })

  it("scores duplicates, wrong matches and unidentified instances as errors", () => {
    expect(scoreIdentification([{ task: 0, entry: 0 }, { task: 1, entry: 1 }, { task: 0, entry: 0 }])).toEqual({ accuracy: 1, entries: 2 })
    // Task 1 matched task 0's entry: wrong. A second entry for task 0: wrong. Unidentified: wrong.
    const s = scoreIdentification([{ task: 0, entry: 0 }, { task: 1, entry: 0 }, { task: 0, entry: 1 }, { task: 2, entry: -1 }])
    expect(s.accuracy).toBe(0.25)
    expect(s.entries).toBe(2)
    expect([...assignTasks(3, 6, 1)].sort()).toEqual([0, 0, 1, 1, 2, 2])
  })

  it("an instance's box contains the instance's own mean and the rule uses it", () => {
    const net = initSimNet(1, { hidden: 8, k: 4 })
    const f = new Explorer(EASY[0], 1, 0).explore(800).features()
    const b = embedExperience(net, f, { withInputs: false })
    expect(b.lo.length).toBe(4)
    expect(embedExperience(net, f).lo.length).toBe(4 + FEATURES)
    for (let i = 0; i < 4; i++) expect(b.lo[i] <= b.mean[i] && b.mean[i] <= b.hi[i]).toBe(true)
    expect(matchBox([b], b)).toEqual({ kind: "match", entry: 0 })
  })
})

describe("parseTask", () => {
  it("reads game:field=value lists and names a bad part", () => {
    expect(parseTask("breakout:paddleSpeed=2,ballSpeed=0.5")).toEqual({
      game: "breakout",
      context: { paddleSpeed: 2, ballSpeed: 0.5 },
      label: "breakout paddleSpeed=2 ballSpeed=0.5"
    })
    expect(() => parseTask("pong")).toThrow(/unknown game "pong"/)
    expect(() => parseTask("breakout:speed=2")).toThrow(/no parameter "speed"/)
    expect(() => parseTask("breakout:paddleSpeed=9")).toThrow(/paddleSpeed/)
  })

  it("takes bench forgetting's syntax (fields after colons), and its own older one (commas); refuses a second '=', an empty field", () => {
    // The two commands wrote a task two ways: `breakout:paddleSpeed=2:ballSpeed=0.5` was refused here.
    const both = { game: "breakout", context: { paddleSpeed: 2, ballSpeed: 0.5 }, label: "breakout paddleSpeed=2 ballSpeed=0.5" }
    expect(parseTask("breakout:paddleSpeed=2:ballSpeed=0.5")).toEqual(both)
    expect(parseTask("breakout:paddleSpeed=2,ballSpeed=0.5")).toEqual(both)
    expect(() => parseTask("breakout:paddleSpeed=2=3")).toThrow(
      '--task "breakout:paddleSpeed=2=3": paddleSpeed needs a number, got "2=3"; a task is game:field=value:field=value'
    )
    expect(() => parseTask("breakout:paddleSpeed=2::ballSpeed=0.5")).toThrow(
      '--task "breakout:paddleSpeed=2::ballSpeed=0.5": field 2 is empty; a task is game:field=value:field=value'
    )
    expect(() => parseTask("breakout:paddleSpeed=2,")).toThrow(/field 2 is empty/)
    // A game alone, or with an empty field list, is the standard game.
    expect(parseTask("breakout:").context).toEqual({})
    expect(parseTask("space_invaders").context).toEqual({})
  })
})

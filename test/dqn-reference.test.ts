/**
 * The TypeScript reference of the MinAtar network (src/deep/reference.ts): its gradients against
 * central finite differences of its own loss, and Adam against the formula written out.
 */
import { describe, expect, it } from "vitest"
import { cloneParams, initParams, type NetShape, zerosLike } from "../src/deep/network.ts"
import { adamStep, huber, makeTdWorkspace, tdLossAndGrad } from "../src/deep/reference.ts"
import * as Rng from "../src/rng/Rng.ts"
import { randomBatch } from "./dqn-helpers.ts"

// A small network of the same structure, so every parameter can be checked in milliseconds.
const shape: NetShape = { channels: 2, convChannels: 3, hidden: 7, actions: 4 }

describe("DQN reference network", () => {
  it("gradients of the Huber TD loss match central finite differences for every parameter", () => {
    const p = initParams(shape, Rng.make(3))
    // Larger weights than the default so the outputs (and TD errors) reach past the Huber kink.
    for (const t of p) for (let j = 0; j < t.length; j++) t[j] *= 3
    const target = initParams(shape, Rng.make(4))
    const batch = randomBatch(shape, 6, 5, 0.3)
    const ws = makeTdWorkspace(shape, 6)
    const g = zerosLike(shape)
    const loss = tdLossAndGrad(shape, p, target, batch, g, ws)
    expect(loss).toBeGreaterThan(0)
    const scratch = zerosLike(shape)
    const lossAt = (q: typeof p) => tdLossAndGrad(shape, q, target, batch, scratch, ws)
    const h = 1e-3
    let checked = 0, bad = 0, worst = 0
    const q = cloneParams(p)
    for (let i = 0; i < 6; i++) {
      // Every parameter, except every 6th of the 1,344 dense weights (they are all alike).
      for (let j = 0; j < p[i].length; j += i === 2 ? 6 : 1) {
        q[i][j] = p[i][j] + h
        const up = lossAt(q)
        q[i][j] = p[i][j] - h
        const down = lossAt(q)
        q[i][j] = p[i][j]
        const fd = (up - down) / (2 * h)
        const err = Math.abs(fd - g[i][j])
        checked++
        // A ReLU or the Huber kink inside ±h makes the difference quotient wrong at a few points.
        if (err > 2e-3 * Math.max(1, Math.abs(fd))) bad++
        else worst = Math.max(worst, err)
      }
    }
    expect(checked).toBe(2 * 3 * 9 + 3 + (7 * 192) / 6 + 7 + 4 * 7 + 4)
    expect(bad).toBeLessThanOrEqual(checked * 0.01)
    expect(worst).toBeLessThan(2e-3)
    // The gradient is not trivially zero.
    expect(Math.max(...g.map((t) => Math.max(...t.map(Math.abs))))).toBeGreaterThan(1e-3)
  })

  it("Huber is quadratic inside [−1, 1] and linear outside", () => {
    expect(huber(0.5)).toBeCloseTo(0.125, 12)
    expect(huber(-2)).toBeCloseTo(1.5, 12)
    expect(huber(1)).toBeCloseTo(0.5, 12)
  })

  it("one Adam step follows PyTorch's formula", () => {
    const p = initParams(shape, Rng.make(6))
    const g = initParams(shape, Rng.make(7))
    const before = cloneParams(p)
    const c = { learningRate: 0.01, adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8 }
    const st = { m: zerosLike(shape), v: zerosLike(shape), t: 0 }
    adamStep(c, p, g, st)
    adamStep(c, p, g, st)
    // Two steps with the same gradient g: m = (1 − 0.9²)g/(1 − 0.9²) = g after bias correction,
    // v likewise g², so each step moves θ by lr · g/(|g| + ε) ≈ lr · sign(g).
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < p[i].length; j++) {
        const gj = g[i][j]
        const step = (c.learningRate * gj) / (Math.abs(gj) + c.adamEpsilon)
        expect(p[i][j]).toBeCloseTo(before[i][j] - 2 * step, 6)
      }
    }
    expect(st.t).toBe(2)
  })
})

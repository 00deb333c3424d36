/**
 * The fast engine (onnxruntime for the dense layers, the convolution, w2's gradient and Adam in
 * WebAssembly) against the TypeScript reference on the full MinAtar network: Q-values, gradients
 * (with and without the EWC term), and one Adam step (weights and moments); and its parts: the
 * embedded WebAssembly is the .wat sources compiled, w2's gradient (alone and inside Adam's step),
 * and the convolution's patches are the observations' patches.
 *
 * Tolerance: both compute in float32 with different summation orders, so values agree to about
 * 1e-6 of their scale; the bounds below are 1e-5 of the largest magnitude (relative) and 1e-7
 * absolute for weights after one step of size ≤ 2.5e-4.
 */
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { dqnConfig } from "../src/deep/config.ts"
import type { Engine } from "../src/deep/engine.ts"
import { makeEngine } from "../src/deep/makeEngine.ts"
import { initParams, type NetShape, PARAM_NAMES } from "../src/deep/network.ts"
import { convWasmBytes, type DqnKernels, dqnWasmBytes, stepWasmBytes, stepWasmPlainBytes } from "../src/deep/wasm/kernels.ts"
import * as Rng from "../src/rng/Rng.ts"
import { maxDiff, randomBatch } from "./dqn-helpers.ts"

const shape: NetShape = { channels: 4, convChannels: 16, hidden: 128, actions: 6 }
const config = dqnConfig()
const REL = 1e-5

const pair = async (seed: number): Promise<readonly [Engine, Engine]> => {
  const p = initParams(shape, Rng.make(seed))
  return [await makeEngine("ts", shape, config, p), await makeEngine("onnx", shape, config, p)]
}

const opened: Array<Engine> = []
afterAll(async () => {
  for (const e of opened) await e.dispose()
})

describe("onnx engine against the TypeScript reference", () => {
  it("gives the same Q-values for a batch of observations", async () => {
    const [ts, onnx] = await pair(1)
    opened.push(ts, onnx)
    const b = randomBatch(shape, 5, 2)
    const a = (await ts.qValues(b.obs, 5)).slice()
    const o = await onnx.qValues(b.obs, 5)
    expect(o.length).toBe(5 * 6)
    let d = 0, scale = 0
    for (let i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - o[i]))
      scale = Math.max(scale, Math.abs(a[i]))
    }
    expect(scale).toBeGreaterThan(1e-3)
    expect(d).toBeLessThan(REL * scale)
  })

  it("gives the same Q-values for one observation (the acting pass), whatever the network's shape", async () => {
    // Batch 1 runs the WebAssembly pass, not the graph: check it on the game shapes and on a
    // hidden size that is not a multiple of 16 (its dot products' tail).
    for (const [channels, hidden, actions, seed] of [[4, 128, 6, 11], [10, 64, 18, 12], [6, 20, 6, 13]] as const) {
      const s: NetShape = { channels, convChannels: 16, hidden, actions }
      const p = initParams(s, Rng.make(seed))
      const ts = await makeEngine("ts", s, config, p), onnx = await makeEngine("onnx", s, config, p)
      opened.push(ts, onnx)
      for (let k = 0; k < 4; k++) {
        const b = randomBatch(s, 1, seed * 10 + k, 0.1 + 0.2 * k)
        const a = (await ts.qValues(b.obs, 1)).slice()
        const o = await onnx.qValues(b.obs, 1)
        expect(o.length).toBe(actions)
        let d = 0, scale = 0
        for (let i = 0; i < actions; i++) {
          d = Math.max(d, Math.abs(a[i] - o[i]))
          scale = Math.max(scale, Math.abs(a[i]))
        }
        expect(scale).toBeGreaterThan(1e-3)
        expect(d).toBeLessThan(REL * scale)
      }
    }
  })

  it("gives the same gradients of the TD loss, after the target network has moved away", async () => {
    const [ts, onnx] = await pair(3)
    opened.push(ts, onnx)
    // Train both a few steps on different batches so online ≠ target and Adam's state is non-trivial.
    for (let k = 0; k < 3; k++) {
      const b = randomBatch(shape, 32, 10 + k)
      await ts.trainStep(b)
      await onnx.trainStep(b)
    }
    const b = randomBatch(shape, 32, 20)
    const gt = await ts.gradients(b)
    const go = await onnx.gradients(b)
    const { abs, scale } = maxDiff(gt, go)
    expect(scale).toBeGreaterThan(1e-3)
    expect(abs).toBeLessThan(REL * scale)
  })

  it("gives the same gradient of each parameter on other shapes (filters and dense rows not in fours)", async () => {
    // The convolution runs outside the graph (wasm/conv.wat `convForward`) on filters padded to a
    // multiple of four: 6 and 5 filters pad two and three. The dense layer's weight gradient too
    // (`denseWeightGrad`), in blocks of four rows: hidden sizes 21 and 6 leave one and two rows
    // over. Each tensor is compared on its own scale, so a wrong one cannot hide behind a larger
    // gradient elsewhere.
    for (const [channels, convChannels, hidden, actions, seed] of [[6, 6, 21, 6, 51], [4, 5, 6, 3, 52], [10, 16, 32, 18, 53]] as const) {
      const s: NetShape = { channels, convChannels, hidden, actions }
      const p = initParams(s, Rng.make(seed))
      const ts = await makeEngine("ts", s, config, p), onnx = await makeEngine("onnx", s, config, p)
      opened.push(ts, onnx)
      const b = randomBatch(s, 32, seed, 0.2)
      const gt = await ts.gradients(b), go = await onnx.gradients(b)
      PARAM_NAMES.forEach((name, i) => {
        let abs = 0, scale = 0
        gt[i].forEach((x, j) => {
          abs = Math.max(abs, Math.abs(x - go[i][j]))
          scale = Math.max(scale, Math.abs(x))
        })
        expect(scale, name).toBeGreaterThan(1e-4)
        expect(abs, name).toBeLessThan(REL * scale)
      })
    }
  })

  it("takes the same Adam step: weights and both moments", async () => {
    const [ts, onnx] = await pair(4)
    opened.push(ts, onnx)
    const b = randomBatch(shape, 32, 30)
    const before = ts.params()
    const lt = await ts.trainStep(b)
    const lo = await onnx.trainStep(b)
    expect(Math.abs(lt - lo)).toBeLessThan(REL * Math.max(1, Math.abs(lt)))
    const moved = maxDiff(ts.params(), before)
    expect(moved.abs).toBeGreaterThan(1e-4) // the step did something
    expect(maxDiff(ts.params(), onnx.params()).abs).toBeLessThan(1e-7)
    const at = ts.adamState(), ao = onnx.adamState()
    expect(ao.t).toBe(1)
    const m = maxDiff(at.m, ao.m), v = maxDiff(at.v, ao.v)
    expect(m.abs).toBeLessThan(REL * m.scale)
    expect(v.abs).toBeLessThan(REL * v.scale)
  })

  it("adds the same EWC gradient λF(θ − θ*)", async () => {
    const [ts, onnx] = await pair(5)
    opened.push(ts, onnx)
    const anchor = initParams(shape, Rng.make(6))
    const weight = initParams(shape, Rng.make(7)).map((t) => t.map((x) => 50 * Math.abs(x))) as unknown as typeof anchor
    const b = randomBatch(shape, 32, 40)
    const plain = await onnx.gradients(b)
    await ts.setEwc({ weight, anchor })
    await onnx.setEwc({ weight, anchor })
    const gt = await ts.gradients(b)
    const go = await onnx.gradients(b)
    expect(maxDiff(go, plain).abs).toBeGreaterThan(1e-3) // the term is there
    const { abs, scale } = maxDiff(gt, go)
    expect(abs).toBeLessThan(REL * scale)
    await onnx.setEwc(undefined)
    expect(maxDiff(await onnx.gradients(b), plain).abs).toBe(0)
  })
})

describe("the engine's parts", () => {
  it("the embedded bytes are dqn.wat, conv.wat and step.wat compiled (npm run build:wasm is up to date)", async () => {
    const { compileWat } = (await import("../tools/wat.mjs" as string)) as {
      compileWat: (text: string, o: { fma: boolean }) => Promise<Uint8Array>
    }
    const source = (name: string) => readFile(fileURLToPath(new URL(`../src/deep/wasm/${name}`, import.meta.url)), "utf8")
    const dqn = await source("dqn.wat"), conv = await source("conv.wat"), step = await source("step.wat")
    expect(Buffer.from(await compileWat(dqn, { fma: false })).equals(Buffer.from(dqnWasmBytes()))).toBe(true)
    expect(Buffer.from(await compileWat(conv, { fma: false })).equals(Buffer.from(convWasmBytes()))).toBe(true)
    expect(Buffer.from(await compileWat(step, { fma: true })).equals(Buffer.from(stepWasmBytes()))).toBe(true)
    expect(Buffer.from(await compileWat(step, { fma: false })).equals(Buffer.from(stepWasmPlainBytes()))).toBe(true)
  })

  it("denseWeightGrad forms dzᵀx, with fused multiply-adds and without, on row counts that leave rows over", () => {
    // Both builds of the module (the engine takes the first this runtime accepts), against the
    // sum in float64; H = 7 takes one block of four rows and three single rows.
    for (const bytes of [stepWasmBytes(), stepWasmPlainBytes()]) {
      if (!WebAssembly.validate(bytes)) continue
      const memory = new WebAssembly.Memory({ initial: 4, maximum: 4 })
      const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as DqnKernels
      for (const [B, H, F] of [[32, 128, 64], [5, 7, 16], [3, 1, 8]] as const) {
        const f = new Float32Array(memory.buffer)
        const rng = Rng.make(B * H * F)
        const dz = 0, x = B * H, g = x + B * F, panel = g + H * F
        for (let i = 0; i < g; i++) f[i] = rng.next() - 0.5
        f.fill(Number.NaN, g, panel + B * F)
        k.denseWeightGrad(dz * 4, x * 4, g * 4, B, H, F, panel * 4)
        for (let i = 0; i < H; i++) {
          for (let j = 0; j < F; j++) {
            let sum = 0
            for (let b = 0; b < B; b++) sum += f[dz + b * H + i] * f[x + b * F + j]
            expect(Math.abs(f[g + i * F + j] - sum), `B ${B} H ${H} F ${F}: g[${i}, ${j}]`).toBeLessThan(1e-5)
          }
        }
      }
    }
  })

  it("denseWeightGradAdam takes the same Adam step as denseWeightGrad then adam, bit for bit, with and without EWC", () => {
    // The training step forms w2's gradient four rows at a time and hands each block to Adam at
    // once; the gradients path writes it whole and Adam runs over it after. Same numbers each way,
    // on row counts that leave rows over (H = 7: one block and three single rows).
    for (const bytes of [stepWasmBytes(), stepWasmPlainBytes()]) {
      if (!WebAssembly.validate(bytes)) continue
      for (const [B, H, F, ewc] of [[32, 128, 64, 0], [5, 7, 16, 1], [3, 1, 8, 1]] as const) {
        const runs = [true, false].map((fused) => {
          const memory = new WebAssembly.Memory({ initial: 8, maximum: 8 })
          const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as DqnKernels
          const f = new Float32Array(memory.buffer)
          // dz, x, then w, m, v, lf, anchor (H·F each), then g, the panels and the rows
          const dz = 0, x = B * H, w = x + B * F, m = w + H * F, v = m + H * F, lf = v + H * F, anchor = lf + H * F
          const g = anchor + H * F, panel = g + H * F, rows = panel + B * F
          const rng = Rng.make(B * H * F + ewc)
          for (let i = 0; i < g; i++) f[i] = rng.next() - 0.5
          for (let i = v; i < lf; i++) f[i] = Math.abs(f[i]) // second moments are ≥ 0
          const factors = [0.9, 0.1, 0.999, 0.001, 2.5e-4, 1.2, 1e-8] as const
          if (fused) k.denseWeightGradAdam(dz * 4, x * 4, B, H, F, panel * 4, rows * 4, w * 4, m * 4, v * 4, ...factors, ewc, lf * 4, anchor * 4)
          else {
            k.denseWeightGrad(dz * 4, x * 4, g * 4, B, H, F, panel * 4)
            k.adam(w * 4, g * 4, m * 4, v * 4, H * F, ...factors, ewc, lf * 4, anchor * 4)
          }
          return { w: f.slice(w, w + H * F), m: f.slice(m, m + H * F), v: f.slice(v, v + H * F) }
        })
        for (const part of ["w", "m", "v"] as const) {
          const [fused, separate] = [runs[0][part], runs[1][part]]
          const at = fused.findIndex((y, i) => !Object.is(y, separate[i]))
          expect(at, `B ${B} H ${H} F ${F} ewc ${ewc}: ${part}[${at}] ${fused[at]} against ${separate[at]}`).toBe(-1)
        }
      }
    }
  })

  it("adam sets each lane of a moment below the smallest normal float32 to +0, the other lanes untouched", () => {
    // WebAssembly has no flush-to-zero mode, and subnormal moments make x86 very slow: the kernel
    // flushes them itself. Lanes chosen so that each moment is flushed or kept on its own: m tiny
    // beside v normal and the reverse, one of each just above the threshold, a negative one
    // (flushed to +0, not −0), and four ordinary lanes with a gradient.
    const TINY = 1.1754944e-38
    const m0 = [1e-3, 1e-38, 2e-38, -1e-38, 0.2, -0.1, 0.05, 1e-3]
    const v0 = [1e-38, 1e-3, 1.2e-38, 1e-3, 0.3, 0.01, 1e-4, 2e-38]
    const g0 = [0, 0, 0, 0, 0.5, -0.25, 1e-3, 0]
    const [b1, nb1, b2, nb2] = [0.9, 0.1, 0.999, 0.001].map(Math.fround)
    const f = Math.fround
    const flushed = (x: number) => (Math.abs(x) < TINY ? 0 : x)
    for (const bytes of [stepWasmBytes(), stepWasmPlainBytes()]) {
      if (!WebAssembly.validate(bytes)) continue
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 })
      const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as DqnKernels
      const a = new Float32Array(memory.buffer)
      const w = 0, g = 8, m = 16, v = 24
      a.set([1, 1, 1, 1, 1, 1, 1, 1], w)
      a.set(g0, g)
      a.set(m0, m)
      a.set(v0, v)
      const [gs, ms, vs] = [a.slice(g, g + 8), a.slice(m, m + 8), a.slice(v, v + 8)]
      k.adam(w * 4, g * 4, m * 4, v * 4, 8, b1, nb1, b2, nb2, 2.5e-4, 1.2, 1e-8, 0, 0, 0)
      for (let j = 0; j < 8; j++) {
        const mj = flushed(f(f(b1 * ms[j]) + f(nb1 * gs[j])))
        const vj = flushed(f(f(b2 * vs[j]) + f(nb2 * f(gs[j] * gs[j]))))
        expect(Object.is(a[m + j], mj), `m lane ${j}: ${a[m + j]} against ${mj}`).toBe(true)
        expect(Object.is(a[v + j], vj), `v lane ${j}: ${a[v + j]} against ${vj}`).toBe(true)
      }
      // the lanes the test means to flush are flushed, and the near ones kept
      expect([a[m + 1], a[m + 3], a[v + 0]]).toEqual([0, 0, 0])
      expect(Object.is(a[m + 3], 0)).toBe(true)
      expect(a[m + 2]).toBeGreaterThanOrEqual(TINY)
      expect(a[v + 2]).toBeGreaterThanOrEqual(TINY)
      // a weight whose first moment is now +0 does not move
      expect(a[w + 1]).toBe(1)
    }
  })

  it("convForward writes each observation's 3×3 patches, batch after batch (earlier entries cleared)", () => {
    // The definition, entry by entry, on batches of rising and falling density so that a later
    // batch has fewer lit cells than the one before; the target network's pass (patches 0) writes none.
    const C = 3, K = 4, n = 5
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 4 })
    const k = new WebAssembly.Instance(new WebAssembly.Module(convWasmBytes()), { env: { memory } }).exports as unknown as DqnKernels
    const f = new Float32Array(memory.buffer)
    // w1 [K, C, 3, 3], b1 [K], obs [n, C, 10, 10], h1 [n, K·64], scratch, patches [n·64, C·9]
    const w1 = 0, b1 = w1 + K * C * 9, obs = b1 + K, h1 = obs + n * C * 100, scratch = h1 + n * K * 64
    const patches = scratch + (C * 9 + 64) * K, P = n * 64 * C * 9
    for (const [seed, density] of [[1, 0.3], [2, 0.02], [3, 0], [4, 0.5], [5, 0.1]] as const) {
      const rng = Rng.make(seed)
      for (let i = 0; i < n * C * 100; i++) f[obs + i] = rng.next() < density ? 1 + rng.int(3) : 0
      f.fill(7, patches + P, patches + P + 16) // past the end: must stay
      k.convForward(w1 * 4, b1 * 4, obs * 4, n, C, K, h1 * 4, 0, scratch * 4, patches * 4)
      k.convForward(w1 * 4, b1 * 4, obs * 4, n, C, K, h1 * 4, 0, scratch * 4, 0)
      let lit = 0
      for (let b = 0; b < n; b++)
        for (let oy = 0; oy < 8; oy++)
          for (let ox = 0; ox < 8; ox++)
            for (let c = 0; c < C; c++)
              for (let ky = 0; ky < 3; ky++)
                for (let kx = 0; kx < 3; kx++) {
                  const want = f[obs + b * C * 100 + c * 100 + (oy + ky) * 10 + ox + kx]
                  const at = (b * 64 + oy * 8 + ox) * C * 9 + c * 9 + ky * 3 + kx
                  if (f[patches + at] !== want) expect.fail(`batch ${seed}: patch entry ${at} is ${f[patches + at]}, expected ${want}`)
                  if (want !== 0) lit++
                }
      expect(lit > 0).toBe(density > 0)
      expect(f[patches + P]).toBe(7)
    }
  })
})

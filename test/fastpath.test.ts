/**
 * The fast path of issue 5 (src/learner/LsviIncremental.ts): the incremental backup for next states
 * that never repeat, checked against the direct formula of docs/algorithm.md §2 ("same numbers": w̄ and w̲
 * to 1e-8 relative), in both kernels (WebAssembly SIMD and TypeScript), through every path that
 * changes the kept state: one episode per backup, several episodes per backup, more pending changes
 * than are queued (forms recomputed), periodic refreshes, the backup from scratch; and against the
 * grouped learner `Lsvi` on finite MDPs, where states do repeat.
 *
 * Steps h are 0-based as in the code: the cap of Q̄ at step h is H − h, and V̄_H ≡ 0.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { dump, featureBytesOf, runBench } from "../src/bench/lsviBench.ts"
import { type Episode, episode, type SyntheticShape } from "../src/bench/synthetic.ts"
import { checkOptions } from "../src/cli/bench.ts"
import { type FeatureTable, oneHotFeatures } from "../src/env/FiniteMdp.ts"
import { makeInstance } from "../src/env/Instance.ts"
import { buildLinearChain } from "../src/env/linearChain.ts"
import { buildRandomLinear, randomLinearFeatures } from "../src/env/randomLinear.ts"
import { inverseSpd, maxRelativeError, scaledIdentity, solveSpd } from "../src/linalg/kernels.ts"
import { readNpy, writeNpy } from "../src/linalg/npy.ts"
import { lsviFullWasmBytes, lsviWasmBytes, simdAvailable } from "../src/linalg/wasm/simd.ts"
import { Lsvi, type LsviConfig } from "../src/learner/Lsvi.ts"
import { LsviIncremental } from "../src/learner/LsviIncremental.ts"
import { chunkGrowth } from "../src/learner/incremental/Store.ts"
import * as Rng from "../src/rng/Rng.ts"

// ---------------------------------------------------------------------------------------------
// The direct formula of §2 on raw episodes: Λ_h built explicitly, Λ_{h+1}⁻¹ by a direct inverse,
// w_h by a Cholesky solve. Written here from the definitions, sharing nothing with the learner.

interface Direct {
  readonly wUpper: Float64Array
  readonly wLower: Float64Array
  /** Greedy choices π_{h+1}(s') that rounding could flip (see test/learner.test.ts); w̲ is compared only without them. */
  readonly fragile: number
}

const direct = (config: LsviConfig, data: ReadonlyArray<Episode>): Direct => {
  const { actions: A, beta, dim: d, horizon: H, lambda } = config
  const wUpper = new Float64Array(H * d)
  const wLower = new Float64Array(H * d)
  let fragile = 0
  let nextInv = scaledIdentity(d, 1 / lambda)
  for (let h = H - 1; h >= 0; h--) {
    const Lambda = scaledIdentity(d, lambda)
    const rhsU = new Float64Array(d)
    const rhsL = new Float64Array(d)
    for (const e of data) {
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) Lambda.data[i * d + j] += e.phi[h * d + i] * e.phi[h * d + j]
      let vU = 0
      let vL = 0
      if (h + 1 < H) {
        const raw: Array<number> = []
        const size: Array<number> = []
        const lows: Array<number> = []
        for (let a = 0; a < A; a++) {
          const o = (h * A + a) * d
          let mean = 0
          let meanLow = 0
          let form = 0
          let scale = 0
          for (let i = 0; i < d; i++) {
            mean += wUpper[(h + 1) * d + i] * e.next[o + i]
            meanLow += wLower[(h + 1) * d + i] * e.next[o + i]
            scale += Math.abs(wUpper[(h + 1) * d + i] * e.next[o + i])
            for (let j = 0; j < d; j++) form += e.next[o + i] * nextInv.data[i * d + j] * e.next[o + j]
          }
          const bonus = beta * Math.sqrt(Math.max(form, 0))
          raw.push(mean + bonus)
          size.push(scale + bonus)
          lows.push(Math.max(meanLow - bonus, 0))
        }
        const cap = H - h - 1
        const q = raw.map((x) => Math.min(x, cap))
        let best = 0
        for (let a = 1; a < A; a++) if (q[a] > q[best]) best = a
        const solidlyCapped = raw[best] - cap > 1e-9 * Math.max(size[best], cap)
        if (!solidlyCapped) {
          for (let a = 0; a < A; a++) {
            if (a === best) continue
            // Bit-identical rows tie exactly in any implementation: no rounding can split them.
            let identical = true
            for (let i = 0; i < d; i++) identical &&= e.next[(h * A + a) * d + i] === e.next[(h * A + best) * d + i]
            if (!identical && Math.abs(q[a] - q[best]) <= 1e-9 * Math.max(size[a], size[best])) fragile++
          }
        }
        vU = q[best]
        vL = lows[best]
      }
      for (let i = 0; i < d; i++) {
        rhsU[i] += e.phi[h * d + i] * (e.reward[h] + vU)
        rhsL[i] += e.phi[h * d + i] * (e.reward[h] + vL)
      }
    }
    wUpper.set(solveSpd(Lambda, rhsU), h * d)
    wLower.set(solveSpd(Lambda, rhsL), h * d)
    nextInv = inverseSpd(Lambda)
  }
  return { wUpper, wLower, fragile }
}

const agree = (actual: Float64Array, expected: Float64Array): boolean => {
  const scale = expected.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
  if (scale === 0) return actual.every((x) => Math.abs(x) <= 1e-300)
  return maxRelativeError(actual, expected) <= 1e-8
}

const add = (learner: LsviIncremental, e: Episode, config: LsviConfig): void => {
  const { actions: A, dim: d, horizon: H } = config
  for (let h = 0; h < H; h++) learner.addTransitionFeatures(h, e.phi, h * d, e.reward[h], e.next, h * A * d)
}

const kernels: ReadonlyArray<"wasm" | "js"> = simdAvailable() ? ["wasm", "js"] : ["js"]

// ---------------------------------------------------------------------------------------------

describe("incremental LSVI-UCB: same numbers as the direct formula (§2)", () => {
  it("WebAssembly SIMD is available here (otherwise only the TypeScript kernel is checked)", () => {
    // Node 24 has it; this line makes a silent fallback visible.
    expect(simdAvailable()).toBe(true)
  })

  for (const kernel of kernels) {
    it(`${kernel}: w̄ and w̲ match after every backup, with 1 to 5 episodes per backup and frequent refreshes, with and without the twin`, () => {
      let compared = 0
      let lowerCompared = 0
      let withoutTwin = 0
      const cases = fc.record({
        dim: fc.integer({ min: 2, max: 9 }),
        actions: fc.integer({ min: 1, max: 4 }),
        horizon: fc.integer({ min: 1, max: 5 }),
        seed: fc.nat(),
        beta: fc.constantFrom(0, 0.3, 1, 3),
        lambda: fc.constantFrom(1, 0.5, 2.5),
        batches: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }),
        refreshEvery: fc.constantFrom(3, 7, 4096),
        // Q̄ alone (the bench's setting) runs its own kernel path for the max over actions
        twin: fc.boolean()
      })
      fc.assert(
        fc.property(cases, (c) => {
          const config: LsviConfig = { horizon: c.horizon, dim: c.dim, actions: c.actions, beta: c.beta, lambda: c.lambda }
          const shape: SyntheticShape = { episodes: 0, dim: c.dim, actions: c.actions, horizon: c.horizon, seed: c.seed }
          const learner = new LsviIncremental(config, () => new Float64Array(0), {
            kernel,
            refreshEvery: c.refreshEvery,
            twin: c.twin
          })
          const data: Array<Episode> = []
          learner.backup()
          for (const batch of c.batches) {
            for (let b = 0; b < batch; b++) {
              const e = episode(shape, data.length)
              data.push(e)
              add(learner, e, config)
            }
            learner.backup()
            const ref = direct(config, data)
            compared++
            if (!c.twin) withoutTwin++
            expect(agree(learner.wUpper, ref.wUpper), `w̄ after ${data.length} episodes, ${JSON.stringify(c)}`).toBe(true)
            if (c.twin && ref.fragile === 0) {
              lowerCompared++
              expect(agree(learner.wLower, ref.wLower), `w̲ after ${data.length} episodes, ${JSON.stringify(c)}`).toBe(true)
            }
          }
        }),
        { seed: 5005, numRuns: 80 }
      )
      expect(compared).toBeGreaterThan(200)
      expect(withoutTwin).toBeGreaterThan(60)
      expect(lowerCompared).toBeGreaterThanOrEqual(0.95 * (compared - withoutTwin))
    })
  }

  it("d = 1 (rows ±1, padded to two lanes): w̄ matches", () => {
    for (const kernel of kernels) {
      for (const seed of [1, 2, 3]) {
        const config: LsviConfig = { horizon: 4, dim: 1, actions: 3, beta: 0.5, lambda: 1 }
        const shape: SyntheticShape = { episodes: 0, dim: 1, actions: 3, horizon: 4, seed }
        const learner = new LsviIncremental(config, () => new Float64Array(0), { kernel })
        const data: Array<Episode> = []
        for (let k = 0; k < 12; k++) {
          data.push(episode(shape, k))
          add(learner, data[k], config)
          learner.backup()
          expect(agree(learner.wUpper, direct(config, data).wUpper)).toBe(true)
        }
      }
    }
  })

  it("more pending changes than are queued (d/2) make the forms be recomputed, with the same numbers", () => {
    // d = 6 queues at most 3 changes per step; 10 episodes between backups overflow the queue.
    const config: LsviConfig = { horizon: 4, dim: 6, actions: 3, beta: 0.7, lambda: 1 }
    const shape: SyntheticShape = { episodes: 0, dim: 6, actions: 3, horizon: 4, seed: 11 }
    for (const kernel of kernels) {
      const learner = new LsviIncremental(config, () => new Float64Array(0), { kernel })
      const data: Array<Episode> = []
      for (const batch of [2, 10, 1, 3, 10]) {
        for (let b = 0; b < batch; b++) {
          data.push(episode(shape, data.length))
          add(learner, data[data.length - 1], config)
        }
        learner.backup()
        const ref = direct(config, data)
        expect(agree(learner.wUpper, ref.wUpper)).toBe(true)
        expect(agree(learner.wLower, ref.wLower)).toBe(true)
      }
    }
  })

  it("the caps of Q̄ bind in these data (the min in Q̄ is exercised), and β > 0 changes w̄", () => {
    // With H = 5 and few episodes, some V̄ are capped; a β = 0 run gives other weights.
    const shape: SyntheticShape = { episodes: 0, dim: 4, actions: 3, horizon: 5, seed: 3 }
    const data = Array.from({ length: 6 }, (_, k) => episode(shape, k))
    const withBonus = direct({ horizon: 5, dim: 4, actions: 3, beta: 1, lambda: 1 }, data)
    const noBonus = direct({ horizon: 5, dim: 4, actions: 3, beta: 0, lambda: 1 }, data)
    expect(maxRelativeError(noBonus.wUpper, withBonus.wUpper)).toBeGreaterThan(1e-3)
    // A capped backup: with a huge β every V̄_{h+1} = H − h − 1 exactly, so w̄_h solves Λ w = Σ φ (r + H − h − 1).
    const capped = new LsviIncremental({ horizon: 5, dim: 4, actions: 3, beta: 1e6, lambda: 1 }, () => new Float64Array(0))
    for (const e of data) add(capped, e, { horizon: 5, dim: 4, actions: 3, beta: 1e6, lambda: 1 })
    capped.backup()
    const ref = direct({ horizon: 5, dim: 4, actions: 3, beta: 1e6, lambda: 1 }, data)
    expect(agree(capped.wUpper, ref.wUpper)).toBe(true)
  })

  it("the backup from scratch (fullBackup) gives the incremental backup's weights", () => {
    const config: LsviConfig = { horizon: 6, dim: 8, actions: 4, beta: 0.5, lambda: 1 }
    const shape: SyntheticShape = { episodes: 0, dim: 8, actions: 4, horizon: 6, seed: 21 }
    for (const kernel of kernels) {
      const learner = new LsviIncremental(config, () => new Float64Array(0), { kernel })
      const data: Array<Episode> = []
      for (let k = 0; k < 60; k++) {
        data.push(episode(shape, k))
        add(learner, data[k], config)
        learner.backup()
      }
      const incremental = Float64Array.from(learner.wUpper)
      const incrementalLow = Float64Array.from(learner.wLower)
      learner.fullBackup()
      expect(maxRelativeError(learner.wUpper, incremental)).toBeLessThanOrEqual(1e-10)
      expect(maxRelativeError(learner.wLower, incrementalLow)).toBeLessThanOrEqual(1e-10)
      const ref = direct(config, data)
      expect(agree(learner.wUpper, ref.wUpper)).toBe(true)
      // fullBackup is idempotent, and the learner keeps working incrementally after it.
      learner.fullBackup()
      expect(maxRelativeError(learner.wUpper, incremental)).toBeLessThanOrEqual(1e-10)
      data.push(episode(shape, 60))
      add(learner, data[60], config)
      learner.backup()
      expect(agree(learner.wUpper, direct(config, data).wUpper)).toBe(true)
    }
  })

  it("drift: 3000 one-episode updates without any refresh stay within 1e-8 of the direct formula", () => {
    const config: LsviConfig = { horizon: 3, dim: 8, actions: 4, beta: 1, lambda: 1 }
    const shape: SyntheticShape = { episodes: 0, dim: 8, actions: 4, horizon: 3, seed: 8 }
    const learner = new LsviIncremental(config, () => new Float64Array(0), { refreshEvery: Number.POSITIVE_INFINITY })
    const data: Array<Episode> = []
    for (let k = 0; k < 3000; k++) {
      data.push(episode(shape, k))
      add(learner, data[k], config)
      learner.backup()
    }
    const ref = direct(config, data)
    const err = maxRelativeError(learner.wUpper, ref.wUpper)
    expect(err).toBeLessThanOrEqual(1e-8)
  })
})

describe("the incremental learner's memory", () => {
  it("stays within 1.5× the stored features from K = 500 on, with chunks that grow as fast as that allows", () => {
    // The slack of the last chunks is what the chunk growth trades for speed (Store.ts, chunkGrowth):
    // few features per transition (small d) leave little room for it.
    expect([4, 8, 16, 32, 64].map((d) => chunkGrowth(d, 4, d))).toEqual([8, 5, 4, 3, 3])
    for (const d of [4, 8, 32, 64]) {
      const shape = { episodes: 0, dim: d, actions: 4, horizon: 5, seed: 3 }
      const e = episode(shape, 0) // the values do not matter here, only how many are stored
      const learner = new LsviIncremental({ horizon: 5, dim: d, actions: 4, beta: 1, lambda: 1 }, () => new Float64Array(0))
      let worst = 0
      for (let k = 1; k <= 3000; k++) {
        for (let h = 0; h < 5; h++) learner.addTransitionFeatures(h, e.phi, h * d, e.reward[h], e.next, h * 4 * d)
        if (k >= 500) worst = Math.max(worst, learner.bytes() / featureBytesOf({ ...shape, episodes: k }))
      }
      expect(worst, `d = ${d}`).toBeLessThanOrEqual(1.5)
      expect(worst, `d = ${d}`).toBeGreaterThan(1)
    }
  })
})

describe("incremental and grouped learners agree on finite MDPs (states repeat)", () => {
  it("w̄, w̲, actions, Q̄, Q̲ and certificates after every episode, on chains and random linear MDPs", () => {
    const envs = fc.oneof(
      fc.record({ length: fc.integer({ min: 3, max: 6 }), horizon: fc.integer({ min: 2, max: 5 }), goal: fc.integer({ min: 1, max: 2 }) })
        .map((p) => ({
          mdp: buildLinearChain({ length: p.length, horizon: p.horizon, distractor: 0.1 }, { goal: p.goal, reward: 0.8, slip: 0.2 }),
          features: oneHotFeatures(p.length, 2) as FeatureTable
        })),
      fc.record({ states: fc.integer({ min: 3, max: 6 }), dim: fc.integer({ min: 2, max: 5 }), horizon: fc.integer({ min: 2, max: 4 }), seed: fc.nat() })
        .map((p) => {
          const q = { ...p, actions: 3 }
          return { mdp: buildRandomLinear(q, { seed: p.seed }), features: randomLinearFeatures(q) }
        })
    )
    fc.assert(
      fc.property(envs, fc.nat(), fc.constantFrom(0.2, 1), ({ features, mdp }, seed, beta) => {
        const config: LsviConfig = { horizon: mdp.horizon, dim: features.dim, actions: mdp.actions, beta, lambda: 1 }
        const inst = makeInstance(mdp, features, Rng.make(seed))
        const grouped = new Lsvi(config, inst.features)
        const fast = new LsviIncremental(config, inst.features)
        grouped.backup()
        fast.backup()
        for (let k = 0; k < 15; k++) {
          let s = inst.reset()
          for (let h = 0; h < mdp.horizon; h++) {
            const a = grouped.act(h, s)
            expect(fast.act(h, s)).toBe(a)
            const { next, reward } = inst.step(h, s, a)
            grouped.addTransition(h, s, a, reward, next)
            fast.addTransition(h, s, a, reward, next)
            s = next
          }
          grouped.backup()
          fast.backup()
          expect(agree(fast.wUpper, grouped.wUpper)).toBe(true)
          for (let h = 0; h < mdp.horizon; h++) {
            expect(maxRelativeError(fast.lambdaInverse(h).data, grouped.lambdaInverse(h).data)).toBeLessThanOrEqual(1e-12)
            for (let st = 0; st < mdp.states; st++) {
              for (let a = 0; a < mdp.actions; a++) {
                expect(Math.abs(fast.upperQ(h, st, a) - grouped.upperQ(h, st, a))).toBeLessThanOrEqual(1e-9)
              }
            }
          }
          const c1 = fast.certificate(mdp.start)
          const c2 = grouped.certificate(mdp.start)
          expect(Math.abs(c1.width - c2.width)).toBeLessThanOrEqual(1e-9)
        }
      }),
      { seed: 77, numRuns: 30 }
    )
  })
})

describe("the WebAssembly module and the .npy files", () => {
  it("the embedded bytes are lsvi.wat and lsviFull.wat compiled (npm run build:wasm is up to date)", async () => {
    const { compileWat } = (await import("../tools/wat.mjs" as string)) as {
      compileWat: (text: string) => Promise<Uint8Array>
    }
    for (const [file, bytes] of [
      ["lsvi.wat", lsviWasmBytes()],
      ["lsviFull.wat", lsviFullWasmBytes()]
    ] as const) {
      const wat = await readFile(fileURLToPath(new URL(`../src/linalg/wasm/${file}`, import.meta.url)), "utf8")
      expect(Buffer.from(await compileWat(wat)).equals(Buffer.from(bytes)), file).toBe(true)
    }
  })

  it("writes .npy v1 headers aligned to 64 bytes and reads back what it wrote", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-npy-"))
    try {
      const file = path.join(dir, "x.npy")
      const data = Float64Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 0.5 - 3)
      writeNpy(file, [2, 3, 4], [data.subarray(0, 5), data.subarray(5)])
      const bytes = fs.readFileSync(file)
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]))
      const headerLength = bytes[8] | (bytes[9] << 8)
      expect((10 + headerLength) % 64).toBe(0)
      expect(bytes.subarray(10, 10 + headerLength).toString("latin1")).toMatch(
        /^\{'descr': '<f8', 'fortran_order': False, 'shape': \(2, 3, 4\), \} *\n$/
      )
      const back = readNpy(file)
      expect(back.shape).toEqual([2, 3, 4])
      expect(Array.from(back.data)).toEqual(Array.from(data))
      writeNpy(path.join(dir, "v.npy"), [3], [Float64Array.of(1, 2, 3)])
      expect(readNpy(path.join(dir, "v.npy")).shape).toEqual([3])
      expect(() => writeNpy(path.join(dir, "bad.npy"), [2, 2], [Float64Array.of(1, 2, 3)])).toThrow(/needs 4 values, got 3/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  const numpy = (() => {
    try {
      execFileSync("python3", ["-c", "import numpy"], { stdio: "ignore" })
      return true
    } catch {
      return false
    }
  })()

  it.skipIf(!numpy)("NumPy reads the files (skipped where python3 with NumPy is missing)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-npy-"))
    try {
      const file = path.join(dir, "x.npy")
      writeNpy(file, [2, 3], [Float64Array.of(1.5, -2, 3, 4, 5, 1e-300)])
      const out = execFileSync("python3", ["-c", `import numpy as np; a = np.load(${JSON.stringify(file)}); print(a.shape, a.dtype, repr(a.ravel().tolist()))`])
        .toString().trim()
      expect(out).toBe("(2, 3) float64 [1.5, -2.0, 3.0, 4.0, 5.0, 1e-300]")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("distmt bench lsvi", () => {
  it("checks its flags and names the bad one", () => {
    const base = { episodes: 100, dim: 8, actions: 2, horizon: 5, seed: 0, beta: 1, lambda: 1 }
    expect(Effect.runSync(checkOptions(base))).toEqual(base)
    const error = (o: Partial<typeof base>): string => Effect.runSync(Effect.flip(checkOptions({ ...base, ...o }))).message
    expect(error({ episodes: 1 })).toMatch(/--episodes must be an integer in \[2, /)
    expect(error({ dim: 0, actions: 2.5 })).toMatch(/--dim must be .*got 0; --actions must be an integer .*got 2.5/)
    expect(error({ seed: -1 })).toMatch(/--seed/)
    expect(error({ beta: -1 })).toMatch(/--beta must be a finite number ≥ 0/)
    expect(error({ lambda: 0 })).toMatch(/--lambda must be a finite number > 0/)
    expect(error({ episodes: 1_000_000, dim: 64, actions: 8, horizon: 20 })).toMatch(/too large: .* GiB/)
  })

  it("the dumped files hold the data set, and the direct formula on them gives w.npy", () => {
    const shape = { episodes: 40, dim: 5, actions: 3, horizon: 4, seed: 9 }
    const run = runBench({ ...shape, beta: 0.8, lambda: 1.5, updates: 3, warmup: 1 })
    expect(run.result.episodeUpdateRuns).toBe(3)
    expect(run.result.incrementalVsFullMaxRelDiff).toBeLessThanOrEqual(1e-12)
    expect(run.result.memoryRatio).toBeGreaterThan(1)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-dump-"))
    try {
      dump(dir, run)
      const { actions: A, dim: d, episodes: K, horizon: H } = shape
      const phi = readNpy(path.join(dir, "phi.npy"))
      const reward = readNpy(path.join(dir, "reward.npy"))
      const next = readNpy(path.join(dir, "phi_next.npy"))
      const w = readNpy(path.join(dir, "w.npy"))
      expect([phi.shape, reward.shape, next.shape, w.shape]).toEqual([[H, K, d], [H, K], [H, K, A, d], [H, d]])
      const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8")) as { lambda: number; beta: number }
      expect([meta.lambda, meta.beta]).toEqual([1.5, 0.8])
      // Episode k of the synthetic data set, read back from the files (h-major there).
      const episodes: Array<Episode> = Array.from({ length: K }, (_, k) => {
        const e = { phi: new Float64Array(H * d), reward: new Float64Array(H), next: new Float64Array(H * A * d) }
        for (let h = 0; h < H; h++) {
          e.phi.set(phi.data.subarray((h * K + k) * d, (h * K + k + 1) * d), h * d)
          e.reward[h] = reward.data[h * K + k]
          e.next.set(next.data.subarray((h * K + k) * A * d, (h * K + k + 1) * A * d), h * A * d)
        }
        return e
      })
      for (let k = 0; k < K; k++) {
        expect(Array.from(episodes[k].phi)).toEqual(Array.from(episode(shape, k).phi))
        expect(Array.from(episodes[k].next)).toEqual(Array.from(episode(shape, k).next))
      }
      const ref = direct({ horizon: H, dim: d, actions: A, beta: 0.8, lambda: 1.5 }, episodes)
      expect(agree(w.data, ref.wUpper)).toBe(true)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

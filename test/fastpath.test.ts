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
import { featureBytesOf } from "../src/bench/lsviBench.ts"
import { type Episode, episode, type SyntheticShape } from "../src/bench/synthetic.ts"
import { type FeatureTable, oneHotFeatures } from "../src/env/FiniteMdp.ts"
import { makeInstance } from "../src/env/Instance.ts"
import { buildLinearChain } from "../src/env/linearChain.ts"
import { buildRandomLinear, randomLinearFeatures } from "../src/env/randomLinear.ts"
import { maxRelativeError } from "../src/linalg/kernels.ts"
import { simdAvailable } from "../src/linalg/wasm/simd.ts"
import { Lsvi, type LsviConfig } from "../src/learner/Lsvi.ts"
import { type IncrementalKernel, LsviIncremental } from "../src/learner/LsviIncremental.ts"
import { chunkGrowth } from "../src/learner/incremental/Store.ts"
import * as Rng from "../src/rng/Rng.ts"
import { agree, direct } from "./lsviDirect.ts"

/** The synthetic data set (synthetic.ts) of `config`'s dimensions, from `seed`. */
const shapeOf = (config: LsviConfig, seed: number): SyntheticShape => ({
  episodes: 0,
  dim: config.dim,
  actions: config.actions,
  horizon: config.horizon,
  seed
})

const add = (learner: LsviIncremental, e: Episode, config: LsviConfig): void => {
  const { actions: A, dim: d, horizon: H } = config
  for (let h = 0; h < H; h++) learner.addTransitionFeatures(h, e.phi, h * d, e.reward[h], e.next, h * A * d)
}

// Both builds of the SIMD kernels (with fused multiply-adds and without, which runtimes without
// relaxed SIMD run), and the TypeScript statement of the same loops.
const kernels: ReadonlyArray<IncrementalKernel> = simdAvailable() ? ["wasm", "wasm-plain", "js"] : ["js"]

// ---------------------------------------------------------------------------------------------

describe("incremental LSVI-UCB: same numbers as the direct formula (§2)", () => {
  it("WebAssembly SIMD is available here (otherwise only the TypeScript kernel is checked)", () => {
    // Node 24 has it; this line makes a silent fallback visible.
    expect(simdAvailable()).toBe(true)
  })

  it.skipIf(!simdAvailable())("wasm-plain runs the other build: w̄ differs from wasm's in its last bits, as a multiply and an add round twice where a fused multiply-add rounds once", () => {
    const config: LsviConfig = { horizon: 5, dim: 32, actions: 4, beta: 1, lambda: 1 }
    const shape = shapeOf(config, 3)
    const run = (kernel: IncrementalKernel): Float64Array => {
      const learner = new LsviIncremental(config, () => new Float64Array(0), { kernel })
      for (let k = 0; k < 100; k++) {
        add(learner, episode(shape, k), config)
        learner.backup()
      }
      return learner.wUpper
    }
    const fused = run("wasm")
    const plain = run("wasm-plain")
    expect(fused.some((x, i) => x !== plain[i])).toBe(true)
    expect(agree(plain, fused)).toBe(true)
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
          const shape = shapeOf(config, c.seed)
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

  for (const kernel of kernels) {
    it(`${kernel}: φ_h rows that are not step h − 1's taken rows (changed, or steps out of order) are read as their own, with the same numbers, backups between steps or not`, () => {
      let broken = 0
      const cases = fc.record({
        dim: fc.integer({ min: 2, max: 7 }),
        actions: fc.integer({ min: 1, max: 4 }),
        horizon: fc.integer({ min: 2, max: 5 }),
        seed: fc.nat(),
        twin: fc.boolean(),
        episodes: fc.integer({ min: 2, max: 12 }),
        // at episode `at`: none, φ_h of one step h ≥ 1 changed, or its steps added last to first
        breakage: fc.constantFrom("none", "changed", "reversed"),
        at: fc.nat(),
        step: fc.nat(),
        // a backup after every step too: the forms of a taken row exist before the next step swaps it
        midEpisode: fc.boolean()
      })
      fc.assert(
        fc.property(cases, (c) => {
          const config: LsviConfig = { horizon: c.horizon, dim: c.dim, actions: c.actions, beta: 1, lambda: 1 }
          const shape = shapeOf(config, c.seed)
          const learner = new LsviIncremental(config, () => new Float64Array(0), { kernel, twin: c.twin })
          const at = c.at % c.episodes
          const changed = 1 + (c.step % (c.horizon - 1))
          const data: Array<Episode> = []
          for (let k = 0; k < c.episodes; k++) {
            const e = episode(shape, k)
            const steps = Array.from({ length: c.horizon }, (_, h) => h)
            if (k === at && c.breakage === "changed") for (let i = 0; i < c.dim; i++) e.phi[changed * c.dim + i] *= 0.5
            if (k === at && c.breakage === "reversed") steps.reverse()
            data.push(e)
            const { actions: A, dim: d } = config
            for (const h of steps) {
              learner.addTransitionFeatures(h, e.phi, h * d, e.reward[h], e.next, h * A * d)
              if (c.midEpisode) learner.backup()
            }
            learner.backup()
            const ref = direct(config, data)
            expect(agree(learner.wUpper, ref.wUpper), `w̄ after ${data.length} episodes, ${JSON.stringify(c)}`).toBe(true)
            if (c.twin && ref.fragile === 0) expect(agree(learner.wLower, ref.wLower), `w̲, ${JSON.stringify(c)}`).toBe(true)
            for (let h = 1; h < c.horizon; h++) {
              const stillShared = c.breakage === "none" || k < at || (c.breakage === "changed" && h !== changed)
              expect(learner.sharesPhi(h), `step ${h} after ${data.length} episodes, ${JSON.stringify(c)}`).toBe(stillShared)
            }
          }
          if (c.breakage !== "none") broken++
        }),
        { seed: 7007, numRuns: 60 }
      )
      expect(broken).toBeGreaterThan(25)
    })
  }

  it("d = 1 (rows ±1, padded to two lanes): w̄ matches", () => {
    for (const kernel of kernels) {
      for (const seed of [1, 2, 3]) {
        const config: LsviConfig = { horizon: 4, dim: 1, actions: 3, beta: 0.5, lambda: 1 }
        const shape = shapeOf(config, seed)
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
    const shape = shapeOf(config, 11)
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
    const shape = shapeOf(config, 21)
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
    const shape = shapeOf(config, 8)
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

/**
 * The files around the incremental learner: the embedded WebAssembly modules against their sources,
 * the .npy writer, and `distmt bench lsvi` (its flags, and the dumped data set against the direct
 * formula of docs/algorithm.md §2).
 */
import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { dump, runBench } from "../src/bench/lsviBench.ts"
import { type Episode, episode } from "../src/bench/synthetic.ts"
import { checkOptions } from "../src/cli/bench.ts"
import { readNpy, writeNpy } from "../src/linalg/npy.ts"
import {
  lsviFullWasmBytes,
  lsviFullWasmPlainBytes,
  lsviRhsWasmBytes,
  lsviSweepWasmBytes,
  lsviSweepWasmPlainBytes,
  lsviWasmBytes
} from "../src/linalg/wasm/simd.ts"
import { agree, direct } from "./lsviDirect.ts"

describe("the WebAssembly module and the .npy files", () => {
  it("the embedded bytes are lsvi.wat, lsviSweep.wat, lsviRhs.wat and lsviFull.wat compiled, both builds (npm run build:wasm is up to date)", async () => {
    const { compileWat } = (await import("../tools/wat.mjs" as string)) as {
      compileWat: (text: string, options?: { fma: boolean }) => Promise<Uint8Array>
    }
    for (const [file, bytes, fma] of [
      ["lsvi.wat", lsviWasmBytes(), true],
      ["lsviSweep.wat", lsviSweepWasmBytes(), true],
      ["lsviSweep.wat", lsviSweepWasmPlainBytes(), false],
      ["lsviRhs.wat", lsviRhsWasmBytes(), true],
      ["lsviFull.wat", lsviFullWasmBytes(), true],
      ["lsviFull.wat", lsviFullWasmPlainBytes(), false]
    ] as const) {
      const wat = await readFile(fileURLToPath(new URL(`../src/linalg/wasm/${file}`, import.meta.url)), "utf8")
      expect(Buffer.from(await compileWat(wat, { fma })).equals(Buffer.from(bytes)), `${file}${fma ? "" : " without fused multiply-adds"}`).toBe(true)
    }
  })

  it("the build without fused multiply-adds rewrites every one, those inside another's operands too", async () => {
    const { withoutFma } = (await import("../tools/wat.mjs" as string)) as { withoutFma: (text: string) => string }
    const text = "(f64x2.relaxed_madd (local.get $a) (local.get $b)\n  (f64x2.relaxed_madd (v128.load (local.get $p)) (local.get $d) (local.get $e)))"
    expect(withoutFma(text)).toBe(
      "(f64x2.add (f64x2.mul (local.get $a) (local.get $b)) " +
        "(f64x2.add (f64x2.mul (v128.load (local.get $p)) (local.get $d)) (local.get $e)))"
    )
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

  it("its two floors read what they say: the next-state rows; those, their forms and the φ_h rows not read as taken rows", () => {
    const shape = { episodes: 30, dim: 5, actions: 3, horizon: 4, seed: 2 } // d and A odd: padding, partial panels
    const { learner } = runBench({ ...shape, beta: 1, lambda: 1, updates: 2, warmup: 1 })
    const { actions: A, dim: d, horizon: H } = shape
    let next = 0
    let forms = 0
    let phi = 0
    let scale = 0
    for (let h = 0; h + 1 < H; h++) {
      const B = learner.lambdaInverse(h + 1).data // the forms are φᵀΛ_{h+1}⁻¹φ, from scratch after runBench's last backup
      // The bench's episodes come in order: every step but the first reads its φ_h as step h − 1's taken rows.
      expect(learner.sharesPhi(h)).toBe(h > 0)
      for (const chunk of learner.storedChunks(h)) {
        for (const x of chunk.phi) {
          if (!learner.sharesPhi(h)) phi += x
          scale += Math.abs(x)
        }
        const rows = chunk.next ?? new Float64Array(0)
        for (let r = 0; r < rows.length / d; r++) {
          let q = 0
          for (let i = 0; i < d; i++) {
            next += rows[r * d + i]
            scale += Math.abs(rows[r * d + i])
            for (let k = 0; k < d; k++) q += rows[r * d + i] * B[i * d + k] * rows[r * d + k]
          }
          forms += q
          scale += q
        }
        expect(rows.length).toBe(chunk.phi.length * A)
      }
    }
    expect(Math.abs(learner.sweepNextStates() - next)).toBeLessThanOrEqual(1e-12 * scale)
    expect(Math.abs(learner.sweepUpdateReads() - (next + forms + phi))).toBeLessThanOrEqual(1e-12 * scale)
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

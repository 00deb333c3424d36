/**
 * The dense kernels of src/linalg/kernels.ts (docs/algorithm.md §2 and §6 item 4): the Sherman–Morrison
 * maintained Λ⁻¹ against a direct inverse, the Cholesky solver, and the small products.
 *
 * Every expected value here is computed by an independent path (explicit loops over `ndarray.get`,
 * or a known solution), never by the kernel under test.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import {
  dot,
  gemv,
  inverseSpd,
  type Matrix,
  maxRelativeError,
  quadForm,
  scaledIdentity,
  shermanMorrison,
  solveSpd,
  zeros
} from "../src/linalg/kernels.ts"

const coordinate = fc.double({ min: -1, max: 1, noNaN: true })

/** A vector of R^d with ‖x‖₂ ≤ 1 (the feature bound of docs/algorithm.md §1), zero and unit vectors included. */
const unitBallVector = (d: number): fc.Arbitrary<Float64Array> =>
  fc.tuple(fc.array(coordinate, { minLength: d, maxLength: d }), fc.double({ min: 0, max: 1, noNaN: true })).map(
    ([xs, radius]) => {
      const norm = Math.sqrt(xs.reduce((s, x) => s + x * x, 0))
      const scale = norm > 0 ? radius / norm : 0
      return Float64Array.from(xs, (x) => x * scale)
    }
  )

const matrixOf = (d: number, entries: ReadonlyArray<number>): Matrix => {
  const m = zeros(d, d)
  for (let i = 0; i < d * d; i++) m.data[i] = entries[i]
  return m
}

/** A·B through `ndarray.get`, independent of the kernels' direct indexing. */
const matmul = (A: Matrix, B: Matrix): Matrix => {
  const d = A.shape[0]
  const out = zeros(d, d)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0
      for (let k = 0; k < d; k++) s += A.get(i, k) * B.get(k, j)
      out.set(i, j, s)
    }
  }
  return out
}

/** A random symmetric positive definite matrix MᵀM + εI with a bounded condition number. */
const spdMatrix = (d: number): fc.Arbitrary<Matrix> =>
  fc.tuple(
    fc.array(coordinate, { minLength: d * d, maxLength: d * d }),
    fc.double({ min: 0.1, max: 2, noNaN: true })
  ).map(([entries, eps]) => {
    const M = matrixOf(d, entries)
    const A = zeros(d, d)
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = i === j ? eps : 0
        for (let k = 0; k < d; k++) s += M.get(k, i) * M.get(k, j)
        A.set(i, j, s)
      }
    }
    return A
  })

describe("Sherman–Morrison", () => {
  it("the maintained inverse equals inverseSpd(λI + Σ φφᵀ) to 1e-10 after many updates", () => {
    const updates = fc.integer({ min: 1, max: 8 }).chain((d) =>
      fc.record({
        d: fc.constant(d),
        lambda: fc.double({ min: 0.05, max: 5, noNaN: true }),
        phis: fc.array(unitBallVector(d), { minLength: 1, maxLength: 80 }),
        // φ is read at an offset inside a larger buffer, as Lsvi reads φ(s,a) inside φ(s,·).
        offset: fc.integer({ min: 0, max: 5 })
      })
    )
    fc.assert(
      fc.property(updates, ({ d, lambda, offset, phis }) => {
        const B = scaledIdentity(d, 1 / lambda)
        const Lambda = scaledIdentity(d, lambda)
        const work = new Float64Array(d)
        const buffer = new Float64Array(offset + d + 3).fill(7) // garbage around φ must be ignored
        for (const phi of phis) {
          buffer.set(phi, offset)
          shermanMorrison(B, buffer, offset, work)
          for (let i = 0; i < d; i++) {
            for (let j = 0; j < d; j++) Lambda.set(i, j, Lambda.get(i, j) + phi[i] * phi[j])
          }
        }
        const direct = inverseSpd(Lambda)
        expect(maxRelativeError(B.data, direct.data)).toBeLessThanOrEqual(1e-10)
      }),
      { seed: 20240601, numRuns: 150 }
    )
  })

  it("a single update is the closed form B − (Bφ)(Bφ)ᵀ / (1 + φᵀBφ) on a known case", () => {
    // Λ = I, φ = (1, 0): (Λ + φφᵀ)⁻¹ = diag(1/2, 1).
    const B = scaledIdentity(2, 1)
    shermanMorrison(B, [1, 0], 0, new Float64Array(2))
    expect(Array.from(B.data)).toEqual([0.5, 0, 0, 1])
  })
})

describe("solveSpd / inverseSpd", () => {
  it("solveSpd recovers a known solution of A x = b", () => {
    const cases = fc.integer({ min: 1, max: 8 }).chain((d) =>
      fc.record({ A: spdMatrix(d), x: fc.array(coordinate, { minLength: d, maxLength: d }) })
    )
    fc.assert(
      fc.property(cases, ({ A, x }) => {
        const d = A.shape[0]
        const b = new Float64Array(d)
        for (let i = 0; i < d; i++) {
          for (let j = 0; j < d; j++) b[i] += A.get(i, j) * x[j]
        }
        const before = Float64Array.from(A.data)
        const xHat = solveSpd(A, b)
        expect(Array.from(A.data)).toEqual(Array.from(before)) // the input is not overwritten
        // Residual, relative to the size of the terms (backward stability of Cholesky).
        let residual = 0
        let size = 0
        for (let i = 0; i < d; i++) {
          let r = -b[i]
          let s = Math.abs(b[i])
          for (let j = 0; j < d; j++) {
            r += A.get(i, j) * xHat[j]
            s += Math.abs(A.get(i, j) * xHat[j])
          }
          residual = Math.max(residual, Math.abs(r))
          size = Math.max(size, s)
        }
        expect(residual).toBeLessThanOrEqual(1e-13 * Math.max(size, 1e-300) + 1e-300)
        // Forward error: cond(A) ≤ (d² + 2)/0.1 here, so 1e-9 is generous but far below any real bug.
        let err = 0
        for (let i = 0; i < d; i++) err = Math.max(err, Math.abs(xHat[i] - x[i]))
        expect(err).toBeLessThanOrEqual(1e-9)
      }),
      { seed: 7, numRuns: 200 }
    )
  })

  it("inverseSpd(A) · A = I", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }).chain(spdMatrix), (A) => {
        const d = A.shape[0]
        const product = matmul(inverseSpd(A), A)
        for (let i = 0; i < d; i++) {
          for (let j = 0; j < d; j++) expect(Math.abs(product.get(i, j) - (i === j ? 1 : 0))).toBeLessThan(1e-10)
        }
      }),
      { seed: 11, numRuns: 100 }
    )
  })

  it("solveSpd rejects matrices that are not positive definite", () => {
    expect(() => solveSpd(matrixOf(2, [1, 2, 2, 1]), [1, 1])).toThrow(/not positive definite/)
    expect(() => solveSpd(matrixOf(2, [1, 1, 1, 1]), [1, 1])).toThrow(/not positive definite/)
    expect(() => solveSpd(scaledIdentity(3, -1), [1, 1, 1])).toThrow(/not positive definite/)
  })
})

describe("quadForm, gemv, dot", () => {
  const withVector = fc.integer({ min: 1, max: 8 }).chain((d) =>
    fc.record({
      A: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: d * d, maxLength: d * d }).map((e) =>
        matrixOf(d, e)
      ),
      x: fc.array(coordinate, { minLength: d, maxLength: d }),
      offset: fc.integer({ min: 0, max: 4 })
    })
  )

  it("quadForm(A, x) = xᵀ(Ax), for any (not necessarily symmetric) A and an offset x", () => {
    fc.assert(
      fc.property(withVector, ({ A, offset, x }) => {
        const d = A.shape[0]
        const buffer = new Float64Array(offset + d + 2).fill(-3)
        buffer.set(x, offset)
        let expected = 0
        let size = 0
        for (let i = 0; i < d; i++) {
          for (let j = 0; j < d; j++) {
            expected += x[i] * A.get(i, j) * x[j]
            size += Math.abs(x[i] * A.get(i, j) * x[j])
          }
        }
        expect(Math.abs(quadForm(A, buffer, offset) - expected)).toBeLessThanOrEqual(1e-13 * size + 1e-300)
      }),
      { seed: 3, numRuns: 200 }
    )
  })

  it("gemv(A, x) = Ax and dot(x, y) = Σ xᵢyᵢ, with offsets", () => {
    fc.assert(
      fc.property(withVector, ({ A, offset, x }) => {
        const d = A.shape[0]
        const buffer = new Float64Array(offset + d + 2).fill(5)
        buffer.set(x, offset)
        const out = gemv(A, buffer, offset, new Float64Array(d))
        for (let i = 0; i < d; i++) {
          let e = 0
          let size = 0
          for (let j = 0; j < d; j++) {
            e += A.get(i, j) * x[j]
            size += Math.abs(A.get(i, j) * x[j])
          }
          expect(Math.abs(out[i] - e)).toBeLessThanOrEqual(1e-13 * size + 1e-300)
        }
        let e = 0
        for (let i = 0; i < d; i++) e += x[i] * A.get(0, i)
        expect(dot(buffer, offset, A.data, 0, d)).toBeCloseTo(e, 12)
      }),
      { seed: 5, numRuns: 200 }
    )
  })

  it("maxRelativeError is the largest absolute difference over the reference's sup norm", () => {
    expect(maxRelativeError([1, 2, 3], [1, 2, 4])).toBeCloseTo(0.25, 15)
    expect(maxRelativeError([0, -2], [0, -2])).toBe(0)
    expect(maxRelativeError([1e-9, 0], [0, 0])).toBeGreaterThan(1)
  })
})

/**
 * The sparse kernels of src/learner/sparse.ts give the numbers of the full kernels
 * (src/linalg/kernels.ts) bit for bit, on feature rows with zeros (+0 and −0) among their entries:
 * runs of the project must not change by a bit when the learner skips the zeros of one-hot features.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { dot, gemvAt, quadFormAt, shermanMorrisonAt } from "../src/linalg/kernels.ts"
import {
  dotNz,
  hotDot,
  hotForm,
  nonZeros,
  Pattern,
  quadFormNz,
  rowDot,
  rowForm,
  shermanMorrisonHot,
  shermanMorrisonNz
} from "../src/learner/sparse.ts"

const bits = (a: Float64Array): Array<string> => Array.from(new BigUint64Array(a.slice().buffer), (x) => x.toString(16))

/** A feature block of A rows of d: each entry 0, −0 or a number in [−1, 1], mostly zeros. */
const block = (d: number, A: number) =>
  fc.array(fc.oneof(fc.constant(0), fc.constant(-0), fc.constant(0), fc.double({ min: -1, max: 1, noNaN: true })), {
    minLength: A * d,
    maxLength: A * d
  }).map((v) => Float64Array.from(v))

const cases = fc.integer({ min: 1, max: 7 }).chain((d) =>
  fc.record({
    d: fc.constant(d),
    A: fc.constant(2),
    lambda: fc.constantFrom(1, 0.5, 3),
    updates: fc.array(fc.record({ phi: block(d, 2), a: fc.integer({ min: 0, max: 1 }) }), { minLength: 1, maxLength: 12 }),
    probe: block(d, 2),
    x: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: d, maxLength: d }).map((v) => Float64Array.from(v))
  })
)

/** `pattern.gemv2` on `sparse` gives, for x and a second vector y, the bits of the full gemv on `full`. */
const expectGemv2 = (pattern: Pattern, sparse: Float64Array, full: Float64Array, d: number, x: Float64Array): void => {
  const y = x.map((v, i) => v * (i + 0.5) - 1)
  const [outX, outY, directX, directY] = [new Float64Array(d), new Float64Array(d), new Float64Array(d), new Float64Array(d)]
  pattern.gemv2(sparse, 0, x, y, outX, outY, 0)
  gemvAt(full, 0, d, x, 0, directX, 0)
  gemvAt(full, 0, d, y, 0, directY, 0)
  expect(bits(outX)).toEqual(bits(directX))
  expect(bits(outY)).toEqual(bits(directY))
}

describe("sparse kernels (src/learner/sparse.ts)", () => {
  it("Sherman–Morrison, quadratic forms and dot products (one non-zero, sparse or dense rows) and Λ⁻¹·x and Λ⁻¹·y equal the full kernels bit for bit", () => {
    fc.assert(
      fc.property(cases, ({ A, d, lambda, probe, updates, x }) => {
        const full = new Float64Array(d * d)
        for (let i = 0; i < d; i++) full[i * d + i] = 1 / lambda
        const sparse = full.slice()
        const pattern = new Pattern(d, sparse)
        const work = new Float64Array(d)
        const nzWork = new Int32Array(d)
        for (const { a, phi } of updates) {
          shermanMorrisonAt(full, 0, d, phi, a * d, work)
          const m = shermanMorrisonNz(sparse, 0, phi, a, d, nonZeros(phi, A, d), work, nzWork)
          pattern.add(0, nzWork, m)
          expect(bits(sparse)).toEqual(bits(full))
        }
        const nz = nonZeros(probe, A, d)
        for (let a = 0; a < A; a++) {
          expect(Object.is(quadFormNz(sparse, 0, probe, a, d, nz), quadFormAt(full, 0, d, probe, a * d))).toBe(true)
          expect(Object.is(dotNz(x, 0, probe, a, d, nz), dot(x, 0, probe, a * d, d))).toBe(true)
          // The learner's row kernels (one non-zero, sparse or dense), the same numbers again.
          expect(Object.is(rowForm(sparse, 0, probe, a, d, nz), quadFormAt(full, 0, d, probe, a * d))).toBe(true)
          expect(Object.is(rowDot(x, 0, probe, a, d, nz), dot(x, 0, probe, a * d, d))).toBe(true)
        }
        // Two vectors at once (a backup's w̄ and w̲): each the same as the full gemv.
        expectGemv2(pattern, sparse, full, d, x)
      }),
      { seed: 1401, numRuns: 300 }
    )
  })

  it("one-hot rows on a diagonal Λ⁻¹ (Sherman–Morrison, form, dot, Λ⁻¹·x and Λ⁻¹·y entry by entry) equal the full kernels bit for bit, and the pattern stays diagonal until a row with two non-zeros", () => {
    /** A one-hot row of d: its non-zero at `i`, of value `v` (any sign). */
    const hotRow = fc.integer({ min: 2, max: 7 }).chain((d) =>
      fc.record({
        d: fc.constant(d),
        lambda: fc.constantFrom(1, 0.5, 3),
        hits: fc.array(fc.record({ i: fc.integer({ min: 0, max: d - 1 }), v: fc.double({ min: -2, max: 2, noNaN: true }) }), { minLength: 1, maxLength: 12 }),
        x: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: d, maxLength: d }).map((v) => Float64Array.from(v)),
        mixed: block(d, 1)
      })
    )
    fc.assert(
      fc.property(hotRow, ({ d, hits, lambda, mixed, x }) => {
        const full = new Float64Array(d * d)
        for (let i = 0; i < d; i++) full[i * d + i] = 1 / lambda
        const hot = full.slice()
        const pattern = new Pattern(d, hot)
        const work = new Float64Array(d)
        const gemv2Matches = () => expectGemv2(pattern, hot, full, d, x)
        for (const { i, v } of hits) {
          const phi = new Float64Array(d)
          phi[i] = v
          expect(pattern.isDiagonal(0)).toBe(true)
          expect(Object.is(hotForm(hot, 0, d, i, v), quadFormAt(full, 0, d, phi, 0))).toBe(true)
          expect(Object.is(hotDot(x, 0, i, v), dot(x, 0, phi, 0, d))).toBe(true)
          shermanMorrisonAt(full, 0, d, phi, 0, work)
          shermanMorrisonHot(hot, 0, d, i, v)
          expect(bits(hot)).toEqual(bits(full))
          gemv2Matches()
        }
        // A row with more than one non-zero takes the sparse kernel; the pattern then leaves the
        // diagonal exactly when that update wrote off it.
        const nzWork = new Int32Array(d)
        shermanMorrisonAt(full, 0, d, mixed, 0, work)
        const m = shermanMorrisonNz(hot, 0, mixed, 0, d, nonZeros(mixed, 1, d), work, nzWork)
        pattern.add(0, nzWork, m)
        expect(bits(hot)).toEqual(bits(full))
        expect(pattern.isDiagonal(0)).toBe(m <= 1)
        gemv2Matches()
        // Built from the matrix itself (a learner restored from a snapshot): the same verdict.
        expect(new Pattern(d, hot).isDiagonal(0)).toBe(hot.every((b, k) => b === 0 || Math.floor(k / d) === k % d))
        // A dense row (the full kernel, every entry written): no longer diagonal.
        const dense = Float64Array.from({ length: d }, (_, i) => 0.25 + i / d)
        shermanMorrisonAt(hot, 0, d, dense, 0, work)
        shermanMorrisonAt(full, 0, d, dense, 0, work)
        pattern.fill(0)
        expect(pattern.isDiagonal(0)).toBe(false)
        gemv2Matches()
      }),
      { seed: 1402, numRuns: 300 }
    )
  })
})

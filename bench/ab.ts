/**
 * What the side-by-side benches share (bench/dqn_ab.ts, bench/lsvi_ab.ts): modules loaded from a
 * checkout, and rounds that measure two checkouts in turn, the order alternating, so that the
 * machine's drift hits both alike.
 */
import * as path from "node:path"
import { pathToFileURL } from "node:url"

/** A module of the checkout at `tree` (a path relative to the working directory). */
export const fromCheckout = (tree: string) => (file: string) => import(pathToFileURL(path.resolve(tree, file)).href)

/** `rounds` measures of each of the two, base then new in even rounds and new then base in odd ones. */
export const alternate = async (
  rounds: number,
  measure: readonly [() => number | Promise<number>, () => number | Promise<number>]
): Promise<[Array<number>, Array<number>]> => {
  const out: [Array<number>, Array<number>] = [[], []]
  for (let r = 0; r < rounds; r++) {
    for (const which of r % 2 === 0 ? [0, 1] : [1, 0]) out[which].push(await measure[which]())
  }
  return out
}

/** The bench's median (src/bench/lsviBench.ts): one definition for every figure of docs/performance.md. */
export { median } from "../src/bench/lsviBench.ts"

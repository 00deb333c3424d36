/**
 * Which task instances each agent faces (docs/algorithm.md §4). Returns, per agent, the true task ids
 * of its instances in order; the run keeps these to itself (hidden identity).
 */
import type { Assignment } from "../spec/Spec.ts"
import * as Rng from "../rng/Rng.ts"

/** Stream label for assignment draws, apart from the environment's. */
const ASSIGN = 0x5a551

export const assign = (assignment: Assignment, agents: number, tasks: number, seed: number): Array<Array<number>> => {
  const out: Array<Array<number>> = Array.from({ length: agents }, () => [])
  switch (assignment._tag) {
    case "Partition":
      // Instance j has task j mod M and goes to agent j mod N, for j < max(N, M): round-robin, and
      // when N > M agent i gets task i mod M.
      for (let j = 0; j < Math.max(agents, tasks); j++) out[j % agents].push(j % tasks)
      return out
    case "Stream":
      for (let i = 0; i < agents; i++) out[i] = Rng.permutation(Rng.make(seed, ASSIGN, i), tasks)
      return out
    case "Random":
      for (let i = 0; i < agents; i++) {
        const rng = Rng.make(seed, ASSIGN, i)
        out[i] = Array.from({ length: assignment.k }, () => rng.int(tasks))
      }
      return out
  }
}

/**
 * Your own feature map: the two-door room of custom-environment.spec.ts with a smaller φ.
 *
 * LSVI-UCB needs r and P to be linear in φ for every context. In a room both actions do the same
 * thing (same reward, stay in the room), so one feature per room is enough: d = 4 instead of
 * |S||A| = 6. (Merging actions that behave differently, in any context, would break linearity and
 * leave the learner misspecified.) The map must return `dim` finite numbers with ‖φ‖₂ ≤ 1, or the
 * spec is refused with the (s, a) at fault.
 *
 *   npx distmt run examples/custom-features.spec.ts
 */
import { Experiment, Features, Lsvi, Stopping } from "distmt"
import { doorContexts, twoDoors } from "./custom-environment.spec.ts"

// Features: [hall & door A, hall & door B, in room A, in room B].
const phi = (s: number, a: number): Array<number> => {
  const v = [0, 0, 0, 0]
  v[s === 0 ? a : s + 1] = 1
  return v
}

export default Experiment.make({
  name: "two-doors-custom-features",
  environment: twoDoors,
  contexts: doorContexts,
  features: Features.custom(4, phi),
  agents: 6,
  epsilon: 0.1,
  cSep: 0.3,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.adaptive({ maxEpisodes: 100_000 }),
  baselines: ["independent"],
  seeds: 1
})

/**
 * specs/theory.spec.ts's family with a practical β (docs/algorithm.md §8): a constant, as rlberry and
 * most empirical LSVI-UCB work use, not the analysis's c_β·d·H·√ι. Its certificates are not
 * guaranteed; the run checks them against exact V* after the fact (the `certificates` column).
 * `distmt run` uses β = 2; `distmt sweep` also tries β = 0.1, 0.3 and 1: below about 1 they fail.
 */
import { Experiment, Lsvi, Stopping } from "distmt"
import { family } from "./theory.spec.ts"

export default Experiment.make({
  name: "theory-practical",
  description: "The family of theory.spec.ts with a practical β: episodes against the share of certificates that held.",
  ...family,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.adaptive({ maxEpisodes: 2_000_000 }),
  sweep: { "learner.beta": [0.1, 0.3, 1, 2] }
})

/**
 * The main example (linear-chain.spec.ts: a chain with 4 hidden tasks) with 20 agents, so that five
 * agents meet each task, and one seed. It is the spec of the threads benchmark (`npm run bench`,
 * docs/performance.md): one thread against two, with the same results. By default a run uses one
 * thread per core (`threads: "auto"`); `distmt run --threads N` chooses.
 */
import { Experiment } from "distmt"
import linearChain from "./linear-chain.spec.ts"

export default Experiment.make({
  ...linearChain,
  name: "twenty-agents",
  agents: 20,
  seeds: 1
})

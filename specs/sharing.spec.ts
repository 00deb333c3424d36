import { Assignment, Experiment } from "distmt"
import linearChain from "./linear-chain.spec.ts"

export default Experiment.make({
  ...linearChain,
  name: "sharing",
  agents: 8,
  assignment: Assignment.stream(),
  sharing: "experience",
  baselines: [],
  seeds: 1
})

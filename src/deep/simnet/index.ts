/**
 * SimNet (issue 12 item 2): identifying which hidden task an instance is from its random-policy
 * experience. The public surface for the run's integration; docs/deep.md, "SimNet: identifying tasks
 * from experience", explains the design.
 */
export { type Box, batchMeansBox, intersect, maxWidth, overlaps, separation, tQuantile } from "./box.ts"
export { Explorer, FEATURES, type SimTask, transitionFeatures } from "./features.ts"
export { type Decision, embedExperience, type EmbedOptions, identifyExperience, matchBox } from "./identify.ts"
export { cloneSimNet, embedTransitions, initSimNet, type SimNet, type SimNetShape } from "./network.ts"
export { type Entry, type IdentifyOutcome, type RegistryOptions, SimNetRegistry } from "./registry.ts"
export { narrowReturnBox, returnBox } from "./returnInterval.ts"
export { fitStandardisation, type LabelledPool, type TrainOptions, type TrainResult, trainSimNet } from "./train.ts"
export { DEFAULT_TASKS, parseTask, randomTasks } from "./tasks.ts"
export { type Method, type MethodResult, METHODS, runSimnetBench, scoreIdentification, type SimnetBenchOptions, type SimnetBenchResult } from "./bench.ts"

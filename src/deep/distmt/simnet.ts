/**
 * SimNet as the server's identification (docs/deep.md, "SimNet"; docs/algorithm.md §9): a request
 * carries the features of the instance's random-play transitions; the server embeds them with its
 * current network, matches the registered task whose box overlaps (or registers a new one), and
 * retrains the network on its tasks' experience after each registration. The registry's entries are
 * the coordinator's, in the same order, since every registration goes through here.
 */
import type { Entry, Match } from "../../coordinator/Coordinator.ts"
import { initSimNet } from "../simnet/network.ts"
import { SimNetRegistry } from "../simnet/registry.ts"
import type { DeepCompiled } from "./compile.ts"

/** The settings `distmt bench simnet` measured with (docs/deep.md, "SimNet"). */
const TRAIN = { steps: 150, window: 128, classesPerStep: 12 }

export const simnetMatch = <P>(c: DeepCompiled, seed: number): Match<P> => {
  const registry = new SimNetRegistry(initSimNet(seed, { k: 12, hidden: 32 }), {
    train: { ...TRAIN, seed },
    retrainSteps: 40,
    delta: c.spec.delta
  })
  return (entries: ReadonlyArray<Entry<P>>, interval) => {
    if (interval.evidence === undefined) throw new Error("SimNet identification: a request without evidence")
    const outcome = registry.identify(interval.evidence)
    if (!outcome.registered) return entries[outcome.entry]
    if (outcome.entry !== entries.length) throw new Error("SimNet identification: the registry and the coordinator disagree on entries")
    return undefined
  }
}

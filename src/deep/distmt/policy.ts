/**
 * A deep policy as it travels through the server (docs/algorithm.md §3: publish, download, fetch):
 * the online network's weights and its shape. On the wire it is 4 bytes per parameter (float32), so
 * MinAtar's network with 6 input channels and 128 hidden units is 133,718 parameters, 535 KB.
 */
import type { Sizes } from "../../coordinator/Coordinator.ts"
import { type NetShape, type Params, paramCount } from "../network.ts"
import { transitionWidth } from "./experience.ts"

export interface NetworkPolicy {
  readonly shape: NetShape
  readonly params: Params
}

export const networkPolicyBytes = (p: NetworkPolicy): number => 4 * paramCount(p.shape)

/**
 * The server's traffic counts for a deep run whose observations have `channels` channels: a packed
 * transition's numbers are counted 8 bytes each, as they are sent (the bits of its two observations
 * take 2·⌈C·100/50⌉ of them).
 */
export const deepSizes = (channels: number): Sizes<NetworkPolicy> => {
  const width = transitionWidth(channels)
  return { policyBytes: networkPolicyBytes, transitions: (batch) => batch.length / width, transitionBytes: 8 * width }
}

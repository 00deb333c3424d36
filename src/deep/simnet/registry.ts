/**
 * The server's side of identification with SimNet: registered entries, each with the experience its
 * instances shared and a box, and the network trained on them (docs/deep.md, "SimNet").
 *
 * The loop an agent's request goes through:
 *   1. embed the instance's experience with the current network → box;
 *   2. overlap with an entry's box ⇒ match (the entry's pool gets the experience, its box is
 *      narrowed to the intersection); no overlap ⇒ register a new entry;
 *   3. after a registration, with ≥ 2 entries, retrain the network on the pools (labels = entries)
 *      and recompute every entry's box with it (boxes of two networks are not comparable).
 *
 * Why retrain only on registration: that is when the label set changes; a match adds data to a label
 * already separated. Why warm-start: each retraining then costs a few dozen steps, not a fresh fit.
 * Before the first training (one entry), the untrained network's inputs are standardised to the first
 * entry's experience, so its random features are at least on the data's scale.
 */
import { type Box, intersect, overlaps } from "./box.ts"
import { embedExperience, type EmbedOptions, matchBox } from "./identify.ts"
import { cloneSimNet, type SimNet } from "./network.ts"
import { fitStandardisation, type LabelledPool, type TrainOptions, trainSimNet } from "./train.ts"

export interface Entry {
  /** Every member instance's experience (the registrant's first). */
  readonly segments: Array<Float32Array>
  /** Every member instance's box under the current network (same order). */
  boxes: Array<Box>
  /** The entry's box: the intersection of its members' boxes (the registrant's if they no longer overlap). */
  box: Box
}

export interface RegistryOptions extends EmbedOptions {
  /** Training of the first network (default: 150 steps, 12 entries per step). */
  readonly train: TrainOptions
  /** Steps of each warm-started retraining (default 40). */
  readonly retrainSteps?: number
  /**
   * Labelled experience of earlier registries (tasks of earlier runs, pretrained on already): added to
   * every retraining as further classes, so fine-tuning on the few entries of this run does not undo
   * what the network learned about how tasks differ.
   */
  readonly background?: ReadonlyArray<LabelledPool>
  /** The network given was trained already (its input standardisation is kept). */
  readonly pretrained?: boolean
}

export interface IdentifyOutcome {
  /** Index of the entry the instance ended in. */
  readonly entry: number
  readonly registered: boolean
  /** Whether the network was retrained after this request. */
  readonly retrained: boolean
}

const narrowAll = (boxes: ReadonlyArray<Box>): Box => {
  let b = boxes[0]
  for (let i = 1; i < boxes.length; i++) {
    if (!overlaps(b, boxes[i])) return boxes[0]
    b = intersect(b, boxes[i])
  }
  return b
}

export class SimNetRegistry {
  readonly entries: Array<Entry> = []
  private trainings: number

  constructor(public net: SimNet, readonly options: RegistryOptions) {
    this.trainings = options.pretrained === true ? 1 : 0
  }

  /** The registry's boxes, in entry order (what `matchBox` takes). */
  boxes(): ReadonlyArray<Box> {
    return this.entries.map((e) => e.box)
  }

  /** Steps 1–3 for one instance's experience (features in time order). */
  identify(features: Float32Array): IdentifyOutcome {
    const box = embedExperience(this.net, features, this.options)
    const decision = matchBox(this.boxes(), box)
    if (decision.kind === "match") {
      const e = this.entries[decision.entry]
      e.segments.push(features)
      e.boxes.push(box)
      e.box = intersect(e.box, box)
      return { entry: decision.entry, registered: false, retrained: false }
    }
    this.entries.push({ segments: [features], boxes: [box], box })
    const retrained = this.refit()
    return { entry: this.entries.length - 1, registered: true, retrained }
  }

  /** Retrains (≥ 2 entries) or standardises (1 entry) the network, then recomputes every box. */
  private refit(): boolean {
    const pools = [...(this.options.background ?? []), ...this.entries.map((e) => ({ segments: e.segments }))]
    let retrained = false
    if (pools.length === 1) {
      if (this.trainings === 0) this.net = fitStandardisation(this.net, pools)
    } else {
      const first = this.trainings === 0
      const t = this.options.train
      this.net = trainSimNet(cloneSimNet(this.net), pools, {
        ...t,
        classesPerStep: t.classesPerStep ?? 12,
        seed: t.seed + this.trainings,
        steps: first ? t.steps ?? 150 : this.options.retrainSteps ?? 40,
        fitInputs: first
      }).net
      this.trainings++
      retrained = true
    }
    for (const e of this.entries) {
      e.boxes = e.segments.map((s) => embedExperience(this.net, s, this.options))
      e.box = narrowAll(e.boxes)
    }
    return retrained
  }
}

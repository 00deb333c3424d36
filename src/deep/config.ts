/**
 * Every hyper-parameter of the DQN learner in one typed record, with MinAtar's defaults, in the
 * style of CleanRL's argument dataclasses: one place to read what a run did.
 *
 * Source of the defaults: MinAtar's reference DQN (Young & Tian 2019, "MinAtar: An Atari-Inspired
 * Testbed for Thorough and Reproducible Reinforcement Learning Experiments", arXiv:1903.03176,
 * and its examples/dqn.py): batch 32, replay 100,000, target network updated every 1,000 updates,
 * one update per frame, ε from 1.0 to 0.1 over the first 100,000 frames after a replay start of
 * 5,000 frames of uniform random play, γ = 0.99, step size 0.00025, Huber (smooth-L1) loss.
 *
 * One deliberate difference: MinAtar trains with centered RMSProp (α = 0.95, momentum 0.95,
 * ε = 0.01); issue 11 asks for Adam, so Adam runs with the same step size 2.5e-4 and ε = 3.125e-4
 * (= 0.01 / 32, the Adam ε that Dopamine's and "Revisiting Rainbow"'s MinAtar agents use).
 */
export interface DqnConfig {
  /** Transitions per update. */
  readonly batchSize: number
  /** Capacity of the circular replay buffer. */
  readonly replayCapacity: number
  /** Frames of uniform random play before the first update (and before ε starts to fall). */
  readonly replayStart: number
  /** ε at the start and the end of its linear schedule, and the frames it takes (after replayStart). */
  readonly epsilonStart: number
  readonly epsilonEnd: number
  readonly epsilonFrames: number
  /** One update every `trainEvery` frames (MinAtar: 1; Atari DQN and issue 11's speed target: 4). */
  readonly trainEvery: number
  /** Updates between copies of the online network into the target network. */
  readonly targetUpdateEvery: number
  /** Discount. */
  readonly gamma: number
  /** Adam. */
  readonly learningRate: number
  readonly adamBeta1: number
  readonly adamBeta2: number
  readonly adamEpsilon: number
  /** Hidden units of the dense layer (MinAtar: 128) and channels of the convolution (16). */
  readonly hidden: number
  readonly convChannels: number
  /** λ_EWC: weight of the EWC penalty λ/2 Σ F_i (θ_i − θ*_i)² once `consolidate()` has run; 0 turns it off. */
  readonly ewcLambda: number
  /** Replay transitions whose squared per-sample TD-loss gradients are averaged into the Fisher diagonal. */
  readonly fisherSamples: number
}

export const MINATAR_DEFAULTS: DqnConfig = {
  batchSize: 32,
  replayCapacity: 100_000,
  replayStart: 5_000,
  epsilonStart: 1.0,
  epsilonEnd: 0.1,
  epsilonFrames: 100_000,
  trainEvery: 1,
  targetUpdateEvery: 1_000,
  gamma: 0.99,
  learningRate: 2.5e-4,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 3.125e-4,
  hidden: 128,
  convChannels: 16,
  ewcLambda: 0,
  fisherSamples: 1_000
}

/** The defaults with some fields changed. */
export const dqnConfig = (overrides: Partial<DqnConfig> = {}): DqnConfig => ({ ...MINATAR_DEFAULTS, ...overrides })

/**
 * How many frames follow the random warm-up when `trainEvery` is longer than they are, else
 * undefined: an update comes at a multiple of `trainEvery` counted from the task's start, once
 * `replayStart` frames have passed, so a longer period leaves one update at most, often none (the
 * run went on acting with an untrained network and said nothing). A period at most those frames
 * always has one. A budget within the warm-up trains at no period: the callers report that on its
 * own.
 */
export const trainEveryTooLong = (c: DqnConfig, frames: number): number | undefined => {
  const after = frames - c.replayStart
  return after > 0 && c.trainEvery > after ? after : undefined
}

/** ε at a frame: 1 during the random warm-up, then linear to `epsilonEnd` over `epsilonFrames`. */
export const epsilonAt = (c: DqnConfig, frame: number): number => {
  if (frame < c.replayStart) return 1
  const t = (frame - c.replayStart) / c.epsilonFrames
  return t >= 1 ? c.epsilonEnd : c.epsilonStart + t * (c.epsilonEnd - c.epsilonStart)
}

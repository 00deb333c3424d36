/**
 * The paper's Atari-style experiment on MinAtar-style games (docs/deep.md, "DistMT with deep
 * learners"): N = 20 agents, M = 10 hidden tasks (five variants of Breakout, five of Space
 * Invaders), DistMT with DQN learners and shared experience against `independent` (every agent
 * learns every task alone with the same frames) and `oracle` (identities given).
 */
import { Contexts, Dqn, Env, Experiment, Stopping } from "distmt"

export default Experiment.make({
  name: "minatar",
  description:
    "N = 20 agents share M = 10 hidden MinAtar-style tasks (Breakout and Space Invaders variants), learning with DQN; " +
    "DistMT identifies tasks from random-play statistics and pools experience per task.",
  environment: Env.minatar({ game: ["breakout", "space_invaders"], maxFrames: 2_000 }),
  // Tasks differ in layout (brick rows, alien rows), which random play shows in the channels'
  // occupancy: the identification statistic (docs/algorithm.md §9) separates them by about 0.05.
  contexts: Contexts.list([
    { game: 0, brickRows: 1 },
    { game: 0, brickRows: 2 },
    { game: 0 },
    { game: 0, brickRows: 4 },
    { game: 0, brickRows: 5 },
    { game: 1, alienRows: 1 },
    { game: 1, alienRows: 2 },
    { game: 1, alienRows: 3 },
    { game: 1 },
    { game: 1, alienRows: 5 }
  ]),
  agents: 20,
  // The deep stage reads neither ε nor the linear learner's settings: success is learner.returnTarget.
  epsilon: 1,
  // c_Sep in the identification statistic's units (docs/algorithm.md, "The deep stage").
  cSep: 0.05,
  delta: 0.05,
  sharing: "experience",
  stopping: Stopping.adaptive({ maxEpisodes: 400 }),
  learner: Dqn.learner({
    framesPerAgent: 20_000,
    returnTarget: [1.5, 1.5, 1.5, 1.5, 1.5, 4.5, 4.5, 4.5, 4.5, 4.5],
    evaluationEpisodes: 20,
    evaluationFrames: 2_000,
    dqn: { hidden: 64, trainEvery: 4, replayStart: 2_000, epsilonFrames: 20_000, replayCapacity: 30_000, targetUpdateEvery: 500 }
  }),
  baselines: ["independent", "oracle"],
  seeds: 2,
  // The paper's scaling check at M = 10 (`distmt sweep specs/minatar.spec.ts`); `distmt run` ignores it.
  sweep: { agents: [5, 10, 20, 50] },
  quick: {
    description: "The CI-sized variant (--quick): N = 4 agents on M = 4 tasks (two Breakout and two Space Invaders variants), 3,000 frames per agent.",
    sweep: { agents: [2, 4] },
    agents: 4,
    contexts: Contexts.list([{ game: 0 }, { game: 0, brickRows: 1 }, { game: 1 }, { game: 1, alienRows: 1 }]),
    learner: Dqn.learner({
      framesPerAgent: 3_000,
      returnTarget: 1,
      evaluationEpisodes: 4,
      evaluationFrames: 300,
      dqn: { hidden: 16, trainEvery: 4, replayStart: 500, epsilonFrames: 1_000, replayCapacity: 5_000 }
    }),
    seeds: 1
  }
})

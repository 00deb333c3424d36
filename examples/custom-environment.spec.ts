/**
 * Your own finite environment: a two-door room. From the hall (state 0) an agent opens door A
 * (action 0) or door B (action 1); the contexts say how much each room pays and how often a door
 * sticks (the agent stays in the hall). Tables are given per context by `build`.
 *
 *   npx distmt run examples/custom-environment.spec.ts
 */
import { Contexts, Env, Experiment, Lsvi, Stopping } from "distmt"

const HALL = 0
const ROOM_A = 1
const ROOM_B = 2

/** The environment, exported so that examples/custom-features.spec.ts can reuse it. */
export const twoDoors = Env.tabular({
    states: 3,
    actions: 2,
    horizon: 3,
    start: HALL,
    build: ({ payA, payB, stick }) => ({
      // [S][A]: the same at every step. Rooms pay whatever the agent does there.
      reward: [
        [0, 0],
        [payA, payA],
        [payB, payB]
      ],
      // [S][A][S']: doors stick with probability `stick`; rooms are absorbing.
      transition: [
        [[stick, 1 - stick, 0], [stick, 0, 1 - stick]],
        [[0, 1, 0], [0, 1, 0]],
        [[0, 0, 1], [0, 0, 1]]
      ]
    })
})

/** Three rooms-and-doors settings, the hidden tasks. */
export const doorContexts = Contexts.list([
  { payA: 1.0, payB: 0.2, stick: 0.1 },
  { payA: 0.1, payB: 0.6, stick: 0.1 },
  { payA: 0.3, payB: 0.3, stick: 0.5 }
])

export default Experiment.make({
  name: "two-doors",
  environment: twoDoors,
  contexts: doorContexts,
  agents: 6,
  epsilon: 0.1,
  cSep: 0.3,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 2 }),
  stopping: Stopping.adaptive({ maxEpisodes: 100_000 }),
  baselines: ["independent"],
  seeds: 1
})

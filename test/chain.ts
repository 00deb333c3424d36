/**
 * The small linear chain that many tests run: three contexts, a few agents meeting every task in
 * turn (`stream`), a practical β; each test overrides the fields it is about.
 */
import { Effect } from "effect"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { Assignment, Contexts, Env, Experiment, Lsvi, Stopping } from "../src/index.ts"

/** A spec value decoded and compiled, or a thrown failure (tests only). */
export const compiled = (input: unknown) => Effect.runSync(Effect.flatMap(decode(input, "test"), (e) => compile(e, "test")))

export const CHAIN_CONTEXTS = [
  { goal: 2, reward: 0.2, slip: 0.1 },
  { goal: 1, reward: 1.0, slip: 0.1 },
  { goal: 2, reward: 0.9, slip: 0.2 }
]

/** The chain, compiled, with `over` replacing any of its fields. */
export const chain = (name: string, over: Record<string, unknown> = {}) =>
  compiled({
    ...Experiment.make({
      name,
      environment: Env.linearChain({ length: 3, horizon: 3 }),
      contexts: Contexts.list(CHAIN_CONTEXTS),
      agents: 5,
      assignment: Assignment.stream(),
      epsilon: 0.3,
      cSep: 0.25,
      delta: 0.05,
      learner: Lsvi.ucb({ beta: 1.5 }),
      stopping: Stopping.adaptive({ maxEpisodes: 20_000 }),
      baselines: ["oracle"]
    }),
    ...over
  })

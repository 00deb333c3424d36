/**
 * The MinAtar-style games: `makeGame(name, context)` builds one task (a game with its context
 * parameters) behind the `MinAtarGame` interface that the DQN learner codes against.
 */
import { Asterix } from "./asterix.ts"
import { Breakout } from "./breakout.ts"
import { Freeway } from "./freeway.ts"
import type { GameName, MinAtarGame } from "./Game.ts"
import { type GameContext, resolveParams } from "./params.ts"
import { Seaquest } from "./seaquest.ts"
import { SpaceInvaders } from "./spaceInvaders.ts"

export { Action, ACTIONS, CELLS, GAME_NAMES, GRID } from "./Game.ts"
export type { GameName, MinAtarGame, StepResult } from "./Game.ts"
export { FIELDS, resolveParams } from "./params.ts"
export type { GameContext, ParamsOf } from "./params.ts"
export { alwaysUp, playEpisode, type Policy, randomPolicy, scriptedPolicy } from "./policies.ts"
export { renderPng, renderStrip } from "./render.ts"
export { type MinAtarTask, minatarTasks } from "./spec.ts"

/**
 * A game with its context: any subset of its parameters, the rest at the standard game's defaults.
 * Throws a RangeError naming the bad fields if the context is out of range (decoded specs never are).
 * Call `reset(rng)` before the first `step`.
 */
export const makeGame = <N extends GameName>(name: N, context: GameContext<N> = {}): MinAtarGame => {
  const c = context as Partial<Record<string, number>>
  switch (name) {
    case "breakout":
      return new Breakout(resolveParams("breakout", c))
    case "space_invaders":
      return new SpaceInvaders(resolveParams("space_invaders", c))
    case "freeway":
      return new Freeway(resolveParams("freeway", c))
    case "asterix":
      return new Asterix(resolveParams("asterix", c))
    case "seaquest":
      return new Seaquest(resolveParams("seaquest", c))
  }
  throw new RangeError(`unknown game ${JSON.stringify(name)}`)
}

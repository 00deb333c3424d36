/**
 * The context parameters of each game: what makes one task differ from another (paddle speed, brick
 * rows, alien speed, car density, sticky-action probability, ...). Each field has a range and a default
 * equal to the standard game, and each game has a Schema whose errors name the bad field's path.
 *
 * One table per game is the single source: the TypeScript types, the Schemas, the defaults and the
 * parameter tables of docs/deep.md all follow it.
 */
import { Result, Schema, SchemaIssue } from "effect"
import type { CommonParams, GameName } from "./Game.ts"

export interface Field {
  readonly default: number
  readonly min: number
  readonly max: number
  readonly int: boolean
  readonly doc: string
}

const f = (dflt: number, min: number, max: number, int: boolean, doc: string): Field => ({ default: dflt, min, max, int, doc })

const STICKY = f(0.1, 0, 1, false, "probability that the previous action is repeated instead of the chosen one")
const maxFrames = (dflt: number): Field => f(dflt, 0, 1_000_000, true, "end the episode after this many frames (0: never)")

export interface BreakoutParams extends CommonParams {
  readonly paddleSpeed: number
  readonly paddleWidth: number
  readonly brickRows: number
  readonly ballSpeed: number
}
export interface SpaceInvadersParams extends CommonParams {
  readonly alienRows: number
  readonly alienPeriod: number
  readonly firePeriod: number
  readonly shotCooldown: number
  readonly ramp: number
}
export interface FreewayParams extends CommonParams {
  readonly carsPerLane: number
  readonly fastestCar: number
  readonly slowestCar: number
  readonly chickenPeriod: number
}
export interface AsterixParams extends CommonParams {
  readonly spawnPeriod: number
  readonly movePeriod: number
  readonly goldFraction: number
  readonly ramp: number
  readonly rampInterval: number
}

export interface SeaquestParams extends CommonParams {
  readonly spawnPeriod: number
  readonly enemyPeriod: number
  readonly subFraction: number
  readonly subFirePeriod: number
  readonly diverPeriod: number
  readonly oxygen: number
  readonly shotCooldown: number
  readonly ramp: number
}

export interface ParamsOf {
  readonly breakout: BreakoutParams
  readonly space_invaders: SpaceInvadersParams
  readonly freeway: FreewayParams
  readonly asterix: AsterixParams
  readonly seaquest: SeaquestParams
}

/** A game's context as a spec writes it: any subset of its parameters. */
export type GameContext<N extends GameName = GameName> = Partial<ParamsOf[N]>

export const FIELDS: { readonly [N in GameName]: { readonly [K in keyof ParamsOf[N]]: Field } } = {
  breakout: {
    sticky: STICKY,
    maxFrames: maxFrames(0),
    paddleSpeed: f(1, 1, 3, true, "cells the paddle moves per frame"),
    paddleWidth: f(1, 1, 4, true, "width of the paddle in cells"),
    brickRows: f(3, 1, 6, true, "rows of bricks (rows 1.. from the top); a cleared wall is rebuilt with as many"),
    ballSpeed: f(1, 0.25, 2, false, "diagonal cells the ball moves per frame (fractions accumulate)")
  },
  space_invaders: {
    sticky: STICKY,
    maxFrames: maxFrames(0),
    alienRows: f(4, 1, 5, true, "rows of the alien block (6 aliens each)"),
    alienPeriod: f(12, 1, 30, true, "frames between two steps of the alien block (smaller: faster)"),
    firePeriod: f(10, 1, 50, true, "frames between two alien shots (smaller: more fire)"),
    shotCooldown: f(5, 1, 20, true, "frames before the cannon can fire again"),
    ramp: f(1, 0, 1, true, "1: each new wave steps one frame faster (difficulty ramp); 0: no ramp")
  },
  freeway: {
    sticky: STICKY,
    maxFrames: maxFrames(2500),
    carsPerLane: f(1, 1, 3, true, "cars in each of the 8 lanes (car density)"),
    fastestCar: f(1, 1, 5, true, "fewest frames between two moves of a car (lane periods are drawn in fastestCar..slowestCar)"),
    slowestCar: f(5, 1, 5, true, "most frames between two moves of a car"),
    chickenPeriod: f(3, 1, 5, true, "frames between two moves of the chicken")
  },
  asterix: {
    sticky: STICKY,
    maxFrames: maxFrames(0),
    spawnPeriod: f(10, 1, 30, true, "frames between two spawns of an enemy or gold"),
    movePeriod: f(5, 1, 10, true, "frames between two moves of the enemies and gold"),
    goldFraction: f(1 / 3, 0, 1, false, "probability that a spawned object is gold rather than an enemy"),
    ramp: f(1, 0, 1, true, "1: the game speeds up every rampInterval frames (difficulty ramp); 0: no ramp"),
    rampInterval: f(100, 10, 10_000, true, "frames between two speed-ups when ramp = 1")
  },
  seaquest: {
    sticky: STICKY,
    maxFrames: maxFrames(0),
    spawnPeriod: f(20, 1, 60, true, "frames between two enemy spawns"),
    enemyPeriod: f(5, 1, 10, true, "frames between two moves of the enemies (divers move half as often)"),
    subFraction: f(1 / 3, 0, 1, false, "probability that a spawned enemy is a submarine (which shoots) rather than a fish"),
    subFirePeriod: f(10, 1, 50, true, "frames between two volleys of the enemy submarines"),
    diverPeriod: f(30, 1, 200, true, "frames between two diver spawns"),
    oxygen: f(200, 20, 1000, true, "frames of oxygen in a full tank"),
    shotCooldown: f(5, 1, 20, true, "frames before the submarine can fire again"),
    ramp: f(1, 0, 1, true, "1: every surfacing speeds up enemy spawns and moves, in turn (difficulty ramp); 0: no ramp")
  }
}

/** The schema of one field: a number in its range, an integer where the game needs one. */
const fieldSchema = (name: string, fd: Field) => {
  const kind = fd.int ? (fd.min === 0 && fd.max === 1 ? "0 or 1" : `an integer in ${fd.min}..${fd.max}`) : `a number in [${fd.min}, ${fd.max}]`
  // One check for "integer" and "in range", so that either failure says the whole expectation.
  return Schema.Finite.check(
    Schema.makeFilter((v: number) => (!fd.int || Number.isInteger(v)) && v >= fd.min && v <= fd.max, { expected: `${kind} (${name}: ${fd.doc})` })
  )
}

/** The fields of a game as optional schema fields (a context or an `Env.minatar` gives any subset). */
export const fieldSchemas = (game: GameName): Record<string, Schema.optionalKey<Schema.Codec<number>>> =>
  Object.fromEntries(Object.entries(FIELDS[game]).map(([k, fd]) => [k, Schema.optionalKey(fieldSchema(k, fd as Field))]))

/** Constraints between fields of a game's (complete) parameters, as issues at the bad field's path. */
export const crossIssues = (game: GameName, params: object): Array<{ readonly path: ReadonlyArray<string>; readonly issue: string }> => {
  const p = params as Record<string, number>
  if (game === "freeway" && p.fastestCar > p.slowestCar) {
    return [{ path: ["slowestCar"], issue: `expected slowestCar ≥ fastestCar (${p.fastestCar})` }]
  }
  return []
}

/** Fills in the defaults of a game's parameters. */
export const withDefaults = <N extends GameName>(game: N, context: Partial<Record<string, number>>): ParamsOf[N] => {
  const out: Record<string, number> = {}
  for (const [k, fd] of Object.entries(FIELDS[game])) out[k] = context[k] ?? (fd as Field).default
  return out as unknown as ParamsOf[N]
}

/**
 * The Schema of one game's parameters (every field optional, no other field allowed, fields related
 * as `crossIssues` says once the defaults are filled in).
 */
export const paramsSchema = (game: GameName) =>
  Schema.Struct(fieldSchemas(game)).check(
    Schema.makeFilter((p: Record<string, number | undefined>) => crossIssues(game, withDefaults(game, p)))
  )

const SCHEMAS = Object.fromEntries(
  (Object.keys(FIELDS) as Array<GameName>).map((g) => [g, paramsSchema(g)])
) as Record<GameName, ReturnType<typeof paramsSchema>>

/**
 * Checks a context for `game` and fills in its defaults; throws a RangeError naming every bad field
 * (a decoded spec has been checked already, so this guards direct callers such as tests and benches).
 */
export const resolveParams = <N extends GameName>(game: N, context: Partial<Record<string, number>> = {}): ParamsOf[N] => {
  const schema = SCHEMAS[game]
  if (schema === undefined) throw new RangeError(`unknown game ${JSON.stringify(game)}; expected one of ${Object.keys(FIELDS).join(", ")}`)
  const result = Schema.decodeUnknownResult(schema)(context, { errors: "all", onExcessProperty: "error" })
  if (Result.isFailure(result)) {
    // One line, each field with its expectation (the Schema's own message is indented over several).
    const issues = SchemaIssue.makeFormatterStandardSchemaV1()(result.failure.issue).issues
      .map((i) => `${(i.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".")}: ${i.message.replace(/^Expected /, "expected ")}`)
    throw new RangeError(`invalid ${game} context ${JSON.stringify(context)}: ${issues.join("; ")}`)
  }
  return withDefaults(game, context)
}

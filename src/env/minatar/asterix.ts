/**
 * Asterix (docs/deep.md, "Games"): the player moves in four directions over 8 lanes (rows 1..8).
 * Enemies and gold enter lanes from either side and cross the screen; taking gold is +1, touching
 * an enemy ends the episode. With the ramp, every `rampInterval` frames the game speeds up: spawns and
 * moves come one frame sooner, in turn.
 *
 * Channels: 0 player, 1 enemy, 2 trail (the cell behind each enemy or gold: its direction), 3 gold.
 */
import type { Rng } from "../../rng/Rng.ts"
import { Action as Action_, GRID as GRID_, GridGame, mark as mark_ } from "./Game.ts"
import type { AsterixParams } from "./params.ts"

// Module-local copies: when tsx loads this file as CommonJS, an imported binding is read through a
// getter on every use, which made the per-cell loops up to ten times slower (docs/deep.md, "Speed").
const Action = Action_
const GRID = GRID_
const mark = mark_

const LANES = 8
const EMPTY = 0
const ENEMY = 1
const GOLD = 2

export class Asterix extends GridGame {
  readonly name = "asterix" as const
  readonly channels = 4
  readonly channelNames = ["player", "enemy", "trail", "gold"]
  playerX = 0
  /** Lane of the player (row = lane + 1). */
  playerLane = 0
  /** Per lane: EMPTY, ENEMY or GOLD, its x and direction. */
  readonly kind = new Uint8Array(LANES)
  readonly objX = new Int8Array(LANES)
  readonly objDir = new Int8Array(LANES)
  spawnPeriod = 0
  movePeriod = 0
  private spawnTimer = 0
  private moveTimer = 0
  private rampTimer = 0
  private rampTurn = 0

  constructor(private readonly p: AsterixParams) {
    super(p)
  }

  protected start(): void {
    this.playerX = GRID >> 1
    this.playerLane = LANES >> 1
    this.kind.fill(EMPTY)
    this.spawnPeriod = this.p.spawnPeriod
    this.movePeriod = this.p.movePeriod
    this.spawnTimer = this.spawnPeriod
    this.moveTimer = this.movePeriod
    this.rampTimer = this.p.rampInterval
    this.rampTurn = 0
  }

  protected advance(action: number, rng: Rng): number {
    if (action === Action.left) this.playerX = Math.max(0, this.playerX - 1)
    else if (action === Action.right) this.playerX = Math.min(GRID - 1, this.playerX + 1)
    else if (action === Action.up) this.playerLane = Math.max(0, this.playerLane - 1)
    else if (action === Action.down) this.playerLane = Math.min(LANES - 1, this.playerLane + 1)
    // Collisions are checked after the player moves and again after the objects move, so the two
    // never pass through each other.
    let reward = this.collide()
    if (--this.moveTimer <= 0) {
      this.moveTimer = this.movePeriod
      for (let l = 0; l < LANES; l++) {
        if (this.kind[l] === EMPTY) continue
        const x = this.objX[l] + this.objDir[l]
        if (x < 0 || x >= GRID) this.kind[l] = EMPTY
        else this.objX[l] = x
      }
    }
    if (--this.spawnTimer <= 0) {
      this.spawnTimer = this.spawnPeriod
      this.spawn(rng)
    }
    reward += this.collide()
    if (this.p.ramp === 1 && --this.rampTimer <= 0) {
      this.rampTimer = this.p.rampInterval
      if (this.rampTurn++ % 2 === 0) this.spawnPeriod = Math.max(1, this.spawnPeriod - 1)
      else this.movePeriod = Math.max(1, this.movePeriod - 1)
    }
    return reward
  }

  /** An object enters a random empty lane from a random side. */
  private spawn(rng: Rng): void {
    let empty = 0
    for (let l = 0; l < LANES; l++) if (this.kind[l] === EMPTY) empty++
    if (empty === 0) return
    let pick = rng.int(empty)
    let lane = 0
    for (; lane < LANES; lane++) if (this.kind[lane] === EMPTY && pick-- === 0) break
    const fromLeft = rng.int(2) === 0
    this.objX[lane] = fromLeft ? 0 : GRID - 1
    this.objDir[lane] = fromLeft ? 1 : -1
    this.kind[lane] = rng.next() < this.p.goldFraction ? GOLD : ENEMY
  }

  private collide(): number {
    const l = this.playerLane
    if (this.kind[l] === EMPTY || this.objX[l] !== this.playerX) return 0
    if (this.kind[l] === ENEMY) {
      this.over = true
      return 0
    }
    this.kind[l] = EMPTY
    return 1
  }

  protected paint(out: Float32Array): void {
    mark(out, 0, this.playerX, this.playerLane + 1)
    for (let l = 0; l < LANES; l++) {
      const k = this.kind[l]
      if (k === EMPTY) continue
      mark(out, k === ENEMY ? 1 : 3, this.objX[l], l + 1)
      mark(out, 2, this.objX[l] - this.objDir[l], l + 1)
    }
  }
}

/**
 * Seaquest (docs/deep.md, "Games"): a two-cell submarine (front and back, so its heading shows) moves
 * between the surface (row 0) and 8 lanes of water (rows 1..8) and shoots from its front. Fish and
 * enemy submarines cross the lanes, and enemy submarines shoot. Each enemy shot is +1. Divers cross the
 * lanes too; touching one takes it on board (at most 6). Oxygen runs down under water. Surfacing with
 * divers refills it and drops one diver, or all six for a bonus of one point per tenth of oxygen left.
 * With the ramp, every surfacing speeds the enemies up. The episode ends when the submarine touches a
 * fish, a submarine or a shot, runs out of oxygen, or surfaces with no diver on board.
 *
 * Channels: 0 sub front, 1 sub back, 2 sub shot, 3 trail, 4 enemy shot, 5 fish, 6 enemy sub,
 * 7 oxygen gauge, 8 diver gauge (both on row 9), 9 diver.
 */
import type { Rng } from "../../rng/Rng.ts"
import { Action as Action_, GRID as GRID_, GridGame, mark as mark_ } from "./Game.ts"
import type { SeaquestParams } from "./params.ts"

// Module-local copies: when tsx loads this file as CommonJS, an imported binding is read through a
// getter on every use, which made the per-cell loops up to ten times slower (docs/deep.md, "Speed").
const Action = Action_
const GRID = GRID_
const mark = mark_

const LANES = 8
const MAX_DIVERS = 6
const EMPTY = 0
const FISH = 1
const SUB = 2

export class Seaquest extends GridGame {
  readonly name = "seaquest" as const
  readonly channels = 10
  readonly channelNames = ["sub front", "sub back", "sub shot", "trail", "enemy shot", "fish", "enemy sub", "oxygen", "divers", "diver"]
  x = 0
  /** Row of the submarine: 0 is the surface, 1..8 the lanes. */
  y = 0
  facing = 1
  oxygen = 0
  divers = 0
  /** Per lane (row = lane + 1): the enemy, the diver, the enemy shot and the submarine's shot. */
  readonly enemy = new Uint8Array(LANES)
  private readonly enemyX = new Int8Array(LANES)
  private readonly enemyDir = new Int8Array(LANES)
  private readonly diver = new Uint8Array(LANES)
  private readonly diverX = new Int8Array(LANES)
  private readonly diverDir = new Int8Array(LANES)
  private readonly shotX = new Int8Array(LANES)
  private readonly shotDir = new Int8Array(LANES)
  private readonly myShotX = new Int8Array(LANES)
  private readonly myShotDir = new Int8Array(LANES)
  spawnPeriod = 0
  enemyPeriod = 0
  private spawnTimer = 0
  private enemyTimer = 0
  private diverTimer = 0
  private diverMoveTimer = 0
  private fireTimer = 0
  private cooldown = 0
  private surfacings = 0

  constructor(private readonly p: SeaquestParams) {
    super(p)
  }

  protected start(): void {
    this.x = GRID >> 1
    this.y = 0
    this.facing = 1
    this.oxygen = this.p.oxygen
    this.divers = 0
    this.enemy.fill(EMPTY)
    this.diver.fill(0)
    // Shots not in flight sit at x = -1.
    this.shotX.fill(-1)
    this.myShotX.fill(-1)
    this.spawnPeriod = this.p.spawnPeriod
    this.enemyPeriod = this.p.enemyPeriod
    this.spawnTimer = this.spawnPeriod
    this.enemyTimer = this.enemyPeriod
    this.diverTimer = this.p.diverPeriod
    this.diverMoveTimer = 2 * this.enemyPeriod
    this.fireTimer = this.p.subFirePeriod
    this.cooldown = 0
    this.surfacings = 0
  }

  protected advance(action: number, rng: Rng): number {
    let reward = 0
    const wasUnder = this.y > 0
    if (action === Action.left || action === Action.right) {
      this.facing = action === Action.left ? -1 : 1
      this.x = Math.min(GRID - 1, Math.max(0, this.x + this.facing))
    } else if (action === Action.up) this.y = Math.max(0, this.y - 1)
    else if (action === Action.down) this.y = Math.min(LANES, this.y + 1)
    else if (action === Action.fire && this.cooldown === 0 && this.y > 0) {
      const l = this.y - 1
      this.myShotX[l] = this.x
      this.myShotDir[l] = this.facing
      this.cooldown = this.p.shotCooldown
    }
    if (this.cooldown > 0) this.cooldown--
    if (this.y === 0 && wasUnder) reward += this.surface()
    if (this.over) return reward
    reward += this.collide()
    this.moveShots()
    reward += this.collide()
    if (--this.enemyTimer <= 0) {
      this.enemyTimer = this.enemyPeriod
      this.moveAll(this.enemy, this.enemyX, this.enemyDir)
    }
    if (--this.diverMoveTimer <= 0) {
      this.diverMoveTimer = 2 * this.enemyPeriod // divers swim at half the enemies' speed
      this.moveAll(this.diver, this.diverX, this.diverDir)
    }
    if (--this.spawnTimer <= 0) {
      this.spawnTimer = this.spawnPeriod
      this.spawn(rng, this.enemy, this.enemyX, this.enemyDir, rng.next() < this.p.subFraction ? SUB : FISH)
    }
    if (--this.diverTimer <= 0) {
      this.diverTimer = this.p.diverPeriod
      this.spawn(rng, this.diver, this.diverX, this.diverDir, 1)
    }
    if (--this.fireTimer <= 0) {
      this.fireTimer = this.p.subFirePeriod
      for (let l = 0; l < LANES; l++) {
        if (this.enemy[l] === SUB && this.shotX[l] < 0) {
          this.shotX[l] = this.enemyX[l]
          this.shotDir[l] = this.enemyDir[l]
        }
      }
    }
    reward += this.collide()
    if (this.y > 0 && --this.oxygen <= 0) this.over = true
    return reward
  }

  /** Reaching the surface from below: refill and drop divers, or end the episode without any. */
  private surface(): number {
    if (this.divers === 0) {
      this.over = true
      return 0
    }
    let reward = 0
    if (this.divers === MAX_DIVERS) {
      reward = Math.ceil((10 * this.oxygen) / this.p.oxygen)
      this.divers = 0
    } else this.divers--
    this.oxygen = this.p.oxygen
    if (this.p.ramp === 1) {
      if (this.surfacings++ % 2 === 0) this.spawnPeriod = Math.max(1, this.spawnPeriod - 1)
      else this.enemyPeriod = Math.max(1, this.enemyPeriod - 1)
    }
    return reward
  }

  private moveAll(kind: Uint8Array, xs: Int8Array, dirs: Int8Array): void {
    for (let l = 0; l < LANES; l++) {
      if (kind[l] === EMPTY) continue
      const x = xs[l] + dirs[l]
      if (x < 0 || x >= GRID) kind[l] = EMPTY
      else xs[l] = x
    }
  }

  private spawn(rng: Rng, kind: Uint8Array, xs: Int8Array, dirs: Int8Array, what: number): void {
    let empty = 0
    for (let l = 0; l < LANES; l++) if (kind[l] === EMPTY) empty++
    if (empty === 0) return
    let pick = rng.int(empty)
    let lane = 0
    for (; lane < LANES; lane++) if (kind[lane] === EMPTY && pick-- === 0) break
    const fromLeft = rng.int(2) === 0
    xs[lane] = fromLeft ? 0 : GRID - 1
    dirs[lane] = fromLeft ? 1 : -1
    kind[lane] = what
  }

  private moveShots(): void {
    for (let l = 0; l < LANES; l++) {
      if (this.shotX[l] >= 0) {
        const x = this.shotX[l] + this.shotDir[l]
        this.shotX[l] = x >= 0 && x < GRID ? x : -1
      }
      if (this.myShotX[l] >= 0) {
        const x = this.myShotX[l] + this.myShotDir[l]
        this.myShotX[l] = x >= 0 && x < GRID ? x : -1
      }
    }
  }

  /** Shots against enemies, then the submarine against enemies, enemy shots and divers. */
  private collide(): number {
    let reward = 0
    for (let l = 0; l < LANES; l++) {
      const s = this.myShotX[l]
      // A shot and an enemy facing each other can swap cells in one frame: count that as a hit too.
      if (s >= 0 && this.enemy[l] !== EMPTY && (this.enemyX[l] === s || this.enemyX[l] === s - this.myShotDir[l])) {
        this.enemy[l] = EMPTY
        this.myShotX[l] = -1
        reward++
      }
    }
    if (this.y === 0) return reward
    const l = this.y - 1
    if ((this.enemy[l] !== EMPTY && this.touches(this.enemyX[l])) || (this.shotX[l] >= 0 && this.touches(this.shotX[l]))) {
      this.over = true
      return reward
    }
    if (this.diver[l] !== EMPTY && this.touches(this.diverX[l]) && this.divers < MAX_DIVERS) {
      this.diver[l] = EMPTY
      this.divers++
    }
    return reward
  }

  /** Whether column x is one of the submarine's two cells (in its row). */
  private touches(x: number): boolean {
    return x === this.x || x === this.x - this.facing
  }

  protected paint(out: Float32Array): void {
    mark(out, 0, this.x, this.y)
    mark(out, 1, this.x - this.facing, this.y)
    for (let l = 0; l < LANES; l++) {
      const row = l + 1
      if (this.myShotX[l] >= 0) mark(out, 2, this.myShotX[l], row)
      if (this.shotX[l] >= 0) mark(out, 4, this.shotX[l], row)
      if (this.enemy[l] !== EMPTY) {
        mark(out, this.enemy[l] === FISH ? 5 : 6, this.enemyX[l], row)
        mark(out, 3, this.enemyX[l] - this.enemyDir[l], row)
      }
      if (this.diver[l] !== EMPTY) {
        mark(out, 9, this.diverX[l], row)
        mark(out, 3, this.diverX[l] - this.diverDir[l], row)
      }
    }
    const bar = Math.ceil((GRID * this.oxygen) / this.p.oxygen)
    for (let x = 0; x < bar; x++) mark(out, 7, x, GRID - 1)
    for (let x = 0; x < this.divers; x++) mark(out, 8, x, GRID - 1)
  }
}

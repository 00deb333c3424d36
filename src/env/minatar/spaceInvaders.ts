/**
 * Space Invaders (docs/deep.md, "Games"): a cannon on the bottom row shoots upwards at a block of
 * aliens that steps sideways and, at a wall, down one row and back. Each alien shot is +1; a cleared
 * block is replaced by a new wave (one frame faster per wave with the ramp). The aliens shoot at the
 * cannon; the episode ends when an alien shot hits it or an alien reaches the bottom row.
 *
 * Channels: 0 cannon, 1 alien, 2 alien moving left, 3 alien moving right, 4 cannon shot, 5 alien shot.
 */
import type { Rng } from "../../rng/Rng.ts"
import { Action as Action_, CELLS as CELLS_, GRID as GRID_, GridGame, mark as mark_ } from "./Game.ts"
import type { SpaceInvadersParams } from "./params.ts"

// Module-local copies: when tsx loads this file as CommonJS, an imported binding is read through a
// getter on every use, which made the per-cell loops up to ten times slower (docs/deep.md, "Speed").
const Action = Action_
const CELLS = CELLS_
const GRID = GRID_
const mark = mark_

const BOTTOM = GRID - 1
/** The block spans these columns at the start of a wave, leaving room to step sideways. */
const FIRST_COL = 2
const COLS = 6

export class SpaceInvaders extends GridGame {
  readonly name = "space_invaders" as const
  readonly channels = 6
  readonly channelNames = ["cannon", "alien", "alien left", "alien right", "cannon shot", "alien shot"]
  readonly aliens = new Uint8Array(CELLS)
  readonly shots = new Uint8Array(CELLS)
  readonly alienShots = new Uint8Array(CELLS)
  aliensLeft = 0
  cannon = 0
  /** +1: the block steps right; -1: left. */
  private dir = 1
  /** Frames between two steps of the block in this wave (shrinks with the ramp). */
  period = 0
  private moveTimer = 0
  private fireTimer = 0
  private cooldown = 0

  constructor(private readonly p: SpaceInvadersParams) {
    super(p)
  }

  protected start(): void {
    this.cannon = GRID >> 1
    this.shots.fill(0)
    this.alienShots.fill(0)
    this.cooldown = 0
    this.period = this.p.alienPeriod
    this.fireTimer = this.p.firePeriod
    this.newWave()
  }

  private newWave(): void {
    this.aliens.fill(0)
    for (let y = 0; y < this.p.alienRows; y++) this.aliens.fill(1, y * GRID + FIRST_COL, y * GRID + FIRST_COL + COLS)
    this.aliensLeft = this.p.alienRows * COLS
    this.dir = 1
    this.moveTimer = this.period
  }

  protected advance(action: number, rng: Rng): number {
    if (action === Action.left) this.cannon = Math.max(0, this.cannon - 1)
    else if (action === Action.right) this.cannon = Math.min(GRID - 1, this.cannon + 1)
    // Shots in flight move first: cannon shots up one row (top row first, so a shot moves once),
    // alien shots down; a new cannon shot then appears just above the cannon.
    for (let i = 0; i < CELLS; i++) {
      if (this.shots[i] === 1) {
        this.shots[i] = 0
        if (i >= GRID) this.shots[i - GRID] = 1
      }
    }
    for (let i = CELLS - 1; i >= 0; i--) {
      if (this.alienShots[i] === 1) {
        this.alienShots[i] = 0
        if (i + GRID < CELLS) this.alienShots[i + GRID] = 1
      }
    }
    if (action === Action.fire && this.cooldown === 0) {
      this.shots[(BOTTOM - 1) * GRID + this.cannon] = 1
      this.cooldown = this.p.shotCooldown
    }
    if (this.cooldown > 0) this.cooldown--
    let reward = this.hits()
    if (--this.moveTimer <= 0) {
      this.moveTimer = this.period
      this.stepBlock()
      reward += this.hits()
    }
    if (--this.fireTimer <= 0) {
      this.fireTimer = this.p.firePeriod
      this.alienFire(rng)
    }
    if (this.alienShots[BOTTOM * GRID + this.cannon] === 1) this.over = true
    for (let x = 0; x < GRID; x++) if (this.aliens[BOTTOM * GRID + x] === 1) this.over = true
    if (this.aliensLeft === 0 && !this.over) {
      // The difficulty ramp: every new wave steps one frame faster.
      if (this.p.ramp === 1) this.period = Math.max(1, this.period - 1)
      this.newWave()
    }
    return reward
  }

  /** Removes aliens that share a cell with a cannon shot (and the shot); returns how many. */
  private hits(): number {
    let n = 0
    for (let i = 0; i < CELLS; i++) {
      if (this.shots[i] === 1 && this.aliens[i] === 1) {
        this.shots[i] = 0
        this.aliens[i] = 0
        n++
      }
    }
    this.aliensLeft -= n
    return n
  }

  /** The block steps sideways, or down and back when an alien is at the wall it heads to. */
  private stepBlock(): void {
    const a = this.aliens
    const edge = this.dir === 1 ? GRID - 1 : 0
    let atWall = false
    for (let y = 0; y < GRID; y++) if (a[y * GRID + edge] === 1) atWall = true
    if (atWall) {
      a.copyWithin(GRID, 0, CELLS - GRID)
      a.fill(0, 0, GRID)
      this.dir = -this.dir
    } else if (this.dir === 1) {
      for (let y = 0; y < GRID; y++) {
        a.copyWithin(y * GRID + 1, y * GRID, y * GRID + GRID - 1)
        a[y * GRID] = 0
      }
    } else {
      for (let y = 0; y < GRID; y++) {
        a.copyWithin(y * GRID, y * GRID + 1, y * GRID + GRID)
        a[y * GRID + GRID - 1] = 0
      }
    }
  }

  /** The lowest alien of the column nearest the cannon shoots (ties: a random side). */
  private alienFire(rng: Rng): void {
    const leftFirst = rng.int(2) === 0
    for (let d = 0; d < GRID; d++) {
      for (let s = 0; s < 2; s++) {
        const x = this.cannon + (s === 0 === leftFirst ? -d : d)
        if (x < 0 || x >= GRID) continue
        for (let y = BOTTOM - 1; y >= 0; y--) {
          if (this.aliens[y * GRID + x] === 1) {
            this.alienShots[(y + 1) * GRID + x] = 1
            return
          }
        }
      }
    }
  }

  protected paint(out: Float32Array): void {
    mark(out, 0, this.cannon, BOTTOM)
    const dirChannel = this.dir === -1 ? 2 : 3
    for (let i = 0; i < CELLS; i++) {
      if (this.aliens[i] === 1) {
        out[CELLS + i] = 1
        out[dirChannel * CELLS + i] = 1
      }
      if (this.shots[i] === 1) out[4 * CELLS + i] = 1
      if (this.alienShots[i] === 1) out[5 * CELLS + i] = 1
    }
  }
}

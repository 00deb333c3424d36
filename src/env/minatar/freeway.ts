/**
 * Freeway (docs/deep.md, "Games"): a chicken in the middle column crosses 8 lanes of traffic from the
 * bottom row to the top row, moving up or down at most once every `chickenPeriod` frames. Reaching the
 * top is +1 and sends the chicken back to the bottom with new lane speeds; a car that hits the chicken
 * sends it back to the bottom. Cars wrap around at the edges. The episode lasts `maxFrames` (2500).
 *
 * Channels: 0 chicken, 1 car, 2..6 the cell behind a car whose lane moves every 1..5 frames (its
 * direction and speed).
 */
import type { Rng } from "../../rng/Rng.ts"
import { Action as Action_, GRID as GRID_, GridGame, mark as mark_ } from "./Game.ts"
import type { FreewayParams } from "./params.ts"

// Module-local copies: when tsx loads this file as CommonJS, an imported binding is read through a
// getter on every use, which made the per-cell loops up to ten times slower (docs/deep.md, "Speed").
const Action = Action_
const GRID = GRID_
const mark = mark_

const LANES = 8
const COLUMN = 4
const BOTTOM = GRID - 1
const MAX_CARS = 3

export class Freeway extends GridGame {
  readonly name = "freeway" as const
  readonly channels = 7
  readonly channelNames = ["chicken", "car", "speed 1", "speed 2", "speed 3", "speed 4", "speed 5"]
  chickenY = BOTTOM
  private cooldown = 0
  /** Per lane (row 1 + lane): frames between two moves, frames left, direction. */
  readonly lanePeriod = new Int8Array(LANES)
  private readonly laneTimer = new Int8Array(LANES)
  readonly laneDir = new Int8Array(LANES)
  /** Car x positions, MAX_CARS slots per lane, `carsPerLane` of them used. */
  readonly carX = new Int8Array(LANES * MAX_CARS)

  constructor(private readonly p: FreewayParams) {
    super(p)
  }

  protected start(rng: Rng): void {
    this.chickenY = BOTTOM
    this.cooldown = 0
    const n = this.p.carsPerLane
    for (let l = 0; l < LANES; l++) {
      // The upper four lanes drive left, the lower four right, like two carriageways.
      this.laneDir[l] = l < LANES / 2 ? -1 : 1
      const offset = rng.int(GRID)
      for (let k = 0; k < n; k++) this.carX[l * MAX_CARS + k] = (offset + Math.floor((k * GRID) / n)) % GRID
    }
    this.drawSpeeds(rng)
  }

  /** New lane speeds, drawn in fastestCar..slowestCar (at the start and after each crossing). */
  private drawSpeeds(rng: Rng): void {
    const span = this.p.slowestCar - this.p.fastestCar + 1
    for (let l = 0; l < LANES; l++) {
      this.lanePeriod[l] = this.p.fastestCar + rng.int(span)
      this.laneTimer[l] = this.lanePeriod[l]
    }
  }

  private hit(): boolean {
    const l = this.chickenY - 1
    if (l < 0 || l >= LANES) return false
    for (let k = 0; k < this.p.carsPerLane; k++) if (this.carX[l * MAX_CARS + k] === COLUMN) return true
    return false
  }

  protected advance(action: number, rng: Rng): number {
    let reward = 0
    if (this.cooldown > 0) this.cooldown--
    else if (action === Action.up || action === Action.down) {
      this.chickenY = action === Action.up ? this.chickenY - 1 : Math.min(BOTTOM, this.chickenY + 1)
      this.cooldown = this.p.chickenPeriod - 1
      if (this.chickenY === 0) {
        reward = 1
        this.chickenY = BOTTOM
        this.drawSpeeds(rng)
      }
    }
    if (this.hit()) this.chickenY = BOTTOM
    for (let l = 0; l < LANES; l++) {
      if (--this.laneTimer[l] > 0) continue
      this.laneTimer[l] = this.lanePeriod[l]
      for (let k = 0; k < this.p.carsPerLane; k++) {
        const i = l * MAX_CARS + k
        this.carX[i] = (this.carX[i] + this.laneDir[l] + GRID) % GRID
      }
    }
    if (this.hit()) this.chickenY = BOTTOM
    return reward
  }

  protected paint(out: Float32Array): void {
    mark(out, 0, COLUMN, this.chickenY)
    for (let l = 0; l < LANES; l++) {
      const speedChannel = 1 + this.lanePeriod[l]
      for (let k = 0; k < this.p.carsPerLane; k++) {
        const x = this.carX[l * MAX_CARS + k]
        mark(out, 1, x, l + 1)
        mark(out, speedChannel, (x - this.laneDir[l] + GRID) % GRID, l + 1)
      }
    }
  }
}

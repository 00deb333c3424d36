/**
 * Breakout (docs/deep.md, "Games"): a paddle on the bottom row bounces a ball that travels only on
 * diagonals; each brick the ball hits is removed for +1; when the wall is cleared it is rebuilt; the
 * episode ends when the ball reaches the bottom row past the paddle.
 *
 * Channels: 0 paddle, 1 ball, 2 trail (the cell the ball comes from: its direction), 3 brick.
 */
import type { Rng } from "../../rng/Rng.ts"
import { Action as Action_, CELLS as CELLS_, GRID as GRID_, GridGame, mark as mark_ } from "./Game.ts"
import type { BreakoutParams } from "./params.ts"

// Module-local copies: when tsx loads this file as CommonJS, an imported binding is read through a
// getter on every use, which made the per-cell loops up to ten times slower (docs/deep.md, "Speed").
const Action = Action_
const CELLS = CELLS_
const GRID = GRID_
const mark = mark_

const BOTTOM = GRID - 1

export class Breakout extends GridGame {
  readonly name = "breakout" as const
  readonly channels = 4
  readonly channelNames = ["paddle", "ball", "trail", "brick"]
  private readonly bricks = new Uint8Array(CELLS)
  private bricksLeft = 0
  /** Leftmost cell of the paddle. */
  paddle = 0
  ballX = 0
  ballY = 0
  dx = 1
  dy = 1
  /** Fractional ball moves not yet made (ballSpeed need not be an integer). */
  private pending = 0

  constructor(private readonly p: BreakoutParams) {
    super(p)
  }

  protected start(rng: Rng): void {
    this.buildWall()
    this.paddle = (GRID - this.p.paddleWidth) >> 1
    // The ball starts just under the wall, at a random side wall, heading down and inwards.
    this.ballY = this.p.brickRows + 1
    const fromRight = rng.int(2) === 1
    this.ballX = fromRight ? GRID - 1 : 0
    this.dx = fromRight ? -1 : 1
    this.dy = 1
    this.pending = 0
  }

  private buildWall(): void {
    this.bricks.fill(0)
    // Row 0 stays free so that a ball that breaks through can travel above the wall.
    this.bricks.fill(1, GRID, (this.p.brickRows + 1) * GRID)
    this.bricksLeft = this.p.brickRows * GRID
  }

  protected advance(action: number): number {
    const w = this.p.paddleWidth
    if (action === Action.left) this.paddle = Math.max(0, this.paddle - this.p.paddleSpeed)
    else if (action === Action.right) this.paddle = Math.min(GRID - w, this.paddle + this.p.paddleSpeed)
    let reward = 0
    this.pending += this.p.ballSpeed
    while (this.pending >= 1 && !this.over) {
      this.pending -= 1
      reward += this.moveBall()
    }
    return reward
  }

  private onPaddle(x: number): boolean {
    return x >= this.paddle && x < this.paddle + this.p.paddleWidth
  }

  /** One diagonal move; a bounce (brick or paddle) turns the ball where it is instead of moving it. */
  private moveBall(): number {
    let nx = this.ballX + this.dx
    if (nx < 0 || nx >= GRID) {
      this.dx = -this.dx
      nx = this.ballX + this.dx
    }
    let ny = this.ballY + this.dy
    if (ny < 0) {
      this.dy = 1
      ny = this.ballY + 1
    }
    const cell = ny * GRID + nx
    if (this.bricks[cell] === 1) {
      this.bricks[cell] = 0
      this.dy = -this.dy
      if (--this.bricksLeft === 0) this.buildWall()
      return 1
    }
    if (ny === BOTTOM) {
      if (this.onPaddle(nx)) {
        // Landing on the paddle: back up, keeping the horizontal direction.
        this.dy = -1
        return 0
      }
      if (this.onPaddle(this.ballX)) {
        // Caught by the paddle's edge as it leaves it: back up and back the way it came.
        this.dy = -1
        this.dx = -this.dx
        return 0
      }
      this.ballX = nx
      this.ballY = ny
      this.over = true
      return 0
    }
    this.ballX = nx
    this.ballY = ny
    return 0
  }

  /** Bricks still standing (for tests). */
  get bricksStanding(): number {
    return this.bricksLeft
  }

  protected paint(out: Float32Array): void {
    for (let i = 0; i < this.p.paddleWidth; i++) mark(out, 0, this.paddle + i, BOTTOM)
    mark(out, 1, this.ballX, this.ballY)
    mark(out, 2, this.ballX - this.dx, this.ballY - this.dy)
    const bricks = 3 * CELLS
    for (let i = 0; i < CELLS; i++) if (this.bricks[i] === 1) out[bricks + i] = 1
  }
}

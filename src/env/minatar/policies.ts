/**
 * Scripted policies that read only the observation (what an agent sees), as references a learner
 * should approach and a random policy should not: tests and docs/deep.md compare their returns.
 */
import type { Rng } from "../../rng/Rng.ts"
import { Action, ACTIONS, CELLS, type GameName, GRID, type MinAtarGame } from "./Game.ts"

export type Policy = (obs: Float32Array, rng: Rng) => number

const at = (obs: Float32Array, c: number, x: number, y: number): boolean =>
  x >= 0 && x < GRID && y >= 0 && y < GRID && obs[(c * GRID + y) * GRID + x] === 1

/** The first cell set in channel c, or -1. */
const find = (obs: Float32Array, c: number): number => {
  for (let i = 0; i < CELLS; i++) if (obs[c * CELLS + i] === 1) return i
  return -1
}

export const randomPolicy: Policy = (_obs, rng) => rng.int(ACTIONS)

/** Folds an unfolded x back into the grid the way the ball reflects off the side walls. */
const fold = (u: number): number => {
  const m = ((u % 18) + 18) % 18
  return m <= 9 ? m : 18 - m
}

/** Breakout: move the paddle under where the ball will come down (ignoring bricks). */
const breakout: Policy = (obs) => {
  const ball = find(obs, 1)
  if (ball < 0) return Action.noop
  const bx = ball % GRID
  const by = (ball / GRID) | 0
  const trail = find(obs, 2)
  // The trail is off the grid when the ball has just left a wall: it then moves away from that wall.
  const dx = trail >= 0 ? bx - (trail % GRID) : bx === 0 ? 1 : -1
  const dy = trail >= 0 ? by - ((trail / GRID) | 0) : 1
  const target = dy > 0 ? fold(bx + dx * (GRID - 1 - by)) : bx
  let left = -1
  let width = 0
  for (let x = 0; x < GRID; x++) {
    if (at(obs, 0, x, GRID - 1)) {
      if (left < 0) left = x
      width++
    }
  }
  const centre = left + ((width - 1) >> 1)
  return target < centre ? Action.left : target > centre ? Action.right : Action.noop
}

/** Freeway, the naive script: always up. */
export const alwaysUp: Policy = () => Action.up

/**
 * Freeway: up when no car can reach the chicken's column in the next lane within `margin` frames, else
 * wait (or step back down if a car is about to reach the chicken's own lane). A car's direction and
 * frames per move are read from its trail (channels 2..6).
 */
const freeway: Policy = (obs) => {
  const y = find(obs, 0) < 0 ? GRID - 1 : (find(obs, 0) / GRID) | 0
  const margin = 5
  const safe = (row: number): boolean => {
    if (row <= 0 || row >= GRID - 1) return true
    for (let x = 0; x < GRID; x++) {
      if (!at(obs, 1, x, row)) continue
      for (let c = 2; c < 7; c++) {
        for (const dir of [-1, 1]) {
          if (!at(obs, c, (x - dir + GRID) % GRID, row)) continue
          const cells = (((4 - x) * dir) % GRID + GRID) % GRID
          if (cells * (c - 1) <= margin) return false
        }
      }
    }
    return true
  }
  if (safe(y - 1)) return Action.up
  if (!safe(y) && safe(y + 1)) return Action.down
  return Action.noop
}

/** Space Invaders: step out of the way of a close alien shot, else get under the aliens and fire. */
const spaceInvaders: Policy = (obs) => {
  const cannon = find(obs, 0)
  if (cannon < 0) return Action.noop
  const x = cannon % GRID
  const danger = (cx: number): boolean => {
    for (let y = 5; y < GRID; y++) if (at(obs, 5, cx, y)) return true
    return false
  }
  if (danger(x)) {
    if (x > 0 && !danger(x - 1)) return Action.left
    if (x < GRID - 1 && !danger(x + 1)) return Action.right
  }
  let best = -1
  for (let d = 0; d < GRID && best < 0; d++) {
    for (const cx of [x - d, x + d]) {
      for (let y = 0; y < GRID - 1 && best < 0; y++) if (at(obs, 1, cx, y)) best = cx
    }
  }
  if (best === x || best < 0) return Action.fire
  const step = best < x ? Action.left : Action.right
  return danger(best < x ? x - 1 : x + 1) ? Action.fire : step
}

/** Asterix: among the moves that no enemy can reach next frame, the one that gets nearest to gold. */
const asterix: Policy = (obs) => {
  const p = find(obs, 0)
  if (p < 0) return Action.noop
  const px = p % GRID
  const py = (p / GRID) | 0
  const unsafe = (x: number, y: number): boolean => {
    for (let ex = x - 1; ex <= x + 1; ex++) {
      if (!at(obs, 1, ex, y)) continue
      if (ex === x) return true
      // An enemy next to (x, y) is dangerous if it heads this way: its trail is on its far side.
      if (at(obs, 2, ex + (ex - x), y) || ex + (ex - x) < 0 || ex + (ex - x) >= GRID) return true
    }
    return false
  }
  let bestAction: number = Action.noop
  let bestScore = Infinity
  const moves = [[Action.noop, 0, 0], [Action.left, -1, 0], [Action.right, 1, 0], [Action.up, 0, -1], [Action.down, 0, 1]] as const
  for (const [a, mx, my] of moves) {
    const x = Math.min(GRID - 1, Math.max(0, px + mx))
    const y = Math.min(GRID - 2, Math.max(1, py + my))
    if (unsafe(x, y)) continue
    let nearest = 2 * GRID
    for (let i = 0; i < CELLS; i++) {
      if (obs[3 * CELLS + i] === 1) nearest = Math.min(nearest, Math.abs((i % GRID) - x) + Math.abs(((i / GRID) | 0) - y))
    }
    if (nearest < bestScore) {
      bestScore = nearest
      bestAction = a
    }
  }
  return bestAction
}

/**
 * Seaquest: dive; dodge to another lane when an enemy or shot is within 2 cells; in a lane with an
 * enemy, face it and fire; otherwise go for divers, or for enemies when full. Surface when oxygen is
 * low (with a diver on board) or with six divers.
 */
const seaquest: Policy = (obs) => {
  const front = find(obs, 0)
  if (front < 0) return Action.noop
  const x = front % GRID
  const y = (front / GRID) | 0
  const back = find(obs, 1)
  const facing = back >= 0 ? x - (back % GRID) : x === 0 ? 1 : -1
  let oxygen = 0
  let divers = 0
  for (let i = 0; i < GRID; i++) {
    if (at(obs, 7, i, GRID - 1)) oxygen++
    if (at(obs, 8, i, GRID - 1)) divers++
  }
  if (y === 0) return divers === 0 || oxygen >= 8 ? Action.down : Action.noop
  if ((oxygen <= 3 && divers > 0) || divers === 6) return Action.up
  const threat = (row: number): boolean => {
    if (row < 1 || row > GRID - 2) return row === 0 && divers === 0
    for (let ex = x - 2; ex <= x + 2; ex++) if (at(obs, 4, ex, row) || at(obs, 5, ex, row) || at(obs, 6, ex, row)) return true
    return false
  }
  if (threat(y)) {
    if (!threat(y + 1)) return Action.down
    if (!threat(y - 1)) return Action.up
  }
  const enemyIn = (row: number): number => {
    for (let ex = 0; ex < GRID; ex++) if (at(obs, 5, ex, row) || at(obs, 6, ex, row)) return ex
    return -1
  }
  const ex = enemyIn(y)
  if (ex >= 0) {
    const dir = ex > x ? 1 : -1
    return dir === facing ? Action.fire : dir === 1 ? Action.right : Action.left
  }
  // Nearest lane with a diver (if there is room on board), else with an enemy.
  let bestRow = -1
  let bestX = x
  for (let d = 0; d < GRID && bestRow < 0; d++) {
    for (const row of [y - d, y + d]) {
      if (row < 1 || row > GRID - 2 || bestRow >= 0) continue
      for (let cx = 0; cx < GRID; cx++) {
        if ((divers < 6 && at(obs, 9, cx, row)) || enemyIn(row) === cx) {
          bestRow = row
          bestX = cx
          break
        }
      }
    }
  }
  if (bestRow < 0) return Action.noop
  if (bestRow < y && !threat(y - 1)) return Action.up
  if (bestRow > y && !threat(y + 1)) return Action.down
  if (bestRow === y && bestX !== x) return bestX > x ? Action.right : Action.left
  return Action.noop
}

export const scriptedPolicy: Record<GameName, Policy> = {
  breakout,
  space_invaders: spaceInvaders,
  freeway,
  asterix,
  seaquest
}

/** Plays one episode (at most `cap` frames) and returns its return. */
export const playEpisode = (game: MinAtarGame, policy: Policy, envRng: Rng, policyRng: Rng, cap: number): { readonly ret: number; readonly frames: number } => {
  const obs = new Float32Array(game.channels * CELLS)
  game.reset(envRng)
  let ret = 0
  for (let t = 0; t < cap; t++) {
    game.observe(obs)
    const r = game.step(policy(obs, policyRng), envRng)
    ret += r.reward
    if (r.done) return { ret, frames: t + 1 }
  }
  return { ret, frames: cap }
}

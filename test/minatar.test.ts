/**
 * The MinAtar-style games (src/env/minatar/, docs/deep.md "Games"): seeded determinism, the observation
 * layout, a scripted policy clearly beating a random one in every game, context parameters changing
 * the game, the difficulty ramp, sticky actions, speed, and the PNG pictures.
 */
import { inflateSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { Asterix } from "../src/env/minatar/asterix.ts"
import { Action, CELLS, GAME_NAMES, type GameName, makeGame, type MinAtarGame } from "../src/env/minatar/index.ts"
import { alwaysUp, playEpisode, randomPolicy, scriptedPolicy } from "../src/env/minatar/policies.ts"
import { crc32, renderPng, renderStrip } from "../src/env/minatar/render.ts"
import { SpaceInvaders } from "../src/env/minatar/spaceInvaders.ts"
import * as Rng from "../src/rng/Rng.ts"

const observation = (game: MinAtarGame): Float32Array => {
  const out = new Float32Array(game.channels * CELLS)
  game.observe(out)
  return out
}

/** Cells set in channel c. */
const count = (obs: Float32Array, c: number): number => obs.subarray(c * CELLS, (c + 1) * CELLS).reduce((n, v) => n + v, 0)

/** Rewards, ends and an FNV hash of every observation of `frames` random-policy frames (resetting at each end). */
const trajectory = (name: GameName, seed: number, frames: number): string => {
  const game = makeGame(name)
  const env = Rng.make(seed, 1)
  const policy = Rng.make(seed, 2)
  game.reset(env)
  const obs = new Float32Array(game.channels * CELLS)
  let h = 0x811c9dc5
  const log: Array<string> = []
  for (let t = 0; t < frames; t++) {
    game.observe(obs)
    for (let i = 0; i < obs.length; i++) h = Math.imul(h ^ obs[i], 0x01000193)
    const r = game.step(policy.int(6), env)
    log.push(`${r.reward}${r.done ? "!" : ""}`)
    if (r.done) game.reset(env)
  }
  return `${h >>> 0}:${log.join(",")}`
}

const mean = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0) / xs.length

/** Mean return of a policy over `seeds` episodes of at most `cap` frames. */
const meanReturn = (name: GameName, policy: typeof randomPolicy, seeds: number, cap: number, context = {}): number =>
  mean(Array.from({ length: seeds }, (_, s) => playEpisode(makeGame(name, context), policy, Rng.make(s, 1), Rng.make(s, 2), cap).ret))

describe("every game", () => {
  it.each(GAME_NAMES)("%s replays exactly from a seed, and another seed plays differently", (name) => {
    expect(trajectory(name, 5, 3000)).toBe(trajectory(name, 5, 3000))
    expect(trajectory(name, 5, 3000)).not.toBe(trajectory(name, 6, 3000))
  })

  it.each(GAME_NAMES)("%s observes C×10×10 binary channels and keeps the six actions", (name) => {
    const game = makeGame(name)
    const env = Rng.make(1)
    game.reset(env)
    expect(game.actions).toBe(6)
    expect(game.channelNames).toHaveLength(game.channels)
    for (let t = 0; t < 200; t++) {
      const obs = observation(game)
      expect(obs.every((v) => v === 0 || v === 1)).toBe(true)
      expect(count(obs, 0)).toBeGreaterThan(0) // the player is always visible
      if (game.step(env.int(6), env).done) game.reset(env)
    }
    expect(() => game.step(6, env)).toThrow(RangeError)
    expect(() => game.step(1.5, env)).toThrow(RangeError)
  })

  it.each(GAME_NAMES)("%s: a finished episode stays finished until reset, and a step reuses its result record", (name) => {
    const game = makeGame(name, { maxFrames: 30 })
    const env = Rng.make(2)
    game.reset(env)
    let r = game.step(Action.noop, env)
    const record = r
    while (!r.done) r = game.step(Action.noop, env)
    expect(game.frame).toBeLessThanOrEqual(30)
    expect(r).toBe(record)
    expect(game.step(Action.fire, env)).toEqual({ reward: 0, done: true })
    game.reset(env)
    expect(game.step(Action.noop, env).done).toBe(false)
  })
})

describe("scripted policies beat random ones", () => {
  // Measured means over 20 seeds (docs/deep.md): breakout 14.4 vs 0.5, space invaders 140 vs 3.4,
  // freeway 25 vs 0.05, asterix 26 vs 0.6, seaquest 9.3 vs 0.05. The tests use 8 seeds and ask for a
  // wide margin only.
  it.each(GAME_NAMES)("%s", (name) => {
    const random = meanReturn(name, randomPolicy, 8, 3000)
    const scripted = meanReturn(name, scriptedPolicy[name], 8, 3000)
    expect(scripted).toBeGreaterThan(3 * random + 3)
  })

  it("freeway: even always-up beats random, and slow traffic lets it cross more often", () => {
    const random = meanReturn("freeway", randomPolicy, 6, 2500)
    const up = meanReturn("freeway", alwaysUp, 6, 2500)
    expect(up).toBeGreaterThan(random + 1)
    expect(meanReturn("freeway", alwaysUp, 6, 2500, { fastestCar: 5 })).toBeGreaterThan(2 * up)
  })
})

describe("context parameters make different tasks", () => {
  const first = (name: GameName, context: object): Float32Array => {
    const game = makeGame(name, context)
    game.reset(Rng.make(0))
    return observation(game)
  }

  it("breakout: brick rows, paddle width, ball speed", () => {
    expect(count(first("breakout", {}), 3)).toBe(30)
    expect(count(first("breakout", { brickRows: 5 }), 3)).toBe(50)
    expect(count(first("breakout", { paddleWidth: 3 }), 0)).toBe(3)
    // The ball covers twice the distance per frame at ballSpeed 2.
    const travelled = (ballSpeed: number): number => {
      const game = makeGame("breakout", { ballSpeed, sticky: 0 })
      const env = Rng.make(0)
      game.reset(env)
      const ball = (o: Float32Array) => o.subarray(CELLS, 2 * CELLS).indexOf(1)
      const before = ball(observation(game))
      game.step(Action.noop, env)
      return Math.abs(Math.floor(ball(observation(game)) / 10) - Math.floor(before / 10))
    }
    expect(travelled(1)).toBe(1)
    expect(travelled(2)).toBe(2)
  })

  it("breakout: a faster paddle moves further per frame", () => {
    for (const paddleSpeed of [1, 2, 3]) {
      const game = makeGame("breakout", { paddleSpeed, sticky: 0 })
      const env = Rng.make(0)
      game.reset(env)
      const paddle = (o: Float32Array) => o.subarray(90, 100).indexOf(1)
      const before = paddle(observation(game))
      game.step(Action.left, env)
      expect(before - paddle(observation(game))).toBe(paddleSpeed)
    }
  })

  it("space invaders: alien rows; faster aliens invade sooner", () => {
    expect(count(first("space_invaders", {}), 1)).toBe(24)
    expect(count(first("space_invaders", { alienRows: 2 }), 1)).toBe(12)
    // A cannon that never moves dies from alien fire; with rare fire, the aliens reach the bottom instead.
    const lasts = (context: object) => playEpisode(makeGame("space_invaders", { sticky: 0, ...context }), () => Action.noop, Rng.make(0), Rng.make(1), 10_000).frames
    expect(lasts({ firePeriod: 50, alienPeriod: 2 })).toBeLessThan(lasts({ firePeriod: 50, alienPeriod: 12 }))
  })

  it("freeway: car density", () => {
    expect(count(first("freeway", {}), 1)).toBe(8)
    expect(count(first("freeway", { carsPerLane: 3 }), 1)).toBe(24)
  })

  it("asterix: gold fraction and spawn rate", () => {
    // All gold: nothing can end the episode, and a random walk collects some; no gold: never a reward.
    const allGold = playEpisode(makeGame("asterix", { goldFraction: 1 }), randomPolicy, Rng.make(3), Rng.make(4), 2000)
    expect(allGold.frames).toBe(2000)
    expect(allGold.ret).toBeGreaterThan(0)
    expect(meanReturn("asterix", randomPolicy, 8, 2000, { goldFraction: 0 })).toBe(0)
    const objects = (spawnPeriod: number) => {
      const game = makeGame("asterix", { goldFraction: 1, spawnPeriod, ramp: 0, movePeriod: 10 })
      const env = Rng.make(0)
      game.reset(env)
      for (let t = 0; t < 12; t++) game.step(Action.noop, env)
      const obs = observation(game)
      return count(obs, 1) + count(obs, 3)
    }
    expect(objects(3)).toBeGreaterThan(objects(10))
  })

  it("seaquest: oxygen runs out, surfacing without a diver ends the episode, enemy kinds", () => {
    const quiet = { sticky: 0, spawnPeriod: 60, diverPeriod: 200 }
    const framesUntilDone = (context: object, actions: (t: number) => number): number => {
      const game = makeGame("seaquest", { ...quiet, ...context })
      const env = Rng.make(0)
      game.reset(env)
      for (let t = 0; t < 5000; t++) if (game.step(actions(t), env).done) return t + 1
      return 5000
    }
    // Dive once and wait: the tank (in frames) decides when the episode ends.
    expect(framesUntilDone({ oxygen: 20 }, (t) => (t === 0 ? Action.down : Action.noop))).toBe(20)
    expect(framesUntilDone({ oxygen: 40 }, (t) => (t === 0 ? Action.down : Action.noop))).toBe(40)
    // Dive and come straight back up with nobody on board.
    expect(framesUntilDone({}, (t) => (t === 0 ? Action.down : Action.up))).toBe(2)
    // The oxygen gauge (row 9, channel 7) empties as the tank does.
    const game = makeGame("seaquest", { ...quiet, oxygen: 100 })
    const env = Rng.make(0)
    game.reset(env)
    game.step(Action.down, env)
    const full = count(observation(game), 7)
    for (let t = 0; t < 50; t++) game.step(Action.noop, env)
    expect(count(observation(game), 7)).toBe(full - 5)
    // subFraction decides whether enemies are submarines (channel 6) or fish (channel 5).
    const kinds = (subFraction: number) => {
      const g = makeGame("seaquest", { sticky: 0, subFraction, spawnPeriod: 3, enemyPeriod: 10 })
      const e = Rng.make(1)
      g.reset(e)
      for (let t = 0; t < 20; t++) g.step(Action.noop, e)
      const o = observation(g)
      return [count(o, 5), count(o, 6)]
    }
    expect(kinds(0)[1]).toBe(0)
    expect(kinds(0)[0]).toBeGreaterThan(0)
    expect(kinds(1)[0]).toBe(0)
    expect(kinds(1)[1]).toBeGreaterThan(0)
  })

  it("rejects an out-of-range context, naming the field", () => {
    expect(() => makeGame("breakout", { brickRows: 9 })).toThrow(/brickRows/)
    expect(() => makeGame("freeway", { fastestCar: 4, slowestCar: 2 })).toThrow(/slowestCar/)
  })
})

describe("difficulty ramp and sticky actions", () => {
  it("asterix speeds up every rampInterval frames with the ramp, not without", () => {
    const after = (ramp: number) => {
      const game = makeGame("asterix", { goldFraction: 1, ramp, rampInterval: 100 }) as Asterix
      const env = Rng.make(0)
      game.reset(env)
      for (let t = 0; t < 500; t++) game.step(Action.noop, env)
      return [game.spawnPeriod, game.movePeriod]
    }
    expect(after(0)).toEqual([10, 5])
    expect(after(1)).toEqual([7, 3]) // five speed-ups, spawn and move in turn
  })

  it("space invaders: each new wave steps one frame faster with the ramp, not without", () => {
    for (const ramp of [0, 1]) {
      const game = makeGame("space_invaders", { alienRows: 1, sticky: 0, firePeriod: 50, ramp }) as SpaceInvaders
      const env = Rng.make(0)
      const policy = Rng.make(1)
      game.reset(env)
      const obs = new Float32Array(game.channels * CELLS)
      let ret = 0
      while (ret < 13 && game.frame < 20_000) {
        game.observe(obs)
        const r = game.step(scriptedPolicy.space_invaders(obs, policy), env)
        expect(r.done).toBe(false)
        ret += r.reward
      }
      expect(ret).toBeGreaterThanOrEqual(13) // two waves of 6 cleared
      expect(game.period).toBe(ramp === 1 ? 12 - 2 : 12)
    }
  })

  it("sticky = 1 repeats the first (no-op) action forever; sticky = 0 never repeats", () => {
    for (const [sticky, moves] of [[1, false], [0, true]] as const) {
      const game = makeGame("asterix", { sticky, goldFraction: 1 })
      const env = Rng.make(0)
      game.reset(env)
      const x0 = observation(game).subarray(0, CELLS).indexOf(1)
      game.step(Action.left, env)
      expect(observation(game).subarray(0, CELLS).indexOf(1) !== x0).toBe(moves)
    }
  })

  it("the previous action is repeated with the sticky probability", () => {
    // Always ask for the opposite of the last move: a repeat shows as a move the wrong way.
    const game = makeGame("asterix", { sticky: 0.3, goldFraction: 1 })
    const env = Rng.make(11)
    game.reset(env)
    const playerX = () => observation(game).subarray(0, CELLS).indexOf(1) % 10
    let last = 1
    let repeats = 0
    let counted = 0
    for (let t = 0; t < 4000; t++) {
      const want = -last
      const before = playerX()
      game.step(want === 1 ? Action.right : Action.left, env)
      const moved = playerX() - before
      if (moved === 0) continue // against a wall: nothing to see
      counted++
      if (moved !== want) repeats++
      last = moved
    }
    expect(counted).toBeGreaterThan(3000)
    expect(Math.abs(repeats / counted - 0.3)).toBeLessThan(0.04)
  })
})

describe("speed", () => {
  it.each(GAME_NAMES)("%s steps and observes over 100k frames per CPU second", (name) => {
    const game = makeGame(name)
    const env = Rng.make(0)
    const obs = new Float32Array(game.channels * CELLS)
    game.reset(env)
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        if (game.step(env.int(6), env).done) game.reset(env)
        game.observe(obs)
      }
    }
    run(50_000) // warm up
    const n = 200_000
    const t0 = process.cpuUsage()
    run(n)
    const t = process.cpuUsage(t0)
    const seconds = (t.user + t.system) / 1e6
    expect(n / seconds).toBeGreaterThan(100_000)
  })
})

describe("pictures", () => {
  const chunks = (png: Uint8Array): Array<{ type: string; data: Uint8Array; crcOk: boolean }> => {
    const view = new DataView(png.buffer, png.byteOffset)
    const out = []
    for (let at = 8; at < png.length;) {
      const length = view.getUint32(at)
      const type = String.fromCharCode(...png.subarray(at + 4, at + 8))
      const data = png.subarray(at + 8, at + 8 + length)
      out.push({ type, data, crcOk: view.getUint32(at + 8 + length) === crc32(png.subarray(at + 4, at + 8 + length)) })
      at += 12 + length
    }
    return out
  }

  it("a state is a valid PNG of 10 cells × scale pixels whose pixels show the channels", () => {
    const game = makeGame("breakout")
    game.reset(Rng.make(0))
    const png = renderPng(game, 8)
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    const cs = chunks(png)
    expect(cs.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"])
    expect(cs.every((c) => c.crcOk)).toBe(true)
    const ihdr = new DataView(cs[0].data.buffer, cs[0].data.byteOffset)
    expect([ihdr.getUint32(0), ihdr.getUint32(4)]).toEqual([80, 80])
    // Decoded: a brick cell (row 1) and an empty cell (row 6, away from the ball) differ in colour.
    const raw = inflateSync(cs[1].data)
    const pixel = (x: number, y: number) => Array.from(raw.subarray(y * (1 + 80 * 3) + 1 + x * 3, y * (1 + 80 * 3) + 4 + x * 3))
    expect(pixel(4 * 8 + 4, 1 * 8 + 4)).not.toEqual(pixel(4 * 8 + 4, 6 * 8 + 4))
  })

  it("an episode strip puts the frames side by side", () => {
    const game = makeGame("freeway")
    const env = Rng.make(0)
    game.reset(env)
    const frames = Array.from({ length: 5 }, () => {
      game.step(Action.up, env)
      return observation(game)
    })
    const ihdr = chunks(renderStrip("freeway", frames, 10))[0].data
    const view = new DataView(ihdr.buffer, ihdr.byteOffset)
    expect([view.getUint32(0), view.getUint32(4)]).toEqual([5 * 100 + 4 * 2, 100])
  })
})

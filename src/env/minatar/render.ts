/**
 * Pictures of what an agent sees: a state as a small PNG (each cell a square of `scale` pixels, one
 * colour per channel) and an episode as a horizontal strip of frames.
 *
 * The PNG encoder is written here (about 40 lines: signature, IHDR/IDAT/IEND chunks, CRC-32, and
 * Node's built-in zlib for the deflate stream) rather than taken from npm: it needs nothing beyond
 * truecolour without alpha, and the project adds no dependency for 40 lines.
 */
import { deflateSync } from "node:zlib"
import { CELLS, type GameName, GRID, type MinAtarGame } from "./Game.ts"

type Rgb = readonly [number, number, number]

const BACKGROUND: Rgb = [24, 24, 32]
const GRIDLINE: Rgb = [40, 40, 52]
const SEPARATOR: Rgb = [255, 255, 255]

/** Per game, [channel, colour] in drawing order: later entries are drawn over earlier ones. */
const PALETTE: Record<GameName, ReadonlyArray<readonly [number, Rgb]>> = {
  // paddle, ball, trail, brick
  breakout: [[2, [90, 90, 150]], [3, [200, 80, 60]], [0, [230, 230, 230]], [1, [250, 210, 60]]],
  // cannon, alien, alien left, alien right, cannon shot, alien shot (the direction shows as a tint)
  space_invaders: [[1, [80, 200, 90]], [2, [80, 200, 160]], [3, [150, 200, 80]], [4, [250, 250, 120]], [5, [240, 90, 90]], [0, [120, 170, 255]]],
  // chicken, car, speed 1..5 (trails from red, fast, to blue, slow)
  freeway: [[2, [170, 60, 60]], [3, [160, 100, 60]], [4, [140, 130, 60]], [5, [80, 120, 110]], [6, [60, 80, 150]], [1, [220, 220, 220]], [0, [250, 210, 60]]],
  // player, enemy, trail, gold
  asterix: [[2, [90, 90, 150]], [1, [230, 80, 70]], [3, [250, 210, 60]], [0, [120, 170, 255]]],
  // sub front, sub back, sub shot, trail, enemy shot, fish, enemy sub, oxygen, divers, diver
  seaquest: [
    [7, [60, 140, 200]], [8, [250, 160, 60]], [3, [90, 90, 150]], [9, [120, 220, 120]], [5, [230, 120, 70]], [6, [200, 60, 160]],
    [4, [240, 90, 90]], [2, [250, 250, 120]], [1, [180, 180, 180]], [0, [250, 210, 60]]
  ]
}

/** The colour of each cell of an observation, as an RGB image of GRID·scale square pixels. */
const paintFrame = (name: GameName, obs: Float32Array, scale: number, image: Uint8Array, width: number, x0: number): void => {
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) {
      let colour = BACKGROUND
      for (const [c, rgb] of PALETTE[name]) if (obs[c * CELLS + y * GRID + x] === 1) colour = rgb
      for (let py = 0; py < scale; py++) {
        for (let px = 0; px < scale; px++) {
          // A one-pixel line on each cell's top and left edge keeps the grid readable.
          const rgb = colour === BACKGROUND && (px === 0 || py === 0) ? GRIDLINE : colour
          const i = 3 * ((y * scale + py) * width + x0 + x * scale + px)
          image[i] = rgb[0]
          image[i + 1] = rgb[1]
          image[i + 2] = rgb[2]
        }
      }
    }
  }
}

/** The current state of `game` as a PNG, each cell `scale` pixels wide (default 12). */
export const renderPng = (game: MinAtarGame, scale = 12): Uint8Array => {
  const obs = new Float32Array(game.channels * CELLS)
  game.observe(obs)
  return renderStrip(game.name, [obs], scale)
}

/** Observations of one game side by side as one PNG, separated by 2-pixel white lines. */
export const renderStrip = (name: GameName, frames: ReadonlyArray<Float32Array>, scale = 12): Uint8Array => {
  if (frames.length === 0) throw new RangeError("renderStrip: expected at least one frame")
  const side = GRID * scale
  const gap = 2
  const width = frames.length * side + (frames.length - 1) * gap
  const image = new Uint8Array(width * side * 3)
  for (let i = 0; i < image.length; i += 3) image.set(SEPARATOR, i)
  frames.forEach((obs, k) => paintFrame(name, obs, scale, image, width, k * (side + gap)))
  return encodePng(width, side, image)
}

// ─── PNG (RFC 2083): 8-bit truecolour, no interlace ─────────────────────────────────────────────────

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

export const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const chunk = (type: string, data: Uint8Array): Uint8Array => {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

/** A PNG of `width` × `height` RGB pixels given row by row. */
export const encodePng = (width: number, height: number, rgb: Uint8Array): Uint8Array => {
  const header = new Uint8Array(13)
  const view = new DataView(header.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  header.set([8, 2, 0, 0, 0], 8) // bit depth 8, colour type 2 (RGB), deflate, adaptive filter, no interlace
  // Each scanline starts with its filter type; 0 (none) is enough for these flat images.
  const raw = new Uint8Array(height * (1 + 3 * width))
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * 3 * width, (y + 1) * 3 * width), y * (1 + 3 * width) + 1)
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(raw))),
    chunk("IEND", new Uint8Array(0))
  ]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/**
 * Learning curves: the return of the episodes that ended in each window of frames, per seed, then
 * the mean and the spread (lowest and highest seed) over seeds; written as CSV and drawn with the
 * report's SVG line chart (src/report/plots.ts).
 */
import { lineChartSvg, type Series } from "../report/plots.ts"
import type { Episode } from "./loop.ts"

export interface CurvePoint {
  /** The window's last frame. */
  readonly frame: number
  readonly mean: number
  readonly lo: number
  readonly hi: number
  /** Per seed, the mean return of the episodes that ended in the window (NaN if none did). */
  readonly perSeed: ReadonlyArray<number>
}

/** Mean return per window of `window` frames for each seed's episodes, then mean/min/max over seeds. */
export const learningCurve = (runs: ReadonlyArray<ReadonlyArray<Episode>>, frames: number, window: number): Array<CurvePoint> => {
  const bins = Math.ceil(frames / window)
  const perSeed = runs.map((episodes) => {
    const sum = new Float64Array(bins)
    const count = new Float64Array(bins)
    for (const e of episodes) {
      const k = Math.min(bins - 1, Math.floor((e.frame - 1) / window))
      sum[k] += e.return
      count[k]++
    }
    return Array.from(sum, (s, k) => (count[k] > 0 ? s / count[k] : Number.NaN))
  })
  const out: Array<CurvePoint> = []
  for (let k = 0; k < bins; k++) {
    const ys = perSeed.map((s) => s[k])
    const ok = ys.filter((y) => Number.isFinite(y))
    if (ok.length === 0) continue
    out.push({
      frame: Math.min(frames, (k + 1) * window),
      mean: ok.reduce((a, b) => a + b, 0) / ok.length,
      lo: Math.min(...ok),
      hi: Math.max(...ok),
      perSeed: ys
    })
  }
  return out
}

export const curveCsv = (points: ReadonlyArray<CurvePoint>, seeds: ReadonlyArray<number>, randomReturn: number): string => {
  const head = ["frame", "mean_return", "min_over_seeds", "max_over_seeds", ...seeds.map((s) => `seed_${s}`), "random_policy_return"]
  const rows = points.map((p) => [p.frame, p.mean, p.lo, p.hi, ...p.perSeed, randomReturn].map((v) => (Number.isFinite(v) ? `${+v.toFixed(4)}` : "")).join(","))
  return [head.join(","), ...rows].join("\n") + "\n"
}

export const curveSvg = (game: string, points: ReadonlyArray<CurvePoint>, seeds: number, randomReturn: number, subtitle: string): Promise<string> => {
  const series: Array<Series> = [
    { name: `DQN, mean over ${seeds} seed${seeds === 1 ? "" : "s"}${seeds > 1 ? " (bars: lowest and highest seed)" : ""}`, points: points.map((p) => ({ x: p.frame, y: p.mean, lo: p.lo, hi: p.hi })) },
    {
      name: `random policy (${randomReturn.toFixed(2)})`,
      kind: "line",
      style: "dash",
      points: points.length === 0 ? [] : [points[0], points[points.length - 1]].map((p) => ({ x: p.frame, y: randomReturn, lo: randomReturn, hi: randomReturn }))
    }
  ]
  return lineChartSvg({ title: `DQN on ${game}: return per episode during training`, subtitle, x: { title: "frames" }, y: { title: "return per episode", format: "~g" }, series })
}

/**
 * The deep stage's learning curves (docs/deep.md, "DistMT with deep learners"): return against
 * frames per agent, one line per algorithm, from a run's curves.csv. Each (seed, agent) curve is the
 * mean return of the episodes it finished in each bin of frames; the line is the median over the
 * (seed, agent) curves with a value in that bin, the band their interquartile range. Random-play
 * (identification) episodes count: they are part of what the agent did with its frames.
 */
import { type CurveBand, curveChartSpec, quantile } from "../../report/curves.ts"
import { renderSvg } from "../../report/plots.ts"

export interface ReturnPoint {
  readonly algorithm: string
  readonly seed: number
  readonly agent: number
  readonly frame: number
  readonly ret: number
}

/** Reads curves.csv (files.ts); a string says what is wrong with it. */
export const parseDeepCurves = (csv: string): Array<ReturnPoint> | string => {
  const lines = csv.trim().split("\n")
  if (lines[0] !== "algorithm,seed,agent,frame,return,phase") return "not a deep run's curves.csv (unexpected header)"
  const out: Array<ReturnPoint> = []
  for (const [i, line] of lines.slice(1).entries()) {
    const [algorithm, seed, agent, frame, ret] = line.split(",")
    const nums = [seed, agent, frame, ret].map(Number)
    if (nums.some((x) => !Number.isFinite(x))) return `line ${i + 2}: expected numbers, got ${JSON.stringify(line)}`
    out.push({ algorithm, seed: nums[0], agent: nums[1], frame: nums[2], ret: nums[3] })
  }
  return out
}

const BINS = 30

/** Per algorithm, the median and quartiles over (seed, agent) of the mean return per bin of frames. */
export const returnBands = (points: ReadonlyArray<ReturnPoint>): Array<CurveBand> => {
  // A run has a million points or more: a spread into Math.max would overflow the stack.
  const last = points.reduce((m, p) => Math.max(m, p.frame), 1)
  const width = last / BINS
  const algorithms = [...new Set(points.map((p) => p.algorithm))]
  return algorithms.map((algorithm) => {
    // sums[curve][bin] = [total return, episodes]
    const sums = new Map<string, Array<[number, number]>>()
    for (const p of points) {
      if (p.algorithm !== algorithm) continue
      const key = `${p.seed}/${p.agent}`
      const bins = sums.get(key) ?? Array.from({ length: BINS }, () => [0, 0] as [number, number])
      sums.set(key, bins)
      const b = Math.min(BINS - 1, Math.max(0, Math.floor((p.frame - 1) / width)))
      bins[b][0] += p.ret
      bins[b][1] += 1
    }
    const curves = [...sums.values()]
    const bands = Array.from({ length: BINS }, (_, b) => {
      const values = curves.flatMap((bins) => (bins[b][1] === 0 ? [] : [bins[b][0] / bins[b][1]])).sort((x, y) => x - y)
      return values.length === 0 ? [] : [{ x: Math.round((b + 0.5) * width), median: quantile(values, 0.5), lo: quantile(values, 0.25), hi: quantile(values, 0.75), running: values.length }]
    }).flat()
    return { algorithm, points: bands }
  })
}

/** The plot as SVG: `title` names the run. */
export const returnPlot = (title: string, points: ReadonlyArray<ReturnPoint>): Promise<string> =>
  renderSvg(curveChartSpec(
    `${title}: return against frames per agent`,
    "mean return of the episodes each agent finished in each bin of frames (random-play identification included)",
    "return",
    returnBands(points),
    [],
    { type: "linear" },
    "right",
    { title: "frames per agent", log: false }
  ))

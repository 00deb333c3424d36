/**
 * What a reader can read off a plot (issue 13 item 7), checked on the SVG and the Vega-Lite spec:
 * the legend shows each series' dash pattern and marker; series that coincide are named (all
 * along, or at which x) and their markers moved apart, fits never; titles wrap at the chart's width,
 * not at a fixed count of characters; the success section draws the distribution of exact gaps
 * against ε, and draws nothing when every policy is exactly optimal.
 */
import { describe, expect, it } from "vitest"
import { gapDistribution } from "../src/report/analysis/gaps.ts"
import type { SweepData } from "../src/report/analysis/common.ts"
import { coincidences, dodgeOffsets, DODGE_PX } from "../src/report/coincide.ts"
import { lineChartNotes, lineChartSpec, lineChartSvg, type Series } from "../src/report/plots.ts"
import { measure, wrapToWidth } from "../src/report/textWidth.ts"

const pts = (ys: ReadonlyArray<number>, xs: ReadonlyArray<number> = [1, 2, 4, 8]) => ys.map((y, i) => ({ x: xs[i], y, lo: y, hi: y }))

describe("the legend", () => {
  it("shows a dashed series' dash pattern and marker, and a reference line without a marker", async () => {
    const series: Array<Series> = [
      { name: "solid one", points: pts([100, 50, 25, 12]) },
      { name: "dashed one", style: "dash", points: pts([400, 300, 200, 100]) },
      { name: "a reference", kind: "line", style: "dot", points: pts([90, 45, 22, 11]) }
    ]
    const svg = await lineChartSvg({ title: "t", x: { title: "x", log: true }, y: { title: "y", log: true }, series })
    // The legend (the second view) draws a stretch of line per entry, each with its own dash.
    const start = svg.indexOf('class="mark-rule role-mark concat_1_')
    const legend = svg.slice(start, svg.indexOf("</g>", start))
    expect(start).toBeGreaterThan(0)
    expect(legend.match(/<line /g)).toHaveLength(3)
    expect(legend).toContain('stroke-dasharray="7,4"')
    expect(legend).toContain('stroke-dasharray="2,3"')
    for (const name of ["solid one", "dashed one", "a reference"]) expect(svg).toContain(`>${name}</text>`)
    // Markers in the legend: the two data series only.
    const spec = lineChartSpec({ title: "t", x: { title: "x" }, y: { title: "y" }, series }) as { vconcat: Array<{ data: { values: Array<Record<string, unknown>> } }> }
    expect(spec.vconcat[1].data.values.filter((r) => r.marker).map((r) => r.name)).toEqual(["solid one", "dashed one"])
  })
})

describe("series that coincide", () => {
  it("are named all along or at the x values where they meet, and their markers move apart; a fit does not", () => {
    const drawn = [
      { name: "A", data: true, points: pts([100, 50, 25, 12]) },
      { name: "B", data: true, points: pts([100, 50, 25, 30]) },
      { name: "C", data: true, points: pts([100.2, 50.1, 25, 12]) },
      { name: "fit", data: false, points: pts([100, 50, 25], [1, 2, 4]) },
      { name: "D", data: true, points: pts([1000, 900, 800, 700]) }
    ]
    const groups = coincidences(drawn, true)
    // B leaves the others at x = 8, where the fit has no point: each x's cluster is said where it holds.
    expect(groups).toEqual([{ names: ["A", "B", "C", "fit"], at: [1, 2, 4] }, { names: ["A", "C"], at: [8] }])
    expect(coincidences(drawn.filter((s) => s.name !== "B" && s.name !== "fit"), true)).toEqual([{ names: ["A", "C"], at: undefined }])
    const offsets = dodgeOffsets(drawn, groups)
    expect([...offsets.entries()].sort()).toEqual([["A", -DODGE_PX], ["B", 0], ["C", DODGE_PX]])
    expect(offsets.has("fit")).toBe(false)
  })

  it("are said in the chart's notes (its legend and caption); distinct series are not", () => {
    const chart = (ys: ReadonlyArray<number>) => ({
      title: "t",
      x: { title: "agents N", log: true },
      y: { title: "y", log: true },
      series: [{ name: "DistMT-LSVI", points: pts([10, 20, 40, 80]) }, { name: "oracle", style: "dash" as const, points: pts(ys) }]
    })
    expect(lineChartNotes(chart([10, 20, 40, 80]))).toEqual(["DistMT-LSVI and oracle coincide (markers moved a few pixels apart)"])
    expect(lineChartNotes(chart([10, 20, 40, 200]))).toEqual(["DistMT-LSVI and oracle coincide at agents N = 1, 2, 4 (markers moved a few pixels apart)"])
    expect(lineChartNotes(chart([30, 60, 120, 240]))).toEqual([])
  })
})

describe("titles", () => {
  it("wrap at the chart's width in the font's metrics, not at a fixed number of characters", () => {
    const title = "Episodes per agent against the number of agents N"
    expect(title.length).toBeGreaterThan(44)
    expect(wrapToWidth(title, 576, 15, true)).toEqual([title])
    const long = "Wall-clock in virtual time: episodes until the last agent held every policy, for every setting"
    const lines = wrapToWidth(long, 576, 15, true)
    expect(lines.length).toBe(2)
    for (const l of lines) expect(measure(l, 15, true)).toBeLessThanOrEqual(576)
    // The first line was full: its next word would not have fitted.
    expect(measure(`${lines[0]} ${lines[1].split(" ")[0]}`, 15, true)).toBeGreaterThan(576)
    // Bold is wider than regular; "W" wider than "i".
    expect(measure("Wide", 12, true)).toBeGreaterThan(measure("Wide", 12))
    expect(measure("W", 12)).toBeGreaterThan(measure("i", 12))
  })
})

/** A sweep of one point and one run per algorithm whose rows have these gaps (NaN: never published). */
const withGaps = (gaps: Partial<Record<"distmt" | "oracle", ReadonlyArray<number>>>, epsilon = 0.1): SweepData => {
  const algorithms = Object.keys(gaps) as Array<"distmt" | "oracle">
  return {
    dir: "unused",
    manifest: {
      points: [{ index: 0, epsilon }],
      algorithms,
      units: algorithms.map((a) => ({ point: 0, algorithm: a, seed: 0, key: a, file: "" }))
    },
    records: new Map(algorithms.map((a) => [a, { run: { rows: gaps[a]!.map((gap) => ({ gap })) } }]))
  } as unknown as SweepData
}

describe("the exact gaps against ε", () => {
  it("are described per algorithm and plotted, with the twins named", async () => {
    const { block, parts } = await gapDistribution(withGaps({ distmt: [0, 0, 0.01, 0.2, NaN], oracle: [0, 0, 0.01, 0.2, NaN] }))
    expect(parts[0]).toBe("DistMT-LSVI: 2 of 5 policies exactly optimal, median gap 0.01, 95th percentile 0.2, largest 0.2, 1 never published")
    expect(block?._tag).toBe("Plot")
    if (block?._tag !== "Plot") return
    expect(block.file).toBe("plots/gaps.svg")
    expect(block.note).toBe("DistMT-LSVI and oracle hold policies with the same gaps: their curves coincide from end to end.")
    expect(block.svg).toContain("ε = 0.1")
  })

  it("draw nothing when every policy is exactly optimal (a plot at 1 from end to end)", async () => {
    const { block, parts } = await gapDistribution(withGaps({ distmt: [0, 0, 1e-16], oracle: [0, 0, 0] }))
    expect(block).toBeUndefined()
    expect(parts).toEqual(["DistMT-LSVI: 3 of 3 policies exactly optimal", "oracle: 3 of 3 policies exactly optimal"])
  })
})

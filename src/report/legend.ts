/**
 * The legend of a line chart, drawn as a small view under the plot rather than by Vega-Lite's
 * legend: each entry shows a stretch of its line with its dash pattern and color, and the series'
 * marker on it, so that a dashed `oracle` is told from a solid DistMT-LSVI in the legend as in the
 * plot (Vega-Lite's own symbols show a marker or a line, never both, and no dash). Notes (which
 * series coincide) follow the entries.
 */
import { wrapToWidth } from "./textWidth.ts"

export interface LegendEntry {
  readonly name: string
  readonly color: string
  readonly dash: ReadonlyArray<number>
  /** The marker's shape, or undefined for a line without markers (a fit, a reference). */
  readonly shape: string | undefined
  /** false: markers only (a scatter), no stretch of line. */
  readonly line: boolean
}

const ROW = 18
const NOTE_ROW = 16
const NOTE_SIZE = 11.5
/** Where the line sample starts and ends, and where the label starts, in pixels from the left. */
const LINE_FROM = 2
const LINE_TO = 36
const LABEL_AT = 44

export const legendView = (entries: ReadonlyArray<LegendEntry>, notesText: ReadonlyArray<string>, width: number): Record<string, unknown> => {
  // A note longer than the plot is wide goes on as many lines as it needs, never cut.
  const notes = notesText.flatMap((n) => wrapToWidth(`${n.charAt(0).toUpperCase()}${n.slice(1)}.`, width, NOTE_SIZE))
  const names = entries.map((e) => e.name)
  const rows: Array<Record<string, unknown>> = entries.map((e, i) => ({ y: i * ROW + ROW / 2, name: e.name, marker: e.shape !== undefined, line: e.line, note: false }))
  notes.forEach((n, i) => rows.push({ y: entries.length * ROW + i * NOTE_ROW + NOTE_ROW / 2 + 4, name: n, marker: false, note: true }))
  const height = entries.length * ROW + notes.length * NOTE_ROW + (notes.length > 0 ? 6 : 0)
  // Pixel positions: the y scale maps pixels to pixels, top down.
  const y = { field: "y", type: "quantitative", scale: { domain: [0, height], range: [0, height] }, axis: null }
  const byName = (range: ReadonlyArray<unknown>) => ({ field: "name", type: "nominal", scale: { domain: names, range }, legend: null })
  const entry = { filter: "!datum.note" }
  return {
    width,
    height,
    data: { values: rows },
    view: { stroke: null },
    layer: [
      {
        transform: [{ filter: "datum.line" }],
        mark: { type: "rule", strokeWidth: 2 },
        encoding: { x: { value: LINE_FROM }, x2: { value: LINE_TO }, y, color: byName(entries.map((e) => e.color)), strokeDash: byName(entries.map((e) => e.dash)) }
      },
      {
        transform: [{ filter: "datum.marker" }],
        mark: { type: "point", filled: true, size: 50, opacity: 0.9 },
        encoding: {
          x: { value: (LINE_FROM + LINE_TO) / 2 },
          y,
          color: byName(entries.map((e) => e.color)),
          shape: byName(entries.map((e) => e.shape ?? "circle"))
        }
      },
      {
        transform: [entry],
        mark: { type: "text", align: "left", baseline: "middle", fontSize: 12, color: "#222" },
        encoding: { x: { value: LABEL_AT }, y, text: { field: "name" } }
      },
      {
        transform: [{ filter: "datum.note" }],
        mark: { type: "text", align: "left", baseline: "middle", fontSize: NOTE_SIZE, fontStyle: "italic", color: "#444" },
        encoding: { x: { value: 0 }, y, text: { field: "name" } }
      }
    ]
  }
}

/**
 * docs/results.md lists the columns of results.csv, curves.csv and sweep.csv "in order": a reader
 * who indexes a column by its place in that table must find it there in the file. Each table's
 * first cells, read from the page, against the header the writer puts in the file.
 */
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { curvesCsv } from "../src/report/curves.ts"
import { resultsCsv } from "../src/report/files.ts"
import { type Manifest, sweepCsv } from "../src/report/sweepFiles.ts"

const PAGE = fs.readFileSync(new URL("../docs/results.md", import.meta.url), "utf8")

/** The backquoted names in the first cell of each row of the table under `## heading`, in order. */
const documentedColumns = (heading: string): ReadonlyArray<string> => {
  const section = PAGE.split(/^## /m).find((s) => s.startsWith(`${heading}\n`))
  expect(section, `a section "## ${heading}" in docs/results.md`).toBeDefined()
  const rows = section!.split("\n").filter((line) => line.startsWith("| ")).slice(2) // past the header and its rule
  // sweep.csv's row for the axes' own columns names examples of axes, not columns of every sweep.
  const cells = rows.map((row) => row.split(" | ")[0].slice(2)).filter((cell) => !cell.startsWith("one column per axis"))
  return cells.flatMap((cell) => [...cell.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]))
}

const header = (csv: string) => csv.split("\n")[0].split(",")

describe("docs/results.md's column tables", () => {
  it("list results.csv's columns in the file's order", () => {
    expect(documentedColumns("results.csv")).toEqual(header(resultsCsv([])))
  })

  it("list curves.csv's columns in the file's order", () => {
    expect(documentedColumns("curves.csv")).toEqual(header(curvesCsv([])))
  })

  it("list sweep.csv's columns in the file's order (a sweep without axes: no axis columns)", () => {
    const manifest = { axes: [], units: [] } as unknown as Manifest
    expect(documentedColumns("sweep.csv")).toEqual(header(sweepCsv(manifest, new Map())))
  })
})

/**
 * `distmt report <DIR>`: reads a sweep folder (sweep.json and its run files), and writes
 * plots/*.svg, report.md (plots linked) and report.html (one self-contained page, plots inlined).
 * Given a folder that holds several sweep folders (e.g. `runs/`), it writes each sweep's report and
 * one combined report.md / report.html with a section per experiment.
 */
import { Data, Effect, FileSystem, Path } from "effect"
import { analyse, type SweepData } from "./analysis/index.ts"
import { type Block, toHtml, toMarkdown } from "./document.ts"
import { writeAtomic } from "./files.ts"
import { folderHolds } from "./folderKind.ts"
import { manifestProblem } from "./manifestShape.ts"
import { type Manifest, MANIFEST_FORMAT, parseRunFile, type RunRecord } from "./sweepFiles.ts"

export class ReportError extends Data.TaggedError("ReportError")<{ readonly dir: string; readonly reason: string }> {
  override get message(): string {
    return `Cannot report on ${this.dir}: ${this.reason}`
  }
}

/** Reads sweep.json and every finished run file of a sweep folder. */
export const loadSweep = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dir, "sweep.json")
    if (!(yield* fs.exists(file))) return yield* new ReportError({ dir, reason: "no sweep.json here (is it the folder of a `distmt sweep`?)" })
    let manifest: Manifest
    try {
      manifest = JSON.parse(yield* fs.readFileString(file)) as Manifest
    } catch {
      return yield* new ReportError({ dir, reason: "sweep.json is not valid JSON" })
    }
    if (manifest?.format !== MANIFEST_FORMAT) return yield* new ReportError({ dir, reason: `sweep.json is not a ${MANIFEST_FORMAT} manifest` })
    // Damaged within (manifestShape.ts): named at its field, before anything is read or written.
    const damaged = manifestProblem(manifest)
    if (damaged !== undefined) return yield* new ReportError({ dir, reason: `sweep.json is not a whole ${MANIFEST_FORMAT} manifest: ${damaged}` })
    const records = new Map<string, RunRecord>()
    for (const u of manifest.units) {
      const f = path.join(dir, u.file)
      if (!(yield* fs.exists(f))) continue
      const rec = parseRunFile(yield* fs.readFileString(f), u.key)
      if (rec !== undefined) records.set(u.key, rec)
    }
    return { dir, manifest, records }
  })

/** The sweep folders at or under `dir` (three levels deep at most), in name order. */
export const findSweeps = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (!(yield* fs.exists(dir))) return yield* new ReportError({ dir, reason: "no such folder" })
    if ((yield* fs.stat(dir)).type !== "Directory") return yield* new ReportError({ dir, reason: "not a folder" })
    const out: Array<string> = []
    const walk = (d: string, depth: number): Effect.Effect<void, unknown, FileSystem.FileSystem> =>
      Effect.gen(function*() {
        const entries = yield* fs.readDirectory(d)
        if (entries.includes("sweep.json")) {
          out.push(d)
          return
        }
        if (depth === 0) return
        for (const e of entries.sort()) {
          const sub = path.join(d, e)
          if (e === "runs" || e === "plots") continue
          if ((yield* fs.stat(sub)).type === "Directory") yield* walk(sub, depth - 1)
        }
      })
    yield* walk(dir, 3).pipe(Effect.mapError(() => new ReportError({ dir, reason: "cannot read the folder" })))
    return out
  })

/** The plots of this folder (plots/*.svg) a report.md links to. */
const linkedPlots = (md: string): Array<string> =>
  [...md.matchAll(/!\[[^\]\n]*\]\((plots\/[^)\s]+\.svg)\)/g)].map((m) => m[1]).filter((f) => !f.includes(".."))

const writeBlocks = (dir: string, title: string, blocks: ReadonlyArray<Block>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    // Plots under this folder's plots/ are written here; a combined report links each sweep's own.
    const own = blocks.flatMap((b) => (b._tag === "Plot" && b.file.startsWith("plots/") && !b.file.includes("..") ? [b] : []))
    // A plot the earlier report drew and this one does not (a chart dropped or renamed since) would
    // stay and pass for current: removed, first, so that a kill before the new report.md leaves the
    // old one still naming what is left to remove. Only what a report linked to: plots/ may hold
    // the user's own files.
    const md = path.join(dir, "report.md")
    const earlier = (yield* fs.exists(md)) ? linkedPlots(yield* fs.readFileString(md)) : []
    const drawn = new Set(own.map((b) => b.file))
    for (const f of earlier) if (!drawn.has(f)) yield* fs.remove(path.join(dir, f), { force: true })
    if (own.length > 0) yield* fs.makeDirectory(path.join(dir, "plots"), { recursive: true })
    for (const b of own) yield* writeAtomic(path.join(dir, b.file), b.svg)
    yield* writeAtomic(path.join(dir, "report.md"), toMarkdown(blocks))
    yield* writeAtomic(path.join(dir, "report.html"), toHtml(title, blocks))
  })

/** Writes the report of one sweep folder (from `loaded` if there, else read); returns its headline (for the terminal). */
const reportOne = (dir: string, loaded: ReadonlyArray<SweepData>) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const data = loaded.find((d) => path.resolve(d.dir) === path.resolve(dir)) ?? (yield* loadSweep(dir))
    const { blocks, headline } = yield* Effect.promise(() => analyse(data))
    yield* writeBlocks(dir, `${data.manifest.name}: distmt sweep report`, blocks)
    return { name: data.manifest.name, blocks, headline }
  })

/**
 * Writes the report of `dir`: a sweep folder, or a folder of sweep folders (then each gets its own
 * report, and `dir` a combined one). Returns a short headline of the findings. `loaded`: sweep
 * folders the caller has read already (loadSweep), not read again.
 */
export const writeReport = (dir: string, loaded: ReadonlyArray<SweepData> = []) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const sweeps = yield* findSweeps(dir)
    if (sweeps.length === 0) {
      // A run's folder is named as what it is, with what draws its plots instead.
      const holds = folderHolds(dir)
      const hint = holds === "a linear-stage run" || holds === "a deep-stage run"
        ? `; it holds ${holds}: \`distmt plot ${dir}\` draws its curves`
        : holds === "a train-dqn run"
        ? "; it holds a train-dqn run, which draws its curve itself (curve.svg)"
        : ""
      return yield* new ReportError({ dir, reason: `no sweep.json in it or in its sub-folders (run \`distmt sweep\` first)${hint}` })
    }
    if (sweeps.length === 1 && path.resolve(sweeps[0]) === path.resolve(dir)) {
      const one = yield* reportOne(dir, loaded)
      return { headline: `${one.name}: ${one.headline.join("; ")}.`, files: [path.join(dir, "report.md"), path.join(dir, "report.html")] }
    }
    const combined: Array<Block> = [{ _tag: "Heading", level: 1, text: "distmt: experiments report" }]
    const lines: Array<string> = []
    for (const s of sweeps) {
      const one = yield* reportOne(s, loaded)
      const rel = path.relative(dir, s)
      lines.push(`${one.name} (${rel}): ${one.headline.join("; ")}.`)
      for (const b of one.blocks) {
        // Two sweeps of one spec share a title ("scaling (quick): sweep report"): the folder tells their sections apart.
        if (b._tag === "Heading") combined.push(b.level === 1 ? { ...b, level: 2, text: `${b.text} in \`${rel}\`` } : { ...b, level: 3 })
        else if (b._tag === "Plot") combined.push({ ...b, file: `${rel}/${b.file}` })
        else combined.push(b)
      }
    }
    yield* writeBlocks(dir, "distmt: experiments report", combined)
    return { headline: lines.join("\n"), files: [path.join(dir, "report.md"), path.join(dir, "report.html")] }
  })

/**
 * A deep run's report (report.md in the run folder, with plots/): what ran, the table `distmt run`
 * prints, per task the return each algorithm's agents reach against the random policy and the
 * target, the learning curves, and a strip of frames per task showing what the agents see. Every
 * number comes from the run's own results (files.ts), so the report and the files agree.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { makeGame } from "../../env/minatar/index.ts"
import { withDefaults } from "../../env/minatar/params.ts"
import { renderStrip } from "../../env/minatar/render.ts"
import * as Rng from "../../rng/Rng.ts"
import { algorithmsOf, deepTable, summarize } from "./files.ts"
import { returnPlot } from "./plot.ts"
import type { DeepResults } from "./run.ts"

/** Frames of a random-play episode of the task, every `every` frames, `count` of them. */
const strip = (results: DeepResults, task: number, count = 6, every = 3): Uint8Array => {
  const t = results.compiled.tasks[task]
  const game = makeGame(t.game, t.params as never)
  const rng = Rng.make(0x73747270, task)
  game.reset(rng)
  const frames: Array<Float32Array> = []
  for (let f = 0; frames.length < count && f < 10_000; f++) {
    if (f % every === 0) {
      const obs = new Float32Array(game.channels * 100)
      game.observe(obs)
      frames.push(obs)
    }
    if (game.step(rng.int(6), rng).done) game.reset(rng)
  }
  return renderStrip(t.game, frames, 8)
}

const mean = (xs: ReadonlyArray<number>): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length)
const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : "—")

/** Writes report.md and plots/ in `dir`; returns the files written. */
export const writeDeepReport = async (dir: string, r: DeepResults): Promise<ReadonlyArray<string>> => {
  const c = r.compiled
  const plots = path.join(dir, "plots")
  fs.mkdirSync(plots, { recursive: true })
  const written: Array<string> = []
  const curves = r.runs.flatMap((run) => run.curve.map((p) => ({ algorithm: run.algorithm, seed: run.seed, agent: p.agent, frame: p.frame, ret: p.ret })))
  fs.writeFileSync(path.join(plots, "returns.svg"), await returnPlot(c.spec.name, curves))
  written.push(path.join(plots, "returns.svg"))
  c.tasks.forEach((_, m) => {
    const file = path.join(plots, `task-${m}.png`)
    fs.writeFileSync(file, strip(r, m))
    written.push(file)
  })
  const algorithms = algorithmsOf(r.runs)
  const perTask = c.tasks.map((t, m) => {
    const cells = algorithms.map((a) => fmt(mean(r.runs.filter((run) => run.algorithm === a).flatMap((run) => run.rows.filter((row) => row.task === m && row.evaluated !== undefined).map((row) => row.evaluated!.mean)))))
    // The context as the parameters that differ from the standard game's.
    const standard = withDefaults(t.game, {}) as unknown as Record<string, number>
    const params = Object.entries(t.params as unknown as Record<string, number>).filter(([k, v]) => standard[k] !== v)
    return `| ${m} | ${t.game} | ${params.map(([k, v]) => `${k} ${v}`).join(", ") || "standard"} | ${fmt(r.random[m].mean)} | ${c.targets[m]} | ${cells.join(" | ")} | ![task ${m}](plots/task-${m}.png) |`
  })
  const ident = algorithms.flatMap((a) => {
    const s = summarize(r.runs, a)
    return s.identificationAccuracy === undefined ? [] : [`${a} ${fmt(s.identificationAccuracy)} (unidentified: ${fmt(s.unidentifiedRate)} of instances)`]
  })
  const md = [
    `# ${c.spec.name}`,
    "",
    c.spec.description ?? "",
    "",
    `N = ${c.spec.agents} agents, M = ${c.tasks.length} tasks, ${c.settings.framesPerAgent.toLocaleString("en-US")} frames per agent, ` +
      `${c.spec.seeds} seed(s), network ${c.shape.channels}×10×10 → conv ${c.shape.convChannels} → ${c.shape.hidden} → 6, ` +
      `sharing: ${c.spec.sharing}. Success: the held policy's mean greedy return on ${c.settings.evaluationEpisodes} fresh episodes of its true task ` +
      `reaches the task's target (docs/algorithm.md §9).`,
    "",
    "```",
    deepTable(r),
    "```",
    "",
    "## Per task: mean greedy return of the policies the agents hold",
    "",
    `| task | game | context | random policy | target | ${algorithms.join(" | ")} | random play |`,
    `| --- | --- | --- | --- | --- | ${algorithms.map(() => "---").join(" | ")} | --- |`,
    ...perTask,
    "",
    "## Identification",
    "",
    `Identification accuracy (instances that asked and found their task's entry): ${ident.join("; ") || "—"}. ` +
      `The statistic's separation, estimated from random play: ${r.separation.value.toPrecision(3)}` +
      (r.separation.pair === undefined ? "" : ` (tasks ${r.separation.pair[0]} and ${r.separation.pair[1]})`) + `; declared cSep ${c.spec.cSep}.`,
    "",
    "## Learning curves",
    "",
    "![returns](plots/returns.svg)",
    ""
  ].join("\n")
  fs.writeFileSync(path.join(dir, "report.md"), md)
  written.push(path.join(dir, "report.md"))
  return written
}

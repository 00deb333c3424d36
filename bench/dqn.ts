/**
 * `npm run bench -- --dqn`: distmt's DQN learner (`distmt bench dqn`, in a child process so its
 * figures are its own) beside PyTorch on CPU (bench/dqn_torch.py) with the same thread count, the
 * same network, batch, initial weights and data, in one table with the ratios and issue 11's targets.
 *
 * PyTorch comes from Debian's python3-torch (apt-get install python3-torch), which installs for
 * /usr/bin/python3; without it the table has distmt's rows and says why PyTorch's are missing.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { DqnBenchResult, Rate } from "../src/deep/bench.ts"

/** issue 11: training at least as fast as PyTorch's with the same threads; the loop above 3,000 frames/s per core. */
const FRAMES_TARGET = 3000

interface TorchRun {
  readonly torch: string
  readonly threads: number
  readonly trainSteps: Rate
  readonly inferences: Rate
  readonly loss: number
  readonly distmtLoss: number
  readonly gradMaxRelDiff: number
}

/** A python3 that imports torch, or why there is none. */
const findTorch = (): { readonly python: string; readonly version: string } | { readonly why: string } => {
  const whys: Array<string> = []
  for (const python of ["/usr/bin/python3", "python3"]) {
    const r = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" })
    if (r.error !== undefined) whys.push(`${python}: not found`)
    else if (r.status !== 0) whys.push(`${python}: cannot import torch`)
    else return { python, version: r.stdout.trim() }
  }
  return { why: `${whys.join("; ")} (install Debian's python3-torch: apt-get install -y python3-torch)` }
}

const n0 = (x: number): string => Math.round(x).toLocaleString("en-US")
const cell = (r: Rate | undefined): string => (r === undefined ? "—" : `${n0(r.perCpuSecond)} (${n0(r.perWallSecond)})`)

export interface DqnPartResult {
  readonly distmt: DqnBenchResult
  readonly torch: TorchRun | undefined
}

export const dqnPart = (root: string, seconds: number, fail: (m: string) => never): DqnPartResult => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-dqn-bench-"))
  try {
    const torch = findTorch()
    console.log(`DQN learner vs PyTorch on CPU, one thread each: ${os.cpus().length} cores, Node ${process.version}, ` +
      ("python" in torch ? `PyTorch ${torch.version} (${torch.python})` : `NO PyTorch reference: ${torch.why}; only distmt's figures follow`))
    const args = [path.join(root, "bin/distmt.mjs"), "bench", "dqn", "--json", "--seconds", `${seconds}`, "--dump", dir]
    const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 })
    if (r.status !== 0) fail(`distmt bench dqn failed:\n${r.stderr}${r.stdout}`)
    const distmt = JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as DqnBenchResult
    let torchRun: TorchRun | undefined
    if ("python" in torch) {
      const t = spawnSync(torch.python, [path.join(root, "bench/dqn_torch.py"), dir, "--seconds", `${seconds}`, "--threads", "1"], { encoding: "utf8" })
      if (t.status !== 0) fail(`the PyTorch reference failed:\n${t.stderr}`)
      torchRun = JSON.parse(t.stdout.trim().split("\n").pop() ?? "") as TorchRun
    }
    const cols: ReadonlyArray<readonly [string, number]> = [["", 14], ["train steps/s", 18], ["inferences/s", 18], ["frames/s end to end", 20], ["train vs PyTorch", 16]]
    console.log("(batch 32, per CPU-second of the process, per wall-clock second in brackets; end to end: Breakout, ε = 0.1, one update every 4 frames)\n")
    console.log(cols.map(([n, w], i) => (i === 0 ? n.padEnd(w) : n.padStart(w))).join("  "))
    console.log(cols.map(([, w]) => "─".repeat(w)).join("  "))
    const row = (name: string, train: Rate | undefined, infer: Rate | undefined, frames: Rate | undefined) =>
      console.log([
        name.padEnd(14),
        cell(train).padStart(18),
        cell(infer).padStart(18),
        cell(frames).padStart(20),
        (train !== undefined && torchRun !== undefined ? `${(train.perCpuSecond / torchRun.trainSteps.perCpuSecond).toFixed(2)}×` : "—").padStart(16)
      ].join("  "))
    for (const e of distmt.engines) row(`distmt ${e.engine}`, e.trainSteps, e.inferences, e.endToEndFrames)
    if (torchRun !== undefined) row(`PyTorch ${torchRun.torch.split("+")[0]}`, torchRun.trainSteps, torchRun.inferences, undefined)
    const onnx = distmt.engines.find((e) => e.engine === "onnx")
    console.log(`\n  load average during the run: ${distmt.loadAverage.toFixed(1)} on ${os.cpus().length} cores`)
    if (onnx !== undefined) {
      const mark = (ok: boolean) => (ok ? "met" : "MISSED")
      if (torchRun !== undefined) {
        const ratio = onnx.trainSteps.perCpuSecond / torchRun.trainSteps.perCpuSecond
        console.log(`  PyTorch's gradient vs distmt's reference on the same batch: max relative difference ${torchRun.gradMaxRelDiff.toExponential(1)}`)
        console.log(`  training step at least as fast as PyTorch's (same thread count): ${ratio.toFixed(2)}×  ${mark(ratio >= 1)}`)
      }
      const f = onnx.endToEndFrames.perCpuSecond
      console.log(`  end-to-end loop above ${n0(FRAMES_TARGET)} frames per second per core (per CPU-second): ${n0(f)}  ${mark(f >= FRAMES_TARGET)}`)
    }
    return { distmt, torch: torchRun }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

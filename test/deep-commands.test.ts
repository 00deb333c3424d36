/**
 * The deep stage's other commands given bad input: each refuses it in one line before it runs,
 * rather than after the work (docs/deep.md).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { MAX_SEED, seedProblem } from "../src/cli/seedFlag.ts"

const root = path.resolve(import.meta.dirname, "..")
const distmt = (...args: Array<string>) =>
  spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })

describe("distmt bench forgetting --csv", () => {
  // The CSV is written last, after every stream (24 minutes for the documented command). A path
  // that could not take it failed only then, with EISDIR, the matrices left on the screen alone.
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-forgetting-csv-"))
  const file = path.join(base, "notes.txt")
  fs.writeFileSync(file, "mine\n")

  // A run's folder, as distmt run leaves it: `--csv RUN/results.csv` wrote the matrices over its results.
  const run = path.join(base, "run")
  fs.mkdirSync(run)
  fs.writeFileSync(path.join(run, "summary.json"), JSON.stringify({ spec: { name: "chain" }, complete: true }))
  fs.writeFileSync(path.join(run, "results.csv"), "algorithm,seed\n")

  it("refuses a folder, a path under a file, or a file in a results folder, before training anything", () => {
    for (const [csv, reason] of [
      [base, `--csv ${base}: is a folder; give a file name`],
      [path.join(file, "f.csv"), `--csv ${path.join(file, "f.csv")}: its folder ${file}: exists and is not a folder; give a folder`],
      [path.join(run, "results.csv"), `--csv ${path.join(run, "results.csv")}: it is inside ${run}, which holds a linear-stage run; give a folder outside it`],
      // A file of the user's: it was written over in silence.
      [file, `--csv ${file}: the file exists and is not a CSV of bench forgetting's; give a new file name (one this command wrote is written anew)`]
    ]) {
      const r = distmt("bench", "forgetting", "--frames", "100", "--eval-episodes", "2", "--csv", csv)
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(`distmt bench forgetting: ${reason}`)
      // Nothing ran: no stream's header, no matrix.
      expect(r.stdout).toBe("")
    }
    expect(fs.readFileSync(file, "utf8")).toBe("mine\n")
    expect(fs.readFileSync(path.join(run, "results.csv"), "utf8")).toBe("algorithm,seed\n")
  })

  it("writes a CSV into a folder it creates, and writes its own CSV anew", () => {
    const csv = path.join(base, "new", "f.csv")
    const r = distmt("bench", "forgetting", "--frames", "100", "--eval-episodes", "2", "--lambdas", "0", "--csv", csv)
    expect(r.status, r.stderr).toBe(0)
    expect(fs.readFileSync(csv, "utf8").split("\n")[0]).toBe("lambda,seed,kind,after_task,task,task_name,mean,ci95,n")
    const again = distmt("bench", "forgetting", "--frames", "100", "--eval-episodes", "2", "--lambdas", "0", "--seed", "2", "--csv", csv)
    expect(again.status, again.stderr).toBe(0)
    expect(fs.readFileSync(csv, "utf8").split("\n")[1]).toMatch(/^0,2,return,/)
    expect(fs.readdirSync(path.dirname(csv))).toEqual(["f.csv"])
  })
}, 120_000)

describe("distmt validate of a deep spec", () => {
  it("shows the replay memory as every other size is shown: 3.3 TiB, not 3450394 MiB", () => {
    const r = distmt("validate", "specs/minatar.spec.ts", "--set", "agents=100000")
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/replay buffers up to 3\.3 TiB per unit running/)
  })

  it("names a bad sweep value at its axis, as for a linear sweep (it named the point: agents: … (at sweep point agents = 0))", () => {
    const r = distmt("validate", "specs/minatar.spec.ts", "--set", "sweep.agents=[0,2]")
    expect(r.status).toBe(1)
    expect(r.stderr).toBe("Invalid spec specs/minatar.spec.ts:\n  sweep.agents[0]: expected a value greater than 0, got 0 (from --set sweep.agents=[0,2])\n")
  })

  it("refuses --sample, as distmt sweep does for a deep spec and in its words (it said valid, the draw unchecked)", () => {
    // The two refusals were worded apart ("--sample and --dry-run are for linear-stage sweeps" in sweep).
    for (const command of ["validate", "sweep"]) {
      const r = distmt(command, "specs/minatar.spec.ts", "--sample", "2")
      expect(r.status).toBe(1)
      expect(r.stdout).toBe("")
      expect(r.stderr.trim()).toBe("specs/minatar.spec.ts: --sample is for linear-stage sweeps; a deep-stage sweep runs the grid of its lists")
    }
  })
}, 120_000)

describe("distmt bench dqn --dump", () => {
  it("refuses a file in one line before timing anything (it was mkdir's raw EEXIST)", () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-dqn-dump-"))
    const file = path.join(base, "notes.txt")
    fs.writeFileSync(file, "mine\n")
    const r = distmt("bench", "dqn", "--seconds", "0.1", "--frames", "100", "--dump", file)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`distmt bench dqn: --dump ${file}: exists and is not a folder; give a folder`)
    expect(r.stdout).toBe("")
    expect(fs.readFileSync(file, "utf8")).toBe("mine\n")
  })
}, 120_000)

describe("--train-every of train-dqn and bench forgetting", () => {
  // --train-every past the frames after warm-up: one update came at most (here one, at frame 5,005),
  // often none, and the run went on acting with an untrained network and said nothing.
  it("is refused in one line when one update at most would happen, and train-dqn writes nothing", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-train-every-")), "train")
    for (const [args, line] of [
      [["train-dqn", "--game", "breakout", "--frames", "6000", "--train-every", "1001", "--out", out],
        "distmt train-dqn: --train-every must be at most the 1,000 frames of --frames after the random warm-up, got 1001: one update at most would happen, perhaps none"],
      [["bench", "forgetting", "--frames", "100", "--train-every", "69"],
        "distmt bench forgetting: --train-every must be at most the 68 frames of --frames after the random warm-up, got 69: one update at most would happen, perhaps none"]
    ] as const) {
      const r = distmt(...args)
      expect(r.stderr.trim(), args.join(" ")).toBe(line)
      expect(r.status).toBe(1)
    }
    expect(fs.existsSync(out)).toBe(false)
  })
})

describe("--seed of the bench and train commands", () => {
  // bench dqn and bench simnet took a negative seed and ran it as seed + 2³² (Rng.make reads an
  // unsigned word); train-dqn and bench forgetting ran `--seeds 3` from 2⁵³ − 1 as two equal seeds.
  it("is a whole number from 0 to 2³² − 1, the last of its seeds included", () => {
    expect(seedProblem(0)).toBeUndefined()
    expect(seedProblem(MAX_SEED)).toBeUndefined()
    expect(seedProblem(MAX_SEED - 2, 3)).toBeUndefined()
    expect(seedProblem(-1)).toBe("--seed must be a whole number from 0 to 4294967295, got -1")
    expect(seedProblem(MAX_SEED + 1)).toBe("--seed must be a whole number from 0 to 4294967295, got 4294967296")
    expect(seedProblem(1.5)).toMatch(/got 1\.5$/)
    expect(seedProblem(MAX_SEED - 1, 3)).toBe("--seed must be a whole number from 0 to 4294967293 (so that its 3 seeds stay at most 4294967295), got 4294967294")
  })

  it("each command refuses a bad one in one line before it runs, and train-dqn writes nothing", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-seed-")), "train")
    for (const [args, line] of [
      [["bench", "dqn", "--seed", "-1", "--json"], "distmt bench dqn: --seed must be a whole number from 0 to 4294967295, got -1"],
      [["bench", "simnet", "--seed", "-1"], "distmt bench simnet: --seed must be a whole number from 0 to 4294967295, got -1"],
      [["bench", "lsvi", "--seed", "4294967296"], "distmt bench lsvi: --seed must be a whole number from 0 to 4294967295, got 4294967296"],
      [["bench", "forgetting", "--seed", "9007199254740991", "--seeds", "3"], "distmt bench forgetting: --seed must be a whole number from 0 to 4294967293 (so that its 3 seeds stay at most 4294967295), got 9007199254740991"],
      [["train-dqn", "--game", "breakout", "--seed", "4294967295", "--seeds", "2", "--out", out], "distmt train-dqn: --seed must be a whole number from 0 to 4294967294 (so that its 2 seeds stay at most 4294967295), got 4294967295"]
    ] as const) {
      const r = distmt(...args)
      expect(r.status, args.join(" ")).toBe(1)
      expect(r.stderr.trim()).toBe(line)
      expect(r.stdout).toBe("")
    }
    expect(fs.existsSync(out)).toBe(false)
  })
})

describe("a task on the command line", () => {
  it("is refused in one line, in the same words, by bench forgetting --tasks and bench simnet --task", () => {
    // The two commands wrote a task two ways (fields after colons, or after commas); now one.
    for (const [command, flag] of [["forgetting", "--tasks: "], ["simnet", "--task "]] as const) {
      const r = distmt("bench", command, command === "forgetting" ? "--tasks" : "--task", "breakout:paddleSpeed=2:speed=1")
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toMatch(new RegExp(`^distmt bench ${command}: ${flag}"breakout:paddleSpeed=2:speed=1": breakout has no parameter "speed"; expected one of sticky, `))
      expect(r.stdout).toBe("")
    }
  })
})

describe("bench forgetting's lists", () => {
  it("an empty entry of --tasks or --lambdas is refused in one line before anything trains", () => {
    for (const [flag, value] of [["--tasks", "breakout,,asterix"], ["--lambdas", "0,,10"]] as const) {
      const r = distmt("bench", "forgetting", "--frames", "100", "--eval-episodes", "2", flag, value)
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(`distmt bench forgetting: ${flag}: entry 2 of "${value}" is empty: give a value between each two commas`)
      expect(r.stdout).toBe("")
    }
  })
})

describe("a deep sweep with two equal values of an axis", () => {
  it("is refused in one line naming the value, and nothing is written", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-deep-sweep-dup-")), "sweep")
    const r = distmt("sweep", "specs/minatar.spec.ts", "--quick", "--set", "sweep.agents=[2,2]", "--out", out)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe("Invalid spec specs/minatar.spec.ts:\n  sweep.agents[1]: expected distinct values: the same as sweep.agents[0], got 2 (from --set sweep.agents=[2,2])")
    expect(fs.existsSync(out)).toBe(false)
  })
})

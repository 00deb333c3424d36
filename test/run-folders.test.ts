/**
 * Issue 15, item 4: run folders that are never ambiguous. A folder being written holds a lock with
 * the writer's PID: a second `run` or `sweep` on it is refused naming that PID, and a lock whose
 * process is gone is taken over, with the temporaries the killed writer left. summary.json exists
 * from the start with `"complete": false` and says `true` only after every other file's last write.
 * A run's `--out` holding another spec's results is refused. (Same-second default folders:
 * validation-hostile.test.ts.) Before, a second writer went ahead and removed the first's
 * temporaries, a killed run left `.tmp` files for good, and a folder killed before its first
 * summary had none.
 *
 * A run's `--out` (or the API's `out`) that holds files of someone else's (a results.csv of their
 * own, a summary.json that is no run's) is refused, and nothing in it changes; a folder a run was
 * killed in before its summary.json is still the run's. Before, a run went ahead in any folder
 * without a readable summary.json, writing over the user's files, and removed every file whose name
 * looked like a temporary (`data.7.tmp`).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { LOCK_FILE } from "../src/cli/outDir.ts"
import { run } from "../src/index.ts"
import { prepareOutput, writeAtomic } from "../src/report/files.ts"
import { compile } from "../src/spec/compile.ts"
import { deadPid, folderFiles } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })
const SPEC = "test/fixtures/tiny.spec.ts"
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-folders-"))
const NOT_A_RUN = "give a new or empty folder, or the folder of an earlier run of this spec to resume it"
/** A folder of the user's: a results.csv of their own and a file named like a temporary. */
const usersFolder = (): string => {
  const dir = tmp()
  fs.writeFileSync(path.join(dir, "results.csv"), "important\n")
  fs.writeFileSync(path.join(dir, "data.7.tmp"), "mine\n")
  return dir
}
const unchanged = (dir: string) => {
  expect(fs.readdirSync(dir).sort()).toEqual(["data.7.tmp", "results.csv"])
  expect(fs.readFileSync(path.join(dir, "results.csv"), "utf8")).toBe("important\n")
  expect(fs.readFileSync(path.join(dir, "data.7.tmp"), "utf8")).toBe("mine\n")
}

describe("a folder's lock", () => {
  it("a run into a folder another live process writes is refused, naming its PID; nothing is touched", () => {
    const dir = tmp()
    // This test's own process stands for the other writer: it is alive.
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${process.pid}\n`)
    fs.writeFileSync(path.join(dir, "results.csv.777.tmp"), "theirs")
    const r = distmt("run", SPEC, "--out", dir)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(
      `--out ${dir}: another distmt process (PID ${process.pid}) is writing in this folder; wait for it to end, or give another folder`
    )
    expect(fs.readdirSync(dir).sort()).toEqual([LOCK_FILE, "results.csv.777.tmp"])
  })

  it("a sweep into a folder another live process writes is refused, naming its PID", () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${process.pid}\n`)
    const r = distmt("sweep", SPEC, "--out", dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`Cannot sweep into ${dir}: another distmt process (PID ${process.pid}) is writing in this folder`)
  })

  it("a stale lock (its process gone) is taken over, the killed run's temporaries removed, the lock released at the end", () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${deadPid()}\n`)
    // Both names: this version's `<pid>.<n>.tmp` and the `<pid>.tmp` of versions before it.
    fs.writeFileSync(path.join(dir, "results.csv.12345.tmp"), "half a file")
    fs.writeFileSync(path.join(dir, "summary.json.12345.3.tmp"), "half a file")
    const r = distmt("run", SPEC, "--out", dir)
    expect(r.status, r.stderr).toBe(0)
    expect(fs.readdirSync(dir).sort()).toEqual(["curves.csv", "model.json", "policies.json", "results.csv", "summary.json", "units"])
    expect(JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8")).complete).toBe(true)
  })

  it("a run into a folder that holds another spec's results is refused", () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, "summary.json"), JSON.stringify({ spec: { name: "someone-else" }, complete: true }))
    const r = distmt("run", SPEC, "--out", dir)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`--out ${dir}: it holds the results of the spec "someone-else", not "tiny-fixture"; give another folder`)
  })
})

describe("a folder that is not a run's", () => {
  it("a run into a folder of other files is refused in one line; nothing in it is written or removed", () => {
    const dir = usersFolder()
    const r = distmt("run", SPEC, "--out", dir)
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`--out ${dir}: the folder is not empty and holds no distmt run (no summary.json); ${NOT_A_RUN}`)
    unchanged(dir)
  })

  it("a summary.json that is no run's does not make the folder a run's", () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, "summary.json"), `{"accuracy": 0.9}`)
    const r = distmt("run", SPEC, "--out", dir, "--fresh")
    expect(r.status).toBe(1)
    expect(r.stderr.trim()).toBe(`--out ${dir}: its summary.json is not a distmt run's; ${NOT_A_RUN}`)
    expect(fs.readdirSync(dir)).toEqual(["summary.json"])
    expect(fs.readFileSync(path.join(dir, "summary.json"), "utf8")).toBe(`{"accuracy": 0.9}`)
  })

  // It was called "not a distmt run's", as if it were someone else's, where the deep stage says damaged.
  it("a run's summary.json that does not parse is named as damaged, by run (with --fresh too), plot and sweep; nothing changes", () => {
    const dir = tmp()
    expect(distmt("run", SPEC, "--out", dir).status).toBe(0)
    const text = fs.readFileSync(path.join(dir, "summary.json"), "utf8")
    fs.writeFileSync(path.join(dir, "summary.json"), text.slice(0, 100))
    const before = folderFiles(dir)
    const damaged = "its summary.json is damaged (not a JSON object), so what the folder holds cannot be told; repair or remove it, or give another folder"
    for (const fresh of [[], ["--fresh"]]) {
      const r = distmt("run", SPEC, "--out", dir, ...fresh)
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe(`--out ${dir}: ${damaged}`)
    }
    const plot = distmt("plot", dir)
    expect(plot.status).toBe(1)
    expect(plot.stderr.trim()).toBe(`Cannot plot ${dir}: ${damaged}`)
    const sweep = distmt("sweep", SPEC, "--out", dir)
    expect(sweep.status).toBe(1)
    expect(sweep.stderr.trim()).toBe(`Cannot sweep into ${dir}: ${damaged}`)
    expect(folderFiles(dir)).toEqual(before)
    expect(fs.readdirSync(dir).some((f) => f.startsWith("."))).toBe(false)
  })

  it("the library API's run refuses it with OutDirError", async () => {
    const dir = usersFolder()
    const refused = await run(SPEC, { out: dir }).catch((e: unknown) => e)
    expect(refused).toMatchObject({
      _tag: "OutDirError",
      message: `${dir}: the folder is not empty and holds no distmt run (no summary.json); ${NOT_A_RUN}`
    })
    unchanged(dir)
  })

  it("a run killed before its summary.json is still the run's: the rerun resumes its units and removes its temporaries", () => {
    const reference = tmp()
    expect(distmt("run", SPEC, "--out", reference).status).toBe(0)
    // What a killed run can leave before prepareOutput renames summary.json: its lock, units/ and temporaries.
    const dir = tmp()
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${deadPid()}\n`)
    fs.writeFileSync(path.join(dir, "summary.json.12345.1.tmp"), "half a file")
    fs.mkdirSync(path.join(dir, "units"))
    fs.copyFileSync(path.join(reference, "units", "distmt-seed0.json"), path.join(dir, "units", "distmt-seed0.json"))
    fs.writeFileSync(path.join(dir, "units", "distmt-seed1.json.12345.2.tmp"), "half a unit")
    const r = distmt("run", SPEC, "--out", dir)
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain("resuming: 1 of 1 (algorithm, seed) units already finished in this folder")
    expect(fs.readdirSync(dir).sort()).toEqual(["curves.csv", "model.json", "policies.json", "results.csv", "summary.json", "units"])
    expect(fs.readdirSync(path.join(dir, "units"))).toEqual(["distmt-seed0.json"])
  })

  it("a rerun in a run's folder removes the run's temporaries, not a file of the user's named like one", () => {
    const dir = tmp()
    expect(distmt("run", SPEC, "--out", dir).status).toBe(0)
    fs.writeFileSync(path.join(dir, "results.csv.12345.tmp"), "half a file")
    fs.writeFileSync(path.join(dir, "data.7.tmp"), "mine\n")
    fs.writeFileSync(path.join(dir, "units", "notes.3.tmp"), "mine too\n")
    const r = distmt("run", SPEC, "--out", dir)
    expect(r.status, r.stderr).toBe(0)
    expect(fs.readdirSync(dir).sort()).toEqual(["curves.csv", "data.7.tmp", "model.json", "policies.json", "results.csv", "summary.json", "units"])
    expect(fs.readdirSync(path.join(dir, "units")).sort()).toEqual(["distmt-seed0.json", "notes.3.tmp"])
    expect(fs.readFileSync(path.join(dir, "data.7.tmp"), "utf8")).toBe("mine\n")
  })
})

describe("run --fresh and the plots of the run it starts over", () => {
  // `distmt plot`'s plots/ stayed beside the fresh results: plots of other numbers.
  it("removes the plots distmt plot drew, and plots/ with them; a file of the user's there stays", () => {
    const dir = tmp()
    expect(distmt("run", SPEC, "--out", dir).status).toBe(0)
    expect(distmt("plot", dir).status).toBe(0)
    expect(fs.readdirSync(path.join(dir, "plots")).sort()).toEqual(["curves-gap.svg", "curves-width.svg"])
    const fresh = distmt("run", SPEC, "--out", dir, "--fresh")
    expect(fresh.status, fresh.stderr).toBe(0)
    expect(fs.existsSync(path.join(dir, "plots"))).toBe(false)
    expect(distmt("plot", dir).status).toBe(0)
    fs.writeFileSync(path.join(dir, "plots", "notes.md"), "mine\n")
    expect(distmt("run", SPEC, "--out", dir, "--fresh").status).toBe(0)
    expect(fs.readdirSync(path.join(dir, "plots"))).toEqual(["notes.md"])
  })
})

describe("a resumed run and the plots of its older numbers", () => {
  // Only --fresh removed them: a resume that ran units left plots of the older results beside the new.
  it("a resume that runs a unit removes the plots distmt plot drew; one that runs none keeps them; a file of the user's stays", () => {
    const dir = tmp()
    expect(distmt("run", SPEC, "--out", dir).status).toBe(0)
    expect(distmt("plot", dir).status).toBe(0)
    const plotted = ["curves-gap.svg", "curves-width.svg"]
    expect(distmt("run", SPEC, "--out", dir).status).toBe(0)
    expect(fs.readdirSync(path.join(dir, "plots")).sort()).toEqual(plotted)
    fs.rmSync(path.join(dir, "units", "distmt-seed0.json"))
    const resumed = distmt("run", SPEC, "--out", dir)
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(fs.existsSync(path.join(dir, "plots"))).toBe(false)
    expect(distmt("plot", dir).status).toBe(0)
    fs.writeFileSync(path.join(dir, "plots", "notes.md"), "mine\n")
    fs.rmSync(path.join(dir, "units", "distmt-seed0.json"))
    expect(distmt("run", SPEC, "--out", dir).status).toBe(0)
    expect(fs.readdirSync(path.join(dir, "plots"))).toEqual(["notes.md"])
  })
})

describe("the completion marker", () => {
  it("summary.json exists with complete: false before anything runs", async () => {
    const dir = tmp()
    await Effect.runPromise(
      Effect.gen(function*() {
        const c = yield* compile(yield* loadSpec(SPEC), SPEC)
        yield* prepareOutput(dir, c, 1)
      }).pipe(Effect.provide(NodeServices.layer))
    )
    const summary = JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8"))
    expect(summary.complete).toBe(false)
    expect(summary.threads).toBe(1)
    expect(summary.algorithms).toEqual({})
    expect(fs.existsSync(path.join(dir, "model.json"))).toBe(true)
  })
})

describe("atomic writes", () => {
  // A deep run with two workers writes results.csv after each unit; two units finishing together
  // wrote it twice at once through one temporary name, and the second rename found no file
  // (CI: "NotFound: FileSystem.rename (…/results.csv.16504.tmp)").
  it("two writes of one file at once both succeed, the file holds one of them whole, and no temporary is left", async () => {
    const dir = tmp()
    const file = path.join(dir, "results.csv")
    const contents = Array.from({ length: 8 }, (_, i) => `${i}`.repeat(200_000 + i))
    await Effect.runPromise(
      Effect.forEach(contents, (c) => writeAtomic(file, c), { concurrency: "unbounded", discard: true }).pipe(Effect.provide(NodeServices.layer))
    )
    expect(contents).toContain(fs.readFileSync(file, "utf8"))
    expect(fs.readdirSync(dir)).toEqual(["results.csv"])
  })
})

/**
 * Issue 15, item 4: run folders that are never ambiguous. A folder being written holds a lock with
 * the writer's PID: a second `run` or `sweep` on it is refused naming that PID, and a lock whose
 * process is gone is taken over, with the temporaries the killed writer left. summary.json exists
 * from the start with `"complete": false` and says `true` only after every other file's last write.
 * A run's `--out` holding another spec's results is refused. (Same-second default folders:
 * validation-hostile.test.ts.) Before, a second writer went ahead and removed the first's
 * temporaries, a killed run left `.tmp` files for good, and a folder killed before its first
 * summary had none.
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
import { prepareOutput, writeAtomic } from "../src/report/files.ts"
import { compile } from "../src/spec/compile.ts"
import { deadPid } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (...args: Array<string>) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 })
const SPEC = "test/fixtures/tiny.spec.ts"
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "distmt-folders-"))


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

/**
 * Issue 15, item 1: a spec cannot hang or take the tool down. Each case is a hostile spec from
 * test/fixtures/hostile/ that, before the spec check ran in a worker (src/cli/specCheck.ts), hung
 * the tool with Ctrl-C ignored, printed an internal stack trace, made `validate` report success
 * after `process.exit(0)`, or lost the parser's message; or, while that worker was a thread of the
 * tool's process, passed the check and then aborted the tool, or killed it with the check. Now the
 * check is a child process, and each ends in one structured line.
 *
 * A file that cannot export a spec (a script, examples/api.ts) is refused before it is imported:
 * `validate examples/api.ts` used to run the script whole, writing its run folder, and only then
 * say "exports no spec".
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import { checkSpec, specTimeoutSeconds } from "../src/cli/specCheck.ts"

const root = path.resolve(import.meta.dirname, "..")
const cli = path.join(root, "bin", "distmt.mjs")
const distmt = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, ...env } })
const hostile = (name: string) => `test/fixtures/hostile/${name}.spec.ts`

/** The message of a failed check, or "valid". */
const checked = (file: string, timeoutSeconds = 30) =>
  Effect.runPromise(
    checkSpec(file, { timeoutSeconds }).pipe(
      Effect.map(() => "valid"),
      Effect.catch((e) => Effect.succeed(e.message))
    )
  )

describe("a spec that never returns", () => {
  it("a build that loops forever is named, with its context, within the limit", async () => {
    const t0 = Date.now()
    const message = await checked(hostile("hang-build"), 3)
    expect(message).toMatch(/environment\.build\(context 2\) did not return within 3 s/)
    expect(Date.now() - t0).toBeLessThan(60_000)
  })

  it("a feature map that loops forever is named with its state and action", async () => {
    expect(await checked(hostile("hang-features"), 3)).toMatch(/features\.map\(1, 0\) did not return within 3 s/)
  })

  it("top-level code that loops forever is named as the module's loading", async () => {
    expect(await checked(hostile("hang-load"), 3)).toMatch(/loading the spec module .* did not return within 3 s/)
  })

  it("the limit comes from --spec-timeout, else DISTMT_SPEC_TIMEOUT, else 30 s; a bad one is a usage error", () => {
    const env = process.env.DISTMT_SPEC_TIMEOUT
    try {
      delete process.env.DISTMT_SPEC_TIMEOUT
      expect(specTimeoutSeconds(Option.none())).toBe(30)
      process.env.DISTMT_SPEC_TIMEOUT = "7"
      expect(specTimeoutSeconds(Option.none())).toBe(7)
      expect(specTimeoutSeconds(Option.some("2.5"))).toBe(2.5)
      expect(specTimeoutSeconds(Option.some("0"))).toMatch(/--spec-timeout: expected a number of seconds > 0/)
    } finally {
      if (env === undefined) delete process.env.DISTMT_SPEC_TIMEOUT
      else process.env.DISTMT_SPEC_TIMEOUT = env
    }
  })

  it("validate with DISTMT_SPEC_TIMEOUT gives one line and exit code 1", () => {
    const r = distmt(["validate", hostile("hang-build")], { DISTMT_SPEC_TIMEOUT: "3" })
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr.trim().split("\n")).toEqual([
      `Cannot load spec ${hostile("hang-build")}: environment.build(context 2) did not return within 3 s (a longer limit: --spec-timeout SECONDS or DISTMT_SPEC_TIMEOUT)`
    ])
  })

  it("Ctrl-C stops validate while a build hangs (it used to be ignored)", async () => {
    const child = spawn(process.execPath, [cli, "validate", hostile("hang-build")], { cwd: root })
    const t0 = Date.now()
    // Long enough for the worker to reach the hanging build (the default limit, 30 s, is far off).
    setTimeout(() => child.kill("SIGINT"), 5_000)
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)))
    const seconds = (Date.now() - t0) / 1000
    expect(code).not.toBe(0)
    expect(seconds).toBeLessThan(15)
  })
})

describe("a spec that attacks the process or is not plain data", () => {
  it("process.exit(0) while loading is refused, not reported valid", () => {
    const r = distmt(["validate", hostile("exit")])
    expect(r.status).toBe(1)
    expect(r.stdout).not.toMatch(/valid/)
    expect(r.stderr).toMatch(/the spec called process\.exit\(0\) during loading the spec module .*; a spec must not end the process/)
  })

  it("process.abort() in a build ends the check process only: one line naming the step, exit code 1 (validate said valid, run aborted)", () => {
    const line = `Cannot load spec ${hostile("abort")}: the spec's code ended the check process (process.abort / signal SIGABRT) during environment.build(context 1)`
    const r = distmt(["validate", hostile("abort")])
    expect([r.status, r.signal, r.stdout]).toEqual([1, null, ""])
    expect(r.stderr.trim().split("\n")).toEqual([line])
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-abort-")), "out")
    const run = distmt(["run", hostile("abort"), "--out", out])
    expect([run.status, run.signal]).toEqual([1, null])
    expect(run.stderr.trim().split("\n")).toEqual([line])
  })

  it("a spec that sends itself SIGKILL ends the check process only, with one line and exit code 1", () => {
    const r = distmt(["validate", hostile("kill")])
    expect(r.status).toBe(1)
    expect(r.signal).toBeNull()
    expect(r.stderr.trim().split("\n")).toEqual([
      `Cannot load spec ${hostile("kill")}: the spec's code ended the check process (signal SIGKILL) during loading the spec module (its top-level code)`
    ])
  })

  it("a top-level await that never settles is named, not taken for an exit", async () => {
    expect(await checked(hostile("await-forever"))).toMatch(
      /the spec stopped without finishing \(exit code 0\) during loading the spec module .*: a top-level await or a promise that never settles\?/
    )
  })

  it("process.exit(0) from a timer, after the check passed, ends the run with one line and code 1 (it was a silent 0)", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-exit-later-"))
    const r = distmt(["run", hostile("exit-later"), "--out", out])
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`Spec ${hostile("exit-later")} called process.exit(0); a spec must not end the process`)
    expect(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).complete).toBe(false)
  })

  it("a throwing getter names its field, with no stack trace on either stream", () => {
    const r = distmt(["validate", hostile("getter")])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain("agents: expected a value, but reading this field threw: boom")
    expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+|Result adapter|Cause\(/)
  })

  it("a Promise, a BigInt or a cycle as the export is named as such", async () => {
    expect(await checked(hostile("promise"))).toMatch(/\(spec\): expected a value, not a Promise/)
    expect(await checked(hostile("bigint"))).toMatch(/\(spec\): expected a spec .*not a BigInt, got 5n/)
    expect(await checked(hostile("cyclic"))).toMatch(/environment\.self: expected plain data, not a cycle: this value contains itself \(it is \(spec\)\)/)
  })

  it("tables returned by build with a throwing getter are an issue at that field (it was an internal stack trace)", async () => {
    expect(await checked(hostile("build-getter"))).toContain(
      "environment.build(context 0).reward: expected a value, but reading this field threw: no reward today"
    )
  })

  it("a TypeScript syntax error shows the file, line, column and the parser's message", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-syntax-"))
    const file = path.join(dir, "syntax.spec.ts")
    fs.writeFileSync(file, "const x: number = (1 +\nexport default {\n")
    expect(await checked(file)).toBe(`Cannot load spec ${file}: syntax error at ${file}:2:1: Unexpected "export"`)
  })

  it("a top-level await in a spec compiled as CommonJS says why and what to do; in a module folder it loads", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-await-"))
    const file = path.join(dir, "await.spec.ts")
    const tiny = fs.readFileSync(path.join(root, "test/fixtures/tiny.spec.ts"), "utf8")
    fs.writeFileSync(file, tiny.replace("export default", "await Promise.resolve()\nexport default"))
    expect(await checked(file)).toMatch(
      /syntax error at .*await\.spec\.ts:\d+:1: Top-level await is currently not supported with the "cjs" output format \(the file is compiled as CommonJS, since the nearest package\.json above it does not say "type": "module"; add one that does, or name the file \.spec\.mts\)$/
    )
    // What the message says to do works.
    fs.writeFileSync(path.join(dir, "package.json"), `{ "type": "module" }`)
    expect(await checked(file)).toBe("valid")
  })

  it("a good spec still passes the check", async () => {
    expect(await checked("test/fixtures/tiny.spec.ts")).toBe("valid")
  })
})

describe("a file that is not a spec", () => {
  it("a script with no default export is refused by validate, run and sweep without being run", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-script-"))
    const file = path.join(dir, "script.ts")
    const ran = path.join(dir, "ran")
    fs.writeFileSync(file, `import { writeFileSync } from "node:fs"\nwriteFileSync(${JSON.stringify(ran)}, "the script ran")\nconsole.log("a script, with a spec of its own")\n`)
    for (const command of [["validate"], ["run", "--out", path.join(dir, "out")], ["sweep", "--out", path.join(dir, "sweep")]]) {
      const r = distmt([command[0], file, ...command.slice(1)])
      expect(r.status, command[0]).toBe(1)
      expect(r.stdout, command[0]).toBe("")
      expect(r.stderr.trim(), command[0]).toBe(
        `Cannot load spec ${file}: it has no default export, so it is not a spec and was not run (a spec file ends with \`export default Experiment.make({ ... })\`)`
      )
    }
    expect(fs.readdirSync(dir)).toEqual(["script.ts"])
  })

  it("a spec exported by name, or through export *, is still imported; a module that exports none is refused after", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-exports-"))
    const named = path.join(dir, "named.spec.ts")
    fs.writeFileSync(named, `import tiny from ${JSON.stringify(path.join(root, "test/fixtures/tiny.spec.ts"))}\nexport const spec = tiny\n`)
    const star = path.join(dir, "star.spec.ts")
    fs.writeFileSync(star, `export * from ${JSON.stringify(named)}\n`)
    const none = path.join(dir, "none.spec.ts")
    fs.writeFileSync(none, "export const spec = undefined\n")
    expect(await checked(named)).toBe("valid")
    expect(await checked(star)).toBe("valid")
    expect(await checked(none)).toBe(`Cannot load spec ${none}: the module exports no spec (expected \`export default Experiment.make({ ... })\`)`)
  })
})

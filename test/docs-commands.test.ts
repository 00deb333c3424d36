/**
 * README's "Commands" table names each command's flags, and docs/spec-reference.md's first table
 * each field of a spec: a reader who copies one must find the tool taking it. The flags of each
 * `npx distmt …` in the table's first column against the command's own `--help`; the fields against
 * the spec's schema, both ways.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")
const README = fs.readFileSync(path.join(root, "README.md"), "utf8")

/** Command (one or two words) → the flags README's table gives it, from every mention in the first column. */
const documentedFlags = (): Map<string, Set<string>> => {
  const table = README.split(/^## Commands$/m)[1]?.split(/^## /m)[0] ?? ""
  const commands = new Map<string, Set<string>>()
  for (const row of table.split("\n").filter((line) => line.startsWith("| `"))) {
    const cell = row.split(" | ")[0]
    for (const m of cell.matchAll(/`npx distmt ((?:bench|cluster) [a-z-]+|[a-z-]+)([^`]*)`/g)) {
      const flags = commands.get(m[1]) ?? new Set<string>()
      for (const f of m[2].matchAll(/--[a-z][a-z-]*/g)) flags.add(f[0])
      commands.set(m[1], flags)
    }
  }
  return commands
}

const help = async (command: string): Promise<string> => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(root, "bin/distmt.mjs"), ...command.split(" "), "--help"], {
    cwd: root,
    timeout: 60_000
  })
  return stdout + stderr
}

describe("README's Commands table", () => {
  it("names only flags that its commands take (each command's --help)", async () => {
    const commands = documentedFlags()
    // the table's commands: a parsing slip would make this test pass on nothing
    expect([...commands.keys()]).toEqual(expect.arrayContaining(["run", "validate", "sweep", "bench lsvi", "runner", "cluster up"]))
    const missing: Array<string> = []
    const entries = [...commands.entries()]
    // two at a time: each --help starts a Node process
    for (let i = 0; i < entries.length; i += 2) {
      const helps = await Promise.all(entries.slice(i, i + 2).map(([command]) => help(command)))
      entries.slice(i, i + 2).forEach(([command, flags], k) => {
        for (const flag of flags) if (!new RegExp(`${flag}(?![a-z-])`).test(helps[k])) missing.push(`distmt ${command} ${flag}`)
      })
    }
    expect(missing).toEqual([])
  }, 180_000)
})

describe("docs/spec-reference.md's top-level table", () => {
  it("has a row for every field of a spec and none for a field that is not one", async () => {
    const { ExperimentInput } = await import("../src/spec/schema.ts")
    const page = fs.readFileSync(path.join(root, "docs/spec-reference.md"), "utf8")
    const section = page.split(/^## Top level$/m)[1]?.split(/^## /m)[0] ?? ""
    const rows = section.split("\n").filter((line) => line.startsWith("| `")).map((line) => line.slice(3, line.indexOf("`", 3)))
    // `quick` is decoded apart (schema.ts `decode`: merged over the spec, then the schema's fields)
    expect([...rows].sort()).toEqual([...Object.keys(ExperimentInput.fields), "quick"].sort())
  })
})

describe("docs/api.md and docs/spec-reference.md", () => {
  it("name every export of \"distmt\" (its values and its types)", () => {
    const index = fs.readFileSync(path.join(root, "src/index.ts"), "utf8")
    const exported = [...index.matchAll(/^export (?:type )?\{([^}]*)\}/gm)]
      .flatMap((m) => m[1].split(","))
      .map((name) => name.trim().split(/\s+as\s+/).at(-1)!)
      .filter((name) => name !== "")
    // the parse found the exports: a slip would make this test pass on nothing
    expect(exported).toEqual(expect.arrayContaining(["run", "Experiment", "RunResult", "DistmtError"]))
    const docs = ["docs/api.md", "docs/spec-reference.md"].map((f) => fs.readFileSync(path.join(root, f), "utf8")).join("\n")
    expect(exported.filter((name) => !new RegExp("`" + name + "[`(.<]").test(docs))).toEqual([])
  })
})

/**
 * Start-up (issue 13, item 8): `distmt --help` prints Effect's overview without loading Effect
 * (src/cli/overview.ts); the CLI itself loads only its own modules for it, not the cluster,
 * PostgreSQL, ONNX Runtime, the report's plotting, the runner, nor the whole `effect` index; a
 * command loads its own module and no other command's. How fast that is, is measured, not asserted
 * here (docs/performance-runs.md, "Start-up").
 */
import { describe, expect, it } from "vitest"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")

/**
 * The URLs a `distmt` command resolves, in order, with its exit status and output: through
 * bin/distmt.mjs, or (`viaMain`) through src/cli/main.ts itself, as Effect's CLI does it.
 */
const loaded = (
  args: ReadonlyArray<string>,
  viaMain = false,
  env: NodeJS.ProcessEnv = process.env
): { readonly status: number | null; readonly urls: ReadonlyArray<string>; readonly stdout: string } => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-startup-"))
  const hook = path.join(dir, "hook.mjs")
  const out = path.join(dir, "urls.json")
  fs.writeFileSync(
    hook,
    [
      `import { registerHooks } from "node:module"`,
      `import { writeFileSync } from "node:fs"`,
      `const seen = []`,
      `registerHooks({ resolve: (s, c, next) => { const r = next(s, c); seen.push(r.url); return r } })`,
      `process.on("exit", () => writeFileSync(${JSON.stringify(out)}, JSON.stringify(seen)))`
    ].join("\n")
  )
  const entry = viaMain ? ["--import", "tsx", path.join(root, "src/cli/main.ts")] : [path.join(root, "bin/distmt.mjs")]
  const r = spawnSync(process.execPath, ["--import", hook, ...entry, ...args], { cwd: root, encoding: "utf8", timeout: 60_000, env })
  return { status: r.status, urls: JSON.parse(fs.readFileSync(out, "utf8")) as Array<string>, stdout: r.stdout }
}

const HEAVY = /\/src\/(cluster|deep|report|run|api|coordinator|learner)\/|\/node_modules\/(vega|vega-lite|@effect\/sql-pg|onnxruntime-node|pg)\/|\/node_modules\/effect\/dist\/index\.js$/

describe("start-up", () => {
  it("distmt --help prints Effect's overview without loading Effect, in a pipe and with colours", () => {
    for (const env of [{ ...process.env, NO_COLOR: "1" }, { ...process.env, NO_COLOR: "", FORCE_COLOR: "1" }]) {
      const fast = loaded(["--help"], false, env)
      const effect = loaded(["--help"], true, env)
      expect(fast.status).toBe(0)
      expect(fast.urls.filter((u) => /\/node_modules\/effect\//.test(u))).toEqual([])
      expect(effect.urls.some((u) => /\/node_modules\/effect\//.test(u))).toBe(true)
      expect(fast.stdout).toBe(effect.stdout)
      expect(fast.stdout).toContain("SUBCOMMANDS")
    }
  })

  it("the CLI's own --help loads none of the commands' modules and not the whole effect index", () => {
    const { status, urls } = loaded(["--help"], true)
    expect(status).toBe(0)
    expect(urls.some((u) => u.endsWith("/src/cli/main.ts"))).toBe(true)
    expect(urls.filter((u) => HEAVY.test(u))).toEqual([])
    expect(urls.filter((u) => /\/src\/cli\/(runCommand|validateCommand|sweep|plot|bench)\.ts$/.test(u))).toEqual([])
  })

  it("distmt run --help loads the run command and what it needs, and no other command", () => {
    const { status, urls } = loaded(["run", "--help"])
    expect(status).toBe(0)
    expect(urls.some((u) => u.endsWith("/src/cli/runCommand.ts"))).toBe(true)
    // The pattern above does see the runner's modules when they load.
    expect(urls.filter((u) => HEAVY.test(u)).length).toBeGreaterThan(0)
    expect(urls.filter((u) => /\/src\/(deep\/trainCommand|cluster\/clusterCommand|cli\/plot)\.ts$/.test(u))).toEqual([])
  })
})

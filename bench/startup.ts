/**
 * `npm run bench -- --startup`: how long distmt's commands take to start, beside two references
 * measured in the same run: a bare Node (the floor) and the Effect indexes loaded through tsx's
 * hooks, which is what every command paid before commands were loaded one by one (src/cli/main.ts,
 * bin/distmt.mjs). Each is the median of `repeat` runs, after one run that warms tsx's cache.
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"

export interface StartupRow {
  readonly label: string
  readonly command: string
  readonly medianSeconds: number
}

const seconds = (root: string, argv: ReadonlyArray<string>): number => {
  const started = performance.now()
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, encoding: "utf8" })
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`)
  return (performance.now() - started) / 1000
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export const startupPart = (root: string, repeat: number): ReadonlyArray<StartupRow> => {
  const node = process.execPath
  const bin = path.join(root, "bin/distmt.mjs")
  const tsx = path.join(root, "node_modules/tsx/dist/esm/api/index.mjs")
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    ["reference: bare Node", [node, "-e", ""]],
    ["reference: Effect's indexes through tsx", [node, "--input-type=module", "-e", `const { register } = await import(${JSON.stringify(tsx)}); register(); await import("effect"); await import("@effect/platform-node")`]],
    ["distmt --help", [node, bin, "--help"]],
    ["distmt run --help", [node, bin, "run", "--help"]],
    ["distmt validate specs/linear-chain.spec.ts", [node, bin, "validate", "specs/linear-chain.spec.ts"]],
    ["npx distmt --help", ["npx", "distmt", "--help"]]
  ]
  console.log(`start-up, median of ${repeat} runs (seconds):`)
  return cases.map(([label, argv]) => {
    seconds(root, argv)
    const row = { label, command: argv.map((a) => path.relative(root, a).startsWith("..") || a.includes(" ") ? path.basename(a) : a).join(" "), medianSeconds: median(Array.from({ length: repeat }, () => seconds(root, argv))) }
    console.log(`  ${label.padEnd(46)} ${row.medianSeconds.toFixed(2)}`)
    return row
  })
}

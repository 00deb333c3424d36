/**
 * A spec file executed directly (`npx tsx specs/linear-chain.spec.ts [--out DIR] [--threads N]`)
 * runs itself as `distmt run specs/linear-chain.spec.ts [...]` would, instead of evaluating one
 * `Experiment.make` call and exiting silently.
 *
 * `Experiment.make` calls `runIfEntry` with its own stack. The spec runs itself only when all hold:
 * - the process's entry script (`process.argv[1]`) is named `*.spec.{ts,mts,js,mjs}`, and
 *   `Experiment.make` was called from that very file (not from a module it imports);
 * - we are on the main thread (sweep and learner workers load specs too);
 * - distmt's own loader is not the one importing it (`loadSpec` sets `LOADED_BY_DISTMT` before it
 *   imports a spec, so `distmt run`, `validate`, `sweep` never start a second run);
 * - it has not started already (the CLI imports the same module again to read its export).
 * Vitest, `npx distmt ...` and the root `run` file all have another entry script, so they never
 * trigger it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { isMainThread } from "node:worker_threads"

/** Set by distmt's spec loader (src/cli/loadSpec.ts) before it imports a spec module. */
export const LOADED_BY_DISTMT = Symbol.for("distmt.loadingSpec")
const STARTED = Symbol.for("distmt.selfRunStarted")

type Flags = { [LOADED_BY_DISTMT]?: boolean; [STARTED]?: boolean }
const flags = globalThis as typeof globalThis & Flags

const SPEC_FILE = /\.spec\.(?:ts|mts|js|mjs)$/

const realPath = (file: string): string => {
  try {
    return fs.realpathSync(file)
  } catch {
    return path.resolve(file)
  }
}

/** The files named in a stack trace, in order (plain paths or file: URLs, with :line:col cut off). */
export const stackFiles = (stack: string): Array<string> => {
  const files: Array<string> = []
  for (const line of stack.split("\n")) {
    const m = /(?:\(|at )((?:file:\/\/)?\/[^():]*?|[A-Za-z]:\\[^():]*?):\d+:\d+\)?\s*$/.exec(line.trim())
    if (m === null) continue
    const file = m[1].startsWith("file://") ? fileURLToPath(m[1]) : m[1]
    files.push(file)
  }
  return files
}

/**
 * Whether a stack taken inside `Experiment.make` shows it called from the entry script `entry`:
 * the first frame outside this folder (src/spec/) is the entry file.
 */
export const calledFromEntry = (stack: string, entry: string): boolean => {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const caller = stackFiles(stack).find((f) => path.dirname(f) !== here)
  return caller !== undefined && realPath(caller) === realPath(entry)
}

/** Starts `distmt run <entry> <the remaining arguments>` once the spec module has loaded, if it is the entry. */
export const runIfEntry = (stack: string | undefined): void => {
  const entry = process.argv[1]
  if (stack === undefined || entry === undefined || !SPEC_FILE.test(entry)) return
  if (!isMainThread || flags[LOADED_BY_DISTMT] === true || flags[STARTED] === true) return
  if (!calledFromEntry(stack, entry)) return
  flags[STARTED] = true
  const relative = path.relative(process.cwd(), path.resolve(entry))
  const shown = relative.startsWith("..") || path.isAbsolute(relative) ? entry : relative
  // The CLI reads its arguments from process.argv.slice(2) when it starts.
  process.argv = [process.argv[0], entry, "run", shown, ...process.argv.slice(2)]
  // After the spec module has finished loading: the CLI then imports it (cached) and runs it.
  // bin/distmt.mjs registers tsx, as `npx distmt` does; a string specifier keeps tsc out of the .mjs.
  const cli = new URL("../../bin/distmt.mjs", import.meta.url).href
  setImmediate(() => {
    import(cli).catch((e: unknown) => {
      console.error(e)
      process.exitCode = 1
    })
  })
}

// Starts the spec-check process (specCheckEntry.mjs, specCheckChild.ts) for specCheck.ts.
//
// The process spends about a second loading Effect and the check's modules before it reads its
// request. bin/distmt.mjs therefore starts one as soon as it sees `run`, `validate` or `sweep`
// (`startCheckAhead`), so that this loading overlaps the tool's own; specCheck.ts then takes that
// process (`takeCheckProcess`) and writes the request to its stdin. Anything else (the library API,
// a second check) starts a process when it needs one. A process started ahead and never taken ends
// with the tool: the pipes it writes to close, and so does its stdin.
//
// Plain JavaScript, so that bin/distmt.mjs loads it before tsx is registered. The process is kept
// on globalThis, not in this module, so that the tool finds it whichever way the module was loaded.
import { spawn } from "node:child_process"
import * as os from "node:os"
import { fileURLToPath } from "node:url"

const entry = fileURLToPath(new URL("./specCheckEntry.mjs", import.meta.url))
const AHEAD = Symbol.for("distmt.specCheck.ahead")

/** The check's heap: half the machine's memory, at most 4 GiB (a spec is small; its tables are bounded by compile). */
export const CHECK_HEAP_MB = Math.min(4096, Math.floor(os.totalmem() / 2 / 2 ** 20))

/**
 * A new check process, waiting for its request on stdin. The spec's own output is not shown
 * (stdout ignored): the main process loads it again and shows it then. stderr is kept for V8's
 * message when the heap limit is reached; fd 3 carries the steps and the reply. A process group of
 * its own (detached): a spec's process.kill(0, ...) reaches no one else, and a Ctrl-C at the
 * terminal reaches only the tool, which then stops the check itself.
 */
const spawnCheck = () =>
  spawn(process.execPath, [`--max-old-space-size=${CHECK_HEAP_MB}`, entry], {
    stdio: ["pipe", "ignore", "pipe", "pipe"],
    detached: true
  })

const handles = (child) => [child, child.stdin, child.stderr, child.stdio[3]]

/** Starts a check process now, for the tool to take later; it does not keep the tool alive. */
export const startCheckAhead = () => {
  const child = spawnCheck()
  child.on("error", () => {}) // reported when it is taken (specCheck.ts listens then)
  for (const h of handles(child)) h?.unref?.()
  globalThis[AHEAD] = child
}

/** The process started ahead, if any (once), else a new one. */
export const takeCheckProcess = () => {
  const ahead = globalThis[AHEAD]
  globalThis[AHEAD] = undefined
  if (ahead === undefined || ahead.exitCode !== null || ahead.signalCode !== null) return spawnCheck()
  for (const h of handles(ahead)) h?.ref?.()
  return ahead
}

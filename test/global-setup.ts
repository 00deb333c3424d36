/**
 * Once per `npm test`: every temporary file of the suite goes into one directory, removed at the end.
 * The tests (and the processes they start, which inherit the environment) make their scratch
 * directories with `os.tmpdir()`, which reads TMPDIR; without this, each run left some seventy
 * directories in /tmp, a few MiB each for the cluster tests.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export default function setup(): () => void {
  const before = process.env.TMPDIR
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-tests-"))
  process.env.TMPDIR = root
  return () => {
    if (before === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = before
    fs.rmSync(root, { recursive: true, force: true })
  }
}

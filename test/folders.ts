/**
 * Helpers for the tests of results folders. A folder as text, for comparing a resumed (or killed
 * and resumed) folder with an uninterrupted one: test/run-resume.test.ts, test/run-faults.test.ts,
 * test/sweep-faults.test.ts. Wall-clock times are the only part that may differ between two runs
 * of the same spec, so they are set to 0: `"wallSeconds"` in JSON and the `wall_seconds` column of
 * a CSV.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

/** A CSV's text with its `wall_seconds` column (if any) set to 0; no field of these tables is quoted. */
const csvWithoutWallClock = (text: string): string => {
  const lines = text.split("\n")
  const column = lines[0].split(",").indexOf("wall_seconds")
  if (column < 0) return text
  return lines.map((line, i) => {
    if (i === 0 || line === "") return line
    const fields = line.split(",")
    fields[column] = "0"
    return fields.join(",")
  }).join("\n")
}

/** A value (summary.json's object, an API result) with its wall-clock fields set to 0. */
export const valueWithoutWallClock = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value), (k, v) => (k === "wallSeconds" || k === "wall_seconds" ? 0 : v))

/** A result file's text without its wall-clock fields, and a unit file's digest (runFolder.ts), which hashes them too. */
export const withoutWallClock = (file: string): string => {
  const text = fs.readFileSync(file, "utf8").replace(/"wallSeconds":\s*[-0-9.e+]+/g, `"wallSeconds": 0`).replace(/"sha256":"[0-9a-f]{64}"/g, `"sha256": ""`)
  return file.endsWith(".csv") ? csvWithoutWallClock(text) : text
}

/**
 * Every file of a folder (sub-folders included, dot files such as the lock left out) → its text
 * without wall-clock fields. Files for which `presenceOnly` holds map to "" (their names are still
 * compared): a sweep's report states wall-clock times in its prose and plots.
 */
export const folderFiles = (dir: string, presenceOnly: (file: string) => boolean = () => false): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const f of fs.readdirSync(dir, { recursive: true }) as Array<string>) {
    const file = path.join(dir, f)
    if (fs.statSync(file).isDirectory() || path.basename(f).startsWith(".")) continue
    out[f] = presenceOnly(f) ? "" : withoutWallClock(file)
  }
  return out
}

/** The PID of a process that has ended: the holder of a stale lock (.distmt.lock) left by a killed writer. */
export const deadPid = (): number =>
  Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout)

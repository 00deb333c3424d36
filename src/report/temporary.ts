/**
 * The temporary files of atomic writes (files.ts `writeAtomic`, unitFiles.ts): `<file>.<pid>.<n>.tmp`,
 * `n` counting this process's writes. A name of its own per write: two writes of one file at once
 * (a deep run's two workers finishing units together) must not share a temporary, or the second
 * rename finds none. The pid lets a folder's next writer tell a killed writer's leftovers.
 */
import * as fs from "node:fs"

let writes = 0

/** A fresh temporary name beside `file`. */
export const temporaryOf = (file: string): string => `${file}.${process.pid}.${++writes}.tmp`

/**
 * Writes `content` to `file` under a temporary name, then renames it: the file is whole or absent
 * (or still the earlier one), never cut short by a kill. For writers outside Effect (files.ts has writeAtomic).
 */
export const writeFileAtomic = (file: string, content: string | Uint8Array): void => {
  const tmp = temporaryOf(file)
  fs.writeFileSync(tmp, content)
  fs.renameSync(tmp, file)
}

/** `<pid>.<n>.tmp`, and `<pid>.tmp` as versions before 2026-11 named them. */
const TEMPORARY = /\.\d+(?:\.\d+)?\.tmp$/

/** Whether a file name is an atomic write's temporary. */
export const isTemporary = (name: string): boolean => TEMPORARY.test(name)

/** The file a temporary stands for, as the user knows it. */
export const fileOfTemporary = (name: string): string => name.replace(TEMPORARY, "")

/**
 * Whether `name` is the temporary of a file that `ours` says we write: a writer killed mid-write
 * leaves one, which its next run may ignore and remove. A user's file that merely ends in `.7.1.tmp`
 * is not one.
 */
export const isOwnTemporary = (name: string, ours: (file: string) => boolean): boolean => isTemporary(name) && ours(fileOfTemporary(name))

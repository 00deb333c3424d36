/**
 * Checks of an output folder before anything is written, each failure one line naming the path and
 * what to do: `--out notes.txt: exists and is not a folder`. Without them the first write fails
 * with the platform's words (`AlreadyExists: FileSystem.makeDirectory`) or a temporary file's name.
 */
import { Data, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

export class OutDirError extends Data.TaggedError("OutDirError")<{ readonly label: string; readonly reason: string }> {
  override get message(): string {
    return `${this.label}: ${this.reason}`
  }
}

const statOf = (p: string): fs.Stats | undefined => {
  try {
    return fs.statSync(p)
  } catch {
    return undefined
  }
}

const writable = (dir: string): boolean => {
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** A path as the user would write it: relative to the working folder if inside it. */
const shown = (p: string): string => {
  const r = path.relative(process.cwd(), p)
  return r === "" || r.startsWith("..") || path.isAbsolute(r) ? p : r
}

/**
 * Why `dir` cannot be (or become) an output folder, or undefined if it can: it must be a folder we
 * may write in, or not exist yet with its nearest existing ancestor a folder we may write in.
 */
export const outDirProblem = (dir: string): string | undefined => {
  if (dir.trim() === "") return "expected a folder, got an empty path"
  const info = statOf(dir)
  if (info !== undefined) {
    if (!info.isDirectory()) return "exists and is not a folder; give a folder"
    return writable(dir) ? undefined : "no permission to write in this folder; give another folder"
  }
  let ancestor = path.dirname(path.resolve(dir))
  for (;;) {
    const a = statOf(ancestor)
    if (a !== undefined) {
      if (!a.isDirectory()) return `cannot create it: ${shown(ancestor)} is a file, not a folder`
      return writable(ancestor) ? undefined : `cannot create it: no permission to write in ${shown(ancestor)}`
    }
    const up = path.dirname(ancestor)
    if (up === ancestor) return "cannot create it: no folder above it exists"
    ancestor = up
  }
}

/** Fails with one line if `dir` cannot be an output folder; `label` names it as the user gave it (`--out x`). */
export const checkOutDir = (dir: string, flag?: string) =>
  Effect.suspend(() => {
    const problem = outDirProblem(dir)
    const label = flag === undefined ? dir : `${flag} ${dir}`
    return problem === undefined ? Effect.void : Effect.fail(new OutDirError({ label, reason: problem }))
  })

/**
 * Creates a new run folder `<parent>/<stamp>` (`-2`, `-3`, … appended if taken) and returns its
 * path. The folder is created with an exclusive mkdir, so two runs started in the same second never
 * share one: the second finds the first's folder taken and takes the next name.
 */
export const newRunDir = (parent: string, stamp: string) =>
  Effect.gen(function*() {
    yield* checkOutDir(parent)
    for (let n = 1; ; n++) {
      const dir = path.join(parent, n === 1 ? stamp : `${stamp}-${n}`)
      const created = yield* Effect.try({
        try: () => {
          fs.mkdirSync(parent, { recursive: true })
          fs.mkdirSync(dir)
          return true
        },
        catch: (e) => e as NodeJS.ErrnoException
      }).pipe(
        Effect.catch((e) =>
          e.code === "EEXIST" ? Effect.succeed(false) : Effect.fail(new OutDirError({ label: dir, reason: `cannot create it: ${e.message}` }))
        )
      )
      if (created) return dir
    }
  })

/** The lock of a folder being written: it holds the writer's PID. */
export const LOCK_FILE = ".distmt.lock"

/** Whether a process with this id is running (EPERM: it runs, under another user). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** A file of the lock: the lock itself, or a claim or new lock of a takeover (below); never a result. */
export const isLockFile = (name: string): boolean => name === LOCK_FILE || name.startsWith(`${LOCK_FILE}.`)

/** How deep claims on claims may go (each level needs a claimant killed mid-takeover). */
const MAX_CLAIM_DEPTH = 4

export type LockAttempt =
  | { readonly _tag: "Taken" }
  | { readonly _tag: "Held"; readonly pid: number }
  | { readonly _tag: "Failed"; readonly reason: string }

/** The lock's text (its holder's PID), or undefined if there is no lock. */
const holderOf = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8").trim()
  } catch {
    return undefined
  }
}

/**
 * Takes the lock `file` for this process, or says which live process holds it. A lock whose
 * process is gone (killed) is stale and taken over, by exactly one of the processes that find it:
 * removing it and creating a new one is not enough, since a second process that read the stale PID
 * too would then remove the first one's fresh lock and both would go ahead. So a takeover first
 * claims the stale lock by creating `<file>.<stale PID>.claim` exclusively (itself a lock, taken
 * over the same way if its claimant was killed), re-reads the lock under the claim (another may
 * have replaced it just before), and only then renames a new lock over it: the lock file never
 * goes missing, and a process that loses the claim is told the claimant's PID.
 */
/**
 * Creates `file` holding this process's PID, only if it does not exist; false if it does. The file
 * appears whole: written under a temporary name first, then hard-linked (a link, unlike an
 * exclusive open, never shows another process an empty file, which it would take for a stale lock).
 */
const createWithPid = (file: string): boolean => {
  const temporary = `${file}.${process.pid}.new`
  fs.writeFileSync(temporary, `${process.pid}\n`)
  try {
    fs.linkSync(temporary, file)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
    throw e
  } finally {
    fs.rmSync(temporary, { force: true })
  }
}

export const takeLock = (file: string, depth = 0): LockAttempt => {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      if (createWithPid(file)) return { _tag: "Taken" }
    } catch (e) {
      return { _tag: "Failed", reason: `cannot write in it: ${(e as Error).message}` }
    }
    const holder = holderOf(file)
    if (holder === undefined) continue // released meanwhile: try again
    const pid = /^\d+$/.test(holder) ? Number(holder) : NaN
    if (pid > 0 && pid !== process.pid && alive(pid)) return { _tag: "Held", pid }
    if (depth >= MAX_CLAIM_DEPTH) break
    const claim = `${file}.${Number.isNaN(pid) ? "invalid" : pid}.claim`
    const claimed = takeLock(claim, depth + 1)
    if (claimed._tag !== "Taken") return claimed
    try {
      if (holderOf(file) === holder) {
        const fresh = `${file}.${process.pid}.new`
        fs.writeFileSync(fresh, `${process.pid}\n`)
        fs.renameSync(fresh, file)
        return { _tag: "Taken" }
      }
    } catch (e) {
      return { _tag: "Failed", reason: `cannot write in it: ${(e as Error).message}` }
    } finally {
      fs.rmSync(claim, { force: true })
    }
  }
  return { _tag: "Failed", reason: `cannot take its lock ${LOCK_FILE}` }
}

/**
 * Takes the folder's lock for this process (creating the folder), released when the scope closes.
 * A second `run` or `sweep` on the same folder is refused with the first's PID, instead of writing
 * over it or removing its temporary files. A lock left by a process that no longer runs (killed)
 * is stale and taken over (takeLock).
 */
export const lockDir = (dir: string, label: string) =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const file = path.join(dir, LOCK_FILE)
      try {
        fs.mkdirSync(dir, { recursive: true })
      } catch (e) {
        return Effect.fail(new OutDirError({ label, reason: `cannot write in it: ${(e as Error).message}` }))
      }
      const taken = takeLock(file)
      switch (taken._tag) {
        case "Taken":
          return Effect.succeed(file)
        case "Held":
          return Effect.fail(
            new OutDirError({
              label,
              reason: `another distmt process (PID ${taken.pid}) is writing in this folder; wait for it to end, or give another folder`
            })
          )
        case "Failed":
          return Effect.fail(new OutDirError({ label, reason: taken.reason }))
      }
    }),
    (file) =>
      Effect.sync(() => {
        if (holderOf(file) === String(process.pid)) fs.rmSync(file, { force: true })
      })
  )

/**
 * A folder as one absolute path, whichever way it is reached: its real path (symbolic links
 * followed) as far as it exists, the rest as given. path.resolve alone made a folder reached
 * through a link another run on the cluster (its key), and `cluster forget` by the other path
 * found none.
 */
export const realFolder = (dir: string): string => {
  const absolute = path.resolve(dir)
  let existing = absolute
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing)
  try {
    return path.join(fs.realpathSync(existing), path.relative(existing, absolute))
  } catch {
    return absolute
  }
}

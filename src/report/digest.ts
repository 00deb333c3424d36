/**
 * A unit file's digest: its last field, `sha256`, holds the SHA-256 of the file's text before it.
 * A unit file edited by hand but still well formed was read back on resume as the run's own
 * numbers; one whose text no longer matches its digest is run again, and the run says so
 * (`changedUnitsLine`). A file written before digests has none and is read as before. Linear units
 * (src/api/runFolder.ts, written in pieces) and deep units (src/deep/distmt/unitFiles.ts, one
 * string) carry the same field.
 */
import { createHash } from "node:crypto"

/** The digest field at the end of a unit file's text (a newline may follow). */
const DIGEST = /,"sha256":"([0-9a-f]{64})"\}\n?$/

/** `pieces` of a JSON object's text, its closing brace held back for a last field: the digest of all before it. */
export function* withDigest(pieces: Iterable<string>): Generator<string> {
  const hash = createHash("sha256")
  let held: string | undefined
  for (const piece of pieces) {
    if (held !== undefined) {
      hash.update(held)
      yield held
    }
    held = piece
  }
  yield `,"sha256":"${hash.digest("hex")}"}`
}

/** A JSON object's text (as JSON.stringify writes it) with its digest as a last field. */
export const withDigestText = (json: string): string => [...withDigest([json.slice(0, -1), "}"])].join("")

/**
 * Whether a unit file's text is not what was written: its digest (DIGEST) does not match the text
 * before it. A file written before digests has none and is read as before.
 */
export const changedSinceWritten = (text: string): boolean => {
  const tail = text.slice(-100)
  const m = DIGEST.exec(tail)
  if (m === null) return false
  const body = text.slice(0, text.length - (tail.length - m.index))
  return createHash("sha256").update(body).digest("hex") !== m[1]
}

/** What the user is told of unit files changed since they were written, in one line; undefined for none. */
export const changedUnitsLine = (changed: ReadonlyArray<string>): string | undefined =>
  changed.length === 0
    ? undefined
    : `running again ${changed.length} unit${changed.length === 1 ? "" : "s"} whose file was changed since it was written (its sha256 no longer matches): ${changed.join(", ")}`

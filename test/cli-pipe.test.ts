/**
 * `distmt validate x.spec.ts | head -1`: the reader closes its end, and the command's next write
 * fails with EPIPE, which Node threw as an unhandled 'error' event: a stack trace on stderr and
 * exit code 1 in place of the command's end. The command now goes on without a reader.
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")

describe("a command whose output's reader is gone", () => {
  it("ends as it would have, without a stack trace", async () => {
    const child = spawn(process.execPath, [path.join(root, "bin", "distmt.mjs"), "validate", "test/fixtures/tiny.spec.ts"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    // Closed before validate writes its first line (it checks the spec first, in about a second).
    child.stdout.destroy()
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve))
    expect(stderr).toBe("")
    expect(code).toBe(0)
  }, 60_000)
})

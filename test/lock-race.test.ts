/**
 * Issue 15, item 4: two processes that both find a stale lock (the PID of a killed process) in a
 * folder must not both take it over. Before, each removed the stale lock and created its own: the
 * slower one, having read the stale PID too, removed the faster one's fresh lock, and both wrote in
 * the folder. Two racer processes (test/fixtures/lockRacer.ts) try to lock the same folders at the
 * same instant, round after round; in every round exactly one wins and the other is told the
 * winner's PID. Whatever the timing of a round, that must hold.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import { expect, it } from "vitest"
import { LOCK_FILE, takeLock } from "../src/cli/outDir.ts"
import { deadPid } from "./folders.ts"

const root = path.resolve(import.meta.dirname, "..")
const ROUNDS = 150
const SPACING_MS = 8


const racer = (parent: string) => {
  const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/lockRacer.ts", parent, String(ROUNDS), String(SPACING_MS)], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"]
  })
  const lines = readline.createInterface({ input: child.stdout })
  const outcomes: Array<string> = []
  let signal = { ready: () => {}, done: () => {} }
  const ready = new Promise<void>((resolve) => (signal = { ...signal, ready: resolve }))
  const done = new Promise<void>((resolve) => (signal = { ...signal, done: resolve }))
  lines.on("line", (l) => (l === "ready" ? signal.ready() : l === "done" ? signal.done() : outcomes.push(JSON.parse(l).outcome)))
  const ended = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  return { child, ready, done, ended, outcomes }
}

it("two processes racing for a stale lock: exactly one takes it over, the other is told its PID", async () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-lock-race-"))
  const stale = deadPid()
  for (let i = 0; i < ROUNDS; i++) {
    fs.mkdirSync(path.join(parent, String(i)))
    fs.writeFileSync(path.join(parent, String(i), LOCK_FILE), `${stale}\n`)
  }
  const racers = [racer(parent), racer(parent)]
  await Promise.all(racers.map((r) => r.ready))
  const start = Date.now() + 300
  for (const r of racers) r.child.stdin.end(`${start}\n`)
  // Both racers stay alive while their locks are looked at (a lock of an exited racer would be stale).
  await Promise.race([Promise.all(racers.map((r) => r.done)), ...racers.map((r) => r.ended.then(() => expect.fail("a racer ended early")))])
  const pids = racers.map((r) => r.child.pid!)
  try {
    checkRounds(parent, racers.map((r) => r.outcomes), pids)
  } finally {
    for (const r of racers) r.child.kill()
    await Promise.all(racers.map((r) => r.ended))
  }
}, 60_000)

/** In every round exactly one racer won, the other was told its PID, and the lock names it with nothing left beside it. */
const checkRounds = (parent: string, outcomesOf: ReadonlyArray<ReadonlyArray<string>>, pids: ReadonlyArray<number>) => {
  for (let i = 0; i < ROUNDS; i++) {
    const outcomes = outcomesOf.map((o) => o[i])
    const winners = outcomes.flatMap((o, k) => (o === "won" ? [k] : []))
    expect(winners, `round ${i}: ${outcomes.join(" | ")}`).toHaveLength(1)
    const winner = pids[winners[0]]
    expect(outcomes[1 - winners[0]], `round ${i}`).toBe(
      `--out x: another distmt process (PID ${winner}) is writing in this folder; wait for it to end, or give another folder`
    )
    // The lock names the winner, and no claim or new lock of the takeover is left behind.
    expect(fs.readdirSync(path.join(parent, String(i))), `round ${i}`).toEqual([LOCK_FILE])
    expect(fs.readFileSync(path.join(parent, String(i), LOCK_FILE), "utf8").trim(), `round ${i}`).toBe(String(winner))
  }
}

it("a takeover whose claimant was killed is taken over in turn; a live claimant is named", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-lock-claim-"))
  const lock = path.join(dir, LOCK_FILE)
  const [stale, killedClaimant] = [deadPid(), deadPid()]
  fs.writeFileSync(lock, `${stale}\n`)
  // A process killed between its claim and its rename left the claim behind.
  fs.writeFileSync(`${lock}.${stale}.claim`, `${killedClaimant}\n`)
  expect(takeLock(lock)).toEqual({ _tag: "Taken" })
  expect(fs.readdirSync(dir)).toEqual([LOCK_FILE])
  expect(fs.readFileSync(lock, "utf8").trim()).toBe(String(process.pid))

  // A claimant still running is about to take the lock over: it is the process named.
  fs.writeFileSync(lock, `${stale}\n`)
  fs.writeFileSync(`${lock}.${stale}.claim`, `${process.ppid}\n`)
  expect(takeLock(lock)).toEqual({ _tag: "Held", pid: process.ppid })
  expect(fs.readFileSync(lock, "utf8").trim()).toBe(String(stale))
})

/**
 * Progress of a sweep on stderr, with an estimate of the time left. On a terminal one line is
 * redrawn; in a log (CI, a pipe) one line per finished run.
 *
 * The estimate: a unit's cost is taken to be proportional to its task instances, at a rate in
 * seconds per instance learned from the runs finished so far (this session's and, on resume, the
 * earlier ones'): the rate of its algorithm at its point once a run of both has finished, else of
 * its algorithm, else of every run. Points can differ in cost per instance by far more than
 * instances tell: on the cluster, E6's oracle units under experience sharing took a hundred times
 * those under policy sharing, and the sweep said "about 0s left" for minutes. The time left is the
 * predicted cost of what remains, spread over the workers. It is an estimate, and says so.
 */
import type { Algorithm } from "../run/runExperiment.ts"

export interface ProgressUnit {
  readonly key: string
  readonly algorithm: Algorithm
  /** The sweep point, as its folder names it. */
  readonly point: string
  readonly instances: number
  readonly label: string
}

export const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return "?"
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
}

export const sweepProgress = (total: number, jobs: number, stream: NodeJS.WriteStream = process.stderr) => {
  const tty = stream.isTTY === true
  const started = performance.now()
  // Seconds and instances of the finished runs: all of them, by algorithm, and by (algorithm, point).
  interface Tally { seconds: number; instances: number }
  const all: Tally = { seconds: 0, instances: 0 }
  const byAlgorithm = new Map<Algorithm, Tally>()
  const byPoint = new Map<string, Tally>()
  const atPoint = (u: ProgressUnit) => `${u.algorithm}\u0000${u.point}`
  const learn = (u: ProgressUnit, wallSeconds: number) => {
    if (!byAlgorithm.has(u.algorithm)) byAlgorithm.set(u.algorithm, { seconds: 0, instances: 0 })
    if (!byPoint.has(atPoint(u))) byPoint.set(atPoint(u), { seconds: 0, instances: 0 })
    for (const t of [all, byAlgorithm.get(u.algorithm)!, byPoint.get(atPoint(u))!]) {
      t.seconds += wallSeconds
      t.instances += u.instances
    }
  }
  const running = new Map<string, { readonly unit: ProgressUnit; readonly since: number; episodes: number }>()
  const pending = new Map<string, ProgressUnit>()
  let done = 0
  let lastDraw = 0

  const rate = (u: ProgressUnit): number | undefined => {
    for (const t of [byPoint.get(atPoint(u)), byAlgorithm.get(u.algorithm), all]) {
      if (t !== undefined && t.instances > 0) return t.seconds / t.instances
    }
    return undefined
  }

  /** Seconds left, or undefined while nothing has finished to estimate from. */
  const left = (): number | undefined => {
    let work = 0
    let longest = 0
    const now = performance.now()
    for (const u of pending.values()) {
      const r = rate(u)
      if (r === undefined) return undefined
      work += r * u.instances
    }
    for (const { unit, since } of running.values()) {
      const r = rate(unit)
      if (r === undefined) return undefined
      const rest = Math.max(0, r * unit.instances - (now - since) / 1000)
      work += rest
      longest = Math.max(longest, rest)
    }
    return Math.max(work / Math.max(1, Math.min(jobs, pending.size + running.size)), longest)
  }

  const status = () => {
    const eta = left()
    const episodes = [...running.values()].reduce((n, r) => n + r.episodes, 0)
    return `sweep: ${done}/${total} runs done, ${running.size} running` +
      (running.size > 0 ? ` (${episodes.toLocaleString("en-US")} episodes)` : "") +
      ` · ${formatDuration((performance.now() - started) / 1000)} elapsed · ` +
      (done === total ? "finished" : eta === undefined ? "estimating time left…" : `about ${formatDuration(eta)} left`)
  }
  const draw = (force: boolean) => {
    if (!tty) return
    const t = performance.now()
    if (!force && t - lastDraw < 200) return
    lastDraw = t
    stream.write(`\r\x1b[2K${status()}`)
  }
  return {
    /** A unit finished in an earlier session: counts as done and teaches the rate. */
    alreadyDone: (unit: ProgressUnit, wallSeconds: number) => {
      done++
      learn(unit, wallSeconds)
    },
    planned: (unit: ProgressUnit) => {
      pending.set(unit.key, unit)
    },
    started: (unit: ProgressUnit) => {
      pending.delete(unit.key)
      running.set(unit.key, { unit, since: performance.now(), episodes: 0 })
      draw(true)
    },
    episodes: (unit: ProgressUnit, episodes: number) => {
      const r = running.get(unit.key)
      if (r !== undefined) r.episodes = episodes
      draw(false)
    },
    finished: (unit: ProgressUnit, wallSeconds: number) => {
      running.delete(unit.key)
      done++
      learn(unit, wallSeconds)
      if (tty) draw(true)
      else {
        const eta = left()
        stream.write(
          `  [${done}/${total}] ${unit.label}: ${wallSeconds.toFixed(1)} s` +
            (done === total ? "\n" : eta === undefined ? "\n" : ` · about ${formatDuration(eta)} left\n`)
        )
      }
    },
    /** Ends the redrawn line (a terminal) with the final status. */
    finish: () => {
      if (tty) stream.write(`\r\x1b[2K${status()}\n`)
    },
    status
  }
}

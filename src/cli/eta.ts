/**
 * What the live progress line knows about a run (src/cli/progress.ts), kept apart from the terminal
 * so that it can be tested: episodes per second, instances done, the widest certificate of the
 * phases running now, and the time left.
 *
 * The time left is an estimate, and says so. For the (algorithm, seed) unit running now: the
 * episodes its running phases still need, read off the certificate (the width of LSVI-UCB's
 * certificate shrinks about as 1/√k, docs/algorithm.md §2, so a phase at width w after k episodes
 * needs about k·(w/target)² in all; a schedule needs its K), plus the instances not yet started at
 * the mean episodes of those finished, at the episode rate so far. Units not yet started take the
 * mean time of finished units of the same algorithm; a unit of an algorithm not yet timed is
 * counted and shown as such rather than guessed.
 */
import type { Algorithm, PhaseProgress } from "../run/runExperiment.ts"

/** Episodes a phase at `at` still needs, by its width target or its cap. */
export const phaseRemaining = (at: PhaseProgress): number => {
  const { state, budget } = at
  const left = Math.max(0, budget.maxEpisodes - state.episodes)
  if (!(budget.untilWidth > 0)) return left
  const w = state.certificate.width
  if (w <= budget.untilWidth) return 0
  const total = Math.max(1, state.episodes) * (w / budget.untilWidth) ** 2
  return Math.min(left, Math.max(0, total - state.episodes))
}

export interface Estimate {
  /** Seconds left in the unit running now; undefined before any episode. */
  readonly unitSeconds: number | undefined
  /** Seconds left in the whole run, for the units whose algorithm has been timed. */
  readonly runSeconds: number | undefined
  /** Units still to run whose algorithm has not finished a unit yet (not in `runSeconds`). */
  readonly untimed: number
}

export class RunClock {
  private units: ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }> = []
  private readonly unitTimes = new Map<string, Array<number>>()
  private unit = -1
  private algorithm = ""
  private started = 0
  instances = 0
  done = 0
  episodes = 0
  private readonly running = new Map<number, PhaseProgress>()
  private readonly sinceOpen = new Map<number, number>()
  private finishedEpisodes = 0

  constructor(private readonly now: () => number = () => performance.now()) {}

  plan(units: ReadonlyArray<{ readonly algorithm: Algorithm; readonly seed: number }>): void {
    this.units = units
  }

  /** A unit starts: `label` is "<algorithm> · seed <s>". */
  start(label: string, instances: number): void {
    if (this.unit >= 0) this.finishUnit()
    this.unit++
    this.algorithm = label.split(" ")[0]
    this.started = this.now()
    this.instances = instances
    this.done = 0
    this.episodes = 0
    this.finishedEpisodes = 0
    this.running.clear()
    this.sinceOpen.clear()
  }

  /** The unit running now has ended (called by `start` and at the end). */
  finishUnit(): void {
    if (this.unit < 0 || this.algorithm === "") return
    const times = this.unitTimes.get(this.algorithm) ?? []
    times.push((this.now() - this.started) / 1000)
    this.unitTimes.set(this.algorithm, times)
    this.algorithm = ""
  }

  episodesRun(count: number, at: PhaseProgress | undefined): void {
    this.episodes += count
    if (at === undefined) return
    this.running.set(at.agent, at)
    this.sinceOpen.set(at.agent, (this.sinceOpen.get(at.agent) ?? 0) + count)
  }

  instanceDone(agent: number | undefined): void {
    this.done++
    if (agent === undefined) return
    this.finishedEpisodes += this.sinceOpen.get(agent) ?? 0
    this.sinceOpen.delete(agent)
    this.running.delete(agent)
  }

  /** Seconds since the unit started. */
  get seconds(): number {
    return (this.now() - this.started) / 1000
  }

  /** The widest certificate among the phases running now (undefined when none reported yet). */
  get widest(): number | undefined {
    let w: number | undefined
    for (const at of this.running.values()) w = Math.max(w ?? -Infinity, at.state.certificate.width)
    return w
  }

  /** Position of the unit running now and the number of units, when planned. */
  get position(): { readonly unit: number; readonly units: number } | undefined {
    return this.units.length === 0 ? undefined : { unit: this.unit + 1, units: this.units.length }
  }

  estimate(): Estimate {
    const seconds = this.seconds
    let unitSeconds: number | undefined
    if (this.episodes > 0 && seconds > 0) {
      const rate = this.episodes / seconds
      let remaining = 0
      for (const at of this.running.values()) remaining += phaseRemaining(at)
      const notStarted = Math.max(0, this.instances - this.done - this.running.size)
      if (this.done > 0) remaining += notStarted * (this.finishedEpisodes / this.done)
      unitSeconds = remaining / rate
    }
    let later = 0
    let untimed = 0
    for (const u of this.units.slice(this.unit + 1)) {
      const times = this.unitTimes.get(u.algorithm)
      if (times === undefined) untimed++
      else later += times.reduce((a, b) => a + b, 0) / times.length
    }
    return { unitSeconds, runSeconds: unitSeconds === undefined ? undefined : unitSeconds + later, untimed }
  }
}

/** `1 h 02 min`, `3 min 05 s`, `12 s`. */
export const duration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`
}

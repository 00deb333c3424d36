/**
 * Progress on stderr while a run goes: on a terminal one line redrawn a few times a second, with
 * the unit (algorithm and seed) of the run, instances done of total, episodes and episodes per
 * second, the widest certificate of the phases running now against its target, and the time left
 * (src/cli/eta.ts). In a log (CI, a pipe) one line per finished unit, so logs stay short.
 */
import type { ProgressSink } from "../run/runExperiment.ts"
import { duration, RunClock } from "./eta.ts"

const number = (n: number) => Math.round(n).toLocaleString("en-US")

/** The line for the unit running now. */
export const progressLine = (label: string, clock: RunClock, live: boolean): string => {
  const position = clock.position
  const unit = position === undefined ? label : `${label} (${position.unit}/${position.units})`
  const seconds = clock.seconds
  const rate = seconds > 0 ? clock.episodes / seconds : 0
  const parts = [
    `${clock.done}/${clock.instances} task instances`,
    `${number(clock.episodes)} episodes (${number(rate)}/s)`
  ]
  if (live) {
    const widest = clock.widest
    if (widest !== undefined) parts.push(`widest certificate ${widest.toPrecision(3)}`)
    const eta = clock.estimate()
    if (eta.runSeconds !== undefined) {
      const untimed = eta.untimed > 0 ? ` + ${eta.untimed} run${eta.untimed === 1 ? "" : "s"} not yet timed` : ""
      parts.push(`ETA ≈ ${duration(eta.runSeconds)}${untimed}`)
    }
  }
  parts.push(`${seconds.toFixed(1)} s`)
  return `  ${unit}: ${parts.join(", ")}`
}

export const terminalProgress = (stream: NodeJS.WriteStream = process.stderr): ProgressSink & { readonly finish: () => void } => {
  const tty = stream.isTTY === true
  const clock = new RunClock()
  let label = ""
  let lastDraw = 0
  const draw = (force: boolean) => {
    const t = performance.now()
    if (!tty || (!force && t - lastDraw < 150)) return
    lastDraw = t
    // Cut to the terminal's width: a wrapped line would not be redrawn in place.
    const width = stream.columns || 160
    stream.write(`\r\x1b[2K${progressLine(label, clock, true).slice(0, Math.max(20, width - 1))}`)
  }
  const finishLine = () => {
    if (label === "") return
    const line = progressLine(label, clock, false)
    if (tty) stream.write(`\r\x1b[2K${line}\n`)
    else stream.write(`${line}\n`)
  }
  return {
    plan: (units) => clock.plan(units),
    start: (l, n) => {
      finishLine()
      label = l
      clock.start(l, n)
      draw(true)
    },
    episodes: (n, at) => {
      clock.episodesRun(n, at)
      draw(false)
    },
    instanceDone: (agent) => {
      clock.instanceDone(agent)
      draw(true)
    },
    finish: () => {
      finishLine()
      clock.finishUnit()
      label = ""
    }
  }
}

/**
 * Progress on stderr while a run goes: on a terminal one line redrawn a few times a second; in a
 * log (CI, a pipe) one line per finished algorithm run, so logs stay short.
 */
import type { ProgressSink } from "../run/runExperiment.ts"

export const terminalProgress = (stream: NodeJS.WriteStream = process.stderr): ProgressSink & { readonly finish: () => void } => {
  const tty = stream.isTTY === true
  let label = ""
  let instances = 0
  let done = 0
  let episodes = 0
  let started = performance.now()
  let lastDraw = 0
  const line = () =>
    `  ${label}: ${done}/${instances} task instances, ${episodes.toLocaleString("en-US")} episodes, ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s`
  const draw = (force: boolean) => {
    const t = performance.now()
    if (!tty || (!force && t - lastDraw < 150)) return
    lastDraw = t
    stream.write(`\r\x1b[2K${line()}`)
  }
  const finishLine = () => {
    if (label === "") return
    if (tty) stream.write(`\r\x1b[2K${line()}\n`)
    else stream.write(`${line()}\n`)
  }
  return {
    start: (l, n) => {
      finishLine()
      label = l
      instances = n
      done = 0
      episodes = 0
      started = performance.now()
      draw(true)
    },
    episodes: (n) => {
      episodes += n
      draw(false)
    },
    instanceDone: () => {
      done++
      draw(true)
    },
    finish: () => {
      finishLine()
      label = ""
    }
  }
}

/**
 * `distmt --help` (and `distmt` alone) without loading Effect: the overview of the commands, the
 * text Effect's CLI prints for it, written here so that it shows at once (Effect's core alone takes
 * about 0.4 s to load, and npm's own `npx` another 0.5 s). test/startup.test.ts checks that it is
 * exactly what Effect's CLI prints, on a terminal (with its colours) and in a pipe; a command's own
 * help (`distmt run --help`) is Effect's.
 */
import { DESCRIPTIONS } from "./commands.ts"

export const DISTMT_DESCRIPTION = "Distributed multi-task reinforcement learning experiments (DistMT-LSVI)."

/** Effect CLI's global flags, as its help lists them: the flag (with its choices) and its line. */
const GLOBAL_FLAGS: ReadonlyArray<readonly [ReadonlyArray<string>, string | undefined, string]> = [
  [["--help", "-h"], undefined, "Show help information"],
  [["--version", "-v"], undefined, "Show version information"],
  [["--wizard"], undefined, "Start wizard mode for a command"],
  [["--completions"], "<bash|zsh|fish|powershell|sh|pwsh>", "Print shell completion script (choices: bash, zsh, fish, powershell, sh, pwsh)"],
  [["--log-level"], "<all|trace|debug|info|warn|warning|error|fatal|none>", "Sets the minimum log level (choices: all, trace, debug, info, warn, warning, error, fatal, none)"]
]

/** Whether Effect's CLI would colour its output here (effect/cli TerminalCapabilities' rule). */
export const canColour = (env: NodeJS.ProcessEnv = process.env, stdoutIsTerminal = process.stdout.isTTY === true): boolean => {
  const present = (v: string | undefined) => v !== undefined && v.length > 0
  if (env.TERM === "dumb" || present(env.NO_COLOR)) return false
  const force = env.FORCE_COLOR
  return (present(force) && force !== "0" && force!.toLowerCase() !== "false") || stdoutIsTerminal
}

/** The overview; `colour` as Effect's CLI colours it on a terminal. */
export const overview = (colour: boolean): string => {
  const style = (code: number) => (s: string) => (colour ? `\x1b[${code}m${s}\x1b[0m` : s)
  const [bold, dim, green, cyan] = [style(1), style(2), style(32), style(36)]
  const flagText = ([names, choices]: (typeof GLOBAL_FLAGS)[number], paint: boolean) => {
    const f = paint ? green : (s: string) => s
    return names.map(f).join(", ") + (choices === undefined ? "" : ` ${paint ? dim(choices) : choices}`)
  }
  const flagWidth = Math.max(...GLOBAL_FLAGS.map((g) => flagText(g, false).length)) + 4
  const names = Object.keys(DESCRIPTIONS) as Array<keyof typeof DESCRIPTIONS>
  const nameWidth = Math.max(...names.map((n) => n.length)) + 4
  return [
    bold("DESCRIPTION"),
    `  ${DISTMT_DESCRIPTION}`,
    "",
    bold("USAGE"),
    `  ${cyan("distmt <subcommand> [flags]")}`,
    "",
    bold("GLOBAL FLAGS"),
    ...GLOBAL_FLAGS.map((g) => `  ${flagText(g, true)}${" ".repeat(flagWidth - flagText(g, false).length)}${g[2]}`),
    "",
    bold("SUBCOMMANDS"),
    ...names.map((n) => `  ${cyan(n)}${" ".repeat(nameWidth - n.length)}${DESCRIPTIONS[n]}`),
    ""
  ].join("\n")
}

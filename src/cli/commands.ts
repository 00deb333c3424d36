/**
 * distmt's commands by name, with the line `distmt --help` shows for each, and where each is
 * defined. main.ts loads only the module of the command asked for: the others bring the cluster,
 * PostgreSQL, ONNX Runtime or the report's plotting with them, and `--help` must start fast.
 */
import type { NodeServices } from "@effect/platform-node/NodeServices"
import type { Command } from "effect/cli"

export const DESCRIPTIONS = {
  run: "Run an experiment end to end and write its results.",
  validate: "Decode and check a spec (and every point of its sweep) without running it.",
  sweep: "Run a spec's sweep (axes × seeds × algorithms) on all cores, resumably; then write the report.",
  report: "Write the plots and report.md / report.html of a sweep folder (or of every sweep under a folder; a deep sweep's table and report.md).",
  plot: "Draw a run's learning curves (certificate width and exact gap against episodes; a deep run's return against frames).",
  bench: "Benchmarks: the LSVI-UCB core (lsvi) and the deep stage (dqn, simnet, forgetting).",
  "train-dqn": "Train a DQN agent on one MinAtar-style game and write its learning curve (docs/deep.md).",
  runner: "Start a cluster runner that hosts distmt's entities (docs/cluster.md).",
  cluster: "Local runners for trying the cluster on one machine, a round-trip check, and the runs the database holds (docs/cluster.md)."
} as const

export type CommandName = keyof typeof DESCRIPTIONS

/**
 * Any command that needs no more than Node's services: their names and flags differ, and main.ts
 * only hands them to the CLI, which it provides with those services.
 */
export type AnyCommand = Command.Command<any, any, any, any, NodeServices>

/** Each command's module, loaded when that command runs (or shows its own help). */
export const LOADERS: Record<CommandName, () => Promise<AnyCommand>> = {
  run: async () => (await import("./runCommand.ts")).runCommand,
  validate: async () => (await import("./validateCommand.ts")).validateCommand,
  sweep: async () => (await import("./sweep.ts")).sweepCommand,
  report: async () => (await import("./report.ts")).reportCommand,
  plot: async () => (await import("./plot.ts")).plotCommand,
  bench: async () => (await import("./bench.ts")).bench,
  "train-dqn": async () => (await import("../deep/trainCommand.ts")).trainDqnCommand,
  runner: async () => (await import("../cluster/runnerCommand.ts")).runnerCommand,
  cluster: async () => (await import("../cluster/clusterCommand.ts")).clusterCommand
}

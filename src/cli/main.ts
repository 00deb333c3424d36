/**
 * The `distmt` command (README.md, "Commands"); `tsx run <spec>` (the root file `run`) is `distmt run <spec>`:
 *
 *   distmt run <spec> [--out DIR] [--threads N|auto] [--set path=value]... [--seeds N] [--fresh]
 *                                   validate, run with progress, print the summary, write results; an --out
 *                                   folder holding a run of the same spec is resumed (runCommand.ts, src/api/run.ts)
 *   distmt validate <spec>          decode and check only (validateCommand.ts)
 *   distmt sweep <spec> [--quick]   every point of the spec's sweep axes × seeds, then the report (sweep.ts)
 *   distmt report <dir>             rewrite a sweep's report from its saved rows (report.ts)
 *   distmt plot <dir>               draw a run's learning curves (plot.ts)
 *   distmt bench lsvi …             time the LSVI-UCB kernels (bench.ts)
 *   distmt bench dqn [--json]       time the DQN learner's engines (bench.ts, src/deep/benchCommand.ts)
 *   distmt train-dqn --game G …     train a DQN agent on one game, write its learning curve (src/deep/trainCommand.ts)
 *   distmt runner --db URL …        start an Effect Cluster runner (src/cluster/runnerCommand.ts, docs/cluster.md)
 *   distmt cluster up|down|ping|runs|forget …   local runners in the background; a signed round-trip check;
 *                                   the runs the database holds, and forgetting them (src/cluster/clusterCommand.ts)
 *
 * Errors in the user's input are printed as one clear message (no stack trace) with exit code 1.
 *
 * Start-up: only the module of the command named on the command line is loaded (commands.ts); the
 * others stand in as names with their one-line help, which is all `distmt --help` shows of them.
 * `distmt --help` itself is printed by bin/distmt.mjs without Effect (overview.ts).
 * This file imports Effect's modules one by one, not through the `effect` index, which loads all
 * of Effect: `distmt --help` then starts in a fraction of a second.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as CliOutput from "effect/cli/CliOutput"
import * as Command from "effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { type CommandName, DESCRIPTIONS, LOADERS } from "./commands.ts"
import { DISTMT_DESCRIPTION } from "./overview.ts"

const VERSION = "0.1.0"

const asked = process.argv[2]
const names = Object.keys(DESCRIPTIONS) as Array<CommandName>
const subcommands = await Promise.all(
  names.map(async (name) =>
    name === asked
      ? (await LOADERS[name]()).pipe(Command.withDescription(DESCRIPTIONS[name]))
      : Command.make(name).pipe(Command.withDescription(DESCRIPTIONS[name]))
  )
)

const distmt = Command.make("distmt").pipe(
  Command.withDescription(DISTMT_DESCRIPTION),
  Command.withSubcommands(subcommands)
)

/**
 * A command line that does not parse (an unknown flag, a missing argument) gets its errors and one
 * line that says where the options are, on stderr, as every other bad input does; Effect's default
 * prints the whole help first, which pushes the error to the bottom of a screenful.
 */
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function*() {
        const formatter = yield* CliOutput.Formatter
        yield* Console.error(formatter.formatErrors(event.errors))
        yield* Console.error(`(\`${event.commandPath.join(" ")} --help\` lists the arguments and options)`)
      })
      : CliOutput.defaultPresenter.present(event)
})

Command.run(distmt, { version: VERSION }).pipe(Effect.provide([NodeServices.layer, presenter]), NodeRuntime.runMain)

/**
 * `distmt validate <spec>`: decode and check a spec, every point of its sweep and its quick variant
 * in the time-limited worker (specCheck.ts), without running anything; print what was checked and
 * the cost estimate (src/spec/cost.ts).
 */
import { Console, Data, Effect } from "effect"
import { Command } from "effect/cli"
import { bytes } from "../report/bytes.ts"
import { costLine, costProblem, sweepCostLine } from "../spec/cost.ts"
import { DESCRIPTIONS } from "./commands.ts"
import { overrideFlags, overridesFromFlags } from "./overrideFlags.ts"
import { rangesLine, SAMPLE_OF_DEEP_SPEC, sampleFlags, sampleFromFlags } from "./sampleFlags.ts"
import { checkedSpec, specArgument, specTimeoutFlag } from "./specCheck.ts"
import { reportUserErrors } from "./userErrors.ts"

class SampleOfDeepSpec extends Data.TaggedError("SampleOfDeepSpec")<{ readonly spec: string }> {
  override get message(): string {
    return `${this.spec}: ${SAMPLE_OF_DEEP_SPEC}`
  }
}

export const validateCommand = Command.make("validate", { spec: specArgument, specTimeout: specTimeoutFlag, ...overrideFlags, ...sampleFlags }, ({ spec, specTimeout, sample: sampleFlag, sampleSeed, ...flags }) =>
  reportUserErrors(
    Effect.gen(function*() {
      const overrides = yield* overridesFromFlags(flags)
      const sample = yield* sampleFromFlags({ sample: sampleFlag, sampleSeed })
      // Decoded, compiled and every sweep point checked, all in the time-limited worker (specCheck.ts).
      const c = yield* checkedSpec(spec, specTimeout, { sweep: true, allVariants: true, overrides, sample })
      // Ranges without --sample are checked at their ends only: those are not the points a sweep runs.
      const points = c.points > 1 && (c.rangeAxes === undefined || sample !== undefined) ? `; all ${c.points} sweep points checked` : ""
      const quick = c.quickPoints !== undefined && c.quickPoints > 1 ? ` (and the ${c.quickPoints} of --quick)` : ""
      if (c.deep !== undefined) {
        // `sweep --sample` refuses a deep spec; validate must not call the same draw checked.
        if (sample !== undefined) return yield* new SampleOfDeepSpec({ spec })
        yield* Console.log(
          `${spec}: valid. Deep stage: ${c.tasks} task${c.tasks === 1 ? "" : "s"} of ${c.deep.games.join(", ")}, ${c.agents} agent${c.agents === 1 ? "" : "s"}, ` +
            `${c.deep.framesPerAgent.toLocaleString("en-US")} frames per agent in each of ${c.deep.units} (algorithm, seed) units; ` +
            `identification statistic's separation about ${c.separation.toPrecision(3)} (random play), cSep ${c.cSep}` +
            (c.cSep > c.separation * (1 + 1e-9) ? ": cSep looks larger than the separation, so tasks may be confused" : "") +
            `${points}${quick}`
        )
        yield* Console.log(
          `estimate: ${(c.deep.units * c.agents * c.deep.framesPerAgent).toLocaleString("en-US")} frames in all; ` +
            `replay buffers up to ${bytes(c.deep.replayBytes)} per unit running (one unit per core)`
        )
        // Well-formed, but too big for this machine or to finish: say now what run would say later.
        if (c.deep.refused !== undefined) yield* Console.error(`note: run and sweep refuse it as it is: ${c.deep.refused}`)
        // Valid, but a learner would never train: what a deep run warns of before it starts.
        for (const w of c.deep.warnings) yield* Console.error(`warning: ${w}`)
        return
      }
      yield* Console.log(
        `${spec}: valid. ${c.tasks === 1 ? "1 task (nothing to separate it from)" : `${c.tasks} tasks (separation ${c.separation.toPrecision(4)} ≥ cSep ${c.cSep})`}, ` +
          `${c.agents} agent${c.agents === 1 ? "" : "s"}, d = ${c.dim}, H = ${c.horizon}, β = ${c.beta.toPrecision(4)}${points}${quick}`
      )
      if (c.rangeAxes !== undefined) yield* Console.log(rangesLine(c.rangeAxes, sample))
      // The estimate run and sweep check against the machine's memory (src/spec/cost.ts).
      yield* Console.log(costLine(c.cost))
      // The spec's line is what `run` runs; a sweep runs its points, whose estimate can be far from it.
      if (c.sweepCost !== undefined) yield* Console.log(sweepCostLine(c.sweepCost))
      // Well-formed, but too big for this machine or to finish: say now what run would say later.
      // With a sweep, run runs the spec as written and sweep its points: each is told apart.
      const refused = costProblem(c.cost)
      const commands = c.sweepCost === undefined ? "run and sweep refuse" : "run refuses"
      if (refused !== undefined) yield* Console.error(`note: ${commands} it as it is: ${refused}`)
      if (c.sweepCost?.refused !== undefined) yield* Console.error(`note: sweep refuses it as it is: ${c.sweepCost.refused}`)
    })
  )).pipe(Command.withDescription(DESCRIPTIONS.validate))


/**
 * The signal that a loaded spec belongs to the deep stage (`Env.minatar`): src/api/run.ts and
 * src/api/sweep.ts fail with it before compiling, and `distmt run` hands the spec to
 * src/deep/distmt/runDeep.ts. A small
 * module of its own, so the linear path never loads the deep stage's code.
 */
import { Data } from "effect"
import type { Experiment } from "../../spec/Spec.ts"

export class DeepStageSpec extends Data.TaggedError("DeepStageSpec")<{
  readonly source: string
  readonly spec: Experiment
  /** The API function it was given to: `run` hands it over to runDeep(); `sweep` has no deep counterpart in the API. */
  readonly given: "run" | "sweep"
}> {
  override get message() {
    return this.given === "run"
      ? `${this.source}: a deep-stage spec (Env.minatar) runs with runDeep() (or \`distmt run\` on the command line)`
      : `${this.source}: a deep-stage spec (Env.minatar) is not swept by sweep(), which runs linear-stage specs, and the library API has no deep sweep: ` +
        "`npx distmt sweep` sweeps it on the command line (each point a deep run in its own folder), and runDeep() runs the spec without its sweep"
  }
}

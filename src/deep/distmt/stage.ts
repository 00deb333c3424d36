/**
 * The signal that a loaded spec belongs to the deep stage (`Env.minatar`): src/api/run.ts fails
 * with it before compiling, and `distmt run` hands the spec to src/deep/distmt/runDeep.ts. A small
 * module of its own, so the linear path never loads the deep stage's code.
 */
import { Data } from "effect"
import type { Experiment } from "../../spec/Spec.ts"

export class DeepStageSpec extends Data.TaggedError("DeepStageSpec")<{ readonly source: string; readonly spec: Experiment }> {
  override get message() {
    return `${this.source}: a deep-stage spec (Env.minatar) runs with runDeep() (or \`distmt run\` on the command line)`
  }
}

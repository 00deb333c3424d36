/**
 * What the Promise forms of the API reject with when their `signal` aborts them. Effect reports an
 * interrupted fiber to `runPromise` as an untagged `Error("All fibers interrupted without error")`,
 * which breaks docs/api.md's promise that every rejection is a tagged DistmtError; this one says
 * what was saved and how to resume, as the CLI's "interrupted:" line does. The Effect forms are
 * interrupted as any Effect is (no failure), so only the Promise forms produce it.
 *
 * Its own small module: src/api/index.ts needs it when a Promise form is called, and stays light.
 */
import * as Data from "effect/Data"

export class Interrupted extends Data.TaggedError("Interrupted")<{
  /** The function whose call was interrupted. */
  readonly call: "run" | "sweep" | "runDeep" | "validate"
  /** Its `out` folder, where the units finished so far are saved; undefined: nothing was saved. */
  readonly out: string | undefined
}> {
  override get message() {
    const head = `${this.call}() interrupted`
    if (this.out !== undefined) {
      // A resume is refused if the spec or the overrides differ (ResumeError), and `fresh` would start over.
      return `${head}: the units finished so far are saved in ${this.out}/; call ${this.call}() again with the same spec and options (without fresh) to resume them`
    }
    switch (this.call) {
      case "sweep":
        return `${head}: nothing was saved (sweep() writes no files); \`npx distmt sweep\` saves each finished unit in its folder and resumes from them`
      case "validate":
        return `${head}: nothing was checked to the end (validate() writes nothing)`
      default:
        return `${head}: nothing was saved (no out); with out, the units finished before an interruption are kept and the same call resumes them`
    }
  }
}

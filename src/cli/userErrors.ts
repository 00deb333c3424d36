/**
 * How a command ends on the user's error: the error's one-line message on stderr and exit code 1,
 * no stack trace. Anything that is not a tagged error with a message is a bug, and surfaces as one.
 */
import { Console, Effect } from "effect"

export const reportUserErrors = <A, R>(effect: Effect.Effect<A, { readonly _tag: string; readonly message: string }, R>) =>
  effect.pipe(
    Effect.catch((e) =>
      Effect.andThen(Console.error(e.message), Effect.sync(() => {
        process.exitCode = 1
      }))
    )
  )

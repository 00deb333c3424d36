// Entry of the spec-check process (started by specCheck.ts): registers tsx, so that the check and
// the user's `.spec.ts` module load without a build step, then runs the check (specCheckChild.ts).
// Effect's index, plain JavaScript, is loaded before tsx's hooks are registered: it skips them,
// which halves its loading time (bin/distmt.mjs and src/run/threads/entry.mjs do the same).
import { register } from "tsx/esm/api"
import { resolveDistmtAnywhere } from "../spec/resolveSelf.mjs"

await import("effect")
register()
resolveDistmtAnywhere()
await import("./specCheckChild.ts")

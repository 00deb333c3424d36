// A spec file anywhere on disk imports its builders from "distmt" (docs/guide.md). Inside this
// package the name resolves to the package itself; outside it, where no node_modules holds distmt
// (a spec in the user's own folder), Node cannot find it. This resolve hook, registered by every
// entry that loads specs (bin/distmt.mjs, the spec-check process, the worker threads, and
// loadSpec for a script that calls the library API with a spec's path), resolves "distmt" to this
// package when the spec's own place does not have it: an installed copy of
// distmt beside the spec is still the one used.
import { registerHooks } from "node:module"

/** This package's entry, as a spec inside it resolves "distmt" (package.json `exports`). */
const SELF = import.meta.resolve("distmt")

/** Set once the hook is registered: a second registration would only chain a second copy. */
const REGISTERED = Symbol.for("distmt.resolveDistmtAnywhere")

export const resolveDistmtAnywhere = () => {
  if (globalThis[REGISTERED] === true) return
  globalThis[REGISTERED] = true
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier !== "distmt") return nextResolve(specifier, context)
      try {
        return nextResolve(specifier, context)
      } catch (e) {
        // ESM's code, then CommonJS's (a spec outside a `"type": "module"` package is loaded as CommonJS)
        if (e?.code !== "ERR_MODULE_NOT_FOUND" && e?.code !== "MODULE_NOT_FOUND") throw e
        return { url: SELF, shortCircuit: true }
      }
    }
  })
}

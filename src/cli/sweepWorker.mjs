// Entry of a sweep worker thread: registers tsx (so that the worker loads the TypeScript sources
// and the user's `.spec.ts` module without a build step, however the parent was started), then
// starts the worker.
import { register } from "tsx/esm/api"

register()
await import("./sweepWorker.ts")

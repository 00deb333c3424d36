// Entry of every worker thread (learners and sweeps): registers tsx, so that the worker loads the
// TypeScript sources (and a user's `.spec.ts` module) without a build step however the parent was
// started, then imports the worker module named in `workerData.module`.
import { register } from "tsx/esm/api"
import { workerData } from "node:worker_threads"

register()
await import(workerData.module)

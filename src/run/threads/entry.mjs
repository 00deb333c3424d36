// Entry of every worker thread (learners, sweeps, deep units): registers tsx, so that the
// worker loads the TypeScript sources (and a user's `.spec.ts` module) without a build step however
// the parent was started, then imports the worker module named in `workerData.module`.
//
// `workerData.preload` names packages of plain JavaScript the worker will need (the `effect`
// index, for a worker that decodes specs): loaded before tsx's hooks are registered, they skip
// them, which halves their loading time (bin/distmt.mjs does the same).
import { register } from "tsx/esm/api"
import { workerData } from "node:worker_threads"
import { resolveDistmtAnywhere } from "../../spec/resolveSelf.mjs"

await Promise.all((workerData.preload ?? []).map((p) => import(p)))
register()
resolveDistmtAnywhere()
await import(workerData.module)

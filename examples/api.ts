/**
 * distmt from a script (docs/api.md): validate a spec, run it with overrides and a progress
 * callback, compare a few values of ε, and handle a bad override as a typed error. It takes a few
 * seconds and writes one folder, runs/api-example/ (run it again: the run there is resumed, not
 * recomputed).
 *
 *   npx tsx examples/api.ts
 */
import { Effect } from "effect"
import { Contexts, Env, Experiment, Features, Lsvi, run, runEffect, Stopping, validate } from "distmt"

// A spec as a value: the same builders as a spec file (specs/*.spec.ts), no file needed.
const chain = Experiment.make({
  name: "api-example",
  environment: Env.linearChain({ length: 3, horizon: 3 }),
  contexts: Contexts.list([
    { goal: 2, reward: 0.3, slip: 0.1 },
    { goal: 1, reward: 1.0, slip: 0.1 }
  ]),
  features: Features.oneHot(),
  agents: 4,
  epsilon: 0.2,
  cSep: 0.6,
  delta: 0.05,
  learner: Lsvi.ucb({ beta: 1 }),
  stopping: Stopping.adaptive({ maxEpisodes: 20_000 }),
  baselines: ["independent"],
  seeds: 2,
  threads: 1
})

// 1. Validate: what `distmt validate` prints, as data.
const checked = await validate(chain)
console.log(`${checked.name}: ${checked.tasks} tasks, separation ${checked.separation.toFixed(3)}, β = ${checked.beta}`)

// 2. Run into a folder with overrides; a second call with the same folder resumes the run there.
const result = await run(chain, {
  out: "runs/api-example",
  set: { epsilon: 0.1 },
  seeds: 3,
  onProgress: (p) => {
    if (p.event === "unit-done") console.log(`  ${p.unit}: ${p.episodes} episodes (${p.unitsDone}/${p.units} units finished)`)
  }
})
const distmt = result.summary.algorithms.distmt!
const independent = result.summary.algorithms.independent!
console.log(
  `ε = ${result.spec.epsilon}: success ${distmt.successRate}, ` +
    `${distmt.meanEpisodesPerAgent.toFixed(0)} episodes per agent against ${independent.meanEpisodesPerAgent.toFixed(0)} alone ` +
    `(${result.resumed} units resumed from ${result.dir})`
)

// 3. A small scan over ε, in memory (no `out`: nothing is written), through the Effect form.
const scan = Effect.forEach([0.2, 0.1, 0.05], (epsilon) =>
  runEffect(chain, { set: { epsilon } }).pipe(
    Effect.map((r) => ({ epsilon, episodes: r.summary.algorithms.distmt!.meanEpisodesPerAgent, rows: r.runs.flatMap((u) => u.rows).length }))
  ))
for (const point of await Effect.runPromise(scan)) {
  console.log(`  ε = ${point.epsilon}: ${point.episodes.toFixed(0)} episodes per agent (${point.rows} rows checked exactly)`)
}

// 4. Errors are typed values, never a process exit.
try {
  await run(chain, { set: { "learner.lamda": 2 } })
} catch (e) {
  const error = e as { readonly _tag: string; readonly message: string }
  console.log(`refused (${error._tag}): ${error.message}`)
}

import { it, expect } from "@effect/vitest"
import { Effect, Exit, Cause } from "effect"
import spec from "../specs/linear-chain.spec.ts"
import { decode } from "../src/spec/schema.ts"
import { compile } from "../src/spec/compile.ts"
it("probe", async () => {
  for (const bad of [{...spec, environment: {...spec.environment, length: 1e6}}, {...spec, environment: {...spec.environment, horizon: 1e9}}, {...spec, environment: {...spec.environment, horizon: 1e5}}, {...spec, stopping: {_tag: "Adaptive", maxEpisodes: 1e300}}, {...spec, agents: 1e300}, {...spec, contexts: {_tag: "List", items: [{goal: 0, reward: 1, slip: 0.1, extra: 2}]}}, {...spec, learner: {}}, {...spec, contexts: {_tag: "List", items: [{}]}}, {...spec, name: Symbol("x")}, {...spec, seeds: 10n}]) {
    const t = Date.now()
    const e2 = await Effect.runPromiseExit(Effect.flatMap(decode(bad, "x"), (s) => compile(s, "x")))
    console.log(Date.now() - t, Exit.isFailure(e2) ? Cause.pretty(e2.cause).slice(0, 600) : "ok")
  }
})

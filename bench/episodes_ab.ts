/**
 * The grouped learner's episode loop (src/agent/episodes.ts over src/learner/Lsvi.ts) side by side
 * for two checkouts: every task of a spec learned by one agent alone, `episodes` episodes each
 * (`continuePhase`, schedule rule), as a learner thread runs them. Prints ns per episode of each
 * side, their ratio, and whether the two sides' certificates agree bit for bit.
 *
 *   npx tsx bench/episodes_ab.ts BASE NEW [rounds] [episodes] [spec]
 *
 * The default spec is specs/scaling.spec.ts (the 1,000-agent run's shape: a two-state chain, H = 3).
 */
import { Effect } from "effect"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type { Compiled } from "../src/spec/compile.ts"
import { alternate, fromCheckout, median } from "./ab.ts"

const [base = ".", next = ".", roundsArg = "9", episodesArg = "20000", specArg = "specs/scaling.spec.ts"] = process.argv.slice(2)
const rounds = Number(roundsArg)
const episodes = Number(episodesArg)

const side = async (tree: string) => {
  const load = fromCheckout(tree)
  const [{ decode }, { compile }, { makeInstance }, { Lsvi }, Rng, { continuePhase }, { lsviConfig }] = await Promise.all([
    load("src/spec/schema.ts"),
    load("src/spec/compile.ts"),
    load("src/env/Instance.ts"),
    load("src/learner/Lsvi.ts"),
    load("src/rng/Rng.ts"),
    load("src/agent/episodes.ts"),
    load("src/run/runExperiment.ts")
  ])
  const spec = (await import(pathToFileURL(path.resolve(specArg)).href)).default
  const c: Compiled = Effect.runSync(Effect.flatMap(decode(spec, "bench"), (e: unknown) => compile(e, "bench")))
  const config = lsviConfig(c)
  let widths: Array<number> = []
  const measure = (): number => {
    widths = []
    const t = performance.now()
    for (let k = 0; k < c.tasks.length; k++) {
      const instance = makeInstance(c.tasks[k], c.features, Rng.make(k + 1))
      const learner = new Lsvi(config, instance.features)
      const s = continuePhase(learner, instance, { untilWidth: -Infinity, maxEpisodes: episodes }, undefined, episodes)
      widths.push(s.certificate.width)
    }
    return (1e6 * (performance.now() - t)) / (episodes * c.tasks.length)
  }
  return { measure, widths: () => widths }
}

const a = await side(base)
const b = await side(next)
const [ta, tb] = await alternate(rounds, [a.measure, b.measure])
console.log(`ns per episode  base ${median(ta).toFixed(1)}  new ${median(tb).toFixed(1)}  base/new ${(median(ta) / median(tb)).toFixed(3)}`)
console.log(`rounds base/new: ${ta.map((x, i) => (x / tb[i]).toFixed(3)).join(" ")}`)
console.log(`certificates identical: ${a.widths().every((w, i) => Object.is(w, b.widths()[i])) ? "yes" : "NO"}`)

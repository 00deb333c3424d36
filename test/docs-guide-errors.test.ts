/**
 * docs/guide.md's section 2 shows what `distmt validate` prints for its section 1 spec with three
 * mistakes, and the cSep line that comes once those are fixed. It showed all four together, with
 * the numbers of another family (linear-chain's 0.4834), while the tool checks cSep only once the
 * rest is right (docs/spec-reference.md): a reader could never see that output. The page's lines
 * against the tool's, for the page's spec.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { Contexts, Experiment, type ExperimentInput, Features } from "../src/spec/Spec.ts"
import linearChain from "../specs/linear-chain.spec.ts"
import { formatIssue } from "../src/spec/SpecError.ts"

const GUIDE = fs.readFileSync(new URL("../docs/guide.md", import.meta.url), "utf8")
const SOURCE = "specs/my-chain.spec.ts"
const root = path.resolve(import.meta.dirname, "..")

/**
 * The spec of the guide's section 1, "Write a spec": README's linear-chain spec with its first and
 * last tasks and 6 agents (the rest, written or by default, is the same).
 */
const myChain = (changes: Partial<ExperimentInput>): ExperimentInput =>
  Experiment.make({
    ...linearChain,
    name: "my-chain",
    contexts: Contexts.list([{ goal: 2, reward: 0.2, slip: 0.2 }, { goal: 1, reward: 1.0, slip: 0.1 }]),
    agents: 6,
    ...changes
  })

/** What validate prints under `Invalid spec …:`, one line per issue. */
const printed = (input: ExperimentInput): Promise<ReadonlyArray<string>> =>
  Effect.runPromise(
    Effect.suspend(() => decode(input, SOURCE)).pipe(
      Effect.flatMap((s) => compile(s, SOURCE)),
      Effect.map(() => ["valid"]),
      Effect.catch((e) => Effect.succeed(e.issues.map(formatIssue)))
    )
  )

describe("docs/guide.md's example of a refused spec", () => {
  it("shows the lines validate prints for the mistakes it names", async () => {
    const block = GUIDE.split(`Invalid spec ${SOURCE}:\n`)[1].split("```")[0]
    const shown = block.trim().split("\n").map((line) => line.trim())
    const wrong = myChain({
      agents: -2,
      contexts: Contexts.list([{ goal: 2, reward: 0.2, slip: 0.2 }, { goal: 5, reward: 1.0, slip: 0.1 }]),
      features: Features.custom(3, (s, a) => [s === 1 && a === 0 ? Number.NaN : 0, 0, 0])
    })
    expect(shown).toEqual(await printed(wrong))
  })

  it("shows the cSep line the spec gets once the rest is right", async () => {
    const line = /`(cSep: expected at most the family's actual separation [^`]*, got 2)`/.exec(GUIDE)
    expect(line, "the guide's cSep line for cSep: 2").not.toBeNull()
    expect([line![1]]).toEqual(await printed(myChain({ cSep: 2 })))
  })
})

// validate printed the estimate of the spec as written only, for a sweep too: 6 points × 3 seeds ×
// 3 algorithms of agents up to 50 were shown as one run of 10 agents.
describe("docs/guide.md's estimate of a sweep", () => {
  it("shows the two lines validate prints for specs/scaling.spec.ts", () => {
    const block = /For `npx distmt validate specs\/scaling\.spec\.ts`:\n\n```\n([^`]*)```/.exec(GUIDE)
    expect(block, "the guide's validate output for specs/scaling.spec.ts").not.toBeNull()
    const r = spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), "validate", "specs/scaling.spec.ts"], { cwd: root, encoding: "utf8", timeout: 120_000 })
    expect(r.status, r.stderr).toBe(0)
    const printed = r.stdout.split("\n").filter((line) => line.startsWith("estimate:") || line.startsWith("sweep estimate:"))
    expect(printed).toEqual(block![1].trim().split("\n"))
  })
})

/**
 * Ground truth for a run's rows (docs/algorithm.md §5): the exact value of every policy an agent
 * holds, whether identification matched the right task, and the rows of the tasks an agent never
 * faced but fetched at the end (§3 step 4). Only the run calls these, after its agents are done:
 * the true tasks never reach an agent's code.
 */
import type { InstanceOutcome } from "../agent/programs.ts"
import type { Published } from "../coordinator/Coordinator.ts"
import { policyValues } from "../env/solve.ts"
import { policyTable } from "../learner/Lsvi.ts"
import type { Compiled } from "../spec/compile.ts"
import type { Algorithm, Row } from "./runExperiment.ts"

/** What a row says about the agent, apart from the ground truth `evaluate` adds. */
export type Held = Pick<
  Row,
  | "agent"
  | "slot"
  | "identificationEpisodes"
  | "learningEpisodes"
  | "entry"
  | "role"
  | "source"
  | "certificate"
  | "reachedTarget"
  | "identificationCorrect"
> & { readonly policy: InstanceOutcome["policy"] | undefined }

/**
 * What `evaluate` computed for each policy object and task. In one process every agent fetches the
 * same published policy objects (a thousand agents, ten policies), so each is solved once per task.
 */
export type Evaluated = WeakMap<object, Map<number, { readonly actions: Int32Array; readonly vPi: number }>>

/** Ground truth for the policy an agent holds for `task` (§5). */
export const evaluate = (c: Compiled, algorithm: Algorithm, seed: number, task: number, held: Held, memo: Evaluated): Row => {
  const { policy, ...rest } = held
  const m = c.tasks[task]
  const A = c.actions
  const d = c.features.dim
  const vStar = c.startValues[task]
  if (policy === undefined) {
    return { ...rest, algorithm, seed, task, vStar, vPi: Number.NaN, gap: Number.NaN, success: false, certificateHeld: false, actions: new Int32Array(0) }
  }
  let byTask = memo.get(policy)
  if (byTask === undefined) memo.set(policy, byTask = new Map())
  let known = byTask.get(task)
  if (known === undefined) {
    const table = policyTable(policy, c.states, (s) => c.features.values.subarray(s * A * d, (s + 1) * A * d))
    known = { actions: table, vPi: policyValues(m, table).V[m.start] }
    byTask.set(task, known)
  }
  const actions = known.actions.slice() // each row owns its table
  const vPi = known.vPi
  const gap = vStar - vPi
  const { certificate } = held
  return {
    ...rest,
    algorithm,
    seed,
    task,
    vStar,
    vPi,
    gap,
    success: gap <= c.spec.epsilon,
    certificateHeld: certificate.lower <= vStar && vStar <= certificate.upper && gap <= certificate.width,
    actions
  }
}

/**
 * §3 step 4, checked: for every task that appeared in the run and that `agent` never faced, the
 * policy it fetched of that task's entry (the first entry an instance of the task founded), or a
 * `missing` row when no such policy was published.
 */
export const fetchedRows = (
  agent: number,
  faced: ReadonlyArray<number>,
  appeared: ReadonlyArray<number>,
  fetched: ReadonlyArray<Published>,
  entryOf: ReadonlyMap<number, number>
): Array<{ readonly task: number; readonly held: Held }> =>
  appeared.filter((task) => !faced.includes(task)).map((task) => {
    const entry = entryOf.get(task)
    const p = entry === undefined ? undefined : fetched.find((f) => f.task === entry)
    const common = { agent, slot: undefined, identificationEpisodes: 0, learningEpisodes: 0, entry, role: undefined, identificationCorrect: undefined }
    return {
      task,
      held: p === undefined
        ? { ...common, source: "missing", policy: undefined, certificate: { lower: Number.NaN, upper: Number.NaN, width: Number.NaN }, reachedTarget: false }
        : { ...common, source: "fetched", policy: p.policy, certificate: p.certificate, reachedTarget: p.reached }
    }
  })

/**
 * Identification is right when the entry an instance landed on was founded by an instance of the
 * same true task, and it is that task's first entry (a second entry for one context means some
 * instance failed to match).
 */
export const identificationChecks = <P>(
  outcomes: ReadonlyArray<ReadonlyArray<InstanceOutcome<P>>>,
  tasksOf: ReadonlyArray<ReadonlyArray<number>>
): { readonly correct: Map<InstanceOutcome<P>, boolean>; readonly entryOf: ReadonlyMap<number, number> } => {
  const founderTask = new Map<number, number>()
  const firstEntry = new Map<number, number>()
  outcomes.forEach((os, agent) =>
    os.forEach((o) => {
      if (o.registered && o.entry !== undefined) founderTask.set(o.entry, tasksOf[agent][o.slot])
    }))
  for (const [entry, task] of founderTask) {
    if (!firstEntry.has(task) || entry < firstEntry.get(task)!) firstEntry.set(task, entry)
  }
  const out = new Map<InstanceOutcome<P>, boolean>()
  outcomes.forEach((os, agent) =>
    os.forEach((o) => {
      const task = tasksOf[agent][o.slot]
      // An unidentified instance never asked (§3, capped identification): neither right nor wrong.
      if (o.role !== "unidentified") {
        out.set(o, o.entry !== undefined && founderTask.get(o.entry) === task && firstEntry.get(task) === o.entry)
      }
    }))
  return { correct: out, entryOf: firstEntry }
}

#!/usr/bin/env node
// An independent check of a run's results, written without any of distmt's code: reads
// model.json and policies.json, evaluates every policy exactly by backward induction, and compares
// the success rate per algorithm with summary.json. Exits 1 on any disagreement.
//
//   node tools/check-policies.mjs runs/linear-chain/<timestamp>
import { readFileSync } from "node:fs"
import { join } from "node:path"

const dir = process.argv[2]
if (!dir) {
  console.error("usage: node tools/check-policies.mjs <run-dir>")
  process.exit(2)
}
// A folder that is not a linear run's (a sweep's, a deep run's, a typo) is said so in one line,
// not with Node's ENOENT stack.
const read = (f) => {
  let text
  try {
    text = readFileSync(join(dir, f), "utf8")
  } catch (e) {
    console.error(
      `check-policies: cannot read ${join(dir, f)} (${e.code ?? e.message}): give the folder of a \`distmt run\` of a ` +
        "linear-stage spec, which holds model.json, policies.json and summary.json (a sweep's or a deep run's folder has no policy tables)"
    )
    process.exit(2)
  }
  return JSON.parse(text)
}
const model = read("model.json")
const { epsilon, policies } = read("policies.json")
const summary = read("summary.json")
const { horizon: H, states: S, actions: A, start } = model

// V_h(s) for h = H-1..0, choosing actions by `choose(h, s, q)` where q[a] are the Q-values.
const backward = (task, choose) => {
  let next = new Array(S).fill(0)
  for (let h = H - 1; h >= 0; h--) {
    const cur = new Array(S)
    for (let s = 0; s < S; s++) {
      const q = new Array(A)
      for (let a = 0; a < A; a++) {
        let e = task.reward[h][s][a]
        for (let t = 0; t < S; t++) e += task.transition[h][s][a][t] * next[t]
        q[a] = e
      }
      cur[s] = choose(h, s, q)
    }
    next = cur
  }
  return next[start]
}

const vStar = model.tasks.map((task) => backward(task, (_h, _s, q) => Math.max(...q)))
const counts = {}
for (const p of policies) {
  const c = (counts[p.algorithm] ??= { n: 0, ok: 0 })
  c.n++
  // No policy (a task whose policy was never published): a failure.
  if (p.actions === null) continue
  const vPi = backward(model.tasks[p.task], (h, s, q) => q[p.actions[h][s]])
  if (vStar[p.task] - vPi <= epsilon) c.ok++
}
let failed = false
for (const [algorithm, c] of Object.entries(counts)) {
  const mine = c.ok / c.n
  const reported = summary.algorithms[algorithm]?.successRate
  const agree = reported !== undefined && Math.abs(mine - reported) < 1e-12
  if (!agree) failed = true
  console.log(`${algorithm}: ${c.ok}/${c.n} policies ε-optimal (success rate ${mine}); summary.json says ${reported} — ${agree ? "agree" : "DISAGREE"}`)
}
process.exit(failed ? 1 : 0)

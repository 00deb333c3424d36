/**
 * Side by side: the DQN end-to-end loop of two checkouts in one process, alternating, so that the
 * machine's drift (±15 % over minutes here) hits both alike (docs/performance-deep.md).
 *
 *   npx tsx bench/dqn_ab.ts BASE_CHECKOUT NEW_CHECKOUT [ROUNDS=16] [FRAMES=4000]
 *
 * Each checkout gets its own agent (Breakout, the bench's settings: ε = 0.1 after 1,000 frames, one
 * update every 4 frames, 2,000 untimed frames first); each round runs FRAMES frames of each, the
 * order alternating between rounds, and times them in CPU-seconds of the process. Prints each
 * checkout's median rate and the median of the per-round ratios NEW / BASE.
 */
import { alternate, fromCheckout, median } from "./ab.ts"

const [base, next] = process.argv.slice(2, 4)
if (base === undefined || next === undefined) throw new Error("usage: npx tsx bench/dqn_ab.ts BASE_CHECKOUT NEW_CHECKOUT [ROUNDS] [FRAMES]")
const rounds = Number(process.argv[4] ?? 16)
const frames = Number(process.argv[5] ?? 4000)

const setup = async (tree: string) => {
  const from = fromCheckout(tree)
  const { makeGame } = await from("src/env/minatar/index.ts")
  const { DqnAgent } = await from("src/deep/agent.ts")
  const { dqnConfig } = await from("src/deep/config.ts")
  const { runDqn } = await from("src/deep/loop.ts")
  const config = dqnConfig({ trainEvery: 4, replayStart: 1000, epsilonFrames: 1000 })
  const game = makeGame("breakout")
  const agent = await DqnAgent.create({ config, channels: game.channels, actions: game.actions, engine: "onnx", seed: 1 })
  await runDqn({ game, config, engine: "onnx", seed: 1, frames: 2000, agent })
  let seed = 2
  return async (): Promise<number> => {
    const cpu = process.cpuUsage()
    await runDqn({ game, config, engine: "onnx", seed: seed++, frames, agent })
    const used = process.cpuUsage(cpu)
    return frames / ((used.user + used.system) / 1e6)
  }
}

const rates = await alternate(rounds, [await setup(base), await setup(next)])
const range = (xs: ReadonlyArray<number>) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`
console.log(`end-to-end frames per CPU-second, ${rounds} rounds of ${frames} frames each:`)
console.log(`  ${base}: median ${median(rates[0]).toFixed(0)} (${range(rates[0])})`)
console.log(`  ${next}: median ${median(rates[1]).toFixed(0)} (${range(rates[1])})`)
const ratios = rates[1].map((x, i) => x / rates[0][i])
console.log(`  ratio per round: median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`)

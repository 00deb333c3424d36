/**
 * `Env.minatar` in the spec DSL: a spec declares M hidden tasks as contexts of one or several games;
 * decode checks the environment's and every context's parameters with errors that name the bad field's
 * path; the linear-stage compile refuses the environment with a clear issue instead of crashing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { trainingWarnings } from "../src/deep/distmt/compile.ts"
import { mostInstances } from "../src/deep/distmt/warmup.ts"
import { resolveParams } from "../src/env/minatar/params.ts"
import { minatarTasks } from "../src/env/minatar/spec.ts"
import { compile } from "../src/spec/compile.ts"
import { decode } from "../src/spec/schema.ts"
import { Assignment, Contexts, Dqn, Env, Experiment, type ExperimentInput, Lsvi, type MinAtarEnv } from "../src/spec/Spec.ts"
import { formatIssue, type SpecIssue } from "../src/spec/SpecError.ts"
import { validate } from "../src/index.ts"
import { assign } from "../src/run/assignment.ts"

const SOURCE = "games.spec.ts"
const DQN = Dqn.learner({ framesPerAgent: 1_000, returnTarget: 1, dqn: { replayStart: 500 } })

const spec = (environment: unknown, contexts: unknown): ExperimentInput =>
  ({ name: "games", environment, contexts, agents: 4, epsilon: 0.1, cSep: 0.1, delta: 0.05, learner: DQN }) as ExperimentInput

const decodeError = (input: unknown) => Effect.flip(decode(input, SOURCE))

const at = (issues: ReadonlyArray<SpecIssue>, path: string): SpecIssue => {
  const found = issues.find((i) => i.path === path)
  expect(found, `an issue at ${path}; got ${JSON.stringify(issues)}`).toBeDefined()
  return found!
}

describe("Env.minatar decodes", () => {
  it.effect("one game with contexts of its parameters: tasks merge context over environment over defaults", () =>
    Effect.gen(function*() {
      const input = Experiment.make({
        name: "breakout-variants",
        environment: Env.minatar({ game: "breakout", brickRows: 2 }),
        contexts: Contexts.list([{ paddleSpeed: 2 }, { brickRows: 4, sticky: 0 }]),
        agents: 4,
        epsilon: 0.1,
        cSep: 0.1,
        delta: 0.05,
        learner: DQN
      })
      const s = yield* decode(input, SOURCE)
      expect(s.environment).toEqual({ _tag: "MinAtar", game: "breakout", brickRows: 2 })
      const { issues, tasks } = minatarTasks(s.environment as MinAtarEnv, s.contexts)
      expect(issues).toEqual([])
      expect(tasks).toEqual([
        { game: "breakout", params: { sticky: 0.1, maxFrames: 0, paddleSpeed: 2, paddleWidth: 1, brickRows: 2, ballSpeed: 1 } },
        { game: "breakout", params: { sticky: 0, maxFrames: 0, paddleSpeed: 1, paddleWidth: 1, brickRows: 4, ballSpeed: 1 } }
      ])
    }))

  it.effect("several games, each context naming its game by index; a grid of one game's parameters", () =>
    Effect.gen(function*() {
      const s = yield* decode(spec(Env.minatar({ game: ["breakout", "freeway"], sticky: 0.2 }), Contexts.list([{ game: 1, carsPerLane: 2 }, { game: 0 }])), SOURCE)
      const { tasks } = minatarTasks(s.environment as MinAtarEnv, s.contexts)
      expect(tasks.map((t) => [t.game, t.params.sticky])).toEqual([["freeway", 0.2], ["breakout", 0.2]])
      expect((tasks[0].params as { carsPerLane: number }).carsPerLane).toBe(2)
      expect((tasks[0].params as { maxFrames: number }).maxFrames).toBe(2500) // freeway's own default
      // Six agents, one task each: with four, two of them meet two tasks of 500 frames, not past replayStart 500.
      const g = yield* decode({ ...spec(Env.minatar({ game: "asterix" }), Contexts.grid({ spawnPeriod: [5, 10], goldFraction: [0.2, 0.5, 0.8] })), agents: 6 }, SOURCE)
      expect(minatarTasks(g.environment as MinAtarEnv, g.contexts).tasks).toHaveLength(6)
    }))
})

describe("Env.minatar errors name the bad field", () => {
  it.effect("the environment's parameters: range, integer, another game's field, an unknown game", () =>
    Effect.gen(function*() {
      const range = yield* decodeError(spec({ _tag: "MinAtar", game: "breakout", brickRows: 9 }, Contexts.list([{}])))
      expect(range.issues).toHaveLength(1)
      expect(at(range.issues, "environment.brickRows").message).toMatch(/integer in 1\.\.6/)
      const integer = yield* decodeError(spec({ _tag: "MinAtar", game: "space_invaders", alienRows: 2.5 }, Contexts.list([{}])))
      expect(at(integer.issues, "environment.alienRows").actual).toBe("2.5")
      const other = yield* decodeError(spec({ _tag: "MinAtar", game: "breakout", carsPerLane: 2 }, Contexts.list([{}])))
      expect(at(other.issues, "environment.carsPerLane").message).toMatch(/unexpected field: breakout has the parameters/)
      const game = yield* decodeError(spec({ _tag: "MinAtar", game: "pong" }, Contexts.list([{}])))
      expect(at(game.issues, "environment.game").message).toMatch(/breakout/)
      const cross = yield* decodeError(spec({ _tag: "MinAtar", game: "freeway", fastestCar: 4, slowestCar: 2 }, Contexts.list([{}])))
      // The line validate prints says the value found once (it said "got 2, got 2").
      expect(formatIssue(at(cross.issues, "environment.slowestCar"))).toBe("environment.slowestCar: expected slowestCar ≥ fastestCar (4), got 2")
      const crossContext = yield* decodeError(spec(Env.minatar({ game: "freeway" }), Contexts.list([{ fastestCar: 4, slowestCar: 2 }])))
      expect(formatIssue(at(crossContext.issues, "contexts.items[0].slowestCar"))).toBe("contexts.items[0].slowestCar: expected slowestCar ≥ fastestCar (4), got 2")
      const several = yield* decodeError(spec({ _tag: "MinAtar", game: ["breakout", "asterix"], brickRows: 2 }, Contexts.list([{ game: 0 }])))
      expect(at(several.issues, "environment.brickRows").message).toMatch(/sticky, maxFrames/)
    }))

  it.effect("each context: range, another game's field, a bad game index, a grid axis", () =>
    Effect.gen(function*() {
      const e = yield* decodeError(spec(Env.minatar({ game: "freeway" }), Contexts.list([{ carsPerLane: 7 }, { paddleSpeed: 1 }, { sticky: -0.1 }])))
      expect(at(e.issues, "contexts.items[0].carsPerLane").actual).toBe("7")
      expect(at(e.issues, "contexts.items[1].paddleSpeed").message).toMatch(/unexpected field: freeway/)
      expect(at(e.issues, "contexts.items[2].sticky").message).toMatch(/\[0, 1\]/)
      expect(e.issues).toHaveLength(3)
      const idx = yield* decodeError(spec(Env.minatar({ game: ["breakout", "freeway"] }), Contexts.list([{ game: 2 }, {}])))
      expect(at(idx.issues, "contexts.items[0].game").message).toMatch(/0\.\.1/)
      expect(at(idx.issues, "contexts.items[1].game").message).toMatch(/missing/)
      const grid = yield* decodeError(spec(Env.minatar({ game: "asterix" }), Contexts.grid({ spawnPeriod: [5, 50], movePeriod: [1, 2] })))
      expect(grid.issues).toEqual([expect.objectContaining({ path: "contexts.axes.spawnPeriod", actual: "50" })])
      const seeds = yield* decodeError(spec(Env.minatar({ game: "asterix" }), Contexts.seeds(3)))
      expect(at(seeds.issues, "contexts").message).toMatch(/Contexts.list/)
    }))

  it.effect("games need the deep learner, and the deep learner needs games: each refusal names learner", () =>
    Effect.gen(function*() {
      const games = { ...spec(Env.minatar({ game: "breakout" }), Contexts.list([{}, { brickRows: 2 }])) }
      const noLearner = yield* decodeError({ ...games, learner: undefined })
      expect(at(noLearner.issues, "learner").message).toMatch(/Dqn\.learner/)
      const linear = yield* decodeError({ ...games, learner: Lsvi.ucb() })
      expect(at(linear.issues, "learner").message).toMatch(/Dqn\.learner/)
      const chain = { ...games, environment: Env.linearChain({ length: 3, horizon: 3 }), contexts: Contexts.list([{ goal: 2 }]) }
      const dqnOnChain = yield* decodeError(chain)
      expect(at(dqnOnChain.issues, "learner._tag").message).toMatch(/Lsvi\.ucb/)
      const targets = yield* decodeError({ ...games, learner: Dqn.learner({ framesPerAgent: 1_000, returnTarget: [1, 2, 3], dqn: { replayStart: 500 } }) })
      expect(at(targets.issues, "learner.returnTarget").message).toMatch(/one per context \(2\)/)
      const frames = yield* decodeError({ ...games, learner: Dqn.learner({ framesPerAgent: 0.5, returnTarget: 1 }) })
      expect(at(frames.issues, "learner.framesPerAgent")).toBeDefined()
      // A replay that starts at or beyond the frame budget: nothing would train, at the field that says so.
      const late = yield* decodeError({ ...games, learner: Dqn.learner({ framesPerAgent: 1_000, returnTarget: 1, dqn: { replayStart: 1_000 } }) })
      expect(at(late.issues, "learner.dqn.replayStart").message).toMatch(/below learner\.framesPerAgent: .*no agent would ever train/)
      const byDefault = yield* decodeError({ ...games, learner: Dqn.learner({ framesPerAgent: 4_000, returnTarget: 1 }) })
      expect(at(byDefault.issues, "learner.framesPerAgent").message).toMatch(/replayStart \(default 5000\) below/)
      // A replay smaller than a batch never holds one (agent.ts trains once it holds batchSize): nothing would train either.
      const small = yield* decodeError({ ...games, learner: Dqn.learner({ framesPerAgent: 1_000, returnTarget: 1, dqn: { replayStart: 500, replayCapacity: 31 } }) })
      expect(at(small.issues, "learner.dqn.replayCapacity").message).toMatch(/^expected learner\.dqn\.replayCapacity at least learner\.dqn\.batchSize \(32\): .*no agent would ever train$/)
      expect(at(small.issues, "learner.dqn.replayCapacity").actual).toBe("31")
      const bigBatch = yield* decodeError({ ...games, learner: Dqn.learner({ framesPerAgent: 1_000, returnTarget: 1, dqn: { replayStart: 500, replayCapacity: 1000, batchSize: 1024 } }) })
      expect(at(bigBatch.issues, "learner.dqn.replayCapacity").message).toMatch(/batchSize \(1024\)/)
      // A period of updates longer than the frames after warm-up comes once at most.
      const rare = yield* decodeError({ ...games, learner: Dqn.learner({ framesPerAgent: 1_000, returnTarget: 1, dqn: { replayStart: 500, trainEvery: 501 } }) })
      expect(at(rare.issues, "learner.dqn.trainEvery").message).toBe(
        "expected learner.dqn.trainEvery at most the 500 frames of learner.framesPerAgent after learner.dqn.replayStart: " +
          "an agent trains once every trainEvery frames after its replayStart, so an agent would train once at most, perhaps never"
      )
      expect(at(rare.issues, "learner.dqn.trainEvery").actual).toBe("501")
      yield* decode({ ...games, learner: Dqn.learner({ framesPerAgent: 1_000, returnTarget: 1, dqn: { replayStart: 500, trainEvery: 500 } }) }, SOURCE)
      // Its frames are a learner's, framesPerAgent split over the instances an agent meets (as for replayStart).
      const split = yield* decodeError({
        ...games,
        assignment: Assignment.stream(),
        learner: Dqn.learner({ framesPerAgent: 1_500, returnTarget: 1, dqn: { replayStart: 500, trainEvery: 251 } })
      })
      expect(at(split.issues, "learner.dqn.trainEvery").message).toMatch(
        /^expected learner\.dqn\.trainEvery at most the 250 frames after learner\.dqn\.replayStart of the 750 frames of each instance \(learner\.framesPerAgent 1,500 split over the 2 instances/
      )
      yield* decode({ ...games, assignment: Assignment.stream(), learner: Dqn.learner({ framesPerAgent: 1_500, returnTarget: 1, dqn: { replayStart: 500, trainEvery: 250 } }) }, SOURCE)
      // A replay exactly one batch large trains.
      yield* decode({ ...games, learner: Dqn.learner({ framesPerAgent: 1_000, returnTarget: 1, dqn: { replayStart: 500, replayCapacity: 32 } }) }, SOURCE)
    }))

  it.effect("the linear-stage compile refuses a games spec with a structured issue (distmt run takes it to the deep stage)", () =>
    Effect.gen(function*() {
      const s = yield* decode(spec(Env.minatar({ game: "breakout" }), Contexts.list([{}, { brickRows: 2 }])), SOURCE)
      const e = yield* Effect.flip(compile(s, SOURCE))
      expect(e.issues).toHaveLength(1)
      expect(e.issues[0].path).toBe("environment")
      expect(e.issues[0].message).toMatch(/deep-stage spec.*distmt run/)
    }))
})

describe("a game's parameters checked outside a spec (bench simnet --task, bench forgetting --tasks)", () => {
  it("are refused in one line, each bad field with its expectation (it was the Schema's indented message over two lines)", () => {
    expect(() => resolveParams("breakout", { paddleWidth: 9, ballSpeed: 5 })).toThrow(
      new RangeError(
        `invalid breakout context {"paddleWidth":9,"ballSpeed":5}: paddleWidth: expected an integer in 1..4 (paddleWidth: width of the paddle in cells); ` +
          "ballSpeed: expected a number in [0.25, 2] (ballSpeed: diagonal cells the ball moves per frame (fractions accumulate))"
      )
    )
    expect(resolveParams("breakout", { paddleWidth: 2 }).paddleWidth).toBe(2)
  })
})

describe("a deep learner must get past replayStart with the frames of its instance, not of its agent", () => {
  // An agent's framesPerAgent is split over the instances it meets, each a fresh learner
  // (src/deep/distmt/run.ts); replayStart was compared with framesPerAgent alone, so a spec whose
  // agents meet several tasks decoded, and its learners played at random to the end.
  const games = { ...spec(Env.minatar({ game: "breakout" }), Contexts.list([{}, { brickRows: 2 }])), baselines: ["independent"] }
  const learner = (framesPerAgent: number, more: Record<string, unknown> = {}) =>
    Dqn.learner({ framesPerAgent, returnTarget: 1, dqn: { replayStart: 500 }, ...more })

  it.effect("DistMT's learners that would never train are refused, naming the split; one frame more trains", () =>
    Effect.gen(function*() {
      // Every agent meets both tasks: 500 frames each, not above replayStart 500.
      const stream = yield* decodeError({ ...games, assignment: Assignment.stream(), learner: learner(1_000) })
      expect(at(stream.issues, "learner.dqn.replayStart").message).toBe(
        "expected learner.dqn.replayStart (500) below the 500 frames of each instance (learner.framesPerAgent 1,000 split over the 2 " +
          "instances an agent meets) under assignment Stream (4 agents, 2 tasks): a learner trains only once it has played replayStart " +
          "frames, so some agents would never train (learner.framesPerAgent at least 1,002 would do)"
      )
      yield* decode({ ...games, assignment: Assignment.stream(), learner: learner(1_002) }, SOURCE)
      // Partition: with 3 agents and 4 tasks agent 0 meets two; with 4 agents each meets one.
      const four = Contexts.list([{}, { brickRows: 2 }, { brickRows: 3 }, { brickRows: 4 }])
      const three = yield* decodeError({ ...games, contexts: four, agents: 3, learner: learner(1_000) })
      expect(at(three.issues, "learner.dqn.replayStart").message).toMatch(/split over the 2 instances .* under assignment Partition \(3 agents, 4 tasks\)/)
      yield* decode({ ...games, contexts: four, agents: 4, learner: learner(1_000) }, SOURCE)
      const random = yield* decodeError({ ...games, assignment: Assignment.random(3), learner: learner(1_500) })
      expect(at(random.issues, "learner.dqn.replayStart").message).toMatch(/split over the 3 instances .* assignment Random/)
      yield* decode({ ...games, assignment: Assignment.random(2), learner: learner(1_002) }, SOURCE)
      // A lifelong network counts its frames over the agent's instances: it trains after 500 of 1,000.
      yield* decode({ ...games, assignment: Assignment.stream(), learner: learner(1_000, { lifelong: true }) }, SOURCE)
    }))

  it("mostInstances is the most instances assign gives one agent", () => {
    for (const assignment of [Assignment.partition(), Assignment.stream(), Assignment.random(1), Assignment.random(3)]) {
      for (const agents of [1, 2, 3, 4, 7, 10]) {
        for (const tasks of [1, 2, 3, 5, 10, 13]) {
          const most = Math.max(...assign(assignment, agents, tasks, 0).map((t) => t.length))
          expect(mostInstances(assignment, agents, tasks), `${assignment._tag} ${agents} ${tasks}`).toBe(most)
        }
      }
    }
  })

  it.effect("the independent baseline that would never train is a warning, not a refusal, and names the fields", () =>
    Effect.gen(function*() {
      // DistMT's agents meet one task each (1,000 frames); the independent baseline's meet both (500 each).
      const s = yield* decode({ ...games, learner: learner(1_000) }, SOURCE)
      expect(trainingWarnings(s)).toEqual([
        "the independent baseline never trains: its agents meet all 2 tasks, and the 500 frames of each instance (learner.framesPerAgent " +
        "1,000 split over the 2 instances an agent meets) do not pass learner.dqn.replayStart (500), the frames a learner plays before " +
        "its first update; if it should train, give learner.framesPerAgent at least 1,002 or a smaller learner.dqn.replayStart, or " +
        "learner.lifelong: true (one network over an agent's instances)"
      ])
      expect(trainingWarnings(yield* decode({ ...games, learner: learner(1_002) }, SOURCE))).toEqual([])
      expect(trainingWarnings(yield* decode({ ...games, learner: learner(1_000, { lifelong: true }) }, SOURCE))).toEqual([])
      expect(trainingWarnings(yield* decode({ ...games, baselines: ["oracle"], learner: learner(1_000) }, SOURCE))).toEqual([])
    }))

  it("the shipped spec validates, with the warning its documented independent baseline meets", async () => {
    // docs/deep.md, "Results": independent agents get 2,000 frames a task against replayStart 2,000, on purpose.
    const v = await validate("specs/minatar.spec.ts")
    expect(v.deep?.warnings).toEqual([expect.stringMatching(/^the independent baseline never trains: its agents meet all 10 tasks, and the 2,000 frames .*learner\.dqn\.replayStart \(2,000\)/)])
  }, 60_000)
})

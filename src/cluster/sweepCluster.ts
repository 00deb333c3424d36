/**
 * `distmt sweep <spec> --cluster`: each (point, algorithm, seed) unit of a sweep runs as a unit of
 * `distmt run --cluster` does (runAgents.ts): a server entity and N agent entities on the cluster's
 * runners, their decisions and checkpoints in PostgreSQL. The sweep keeps its own files, plan and
 * resume (src/cli/sweep.ts): a unit it had finished is read from its file, and a unit it had not
 * finished resumes on the cluster from its agents' checkpoints, as a run given again does.
 */
import { Effect } from "effect"
import type { SweepUnit } from "../run/sweepPlan.ts"
import type { AlgorithmRun, ProgressSink } from "../run/runExperiment.ts"
import { clusterRun, type ClusterUnits } from "./runCluster.ts"

/**
 * How the sweep in `dir` runs one of its units on the cluster. Each point is its own run on the
 * cluster, keyed by the point's spec and the sweep's folder (`clusterRunKey`), so that the same
 * sweep given again finds its units where they stopped. `onEpisodes` is told the unit's episodes
 * so far, as the checkpoints show them.
 */
export const clusterSweepUnit = (units: ClusterUnits, dir: string) =>
(u: SweepUnit, onEpisodes: (episodes: number) => void): Effect.Effect<AlgorithmRun> => {
  let episodes = 0
  const progress: ProgressSink = {
    start: () => {},
    instanceDone: () => {},
    episodes: (n) => {
      episodes += n
      onEpisodes(episodes)
    }
  }
  return Effect.flatMap(units(u.point.compiled, clusterRun(u.point.compiled.spec, dir), progress, false), (run) => run(u.algorithm, u.seed))
}

/**
 * A cluster run's key and folder, and `cluster forget FOLDER`, take the folder by its real path: a
 * folder reached through a symbolic link was another run (its key made of path.resolve's path), so
 * the same command given through the link started the run over, and `forget` by the other path
 * found none. No database is needed: the key and the choice are computed here.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadSpec } from "../src/cli/loadSpec.ts"
import { type LeftRun, chooseRuns } from "../src/cluster/leftovers.ts"
import { clusterRun, clusterRunKey } from "../src/cluster/runCluster.ts"

describe("a cluster run's folder through a symbolic link", async () => {
  const spec = await Effect.runPromise(loadSpec("test/fixtures/tiny.spec.ts"))
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-run-key-")))
  const real = path.join(base, "real")
  fs.mkdirSync(real)
  const link = path.join(base, "link")
  fs.symlinkSync(real, link)

  it("is the same run: the same key and folder, for the folder and a new folder inside it", () => {
    expect(clusterRunKey(spec, link)).toBe(clusterRunKey(spec, real))
    expect(clusterRun(spec, link)).toEqual({ key: clusterRunKey(spec, real), folder: real })
    // A folder not made yet, under the link: the part that exists is followed, the rest kept.
    expect(clusterRun(spec, path.join(link, "new", "run")).folder).toBe(path.join(real, "new", "run"))
    expect(clusterRunKey(spec, path.join(link, "new"))).toBe(clusterRunKey(spec, path.join(real, "new")))
    // Another folder is another run.
    expect(clusterRunKey(spec, base)).not.toBe(clusterRunKey(spec, real))
  })

  it("cluster forget finds it by either path", async () => {
    const run: LeftRun = { key: clusterRunKey(spec, real), folder: clusterRun(spec, real).folder, units: [], agents: 0, episodes: 0, bytes: 0, idle: undefined }
    for (const given of [real, link]) {
      expect(await Effect.runPromise(chooseRuns([run], [given], false, false))).toEqual([run])
    }
  })
})

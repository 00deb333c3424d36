/**
 * Once per `npm test`:
 * - every temporary file of the suite goes into one directory, removed at the end. The tests (and
 *   the processes they start, which inherit the environment) make their scratch directories with
 *   `os.tmpdir()`, which reads TMPDIR; without this, each run left some seventy directories in
 *   /tmp, a few MiB each for the cluster tests;
 * - with $DISTMT_TEST_DB, every table the tests make in that database goes into a schema of this
 *   run's, dropped at the end (test/test-database.ts): $DISTMT_TEST_DB is set to the URL that
 *   names it, which the tests and the processes they start inherit. The schemas that runs killed
 *   before their end left behind go once they are a day old.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { createTestSchema, dropTestSchema, testSchemaName } from "./test-database.ts"

export default async function setup(): Promise<() => Promise<void>> {
  const before = process.env.TMPDIR
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-tests-"))
  process.env.TMPDIR = root
  const db = process.env.DISTMT_TEST_DB
  const schema = testSchemaName(Date.now(), process.pid)
  let isolated = false
  if (db !== undefined && db !== "") {
    try {
      process.env.DISTMT_TEST_DB = await createTestSchema(db, schema)
      isolated = true
    } catch {
      // No database to reach: the tests that need it say so (or fail under CI) with their own message.
    }
  }
  return async () => {
    if (isolated) {
      process.env.DISTMT_TEST_DB = db
      await dropTestSchema(db!, schema)
    }
    if (before === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = before
    fs.rmSync(root, { recursive: true, force: true })
  }
}

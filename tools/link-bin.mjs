// `npm ci`'s postinstall: links node_modules/.bin/distmt to bin/distmt.mjs, so that `npx distmt`
// finds the command there and starts it at once.
//
// Why not package.json's "bin": npm exec treats a bin of the project itself as a package to install
// into its cache, and reads the whole node_modules tree first (about a second here) before every
// `npx distmt`. A link in node_modules/.bin is run directly. Installed as someone else's
// dependency (not the project being set up), this does nothing.
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const initCwd = process.env.INIT_CWD
if (initCwd === undefined || path.resolve(initCwd) === root) {
  const bin = path.join(root, "node_modules", ".bin")
  const link = path.join(bin, "distmt")
  fs.mkdirSync(bin, { recursive: true })
  fs.rmSync(link, { force: true })
  fs.symlinkSync(path.join("..", "..", "bin", "distmt.mjs"), link)
}

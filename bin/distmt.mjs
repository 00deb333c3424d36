#!/usr/bin/env node
// The `distmt` command. Registers tsx so that the CLI and the user's `.spec.ts` modules load
// without a build step, then starts the CLI.
//
// `distmt`, `distmt --help` and `distmt -h` print the overview of the commands straight away, the
// text Effect's CLI would print (src/cli/overview.ts), without loading Effect at all.
//
// Otherwise the Effect modules a command needs, plain JavaScript, are loaded before tsx's hooks are
// registered: they skip the hooks, which halves their loading time (the hooks would see each of
// their hundreds of files). Later imports of them hit the module cache.
import { register } from "tsx/esm/api"
import { resolveDistmtAnywhere } from "../src/spec/resolveSelf.mjs"

// `distmt validate x.spec.ts | head -1`: once the reader is gone a write fails with EPIPE, which
// Node throws as an unhandled 'error' event, a stack trace in place of the command's end. The
// command goes on without a reader (a run still writes its folder) and ends as it would have.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code !== "EPIPE") throw e
  })
}

const args = process.argv.slice(2)
if (args.length === 0 || (args.length === 1 && (args[0] === "--help" || args[0] === "-h"))) {
  register()
  const { canColour, overview } = await import("../src/cli/overview.ts")
  process.stdout.write(overview(canColour()))
} else {
  const command = args[0]
  // The commands that check a spec first start the check's process now: its second of loading
  // overlaps this process's (src/cli/specCheckProcess.mjs).
  if (["run", "validate", "sweep"].includes(command) && !args.includes("--help") && !args.includes("-h")) {
    const { startCheckAhead } = await import("../src/cli/specCheckProcess.mjs")
    startCheckAhead()
  }
  await Promise.all([
    import("@effect/platform-node/NodeRuntime"),
    import("@effect/platform-node/NodeServices"),
    import("effect/cli/Command"),
    import("effect/Effect"),
    ...(!command.startsWith("-") ? [import("effect")] : [])
  ])
  register()
  resolveDistmtAnywhere()
  await import("../src/cli/main.ts")
}

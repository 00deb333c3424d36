#!/usr/bin/env node
// The `distmt` command. Registers tsx so that the CLI and the user's `.spec.ts` modules load
// without a build step, then starts the CLI.
//
// The Effect modules a command needs are plain JavaScript: loaded before tsx's hooks are
// registered, they skip them, which halves their loading time (the hooks would see each of their
// hundreds of files). Later imports of them hit the module cache. `distmt --help` needs only the
// CLI's modules; a command (`distmt run …`) needs the whole `effect` index.
import { register } from "tsx/esm/api"

const command = process.argv[2]
await Promise.all([
  import("@effect/platform-node/NodeRuntime"),
  import("@effect/platform-node/NodeServices"),
  import("effect/cli/Command"),
  import("effect/Effect"),
  ...(command !== undefined && !command.startsWith("-") ? [import("effect")] : [])
])
register()
await import("../src/cli/main.ts")

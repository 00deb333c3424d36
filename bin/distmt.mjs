#!/usr/bin/env node
// The `distmt` command. Registers tsx so that the CLI and the user's `.spec.ts` modules load
// without a build step, then starts the CLI.
import { register } from "tsx/esm/api"

register()
await import("../src/cli/main.ts")

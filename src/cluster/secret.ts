/**
 * The cluster's shared secret (Signed.ts signs every message with it). Looked up in this order:
 * `--secret-file F`, the environment variable DISTMT_CLUSTER_SECRET, then `.distmt/cluster.secret`
 * (written by `distmt cluster up` when it was given none, for trying a cluster on one machine).
 * A runner or client with none refuses to start unless `--insecure` is given; `--insecure` ignores
 * any secret and neither signs nor checks. A secret file that others can read is refused.
 */
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { ClusterUsageError } from "./database.ts"

export const SECRET_ENV = "DISTMT_CLUSTER_SECRET"
export const STATE_DIR = ".distmt"
export const LOCAL_SECRET_FILE = path.join(STATE_DIR, "cluster.secret")

/** Shorter secrets are refused: HMAC-SHA256 is only as strong as a secret that cannot be guessed. */
export const MIN_SECRET_LENGTH = 16

export interface SecretOptions {
  readonly secretFile?: string | undefined
  readonly insecure: boolean
}

/** Where the secret came from (for the start-up line), and the secret; `undefined` when insecure. */
export interface Secret {
  readonly source: string
  readonly key: Buffer | undefined
}

const check = (text: string, source: string) =>
  text.length >= MIN_SECRET_LENGTH
    ? Effect.succeed<Secret>({ source, key: Buffer.from(text, "utf8") })
    : Effect.fail(new ClusterUsageError({
      message: `the cluster secret from ${source} is ${text.length} characters; use at least ${MIN_SECRET_LENGTH} ` +
        `(e.g. \`openssl rand -hex 32 > cluster.secret\`)`
    }))

/**
 * A secret file that every user of the machine can read (or write) is refused, as ssh refuses a
 * private key that others can read: whoever reads it can sign any message to the cluster, and a
 * warning in a runner's log is read by nobody. POSIX modes only (Windows has none to check).
 */
export const checkFileMode = (file: string): Effect.Effect<void, ClusterUsageError> => {
  if (process.platform === "win32") return Effect.void
  let mode: number
  try {
    mode = fs.statSync(file).mode & 0o777
  } catch {
    return Effect.void // unreadable: the read itself says so
  }
  if ((mode & 0o006) === 0) return Effect.void
  return Effect.fail(new ClusterUsageError({
    message: `the cluster secret file ${file} is ${(mode & 0o004) !== 0 ? "readable" : "writable"} by every user of this machine ` +
      `(mode ${mode.toString(8).padStart(3, "0")}): anyone here could sign messages to the cluster; \`chmod 600 ${file}\`, then start again`
  }))
}

export const loadSecret = (options: SecretOptions) =>
  Effect.gen(function*() {
    // --insecure wins over any secret found, so that it always means what it says.
    if (options.insecure) return { source: "none (--insecure: messages are neither signed nor checked)", key: undefined }
    if (options.secretFile !== undefined) {
      let text: string
      try {
        text = fs.readFileSync(options.secretFile, "utf8").trim()
      } catch (e) {
        return yield* new ClusterUsageError({
          message: `--secret-file ${options.secretFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`
        })
      }
      yield* checkFileMode(options.secretFile)
      return yield* check(text, options.secretFile)
    }
    const env = process.env[SECRET_ENV]
    if (env !== undefined && env !== "") return yield* check(env.trim(), `$${SECRET_ENV}`)
    if (fs.existsSync(LOCAL_SECRET_FILE)) {
      yield* checkFileMode(LOCAL_SECRET_FILE)
      return yield* check(fs.readFileSync(LOCAL_SECRET_FILE, "utf8").trim(), LOCAL_SECRET_FILE)
    }
    return yield* new ClusterUsageError({
      message: `no cluster secret: set ${SECRET_ENV} or give --secret-file F (the same on every runner and client), ` +
        `or --insecure to run without authentication`
    })
  })

/** Writes a fresh random secret to .distmt/cluster.secret (mode 600) unless one exists; returns its path. */
export const ensureLocalSecret = (): string => {
  fs.mkdirSync(STATE_DIR, { recursive: true })
  if (!fs.existsSync(LOCAL_SECRET_FILE)) {
    fs.writeFileSync(LOCAL_SECRET_FILE, randomBytes(32).toString("hex") + "\n", { mode: 0o600 })
  }
  return LOCAL_SECRET_FILE
}

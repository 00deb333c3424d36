/**
 * Warns when the other runners of a runner's cluster cannot reach it. They ping each other
 * (`runnerHealthCheckInterval`, settings.ts) and mark in `<name>_runners` a runner that does not
 * answer as unhealthy, and the sharding gives an unhealthy runner no shard. A runner whose TLS does
 * not match theirs (a certificate from another CA, TLS against plain TCP), or that they cannot reach
 * at the address it gave (--advertise, a firewall), was admitted (peers.ts checks the secret only),
 * printed "ready", and then sat there doing nothing, its log silent: the operator took it for added
 * capacity. This says so in its log, once when it happens and once when it ends.
 */
import { Effect, Schedule } from "effect"
import { SqlClient } from "effect/sql/SqlClient"

/** How often a runner reads whether the others take it for healthy. */
const EVERY = "3 seconds"

/** The line for a runner at `address` of cluster `clusterName` that the others mark unhealthy. */
export const unreachableLine = (clusterName: string, address: string): string =>
  `distmt runner: WARNING the other runners of cluster "${clusterName}" cannot reach this one at ${address} (PostgreSQL marks it ` +
  "unhealthy), so it is given no shard and runs nothing: give it their TLS (--tls-cert, --tls-key and --tls-ca from their CA, or " +
  "none if they have none), and check that they can reach that address (--advertise, the firewall)"

/** Runs for as long as the runner lives; a failed read (the database down for a moment) tells nothing. */
export const watchReachable = (clusterName: string, address: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    let unhealthy = false
    const look = Effect.gen(function*() {
      const rows = yield* sql<{ healthy: boolean }>`SELECT healthy FROM ${sql(`${clusterName}_runners`)} WHERE address = ${address}`
      // Not listed (between two registrations) tells nothing either.
      if (rows.length === 0 || Boolean(rows[0].healthy) === !unhealthy) return
      unhealthy = !rows[0].healthy
      // Plain console lines, as the event-loop watchdog's: what the operator reads in the foreground.
      if (unhealthy) console.warn(unreachableLine(clusterName, address))
      else console.warn(`distmt runner: the other runners of cluster "${clusterName}" reach this one again (healthy in PostgreSQL)`)
    })
    yield* Effect.repeat(Effect.ignore(look), Schedule.spaced(EVERY))
  })

/**
 * The probes behind a runner's "cannot reach" warning and its admission (src/cluster/reach.ts,
 * `diagnose`) end when the runner stops: a probe that waited for a peer that says nothing kept the
 * stopping process alive for its whole timeout (10 s) after the runner was interrupted. And what
 * they find is told apart: a transport mismatch, or a peer gone. No database needed.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as tls from "node:tls"
import { afterEach, describe, expect, it } from "vitest"
import { diagnose } from "../src/cluster/reach.ts"
import { hasOpenssl, makeCertificates, scratch } from "./cluster-helpers.ts"

/** A server that takes connections and never says a word (a TLS hello to it waits for ever). */
const silentServer = async () => {
  const closed: Array<Promise<void>> = []
  const server = net.createServer((socket) => {
    socket.on("error", () => {})
    socket.resume() // reads (and drops) what comes, so that the client's close is seen
    closed.push(new Promise((resolve) => socket.on("close", () => resolve())))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return { server, closed, address: `127.0.0.1:${(server.address() as net.AddressInfo).port}` }
}

/**
 * Counts the timers set from now until `stop` that neither fired nor were cleared: a pending one keeps
 * the process alive (and one whose callback was cleared is gone).
 */
const trackTimers = () => {
  const set = globalThis.setTimeout
  const clear = globalThis.clearTimeout
  const pending = new Set<unknown>()
  globalThis.setTimeout = ((callback: (...args: Array<unknown>) => void, ms?: number, ...args: Array<unknown>) => {
    const handle: unknown = set(() => {
      pending.delete(handle)
      callback(...args)
    }, ms)
    pending.add(handle)
    return handle
  }) as typeof setTimeout
  globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
    pending.delete(handle)
    clear(handle)
  }) as typeof clearTimeout
  return {
    stop: () => {
      globalThis.setTimeout = set
      globalThis.clearTimeout = clear
    },
    pending: () => pending.size
  }
}

/** `p`, or a failure after `ms`; its own timer goes as soon as `p` settles (the test counts timers). */
const within = <A>(p: Promise<A>, ms: number): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

describe("the probes of diagnose", () => {
  const servers: Array<net.Server> = []
  afterEach(() => {
    for (const s of servers.splice(0)) s.close()
  })

  it("an abort ends the probe under way: its connection closes and its timers go", async () => {
    const { server, closed, address } = await silentServer()
    servers.push(server)
    const abort = new AbortController()
    const tracked = trackTimers()
    const answer = diagnose(address, undefined, abort.signal)
    // The TCP probe connects; the TLS hello that follows waits on the silent server.
    await within((async () => { while (closed.length < 2) await new Promise((r) => setTimeout(r, 20)) })(), 5000)
    abort.abort()
    await within(answer, 2000)
    await within(Promise.all(closed), 2000)
    tracked.stop()
    expect(tracked.pending()).toBe(0)
  })

  it("a signal aborted before it starts makes no connection", async () => {
    const { server, closed, address } = await silentServer()
    servers.push(server)
    const abort = new AbortController()
    abort.abort()
    await within(diagnose(address, undefined, abort.signal), 2000)
    await new Promise((r) => setTimeout(r, 200))
    expect(closed.length).toBe(0)
  })

  it("a peer that takes connections and says nothing is no transport mismatch, for a TLS runner too", async () => {
    const { server, address } = await silentServer()
    servers.push(server)
    // The certificates are never used: the TLS hello before them gets no answer.
    const found = await within(diagnose(address, { cert: "-", key: "-", ca: "-" }), 20_000)
    expect(found).toEqual({ cause: expect.stringMatching(/takes connections but answers nothing within 10 s/), transport: false })
  }, 30_000)

  it("without an abort it still names the cause (nothing listens: connection refused)", async () => {
    const { server, address } = await silentServer()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const found = await within(diagnose(address, undefined), 5000)
    expect(found.cause).toMatch(/connection refused/)
    // A peer gone is no transport mismatch: the admission (peers.ts) does not refuse a runner for it.
    expect(found.transport).toBe(false)
  })

  it.skipIf(!hasOpenssl)("an abort ends the wait after a TLS handshake that succeeded (the settle for a late refusal)", async () => {
    const dir = scratch()
    makeCertificates(dir)
    const read = (name: string) => fs.readFileSync(path.join(dir, name), "utf8")
    const mine = { cert: read("runner.crt"), key: read("runner.key"), ca: read("ca.crt") }
    let secure = 0
    const server = tls.createServer({ cert: mine.cert, key: mine.key, ca: mine.ca, requestCert: true, rejectUnauthorized: true }, (socket) => {
      secure++
      socket.on("error", () => {})
      socket.resume()
    })
    server.on("tlsClientError", () => {})
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    servers.push(server)
    const abort = new AbortController()
    const tracked = trackTimers()
    const answer = diagnose(`127.0.0.1:${(server.address() as net.AddressInfo).port}`, mine, abort.signal)
    // TCP, then a hello without a certificate (refused), then the handshake with ours: it succeeds,
    // and the probe waits 2 s for a refusal that TLS 1.3 would send only after it.
    await within((async () => { while (secure < 1) await new Promise((r) => setTimeout(r, 20)) })(), 10000)
    abort.abort()
    await within(answer, 1000)
    tracked.stop()
    expect(tracked.pending()).toBe(0)
    // And, not stopped, the causes the admission refuses a runner for: TLS on one side only.
    const plain = await within(diagnose(`127.0.0.1:${(server.address() as net.AddressInfo).port}`, undefined), 15_000)
    expect(plain).toEqual({ cause: expect.stringMatching(/^it uses mutual TLS and this runner does not;/), transport: true })
  })
})

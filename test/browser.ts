/**
 * A headless Chromium driven over its DevTools protocol with Node's own WebSocket, for the test
 * that opens the sweep report in a real browser (report-browser.test.ts). No browser is downloaded
 * through npm: the one used is $DISTMT_CHROMIUM (tools/chromium.sh prints it; .ci/run exports it),
 * else `chromium` or `chromium-browser` on the PATH.
 *
 * `openPage` loads a page and returns what a reader would run into: console errors and uncaught
 * exceptions (a resource that fails to load is logged as an error too), images that did not load,
 * figures that drew nothing, text cut off at a figure's edge, titles wrapped before they had to,
 * and content wider than the window.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export const IN_CI = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false"

/** The browser to use, or undefined when there is none. */
export const findChromium = (): string | undefined => {
  const given = process.env.DISTMT_CHROMIUM
  if (given !== undefined && given !== "") return fs.existsSync(given) ? given : undefined
  for (const name of ["chromium", "chromium-browser"]) {
    const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" })
    if (r.status === 0 && r.stdout.trim() !== "") return r.stdout.trim()
  }
  return undefined
}

/** Skip on a developer machine without Chromium; under CI a missing browser is a failure. */
export const browserTestsMode = (chromium: string | undefined): "run" | "skip" | "fail" =>
  chromium !== undefined ? "run" : IN_CI ? "fail" : "skip"

/** What a page showed a reader. */
export interface PageReport {
  readonly consoleErrors: ReadonlyArray<string>
  readonly images: ReadonlyArray<{ readonly src: string; readonly loaded: boolean }>
  /** Each figure's size and its data marks: bars, lines, points, rules drawn at real coordinates (not axes, legends or text). */
  readonly figures: ReadonlyArray<{ readonly width: number; readonly height: number; readonly dataMarks: number }>
  /** Text of a figure that reaches past its edge (it is cut off there). */
  readonly clippedText: ReadonlyArray<string>
  /** Title lines that wrapped although the next word had room on them. */
  readonly earlyWraps: ReadonlyArray<string>
  /** Tables wider than their box, and whether that box scrolls rather than the page. */
  readonly tables: ReadonlyArray<{ readonly fits: boolean; readonly scrollsInBox: boolean }>
  /** The page is wider than the window: the reader must scroll the whole page sideways. */
  readonly pageOverflows: boolean
}

/**
 * Runs in the page. Vega draws a title as one <text> per title with a <tspan> per line; a line
 * wrapped early is one whose next line's first word would still fit within 85% of the figure's width.
 */
const INSPECT = `(() => {
  const images = [...document.images].map((i) => ({ src: i.getAttribute("src") || "", loaded: i.complete && i.naturalWidth > 0 }))
  const svgs = [...document.querySelectorAll("figure > svg, body > svg")]
  // Vega draws each mark as <g class="mark-… role-mark …"> with one element per item; a line chart's
  // legend is its second view (concat_1). An item at NaN coordinates is not drawn.
  const figures = svgs.map((s) => {
    const r = s.getBoundingClientRect()
    const items = [...s.querySelectorAll("g.role-mark:not(.mark-text) > *")].filter((e) => {
      const mark = e.parentNode.getAttribute("class") || ""
      const geometry = (e.getAttribute("d") || "") + (e.getAttribute("transform") || "")
      return !mark.includes("concat_1_") && !geometry.includes("NaN")
    })
    return { width: r.width, height: r.height, dataMarks: items.length }
  })
  const clippedText = []
  const earlyWraps = []
  for (const s of svgs) {
    const box = s.getBoundingClientRect()
    for (const t of s.querySelectorAll("text")) {
      const r = t.getBoundingClientRect()
      if (r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1)) clippedText.push(t.textContent)
    }
    for (const t of s.querySelectorAll(".role-title-text text, .role-title-subtitle text")) {
      const lines = [...t.querySelectorAll("tspan")].map((x) => x.textContent)
      for (let i = 0; i + 1 < lines.length; i++) {
        const probe = t.cloneNode(false)
        probe.textContent = lines[i] + " " + lines[i + 1].split(" ")[0]
        t.parentNode.appendChild(probe)
        const width = probe.getComputedTextLength()
        probe.remove()
        if (width < 0.85 * box.width) earlyWraps.push(lines[i])
      }
    }
  }
  const tables = [...document.querySelectorAll(".table")].map((b) => ({
    fits: b.scrollWidth <= b.clientWidth + 1,
    scrollsInBox: getComputedStyle(b).overflowX === "auto" || getComputedStyle(b).overflowX === "scroll"
  }))
  const pageOverflows = document.documentElement.scrollWidth > window.innerWidth + 1
  return { images, figures, clippedText, earlyWraps, tables, pageOverflows }
})()`

interface Pending {
  readonly resolve: (v: any) => void
  readonly reject: (e: Error) => void
}

/** One browser, one page at a time. */
export interface Browser {
  readonly openPage: (file: string, width?: number) => Promise<PageReport>
  readonly close: () => Promise<void>
}

const waitFor = (what: string, ms: number) => <A>(p: Promise<A>): Promise<A> =>
  Promise.race([p, new Promise<A>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))])

export const launch = async (chromium: string): Promise<Browser> => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "distmt-chromium-"))
  const child: ChildProcess = spawn(chromium, [
    "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
    "--hide-scrollbars", `--user-data-dir=${profile}`, "--remote-debugging-port=0", "about:blank"
  ], { stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  const endpoint = await waitFor("Chromium's DevTools address", 60_000)(new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (d) => {
      stderr += String(d)
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr)
      if (m !== null) resolve(m[1])
    })
    child.on("exit", (code) => reject(new Error(`${chromium} exited (${code}) before it listened: ${stderr.slice(-500)}`)))
  }))
  const ws = new WebSocket(endpoint)
  await waitFor("the DevTools connection", 30_000)(new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve())
    ws.addEventListener("error", () => reject(new Error(`cannot connect to ${endpoint}`)))
  }))
  let nextId = 1
  const pending = new Map<number, Pending>()
  const listeners: Array<(method: string, params: any, sessionId: string | undefined) => void> = []
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(String(ev.data))
    if (msg.id !== undefined) {
      const p = pending.get(msg.id)
      pending.delete(msg.id)
      if (msg.error !== undefined) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`))
      else p?.resolve(msg.result)
    } else for (const l of listeners) l(msg.method, msg.params, msg.sessionId)
  })
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      ws.send(JSON.stringify(sessionId === undefined ? { id, method, params } : { id, method, params, sessionId }))
    })

  const openPage = async (file: string, width = 1280): Promise<PageReport> => {
    const { targetId } = await send("Target.createTarget", { url: "about:blank" })
    const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true })
    const consoleErrors: Array<string> = []
    let loaded: () => void = () => {}
    const load = new Promise<void>((resolve) => (loaded = resolve))
    listeners.push((method, params, from) => {
      if (from !== sessionId) return
      if (method === "Runtime.consoleAPICalled" && (params.type === "error" || params.type === "assert")) {
        consoleErrors.push(`console.${params.type}: ${params.args.map((a: any) => a.value ?? a.description ?? "").join(" ")}`)
      } else if (method === "Runtime.exceptionThrown") {
        consoleErrors.push(`uncaught: ${params.exceptionDetails.exception?.description ?? params.exceptionDetails.text}`)
      } else if (method === "Log.entryAdded" && params.entry.level === "error") {
        consoleErrors.push(`${params.entry.source}: ${params.entry.text}${params.entry.url ? ` (${params.entry.url})` : ""}`)
      } else if (method === "Page.loadEventFired") loaded()
    })
    for (const m of ["Runtime.enable", "Log.enable", "Page.enable"]) await send(m, {}, sessionId)
    await send("Emulation.setDeviceMetricsOverride", { width, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId)
    await send("Page.navigate", { url: `file://${path.resolve(file)}` }, sessionId)
    await waitFor(`${file} to load`, 60_000)(load)
    // A moment for anything logged after the load event (a late image error).
    await new Promise((r) => setTimeout(r, 300))
    const result = await send("Runtime.evaluate", { expression: INSPECT, returnByValue: true }, sessionId)
    await send("Target.closeTarget", { targetId })
    if (result.exceptionDetails !== undefined) throw new Error(`the page check threw: ${result.exceptionDetails.text}`)
    return { consoleErrors, ...result.result.value }
  }

  const close = async () => {
    const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())))
    await send("Browser.close").catch(() => undefined)
    ws.close()
    // The profile is removed once the browser has stopped writing to it.
    await waitFor("Chromium to exit", 10_000)(exited).catch(() => child.kill("SIGKILL"))
    fs.rmSync(profile, { recursive: true, force: true })
  }
  return { openPage, close }
}

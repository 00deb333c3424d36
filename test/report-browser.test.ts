/**
 * The sweep report as a reader sees it, in a real headless Chromium (test/browser.ts): a tiny real
 * sweep is run with `distmt sweep`, then report.html is loaded and must show no console error, every
 * figure drawn with nothing cut off at its edge, no title wrapped before it had to, tables that fit
 * the page or scroll in their own box, and a page no wider than the window; every plots/*.svg that
 * report.md links must load as an image. The check itself is checked: a copy of the report with a
 * broken image, a console error, an empty chart and an over-wide paragraph planted in it must fail it.
 *
 * Needs Chromium: $DISTMT_CHROMIUM (tools/chromium.sh), else `chromium` on the PATH. Without one the
 * tests are skipped with a message, except under CI=true, where they fail.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Browser, browserTestsMode, findChromium, launch, type PageReport } from "./browser.ts"
import { tinySweepSpec } from "./fixtures/tinySweepSpec.ts"

const root = path.resolve(import.meta.dirname, "..")
const chromium = findChromium()
const mode = browserTestsMode(chromium)
if (mode === "skip") console.warn("report-browser tests SKIPPED: no Chromium (set DISTMT_CHROMIUM, or run tools/chromium.sh as root to install it)")

// A spec in specs/ so that `import ... from "distmt"` resolves as it does for users.
const specFile = path.join(root, "specs", `.report-browser-${process.pid}.spec.ts`)
// Two axes, one categorical: line charts against N and bars for each assignment.
const SPEC = tinySweepSpec("report-browser", "{ agents: [1, 2], assignment: [Assignment.partition(), Assignment.stream()] }", ["independent", "oracle"])

/** Every way a page can let its reader down, as lines; empty when the page is fine. */
const problems = (r: PageReport): Array<string> => [
  ...r.consoleErrors.map((e) => `console: ${e}`),
  ...r.images.filter((i) => !i.loaded).map((i) => `image not loaded: ${i.src}`),
  ...r.figures.filter((f) => f.width < 100 || f.height < 100 || f.dataMarks === 0).map((f) => `figure drew nothing: ${JSON.stringify(f)}`),
  ...r.clippedText.map((t) => `text cut off at a figure's edge: ${t}`),
  ...r.earlyWraps.map((t) => `title wrapped early after: ${t}`),
  ...r.tables.filter((t) => !t.fits && !t.scrollsInBox).map(() => "a table wider than the page"),
  ...(r.pageOverflows ? ["the page is wider than the window"] : [])
]

describe.skipIf(mode === "skip")("the sweep report in a real browser", () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "distmt-report-browser-")), "sweep")
  let browser: Browser | undefined

  beforeAll(async () => {
    if (mode === "fail") throw new Error("Chromium is needed under CI (tools/chromium.sh installs it and prints its path for DISTMT_CHROMIUM)")
    fs.writeFileSync(specFile, SPEC)
    const r = spawnSync(process.execPath, [path.join(root, "bin", "distmt.mjs"), "sweep", specFile, "--out", dir, "--jobs", "1"], {
      cwd: root,
      encoding: "utf8",
      timeout: 120_000
    })
    if (r.status !== 0) throw new Error(`distmt sweep failed: ${r.stderr}`)
    browser = await launch(chromium!)
  }, 180_000)

  afterAll(async () => {
    fs.rmSync(specFile, { force: true })
    await browser?.close()
  })

  it("report.html: no console error, every figure drawn, nothing cut off, no early wrap, nothing wider than the window", async () => {
    const md = fs.readFileSync(path.join(dir, "report.md"), "utf8")
    const linked = [...md.matchAll(/!\[[^\]]*\]\((plots\/[^)]+\.svg)\)/g)].map((m) => m[1])
    expect(linked).toEqual(expect.arrayContaining(["plots/episodes-vs-agents.svg", "plots/messages-vs-agents.svg", "plots/episodes-by-assignment.svg"]))
    for (const width of [1280, 800]) {
      const page = await browser!.openPage(path.join(dir, "report.html"), width)
      expect(problems(page), `at ${width} px`).toEqual([])
      // One inline figure per plot that report.md links.
      expect(page.figures).toHaveLength(linked.length)
    }
  })

  it("every plot report.md links loads as an image", async () => {
    const md = fs.readFileSync(path.join(dir, "report.md"), "utf8")
    const linked = [...md.matchAll(/!\[[^\]]*\]\((plots\/[^)]+\.svg)\)/g)].map((m) => m[1])
    const page = path.join(dir, "images.html")
    fs.writeFileSync(page, `<!DOCTYPE html><html><body>${linked.map((f) => `<img src="${f}" alt="${f}">`).join("\n")}</body></html>`)
    const r = await browser!.openPage(page)
    expect(r.images.map((i) => i.src)).toEqual(linked)
    expect(problems(r)).toEqual([])
  })

  it("the check fails a page with a broken image, a console error or content wider than the window", async () => {
    const html = fs.readFileSync(path.join(dir, "report.html"), "utf8")
    const planted = path.join(dir, "planted.html")
    fs.writeFileSync(
      planted,
      html.replace(
        "</body>",
        `<img src="plots/no-such-plot.svg" alt="missing">\n<script>console.error("planted error")</script>\n` +
          // A figure with axes and a title but nothing in its plot, as a chart whose every value was invalid comes out.
          `<figure><svg width="600" height="400"><g class="mark-rect role-mark marks"></g><text x="10" y="20">An empty chart</text></svg></figure>\n` +
          `<p style="white-space: nowrap">${"an over-wide line ".repeat(200)}</p>\n</body>`
      )
    )
    const found = problems(await browser!.openPage(planted))
    expect(found).toContain("image not loaded: plots/no-such-plot.svg")
    expect(found.some((p) => p.includes("planted error"))).toBe(true)
    expect(found.some((p) => p.includes("no-such-plot.svg") && p.startsWith("console:"))).toBe(true)
    expect(found).toContain("the page is wider than the window")
    expect(found).toContain('figure drew nothing: {"width":600,"height":400,"dataMarks":0}')
    // And the untouched report still passes: what failed was what was planted.
    expect(problems(await browser!.openPage(path.join(dir, "report.html")))).toEqual([])
  })
})

import { launch } from "./test/browser.ts"
const b = await launch("/usr/bin/chromium")
const r = await b.openPage("/tmp/s6/report.html")
console.log(JSON.stringify(r.figures), r.consoleErrors, r.clippedText, r.earlyWraps, r.pageOverflows)
await b.close()

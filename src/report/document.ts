/**
 * A tiny document model for the report, rendered both to Markdown (report.md, plots linked) and
 * to one self-contained HTML page (report.html, plots inlined). Paragraph text may use `**bold**`
 * and `` `code` ``, the only markup the report writes.
 */

export type Block =
  | { readonly _tag: "Heading"; readonly level: 1 | 2 | 3; readonly text: string }
  | { readonly _tag: "Paragraph"; readonly text: string }
  | { readonly _tag: "List"; readonly items: ReadonlyArray<string> }
  | { readonly _tag: "Table"; readonly header: ReadonlyArray<string>; readonly rows: ReadonlyArray<ReadonlyArray<string>>; readonly caption?: string }
  | { readonly _tag: "Plot"; readonly file: string; readonly alt: string; readonly svg: string; readonly note?: string }

export const heading = (level: 1 | 2 | 3, text: string): Block => ({ _tag: "Heading", level, text })
export const paragraph = (text: string): Block => ({ _tag: "Paragraph", text })
export const list = (items: ReadonlyArray<string>): Block => ({ _tag: "List", items })
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, caption?: string): Block =>
  caption === undefined ? { _tag: "Table", header, rows } : { _tag: "Table", header, rows, caption }
/** `note`: what the reader must be told under the figure (which lines coincide), in both renderings. */
export const plot = (file: string, alt: string, svg: string, note?: string): Block =>
  note === undefined ? { _tag: "Plot", file, alt, svg } : { _tag: "Plot", file, alt, svg, note }

const mdCell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ")

export const toMarkdown = (blocks: ReadonlyArray<Block>): string =>
  blocks
    .map((b) => {
      switch (b._tag) {
        case "Heading":
          return `${"#".repeat(b.level)} ${b.text}`
        case "Paragraph":
          return b.text
        case "List":
          return b.items.map((i) => `- ${i}`).join("\n")
        case "Table": {
          const numeric = b.header.map((_, i) => b.rows.length > 0 && b.rows.every((r) => /^[−\-+]?[\d,.]+|^—$/.test(r[i] ?? "")))
          const lines = [
            `| ${b.header.map(mdCell).join(" | ")} |`,
            `| ${numeric.map((n) => (n ? "---:" : "---")).join(" | ")} |`,
            ...b.rows.map((r) => `| ${r.map(mdCell).join(" | ")} |`)
          ]
          return b.caption === undefined ? lines.join("\n") : `${b.caption}\n\n${lines.join("\n")}`
        }
        case "Plot":
          return `![${b.alt}](${b.file})${b.note === undefined ? "" : `\n\n*${b.note}*`}`
      }
    })
    .join("\n\n") + "\n"

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** `**bold**` and `` `code` `` to HTML, everything else escaped. */
const inline = (s: string) =>
  escapeHtml(s)
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/`([^`]+)`/g, "<code>$1</code>")

/** An SVG as Vega writes it, made safe to inline: no XML declaration, no script. */
const inlineSvg = (svg: string) => svg.replace(/<\?xml[^>]*\?>/, "").replace(/<script[\s\S]*?<\/script>/gi, "")

export const toHtml = (title: string, blocks: ReadonlyArray<Block>): string => {
  const body = blocks
    .map((b) => {
      switch (b._tag) {
        case "Heading":
          return `<h${b.level}>${inline(b.text)}</h${b.level}>`
        case "Paragraph":
          return `<p>${inline(b.text)}</p>`
        case "List":
          return `<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join("")}</ul>`
        case "Table":
          return (b.caption === undefined ? "" : `<p class="caption">${inline(b.caption)}</p>`) +
            `<div class="table"><table><thead><tr>${b.header.map((h) => `<th>${inline(h)}</th>`).join("")}</tr></thead><tbody>` +
            b.rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("") +
            `</tbody></table></div>`
        case "Plot":
          return `<figure>${inlineSvg(b.svg)}<figcaption>${inline(b.alt)}${b.note === undefined ? "" : `. ${inline(b.note)}`}</figcaption></figure>`
      }
    })
    .join("\n")
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
code { background: #f3f3f3; padding: 0 .25em; border-radius: 3px; }
figure { margin: 1.2em 0; } figure svg { max-width: 100%; height: auto; } figcaption { color: #555; font-size: .9em; }
/* A table fits the page: headers wrap, numbers do not; a table still too wide scrolls in its own box, not the page. */
.table { overflow-x: auto; max-width: 100%; } table { border-collapse: collapse; font-size: .85em; margin: .5em 0 1em; }
th, td { border: 1px solid #ddd; padding: .25em .5em; text-align: right; }
td { white-space: nowrap; } th { background: #f5f5f5; vertical-align: bottom; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
.caption { margin-bottom: .2em; font-weight: bold; }
</style>
</head>
<body>
${body}
</body>
</html>
`
}

/**
 * Text widths for the plots. Vega renders SVG in Node without a canvas, and without one it guesses
 * every character to be 0.8 em wide: titles then had to be wrapped at about 44 characters to keep
 * the SVG from widening, and legend labels were cut short. Here Vega measures with the advance
 * widths of DejaVu Sans instead (the report's first font, and wider than Helvetica or Arial, its
 * fall-backs, so a line measured here never overflows in a browser): `useFontMetrics` installs
 * `textWidth` as Vega's `textMetrics.width`, a hook Vega provides for exactly this.
 *
 * The tables are the fonts' `hmtx` advance widths in thousandths of an em, read from DejaVu Sans
 * 2.37 (DejaVuSans.ttf and DejaVuSans-Bold.ttf), for printable ASCII and the symbols the report writes.
 */

/** Advance widths of the characters 32 (space) to 126 (~), regular and bold. */
const ASCII_REGULAR = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337,
  838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684,
  989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411,
  521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838
]
const ASCII_BOLD = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400,
  400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812,
  774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716,
  716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838
]

/** Symbols beyond ASCII: [regular, bold]. */
const SYMBOLS: Readonly<Record<string, readonly [number, number]>> = {
  "−": [838, 838], "–": [500, 500], "—": [1000, 1000], "…": [1000, 1000], "×": [838, 838], "÷": [838, 838], "≤": [838, 838],
  "≥": [838, 838], "±": [838, 838], "∝": [714, 712], "ε": [541, 557], "δ": [612, 687], "β": [638, 716], "λ": [592, 633],
  "μ": [636, 736], "π": [602, 791], "σ": [634, 779], "Σ": [632, 683], "κ": [589, 710], "ι": [338, 390], "θ": [612, 687],
  "·": [318, 380], "√": [637, 667], "²": [401, 438], "³": [401, 438], "⁻": [528, 528], "¹": [401, 438], "₀": [401, 438],
  "₁": [401, 438], "₂": [401, 438], "‖": [500, 500], "→": [838, 838], "∈": [871, 896], "≈": [838, 838], "Λ": [684, 774],
  "Õ": [787, 850], "\u0304": [0, 0]
}

/** Any other character: as wide as the widest common letters, so that an estimate errs on the wide side. */
const OTHER = [1000, 1100] as const

/** The width in pixels of `text` at `fontSize` px, regular or bold. */
export const measure = (text: string, fontSize: number, bold = false): number => {
  let units = 0
  for (const ch of text) {
    const code = ch.codePointAt(0)!
    if (code >= 32 && code <= 126) units += (bold ? ASCII_BOLD : ASCII_REGULAR)[code - 32]
    else units += SYMBOLS[ch]?.[bold ? 1 : 0] ?? OTHER[bold ? 1 : 0]
  }
  return (units / 1000) * fontSize
}

/** What Vega passes for a text item: its font size and weight (a keyword or a number). */
interface TextItem {
  readonly fontSize?: number
  readonly fontWeight?: string | number
  readonly text?: unknown
}

const isBold = (w: string | number | undefined) => w === "bold" || w === "bolder" || (typeof w === "number" ? w >= 600 : Number(w) >= 600)

/** Vega's `textMetrics.width(item, text)`: the item's text (or `text`) measured in its font size and weight. */
export const textWidth = (item: TextItem, text?: unknown): number => {
  const t = text ?? item.text
  if (t === undefined || t === null) return 0
  return measure(String(t), item.fontSize ?? 11, isBold(item.fontWeight))
}

/**
 * Splits text into lines no wider than `width` pixels at `fontSize`: a title uses the whole width
 * of its chart before it wraps. A single word wider than the width stays whole on its line.
 */
export const wrapToWidth = (text: string, width: number, fontSize: number, bold = false): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    const candidate = line === "" ? word : `${line} ${word}`
    if (line !== "" && measure(candidate, fontSize, bold) > width) {
      lines.push(line)
      line = word
    } else line = candidate
  }
  if (line !== "") lines.push(line)
  return lines
}

let installed = false

/** Makes Vega measure text with these widths (once per process). */
export const useFontMetrics = (vega: { readonly textMetrics: { width: (item: any, text?: any) => number } }): void => {
  if (installed) return
  vega.textMetrics.width = textWidth
  installed = true
}

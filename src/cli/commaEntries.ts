/**
 * The entries of a flag that lists values by commas (`bench forgetting --tasks` and `--lambdas`),
 * none if it is blank. An empty entry (`a,,b`, or a trailing
 * comma) is refused: it was dropped in silence, and the command ran without it.
 */
export const commaEntries = (s: string): Array<string> => {
  if (s.trim() === "") return []
  const parts = s.split(",").map((p) => p.trim())
  const empty = parts.findIndex((p) => p === "")
  if (empty >= 0) throw new RangeError(`entry ${empty + 1} of ${JSON.stringify(s)} is empty: give a value between each two commas`)
  return parts
}

/**
 * Series that lie on top of each other in a line chart. A reader must never lose a line under
 * another without being told: the chart names every group of series that coincide (in its legend
 * and the figure's caption), and moves the markers of coinciding data series a few pixels apart
 * sideways, so that each one shows.
 *
 * "Coincide" is judged on the drawn scale: two points at the same x whose y differ by less than
 * 1.5% of the y axis' span (about 5 of its 320 pixels, less than a marker) hide one another.
 */

export interface Drawn {
  readonly name: string
  /** Data series have markers and can be moved apart; fitted and reference lines cannot. */
  readonly data: boolean
  readonly points: ReadonlyArray<{ readonly x: number; readonly y: number }>
}

const TOLERANCE = 0.015

/** Pixels between the markers of coinciding data series. */
export const DODGE_PX = 7

/** A y value on the drawn scale (log axes compare logarithms). */
const onScale = (y: number, log: boolean) => (log ? Math.log(y) : y)

export interface Coincidence {
  /** Names of the series that coincide, in chart order. */
  readonly names: ReadonlyArray<string>
  /** Where: at every x that they share (`undefined`), or at these x values only. */
  readonly at: ReadonlyArray<number> | undefined
}

/**
 * Connected components of `pairs` over `n` items (union–find): the pairs A–B and B–C make one
 * group {A, B, C}; pairs that share nothing stay apart.
 */
const components = (n: number, pairs: ReadonlyArray<readonly [number, number]>): Array<Array<number>> => {
  const parent = Array.from({ length: n }, (_, i) => i)
  const find = (i: number): number => (parent[i] === i ? i : find(parent[i]))
  for (const [a, b] of pairs) parent[find(b)] = find(a)
  const out = new Map<number, Array<number>>()
  for (const [a, b] of pairs) {
    for (const i of [a, b]) {
      const g = out.get(find(i)) ?? []
      if (!g.includes(i)) g.push(i)
      out.set(find(i), g)
    }
  }
  return [...out.values()].map((g) => g.sort((a, b) => a - b))
}

/**
 * Groups of series that coincide, and where. At each x, the series that have a point there are
 * clustered by y (neighbours closer than the tolerance join); x values with the same cluster are
 * then taken together: "A, B and C at x = 1, 2, 4", "A and C at x = 8". A cluster found at every x
 * where any of its members is drawn is said to coincide without an "at".
 */
export const coincidences = (series: ReadonlyArray<Drawn>, logY: boolean): Array<Coincidence> => {
  const ys = series.flatMap((s) => s.points.map((p) => onScale(p.y, logY))).filter(Number.isFinite)
  const span = ys.length === 0 ? 0 : Math.max(...ys) - Math.min(...ys)
  const tolerance = Math.max(TOLERANCE * span, 1e-12)
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b)
  const places = new Map<string, { members: Array<number>; at: Array<number> }>()
  for (const x of xs) {
    const here = series.flatMap((s, i) => s.points.filter((p) => p.x === x).map((p) => ({ i, y: onScale(p.y, logY) })))
    here.sort((a, b) => a.y - b.y)
    let cluster: Array<{ i: number; y: number }> = []
    const close = () => {
      if (cluster.length >= 2) {
        const members = [...new Set(cluster.map((c) => c.i))].sort((a, b) => a - b)
        const key = members.join(",")
        const place = places.get(key) ?? { members, at: [] }
        place.at.push(x)
        places.set(key, place)
      }
    }
    for (const h of here) {
      if (cluster.length > 0 && h.y - cluster[cluster.length - 1].y > tolerance) {
        close()
        cluster = []
      }
      cluster.push(h)
    }
    close()
  }
  return [...places.values()].map(({ members, at }) => {
    // Together at every x where any of them is drawn: they coincide, full stop; else say where.
    const drawn = xs.filter((x) => members.some((i) => series[i].points.some((p) => p.x === x)))
    return { names: members.map((i) => series[i].name), at: at.length === drawn.length ? undefined : at }
  })
}

/** "A and B", "A, B and C". */
export const nameList = (xs: ReadonlyArray<string>) => (xs.length <= 2 ? xs.join(" and ") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`)

const number = (x: number) => Number(x.toPrecision(4)).toString()

/** One sentence per group, for the legend and the caption; `moved`: the series whose markers were moved apart. */
export const coincidenceNotes = (groups: ReadonlyArray<Coincidence>, xTitle: string, moved: ReadonlyMap<string, number>): Array<string> => {
  // The axis by its name, without its parenthetical: "separation cSep", not "separation cSep (declared = actual)".
  const x = xTitle.replace(/\s*\(.*\)\s*$/, "")
  return groups.map((g) =>
    `${nameList(g.names)} coincide${g.at === undefined ? "" : ` at ${x} = ${g.at.map(number).join(", ")}`}` +
      (g.names.filter((n) => moved.has(n)).length >= 2 ? " (markers moved a few pixels apart)" : "")
  )
}

/**
 * The sideways offset, in pixels, of each data series: the data series of each connected group of
 * coinciding ones are spread around their true position, DODGE_PX apart; every other series stays.
 */
export const dodgeOffsets = (series: ReadonlyArray<Drawn>, groups: ReadonlyArray<Coincidence>): Map<string, number> => {
  // Connected over the data series only: a fitted line cannot move, so it takes no part.
  const index = new Map(series.flatMap((s, i) => (s.data ? [[s.name, i] as const] : [])))
  const pairs = groups.flatMap((g) => {
    const members = g.names.flatMap((n) => (index.has(n) ? [index.get(n)!] : []))
    return members.slice(1).map((m) => [members[0], m] as const)
  })
  const out = new Map<string, number>()
  for (const members of components(series.length, pairs)) {
    members.forEach((i, k) => out.set(series[i].name, (k - (members.length - 1) / 2) * DODGE_PX))
  }
  return out
}

/**
 * A byte count for people, the one way every command, table and report shows a size: binary units
 * up to EiB, one decimal above bytes ("768 B", "81.3 KiB", "3.3 TiB"), "—" for a count that is not a
 * number. There were three: run's table and the sweep report's (KiB and MiB only: a 3 TiB replay
 * read "3450394.5 MiB"), and the cost messages' (whole units from 10 up: "81 KiB" there was
 * "81.3 KiB" in the run's table).
 */
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

export const bytes = (n: number): string => {
  if (!Number.isFinite(n)) return "—"
  let i = 0
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024
    i++
  }
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${UNITS[i]}`
}

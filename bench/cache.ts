/**
 * Reading other memory to leave none of the learner's data in the machine's last-level cache, for
 * the benches that time the update "cold" (bench/lsvi_floors.ts, bench/lsvi_gaps.ts).
 */
import { readFileSync } from "node:fs"

/** Bytes of the last-level cache as Linux's sysfs reports it (index3 is the L3 where there is one), or undefined. */
const lastLevelCacheBytes = (): number | undefined => {
  for (const index of [3, 2]) {
    try {
      const text = readFileSync(`/sys/devices/system/cpu/cpu0/cache/index${index}/size`, "utf8").trim()
      const m = /^(\d+)([KMG]?)$/.exec(text)
      if (m !== null) return Number(m[1]) * { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[m[2] as "" | "K" | "M" | "G"]
    } catch {
      // no such cache level, or no sysfs: try the next
    }
  }
  return undefined
}

/**
 * Other memory twice the last-level cache (at least 96 MiB, where Linux does not report it),
 * touched once so that every later read is of memory that is there; `evict` reads one value of each
 * 64-byte line of it and returns their sum (for the caller's sink, so the reads are not dropped).
 */
export const otherMemory = (): { readonly mib: number; readonly evict: () => number } => {
  const bytes = Math.max(96 * 2 ** 20, 2 * (lastLevelCacheBytes() ?? 0))
  const other = new Float64Array(bytes / 8)
  other.fill(1)
  return {
    mib: bytes / 2 ** 20,
    evict: () => {
      let sum = 0
      for (let i = 0; i < other.length; i += 8) sum += other[i]
      return sum
    }
  }
}

/**
 * The size of the machine's last-level cache, for the benches that read other memory to leave none
 * of the learner's data in it (bench/lsvi_floors.ts, bench/lsvi_gaps.ts).
 */
import { readFileSync } from "node:fs"

/** Bytes of the last-level cache as Linux's sysfs reports it (index3 is the L3 where there is one), or undefined. */
export const lastLevelCacheBytes = (): number | undefined => {
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

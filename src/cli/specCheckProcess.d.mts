import type { ChildProcess } from "node:child_process"

/** The check's heap limit in MiB. */
export declare const CHECK_HEAP_MB: number
/** Starts a check process now, for the tool to take later; it does not keep the tool alive. */
export declare const startCheckAhead: () => void
/** The process started ahead, if any (once), else a new one; it waits for its request on stdin. */
export declare const takeCheckProcess: () => ChildProcess

/** Types of resolveSelf.mjs (plain JavaScript, loaded by bin/distmt.mjs before tsx). */

/** Registers, once per thread, the hook that resolves a spec's `import … from "distmt"` to this package when nothing else does. */
export declare const resolveDistmtAnywhere: () => void

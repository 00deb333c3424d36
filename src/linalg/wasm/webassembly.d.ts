/**
 * The few WebAssembly JS-API declarations the kernels use. TypeScript ships them only with the DOM
 * libraries, which this Node project does not load (tsconfig "lib": ES2022).
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number
    maximum?: number
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor)
    readonly buffer: ArrayBuffer
    grow(deltaPages: number): number
  }
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer)
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>)
    readonly exports: Record<string, unknown>
  }
  function validate(bytes: ArrayBufferView | ArrayBuffer): boolean
}

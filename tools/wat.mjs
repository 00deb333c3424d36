// WebAssembly text → binary with wabt (the WebAssembly Binary Toolkit), SIMD enabled.
// Shared by tools/build-wasm.mjs and the test that checks the embedded bytes against the source.
import wabtInit from "wabt"

export const compileWat = async (text) => {
  const wabt = await wabtInit()
  const mod = wabt.parseWat("lsvi.wat", text, { simd: true })
  try {
    mod.validate()
    return Uint8Array.from(mod.toBinary({ log: false, write_debug_names: false }).buffer)
  } finally {
    mod.destroy()
  }
}

// WebAssembly text → binary with wabt (the WebAssembly Binary Toolkit), SIMD enabled.
// Shared by tools/build-wasm.mjs and the test that checks the embedded bytes against the source.
//
// lsviSweep.wat, lsviFull.wat and step.wat use fused multiply-adds (`f64x2.relaxed_madd`,
// `f32x4.relaxed_madd`, relaxed SIMD). For runtimes without relaxed SIMD the same source is also compiled with every
// `(T.relaxed_madd a b c)` written as `(T.add (T.mul a b) c)` (`{ fma: false }`): the same kernels,
// one rounding more per step.
import wabtInit from "wabt"

/** The text with each folded `(T.relaxed_madd a b c)` replaced by `(T.add (T.mul a b) c)`, T = f64x2 and f32x4. */
export const withoutFma = (text) => withoutFmaOf("f32x4", withoutFmaOf("f64x2", text))

const withoutFmaOf = (type, text) => {
  const head = `(${type}.relaxed_madd`
  let out = ""
  let at = 0
  for (;;) {
    const i = text.indexOf(head, at)
    if (i < 0) return out + text.slice(at)
    out += text.slice(at, i)
    // Split the three operands: balanced parenthesised expressions after the head.
    const args = []
    let j = i + head.length
    while (args.length < 3) {
      while (text[j] === " " || text[j] === "\n") j++
      if (text[j] !== "(") throw new Error(`withoutFma: expected a folded operand at ${j}`)
      let depth = 0
      const from = j
      do {
        if (text[j] === "(") depth++
        else if (text[j] === ")") depth--
        j++
      } while (depth > 0)
      // an operand may itself hold a multiply-add: rewritten too
      args.push(withoutFmaOf(type, text.slice(from, j)))
    }
    while (text[j] !== ")") j++
    out += `(${type}.add (${type}.mul ${args[0]} ${args[1]}) ${args[2]})`
    at = j + 1
  }
}

export const compileWat = async (text, { fma = true } = {}) => {
  const wabt = await wabtInit()
  const mod = wabt.parseWat("module.wat", fma ? text : withoutFma(text), { simd: true, relaxed_simd: fma })
  try {
    mod.validate()
    return Uint8Array.from(mod.toBinary({ log: false, write_debug_names: false }).buffer)
  } finally {
    mod.destroy()
  }
}

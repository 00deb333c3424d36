;; The DQN learner's per-parameter loop in WebAssembly with 128-bit SIMD (four float32 lanes): one
;; Adam step over every parameter at once, with the EWC penalty's gradient added first. The ONNX
;; graph computes the gradients (src/deep/onnx/graphs.ts); this replaces the dozen element-wise
;; graph ops that Adam took there, each a full pass over the 131k-entry dense layer.
;; `npm run build:wasm` compiles this file into dqnWasm.ts; test/dqn-engine.test.ts checks that the
;; embedded bytes are this source compiled and that the step equals the reference's (reference.ts).
;;
;; Conventions. Pointers are byte offsets into the imported memory, on 16-byte boundaries; `n` is a
;; count of float32 entries, a multiple of 4 (the engine pads the parameters with zeros, whose
;; gradients and moments stay zero, so the padding never moves).
(module
  (import "env" "memory" (memory 1))

  ;; x with every lane of magnitude below the smallest normal float32 set to +0. Adam's moments of
  ;; weights whose gradient has become zero decay geometrically into subnormal floats, which x86
  ;; computes very slowly; WebAssembly keeps them (no flush-to-zero mode), so flush them here.
  (func $flush (param $x v128) (result v128)
    (v128.and (local.get $x)
      (f32x4.ge (f32x4.abs (local.get $x)) (v128.const f32x4 1.1754944e-38 1.1754944e-38 1.1754944e-38 1.1754944e-38))))

  ;; One Adam step, PyTorch's formula (reference.ts `adamStep`), over n entries; nb1 = 1 − β₁ and
  ;; nb2 = 1 − β₂ come computed in float64 (1 − 0.999 in float32 is off by 1.3e-5 relative):
  ;;   g ← g + λF·(θ − θ*)           (only when ewc ≠ 0: `lf` holds λF, `anchor` θ*)
  ;;   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²
  ;;   θ ← θ − step·m / (√v · invSqrtBc2 + ε),  step = lr/(1 − β₁ᵗ), invSqrtBc2 = 1/√(1 − β₂ᵗ)
  (func (export "adam")
    (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f32) (param $nb1 f32) (param $b2 f32) (param $nb2 f32)
    (param $step f32) (param $ibc f32) (param $eps f32)
    (param $ewc i32) (param $lf i32) (param $anchor i32)
    (local $end i32) (local $B1 v128) (local $NB1 v128) (local $B2 v128) (local $NB2 v128)
    (local $STEP v128) (local $IBC v128) (local $EPS v128)
    (local $gv v128) (local $wv v128) (local $mv v128) (local $vv v128)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $NB1 (f32x4.splat (local.get $nb1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $NB2 (f32x4.splat (local.get $nb2)))
    (local.set $STEP (f32x4.splat (local.get $step)))
    (local.set $IBC (f32x4.splat (local.get $ibc)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
        (local.set $gv (v128.load (local.get $g)))
        (local.set $wv (v128.load (local.get $w)))
        (if (local.get $ewc)
          (then
            (local.set $gv (f32x4.add (local.get $gv)
              (f32x4.mul (v128.load (local.get $lf)) (f32x4.sub (local.get $wv) (v128.load (local.get $anchor))))))
            (local.set $lf (i32.add (local.get $lf) (i32.const 16)))
            (local.set $anchor (i32.add (local.get $anchor) (i32.const 16)))))
        (local.set $mv (call $flush (f32x4.add
          (f32x4.mul (local.get $B1) (v128.load (local.get $m)))
          (f32x4.mul (local.get $NB1) (local.get $gv)))))
        (local.set $vv (call $flush (f32x4.add
          (f32x4.mul (local.get $B2) (v128.load (local.get $v)))
          (f32x4.mul (local.get $NB2) (f32x4.mul (local.get $gv) (local.get $gv))))))
        (v128.store (local.get $m) (local.get $mv))
        (v128.store (local.get $v) (local.get $vv))
        (v128.store (local.get $w) (f32x4.sub (local.get $wv)
          (f32x4.div (f32x4.mul (local.get $STEP) (local.get $mv))
            (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $vv)) (local.get $IBC)) (local.get $EPS)))))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (br $next))))
)

;; Two loops of the DQN learner in WebAssembly with 128-bit SIMD (four float32 lanes):
;; - `adam`: one Adam step over every parameter at once, with the EWC penalty's gradient added
;;   first. The ONNX graph computes the gradients (src/deep/onnx/graphs.ts); this replaces the dozen
;;   element-wise graph ops that Adam took there, each a full pass over the dense layer.
;; - `act`: the Q-values of one observation (acting), without onnxruntime's per-call overhead,
;;   which was most of a batch-1 forward pass.
;; The training step's other loops are in step.wat, over the same memory. `npm run build:wasm`
;; compiles this file into dqnWasm.ts; test/dqn-engine.test.ts checks that the embedded bytes are
;; this source compiled and that the step equals the reference's (reference.ts).
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
  ;; dot(x, y) over n entries (n a multiple of 4): four accumulators, 16 entries per iteration.
  (func $dot (param $x i32) (param $y i32) (param $n i32) (result f32)
    (local $end i32) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $x)) (v128.load (local.get $y)))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $x)) (v128.load offset=16 (local.get $y)))))
        (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $x)) (v128.load offset=32 (local.get $y)))))
        (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $x)) (v128.load offset=48 (local.get $y)))))
        (local.set $x (i32.add (local.get $x) (i32.const 64)))
        (local.set $y (i32.add (local.get $y) (i32.const 64)))
        (br $next)))
    ;; The last n mod 16 entries, four at a time.
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 12)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $x)) (v128.load (local.get $y)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $next)))
    (local.set $s0 (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $s0)) (f32x4.extract_lane 1 (local.get $s0)))
      (f32.add (f32x4.extract_lane 2 (local.get $s0)) (f32x4.extract_lane 3 (local.get $s0)))))

  ;; out[j] = act(b[j] + dot(W[j], x)) for j < rows, W rows of n entries (n a multiple of 4);
  ;; act is ReLU when relu ≠ 0, else the identity.
  (func $dense (param $W i32) (param $b i32) (param $x i32) (param $n i32) (param $rows i32) (param $out i32) (param $relu i32)
    (local $j i32) (local $z f32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $rows)))
        (local.set $z (f32.add (f32.load (local.get $b)) (call $dot (local.get $W) (local.get $x) (local.get $n))))
        (if (local.get $relu) (then (local.set $z (f32.max (local.get $z) (f32.const 0)))))
        (f32.store (local.get $out) (local.get $z))
        (local.set $W (i32.add (local.get $W) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next))))

  ;; Q-values of one observation x [C,10,10] (network.ts): h1 = ReLU(conv3×3(x) + b1) [K,8,8],
  ;; h2 = ReLU(W2 h1 + b2) [H], q = W3 h2 + b3 [A]. w1..b3 point at the six parameter tensors
  ;; (H a multiple of 4). The convolution runs along rows: for each filter k, output row oy and
  ;; tap (c, ky, kx), the eight outputs of the row gain w · x[c, oy + ky, kx .. kx + 7], two
  ;; unaligned four-lane loads.
  (func (export "act")
    (param $w1 i32) (param $b1 i32) (param $w2 i32) (param $b2 i32) (param $w3 i32) (param $b3 i32)
    (param $x i32) (param $h1 i32) (param $h2 i32) (param $q i32)
    (param $C i32) (param $K i32) (param $H i32) (param $A i32)
    (local $k i32) (local $oy i32) (local $c i32) (local $ky i32) (local $kx i32)
    (local $lo v128) (local $hi v128) (local $w v128) (local $row i32) (local $wk i32) (local $out i32)
    (local.set $out (local.get $h1))
    (local.set $wk (local.get $w1))
    (block $kdone
      (loop $knext
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $K)))
        (local.set $oy (i32.const 0))
        (block $ydone
          (loop $ynext
            (br_if $ydone (i32.ge_u (local.get $oy) (i32.const 8)))
            (local.set $lo (f32x4.splat (f32.load (i32.add (local.get $b1) (i32.shl (local.get $k) (i32.const 2))))))
            (local.set $hi (local.get $lo))
            (local.set $c (i32.const 0))
            (block $cdone
              (loop $cnext
                (br_if $cdone (i32.ge_u (local.get $c) (local.get $C)))
                (local.set $ky (i32.const 0))
                (block $kydone
                  (loop $kynext
                    (br_if $kydone (i32.ge_u (local.get $ky) (i32.const 3)))
                    ;; x[c, oy + ky, 0] and w1[k, c, ky, 0]
                    (local.set $row (i32.add (local.get $x)
                      (i32.shl (i32.add (i32.mul (local.get $c) (i32.const 100))
                        (i32.mul (i32.add (local.get $oy) (local.get $ky)) (i32.const 10))) (i32.const 2))))
                    (local.set $kx (i32.const 0))
                    (block $kxdone
                      (loop $kxnext
                        (br_if $kxdone (i32.ge_u (local.get $kx) (i32.const 3)))
                        (local.set $w (f32x4.splat (f32.load (i32.add (local.get $wk)
                          (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $c) (i32.const 3)) (local.get $ky)) (i32.const 3)) (local.get $kx)) (i32.const 2))))))
                        (local.set $lo (f32x4.add (local.get $lo) (f32x4.mul (local.get $w) (v128.load (local.get $row)))))
                        (local.set $hi (f32x4.add (local.get $hi) (f32x4.mul (local.get $w) (v128.load offset=16 (local.get $row)))))
                        (local.set $row (i32.add (local.get $row) (i32.const 4)))
                        (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                        (br $kxnext)))
                    (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                    (br $kynext)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cnext)))
            (v128.store (local.get $out) (f32x4.max (local.get $lo) (f32x4.splat (f32.const 0))))
            (v128.store offset=16 (local.get $out) (f32x4.max (local.get $hi) (f32x4.splat (f32.const 0))))
            (local.set $out (i32.add (local.get $out) (i32.const 32)))
            (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
            (br $ynext)))
        (local.set $wk (i32.add (local.get $wk) (i32.mul (local.get $C) (i32.const 36))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $knext)))
    (call $dense (local.get $w2) (local.get $b2) (local.get $h1) (i32.shl (local.get $K) (i32.const 6)) (local.get $H) (local.get $h2) (i32.const 1))
    (call $dense (local.get $w3) (local.get $b3) (local.get $h2) (local.get $H) (local.get $A) (local.get $q) (i32.const 0)))
)

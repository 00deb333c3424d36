;; The DQN learner's acting pass in WebAssembly with 128-bit SIMD (four float32 lanes): `act`, the
;; Q-values of one observation, without onnxruntime's per-call overhead, which was most of a
;; batch-1 forward pass. The training step's loops (the convolution, the dense weight gradient and
;; Adam) are in step.wat, over the same memory. `npm run build:wasm` compiles this file into
;; dqnWasm.ts; test/dqn-engine.test.ts checks that the embedded bytes are this source compiled and
;; that the Q-values equal the reference's (reference.ts).
;;
;; Conventions. Pointers are byte offsets into the imported memory, on 16-byte boundaries.
(module
  (import "env" "memory" (memory 1))

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

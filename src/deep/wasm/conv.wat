;; The convolution of the DQN's training step in WebAssembly with 128-bit SIMD (four float32
;; lanes): `convForward`, the convolution's output for a batch from the observations' lit cells,
;; for the online network (with ReLU's mask and the patches the filter gradient needs) and the
;; target network. It runs beside step.wat and dqn.wat in the same memory (wasm/kernels.ts
;; instantiates all three over it) and keeps the graph's inputs and outputs small
;; (src/deep/onnxEngine.ts says why that matters; docs/deep.md, "How a step runs").
;; `npm run build:wasm` compiles this file into convWasm.ts; test/dqn-engine.test.ts checks that
;; the embedded bytes are this source compiled and that the step equals the reference's.
;;
;; Conventions: pointers are byte offsets into the imported memory, on 16-byte boundaries.
(module
  (import "env" "memory" (memory 1))
  ;; z[oy·8 + ox, ·] += v · w1t[c·9 + ky·3 + kx, ·] for the ≤ 9 taps (ky, kx) whose output
  ;; position (oy, ox) = (y − ky, x − kx) lies inside the 8×8 grid, and unless patch = 0 the
  ;; entry patch[oy·8 + ox, c·9 + ky·3 + kx] = v of the patches (rows of patchBytes) (convForward).
  (func $scatter (param $z i32) (param $w1t i32) (param $rowBytes i32) (param $v f32) (param $c i32) (param $y i32) (param $x i32)
    (param $patch i32) (param $patchBytes i32)
    (local $vv v128) (local $ky i32) (local $kx i32) (local $oy i32) (local $ox i32) (local $zr i32) (local $wr i32) (local $end i32)
    (local.set $vv (f32x4.splat (local.get $v)))
    (block $kydone
      (loop $kynext
        (br_if $kydone (i32.ge_u (local.get $ky) (i32.const 3)))
        (local.set $oy (i32.sub (local.get $y) (local.get $ky)))
        (if (i32.lt_u (local.get $oy) (i32.const 8))
          (then
            (local.set $kx (i32.const 0))
            (block $kxdone
              (loop $kxnext
                (br_if $kxdone (i32.ge_u (local.get $kx) (i32.const 3)))
                (local.set $ox (i32.sub (local.get $x) (local.get $kx)))
                (if (i32.lt_u (local.get $ox) (i32.const 8))
                  (then
                    (if (local.get $patch)
                      (then (f32.store
                        (i32.add (local.get $patch)
                          (i32.add (i32.mul (i32.add (i32.shl (local.get $oy) (i32.const 3)) (local.get $ox)) (local.get $patchBytes))
                            (i32.shl (i32.add (i32.mul (local.get $c) (i32.const 9)) (i32.add (i32.mul (local.get $ky) (i32.const 3)) (local.get $kx))) (i32.const 2))))
                        (local.get $v))))
                    (local.set $zr (i32.add (local.get $z) (i32.mul (i32.add (i32.shl (local.get $oy) (i32.const 3)) (local.get $ox)) (local.get $rowBytes))))
                    (local.set $wr (i32.add (local.get $w1t)
                      (i32.mul (i32.add (i32.mul (local.get $c) (i32.const 9)) (i32.add (i32.mul (local.get $ky) (i32.const 3)) (local.get $kx))) (local.get $rowBytes))))
                    (local.set $end (i32.add (local.get $zr) (local.get $rowBytes)))
                    (block $qdone
                      (loop $qnext
                        (br_if $qdone (i32.ge_u (local.get $zr) (local.get $end)))
                        (v128.store (local.get $zr) (f32x4.add (v128.load (local.get $zr)) (f32x4.mul (local.get $vv) (v128.load (local.get $wr)))))
                        (local.set $zr (i32.add (local.get $zr) (i32.const 16)))
                        (local.set $wr (i32.add (local.get $wr) (i32.const 16)))
                        (br $qnext)))))
                (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                (br $kxnext)))))
        (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
        (br $kynext))))

  ;; The convolution's output for a batch, from the observations' non-zero entries:
  ;; h1[b, k, p] = ReLU(b1[k] + Σ_{c,ky,kx} w1[k, c, ky, kx] · obs[b, c, oy + ky, ox + kx]),
  ;; p = oy·8 + ox, for n observations obs [n, C, 10, 10] into h1 [n, K, 8, 8] (channel-major, the
  ;; dense layer's order). Observations are a few lit cells, so each non-zero entry v adds v·w1[·, c,
  ;; ky, kx] to the ≤ 9 output positions whose window holds it, K channels at once: the sums run by
  ;; position, z[p, k] (K4 = K rounded up to 4 wide), then go out through ReLU, transposed four
  ;; positions by four channels at a time. In the graph (a product over the batch's 3×3 patches,
  ;; then a transpose) the two networks' convolutions took a little longer, and h1 had to come out of
  ;; the graph as a fresh 128 KiB buffer every step (onnxEngine.ts says why that costs).
  ;; With `mask` ≠ 0 it also writes ReLU's derivative there, mask[b, k, p] = 1 where h1 > 0, else 0
  ;; (for the backward pass; as Sign(h1) in the graph it took 80 µs a step). `scratch` holds w1
  ;; transposed, w1t[c·9 + ky·3 + kx, k] (C·9·K4 floats), then z (64·K4 floats); b1 comes padded
  ;; with zeros to K4 (the engine's layout).
  ;; With `patches` ≠ 0 it also writes the observations' 3×3 patches there (im2col), for the filter
  ;; gradient in the graph: [n·64, C·9], row b·64 + oy·8 + ox, column c·9 + ky·3 + kx (w1's
  ;; [K, C, 3, 3] order), entry obs[b, c, oy + ky, ox + kx]; zeroed first, then the lit cells'
  ;; entries written by the same walk.
  (func (export "convForward")
    (param $w1 i32) (param $b1 i32) (param $obs i32) (param $n i32) (param $C i32) (param $K i32) (param $h1 i32) (param $mask i32) (param $scratch i32)
    (param $patches i32)
    (local $K4 i32) (local $rowBytes i32) (local $z i32) (local $t i32) (local $k i32) (local $b i32)
    (local $i i32) (local $r i32) (local $v f32) (local $zr i32) (local $wr i32) (local $end i32) (local $p i32) (local $out i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $col v128)
    (local $maskDelta i32) (local $patchBytes i32) (local $patch i32)
    (local.set $patchBytes (i32.mul (local.get $C) (i32.const 36)))
    (if (local.get $patches)
      (then (memory.fill (local.get $patches) (i32.const 0) (i32.mul (i32.mul (local.get $n) (i32.const 64)) (local.get $patchBytes)))))
    ;; The mask lies at a fixed distance from h1 (0: no mask).
    (if (local.get $mask) (then (local.set $maskDelta (i32.sub (local.get $mask) (local.get $h1)))))
    (local.set $K4 (i32.and (i32.add (local.get $K) (i32.const 3)) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $K4) (i32.const 2)))
    (local.set $z (i32.add (local.get $scratch) (i32.mul (i32.mul (local.get $C) (i32.const 9)) (local.get $rowBytes))))
    ;; w1t[t, k] = w1[k, t] (0 for k ≥ K)
    (block $tdone
      (loop $tnext
        (br_if $tdone (i32.ge_u (local.get $t) (i32.mul (local.get $C) (i32.const 9))))
        (local.set $k (i32.const 0))
        (block $kdone
          (loop $knext
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $K4)))
            (f32.store
              (i32.add (local.get $scratch) (i32.shl (i32.add (i32.mul (local.get $t) (local.get $K4)) (local.get $k)) (i32.const 2)))
              (if (result f32) (i32.lt_u (local.get $k) (local.get $K))
                (then (f32.load (i32.add (local.get $w1) (i32.shl (i32.add (i32.mul (local.get $k) (i32.mul (local.get $C) (i32.const 9))) (local.get $t)) (i32.const 2)))))
                (else (f32.const 0))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $knext)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tnext)))
    (block $bdone
      (loop $bnext
        (br_if $bdone (i32.ge_u (local.get $b) (local.get $n)))
        (if (local.get $patches)
          (then (local.set $patch (i32.add (local.get $patches) (i32.mul (i32.mul (local.get $b) (i32.const 64)) (local.get $patchBytes))))))
        ;; z[p, ·] = b1 for every position p
        (local.set $zr (local.get $z))
        (local.set $end (i32.add (local.get $z) (i32.shl (local.get $rowBytes) (i32.const 6))))
        (block $idone
          (loop $inext
            (br_if $idone (i32.ge_u (local.get $zr) (local.get $end)))
            (local.set $wr (local.get $b1))
            (local.set $p (i32.add (local.get $zr) (local.get $rowBytes)))
            (block $qdone
              (loop $qnext
                (br_if $qdone (i32.ge_u (local.get $zr) (local.get $p)))
                (v128.store (local.get $zr) (v128.load (local.get $wr)))
                (local.set $zr (i32.add (local.get $zr) (i32.const 16)))
                (local.set $wr (i32.add (local.get $wr) (i32.const 16)))
                (br $qnext)))
            (br $inext)))
        ;; each non-zero obs[b, i], i = c·100 + y·10 + x, into the positions (y − ky, x − kx)
        ;; inside the 8×8 grid: four entries at a time, most of them all zero
        (local.set $end (i32.add (local.get $obs) (i32.mul (local.get $C) (i32.const 400))))
        (local.set $t (i32.const 0))
        (block $sdone
          (loop $snext
            (br_if $sdone (i32.ge_u (local.get $obs) (local.get $end)))
            (if (v128.any_true (v128.load (local.get $obs)))
              (then
                (local.set $k (i32.const 0))
                (block $ldone
                  (loop $lnext
                    (br_if $ldone (i32.ge_u (local.get $k) (i32.const 4)))
                    (local.set $v (f32.load (i32.add (local.get $obs) (i32.shl (local.get $k) (i32.const 2)))))
                    (if (f32.ne (local.get $v) (f32.const 0))
                      (then
                        ;; c = i / 100, y = (i mod 100) / 10, x = i mod 10
                        (local.set $i (i32.add (local.get $t) (local.get $k)))
                        (local.set $r (i32.rem_u (local.get $i) (i32.const 100)))
                        (call $scatter (local.get $z) (local.get $scratch) (local.get $rowBytes) (local.get $v)
                          (i32.div_u (local.get $i) (i32.const 100)) (i32.div_u (local.get $r) (i32.const 10)) (i32.rem_u (local.get $r) (i32.const 10))
                          (local.get $patch) (local.get $patchBytes))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $lnext)))))
            (local.set $obs (i32.add (local.get $obs) (i32.const 16)))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br $snext)))
        ;; h1[b, k, p] = ReLU(z[p, k]) (and the mask), through 4×4 transposes: the rows z[p .. p + 3,
        ;; k .. k + 3] become the columns h1[b, k + r, p .. p + 3]
        (local.set $k (i32.const 0))
        (block $kdone
          (loop $knext
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $K)))
            (local.set $p (i32.const 0))
            (block $pdone
              (loop $pnext
                (br_if $pdone (i32.ge_u (local.get $p) (i32.const 64)))
                (local.set $zr (i32.add (local.get $z) (i32.add (i32.mul (local.get $p) (local.get $rowBytes)) (i32.shl (local.get $k) (i32.const 2)))))
                (local.set $r0 (v128.load (local.get $zr)))
                (local.set $zr (i32.add (local.get $zr) (local.get $rowBytes)))
                (local.set $r1 (v128.load (local.get $zr)))
                (local.set $zr (i32.add (local.get $zr) (local.get $rowBytes)))
                (local.set $r2 (v128.load (local.get $zr)))
                (local.set $zr (i32.add (local.get $zr) (local.get $rowBytes)))
                (local.set $r3 (v128.load (local.get $zr)))
                ;; t0 = (r0₀ r1₀ r0₁ r1₁), t1 = (r0₂ r1₂ r0₃ r1₃), t2, t3 the same of r2, r3
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
                (local.set $out (i32.add (local.get $h1) (i32.shl (i32.add (i32.shl (local.get $k) (i32.const 6)) (local.get $p)) (i32.const 2))))
                ;; ReLU of channel k + r at positions p .. p + 3, and unless maskDelta = 0 the mask, 1
                ;; where the column is > 0, else 0. Written out four times: as a function, which V8
                ;; called with the column passed through memory, a step's two passes took 2× as long.
                (local.set $col (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (v128.store (local.get $out) (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $col)))
                (if (local.get $maskDelta)
                  (then (v128.store (i32.add (local.get $out) (local.get $maskDelta))
                    (v128.and (f32x4.gt (local.get $col) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))))
                (if (i32.lt_u (i32.add (local.get $k) (i32.const 1)) (local.get $K))
                  (then
                    (local.set $col (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                    (v128.store offset=256 (local.get $out) (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $col)))
                    (if (local.get $maskDelta)
                      (then (v128.store offset=256 (i32.add (local.get $out) (local.get $maskDelta))
                        (v128.and (f32x4.gt (local.get $col) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))))))
                (if (i32.lt_u (i32.add (local.get $k) (i32.const 2)) (local.get $K))
                  (then
                    (local.set $col (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                    (v128.store offset=512 (local.get $out) (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $col)))
                    (if (local.get $maskDelta)
                      (then (v128.store offset=512 (i32.add (local.get $out) (local.get $maskDelta))
                        (v128.and (f32x4.gt (local.get $col) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))))))
                (if (i32.lt_u (i32.add (local.get $k) (i32.const 3)) (local.get $K))
                  (then
                    (local.set $col (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                    (v128.store offset=768 (local.get $out) (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $col)))
                    (if (local.get $maskDelta)
                      (then (v128.store offset=768 (i32.add (local.get $out) (local.get $maskDelta))
                        (v128.and (f32x4.gt (local.get $col) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))))))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $pnext)))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $knext)))
        (local.set $h1 (i32.add (local.get $h1) (i32.shl (local.get $K) (i32.const 8))))

        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bnext)))))

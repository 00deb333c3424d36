;; The training step's two loops outside the graph, in WebAssembly with 128-bit SIMD (four float32
;; lanes), beside dqn.wat's in the same memory (wasm/kernels.ts instantiates both over it):
;; - `convForward`: the convolution's output for a batch, from the observations' lit cells, for
;;   the online network (with ReLU's mask) and the target network;
;; - `denseWeightGrad`: the dense layer's weight gradient dz2ᵀ·h1, from the graph's dz2.
;; They keep the graph's outputs small (src/deep/onnxEngine.ts says why that matters; docs/deep.md,
;; "How a step runs"). `npm run build:wasm` compiles this file into stepWasm.ts, with and without
;; relaxed SIMD (denseWeightGrad's multiply-adds are fused); test/dqn-engine.test.ts checks that the
;; embedded bytes are this source compiled and that the step equals the reference's.
;;
;; Conventions as in dqn.wat: pointers are byte offsets into the imported memory, on 16-byte
;; boundaries.
(module
  (import "env" "memory" (memory 1))
  ;; z[oy·8 + ox, ·] += v · w1t[c·9 + ky·3 + kx, ·] for the ≤ 9 taps (ky, kx) whose output
  ;; position (oy, ox) = (y − ky, x − kx) lies inside the 8×8 grid (convForward).
  (func $scatter (param $z i32) (param $w1t i32) (param $rowBytes i32) (param $v f32) (param $c i32) (param $y i32) (param $x i32)
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

  ;; out[0..3] = ReLU(col), and unless maskDelta = 0, out + maskDelta (the same place in the mask)
  ;; 1 where col > 0, else 0 (convForward).
  (func $reluColumn (param $out i32) (param $maskDelta i32) (param $col v128)
    (v128.store (local.get $out) (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $col)))
    (if (local.get $maskDelta)
      (then (v128.store (i32.add (local.get $out) (local.get $maskDelta))
        (v128.and (f32x4.gt (local.get $col) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))))))

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
  (func (export "convForward")
    (param $w1 i32) (param $b1 i32) (param $obs i32) (param $n i32) (param $C i32) (param $K i32) (param $h1 i32) (param $mask i32) (param $scratch i32)
    (local $K4 i32) (local $rowBytes i32) (local $z i32) (local $t i32) (local $k i32) (local $b i32)
    (local $i i32) (local $r i32) (local $v f32) (local $zr i32) (local $wr i32) (local $end i32) (local $p i32) (local $out i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $maskDelta i32)
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
                          (i32.div_u (local.get $i) (i32.const 100)) (i32.div_u (local.get $r) (i32.const 10)) (i32.rem_u (local.get $r) (i32.const 10)))))
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
                ;; channel k + r at positions p .. p + 3
                (local.set $out (i32.add (local.get $h1) (i32.shl (i32.add (i32.shl (local.get $k) (i32.const 6)) (local.get $p)) (i32.const 2))))
                (call $reluColumn (local.get $out) (local.get $maskDelta) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (if (i32.lt_u (i32.add (local.get $k) (i32.const 1)) (local.get $K))
                  (then (call $reluColumn (i32.add (local.get $out) (i32.const 256)) (local.get $maskDelta)
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))))
                (if (i32.lt_u (i32.add (local.get $k) (i32.const 2)) (local.get $K))
                  (then (call $reluColumn (i32.add (local.get $out) (i32.const 512)) (local.get $maskDelta)
                    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))))
                (if (i32.lt_u (i32.add (local.get $k) (i32.const 3)) (local.get $K))
                  (then (call $reluColumn (i32.add (local.get $out) (i32.const 768)) (local.get $maskDelta)
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $pnext)))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $knext)))
        (local.set $h1 (i32.add (local.get $h1) (i32.shl (local.get $K) (i32.const 8))))

        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bnext))))

  ;; The weight gradient of a dense layer, g = dzᵀ x: g[i, j] = Σ_b dz[b, i] · x[b, j] for i < H,
  ;; j < F, b < B (dz [B, H], x [B, F], g [H, F], all row-major; F a multiple of 8). The graph
  ;; hands over dz and x (32×128 and 32×1024 for the MinAtar network) instead of the 128×1024
  ;; product: every output of onnxruntime is a fresh buffer, and one that size each step kept V8's
  ;; collector marking the heap every hundred steps.
  ;;
  ;; x is first copied into panels of eight columns, panel[p, b, 0..7] = x[b, 8p .. 8p + 7] (B·F
  ;; floats at `panel`): read in place, the B rows of a column block lie 4 KiB apart, all in one set
  ;; of the 8-way L1 cache, and evicted one another (1.6× slower). A block of 4 rows of g by one
  ;; panel then stays in eight registers while b runs; each b loads the panel's two vectors and four
  ;; entries of dz. The last H mod 4 rows go one at a time (`$weightGradRow`). Its multiply-adds
  ;; are fused (relaxed SIMD; without it, tools/wat.mjs writes each as a multiply and an add): at
  ;; two four-lane multiply-adds a cycle, that is 1.8× faster, which is what brings it level with
  ;; onnxruntime's 256-bit product.
  (func (export "denseWeightGrad")
    (param $dz i32) (param $x i32) (param $g i32) (param $B i32) (param $H i32) (param $F i32) (param $panel i32)
    (local $i i32) (local $j i32) (local $b i32) (local $pd i32) (local $px i32) (local $out i32) (local $end i32)
    (local $x0 v128) (local $x1 v128) (local $a v128)
    (local $g00 v128) (local $g01 v128) (local $g10 v128) (local $g11 v128)
    (local $g20 v128) (local $g21 v128) (local $g30 v128) (local $g31 v128)
    ;; The panels, written in order: for each column block j, the B rows' eight entries.
    (local.set $out (local.get $panel))
    (block $pdone
      (loop $pnext
        (br_if $pdone (i32.ge_u (local.get $j) (local.get $F)))
        (local.set $px (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $end (i32.add (local.get $out) (i32.shl (local.get $B) (i32.const 5))))
        (block $bdone
          (loop $bnext
            (br_if $bdone (i32.ge_u (local.get $out) (local.get $end)))
            (v128.store (local.get $out) (v128.load (local.get $px)))
            (v128.store offset=16 (local.get $out) (v128.load offset=16 (local.get $px)))
            (local.set $px (i32.add (local.get $px) (i32.shl (local.get $F) (i32.const 2))))
            (local.set $out (i32.add (local.get $out) (i32.const 32)))
            (br $bnext)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $pnext)))
    (local.set $j (i32.const 0))
    (block $jdone
      (loop $jnext
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $F)))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $inext
            (br_if $idone (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $H)))
            (local.set $g00 (v128.const i32x4 0 0 0 0)) (local.set $g01 (v128.const i32x4 0 0 0 0))
            (local.set $g10 (v128.const i32x4 0 0 0 0)) (local.set $g11 (v128.const i32x4 0 0 0 0))
            (local.set $g20 (v128.const i32x4 0 0 0 0)) (local.set $g21 (v128.const i32x4 0 0 0 0))
            (local.set $g30 (v128.const i32x4 0 0 0 0)) (local.set $g31 (v128.const i32x4 0 0 0 0))
            ;; dz[b, i] and panel[j / 8, b], b = 0
            (local.set $pd (i32.add (local.get $dz) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $px (i32.add (local.get $panel) (i32.mul (local.get $j) (i32.shl (local.get $B) (i32.const 2)))))
            (local.set $end (i32.add (local.get $px) (i32.shl (local.get $B) (i32.const 5))))
            (block $bdone
              (loop $bnext
                (br_if $bdone (i32.ge_u (local.get $px) (local.get $end)))
                (local.set $x0 (v128.load (local.get $px)))
                (local.set $x1 (v128.load offset=16 (local.get $px)))
                (local.set $a (f32x4.splat (f32.load (local.get $pd))))
                (local.set $g00 (f32x4.relaxed_madd (local.get $a) (local.get $x0) (local.get $g00)))
                (local.set $g01 (f32x4.relaxed_madd (local.get $a) (local.get $x1) (local.get $g01)))
                (local.set $a (f32x4.splat (f32.load offset=4 (local.get $pd))))
                (local.set $g10 (f32x4.relaxed_madd (local.get $a) (local.get $x0) (local.get $g10)))
                (local.set $g11 (f32x4.relaxed_madd (local.get $a) (local.get $x1) (local.get $g11)))
                (local.set $a (f32x4.splat (f32.load offset=8 (local.get $pd))))
                (local.set $g20 (f32x4.relaxed_madd (local.get $a) (local.get $x0) (local.get $g20)))
                (local.set $g21 (f32x4.relaxed_madd (local.get $a) (local.get $x1) (local.get $g21)))
                (local.set $a (f32x4.splat (f32.load offset=12 (local.get $pd))))
                (local.set $g30 (f32x4.relaxed_madd (local.get $a) (local.get $x0) (local.get $g30)))
                (local.set $g31 (f32x4.relaxed_madd (local.get $a) (local.get $x1) (local.get $g31)))
                (local.set $pd (i32.add (local.get $pd) (i32.shl (local.get $H) (i32.const 2))))
                (local.set $px (i32.add (local.get $px) (i32.const 32)))
                (br $bnext)))
            ;; g[i + r, j .. j + 7] for r < 4
            (local.set $out (i32.add (local.get $g) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $F)) (local.get $j)) (i32.const 2))))
            (v128.store (local.get $out) (local.get $g00))
            (v128.store offset=16 (local.get $out) (local.get $g01))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $F) (i32.const 2))))
            (v128.store (local.get $out) (local.get $g10))
            (v128.store offset=16 (local.get $out) (local.get $g11))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $F) (i32.const 2))))
            (v128.store (local.get $out) (local.get $g20))
            (v128.store offset=16 (local.get $out) (local.get $g21))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $F) (i32.const 2))))
            (v128.store (local.get $out) (local.get $g30))
            (v128.store offset=16 (local.get $out) (local.get $g31))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $inext)))
        (block $rdone
          (loop $rnext
            (br_if $rdone (i32.ge_u (local.get $i) (local.get $H)))
            (call $weightGradRow (local.get $dz) (local.get $panel) (local.get $g) (local.get $B) (local.get $H) (local.get $F) (local.get $i) (local.get $j))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rnext)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $jnext))))

  ;; g[i, j .. j + 7] of denseWeightGrad alone, from the panels.
  (func $weightGradRow
    (param $dz i32) (param $panel i32) (param $g i32) (param $B i32) (param $H i32) (param $F i32) (param $i i32) (param $j i32)
    (local $pd i32) (local $px i32) (local $end i32) (local $a v128) (local $g0 v128) (local $g1 v128) (local $out i32)
    (local.set $pd (i32.add (local.get $dz) (i32.shl (local.get $i) (i32.const 2))))
    (local.set $px (i32.add (local.get $panel) (i32.mul (local.get $j) (i32.shl (local.get $B) (i32.const 2)))))
    (local.set $end (i32.add (local.get $px) (i32.shl (local.get $B) (i32.const 5))))
    (block $bdone
      (loop $bnext
        (br_if $bdone (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $a (f32x4.splat (f32.load (local.get $pd))))
        (local.set $g0 (f32x4.relaxed_madd (local.get $a) (v128.load (local.get $px)) (local.get $g0)))
        (local.set $g1 (f32x4.relaxed_madd (local.get $a) (v128.load offset=16 (local.get $px)) (local.get $g1)))
        (local.set $pd (i32.add (local.get $pd) (i32.shl (local.get $H) (i32.const 2))))
        (local.set $px (i32.add (local.get $px) (i32.const 32)))
        (br $bnext)))
    (local.set $out (i32.add (local.get $g) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $F)) (local.get $j)) (i32.const 2))))
    (v128.store (local.get $out) (local.get $g0))
    (v128.store offset=16 (local.get $out) (local.get $g1)))
)

;; The training step's dense-layer loops outside the graph, in WebAssembly with 128-bit SIMD (four
;; float32 lanes), beside conv.wat's convolution and dqn.wat's acting pass in the same memory
;; (wasm/kernels.ts instantiates all three over it):
;; - `denseWeightGrad`: the dense layer's weight gradient dz2ᵀ·h1, from the graph's dz2;
;; - `adam`: one Adam step, with the EWC penalty's gradient added first, over any run of
;;   parameters; as graph ops it was a dozen element-wise passes over the dense layer;
;; - `denseWeightGradAdam`: the two at once for the dense layer's weights (the training step).
;; They keep the graph's outputs small (src/deep/onnxEngine.ts says why that matters; docs/deep.md,
;; "How a step runs"). `npm run build:wasm` compiles this file into stepWasm.ts, with and without
;; relaxed SIMD (the weight gradient's multiply-adds are fused); test/dqn-engine.test.ts checks
;; that the embedded bytes are this source compiled and that the step equals the reference's.
;;
;; Conventions: pointers are byte offsets into the imported memory, on 16-byte boundaries; a count
;; `n` of float32 entries is a multiple of 4 (the engine pads the parameters with zeros, whose
;; gradients and moments stay zero, so the padding never moves).
(module
  (import "env" "memory" (memory 1))
  ;; The weight gradient of a dense layer, g = dzᵀ x: g[i, j] = Σ_b dz[b, i] · x[b, j] for i < H,
  ;; j < F, b < B (dz [B, H], x [B, F], g [H, F], all row-major; F a multiple of 8). The graph
  ;; hands over dz and x (32×128 and 32×1024 for the MinAtar network) instead of the 128×1024
  ;; product: every output of onnxruntime is a fresh buffer, and one that size each step kept V8's
  ;; collector marking the heap every hundred steps.
  ;;
  ;; x is first copied into panels of eight columns (`$panels`). g is then formed four rows at a
  ;; time (`$gradRows4`; the last H mod 4 rows one at a time, `$gradRow`): each block of 4 rows by
  ;; one panel stays in eight registers while b runs; each b loads the panel's two vectors and four
  ;; entries of dz. Its multiply-adds are fused (relaxed SIMD; without it, tools/wat.mjs writes each
  ;; as a multiply and an add): at two four-lane multiply-adds a cycle, that is 1.8× faster, which
  ;; is what brings it level with onnxruntime's 256-bit product.
  (func (export "denseWeightGrad")
    (param $dz i32) (param $x i32) (param $g i32) (param $B i32) (param $H i32) (param $F i32) (param $panel i32)
    (local $i i32) (local $rowBytes i32)
    (call $panels (local.get $x) (local.get $panel) (local.get $B) (local.get $F))
    (local.set $rowBytes (i32.shl (local.get $F) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $H)))
        (call $gradRows4 (local.get $dz) (local.get $panel) (local.get $g) (local.get $B) (local.get $H) (local.get $F) (local.get $i))
        (local.set $g (i32.add (local.get $g) (i32.shl (local.get $rowBytes) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $H)))
        (call $gradRow (local.get $dz) (local.get $panel) (local.get $g) (local.get $B) (local.get $H) (local.get $F) (local.get $i))
        (local.set $g (i32.add (local.get $g) (local.get $rowBytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; denseWeightGrad and Adam's step on those weights in one pass (the training step): each block
  ;; of four rows of g (or a last single row) is formed into `rows` (4·F floats of scratch) and at
  ;; once taken by `$adam` on the same rows of the weights w, the moments m, v and, with ewc ≠ 0,
  ;; λF and θ* (lf, anchor): the same numbers as denseWeightGrad, then adam over the whole tensor,
  ;; without writing the 512 KiB gradient to memory and reading it back. w, m, v, lf and anchor
  ;; point at the weight tensor's first entry in each region; the other arguments are adam's.
  (func (export "denseWeightGradAdam")
    (param $dz i32) (param $x i32) (param $B i32) (param $H i32) (param $F i32) (param $panel i32) (param $rows i32)
    (param $w i32) (param $m i32) (param $v i32)
    (param $b1 f32) (param $nb1 f32) (param $b2 f32) (param $nb2 f32)
    (param $step f32) (param $ibc f32) (param $eps f32)
    (param $ewc i32) (param $lf i32) (param $anchor i32)
    (local $i i32) (local $n i32) (local $at i32)
    (call $panels (local.get $x) (local.get $panel) (local.get $B) (local.get $F))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $H)))
        (if (i32.le_u (i32.add (local.get $i) (i32.const 4)) (local.get $H))
          (then
            (call $gradRows4 (local.get $dz) (local.get $panel) (local.get $rows) (local.get $B) (local.get $H) (local.get $F) (local.get $i))
            (local.set $n (i32.const 4)))
          (else
            (call $gradRow (local.get $dz) (local.get $panel) (local.get $rows) (local.get $B) (local.get $H) (local.get $F) (local.get $i))
            (local.set $n (i32.const 1))))
        ;; rows i .. i + n − 1 of each region start at i·F floats
        (local.set $at (i32.shl (i32.mul (local.get $i) (local.get $F)) (i32.const 2)))
        (call $adam
          (i32.add (local.get $w) (local.get $at)) (local.get $rows)
          (i32.add (local.get $m) (local.get $at)) (i32.add (local.get $v) (local.get $at))
          (i32.mul (local.get $n) (local.get $F))
          (local.get $b1) (local.get $nb1) (local.get $b2) (local.get $nb2) (local.get $step) (local.get $ibc) (local.get $eps)
          (local.get $ewc) (i32.add (local.get $lf) (local.get $at)) (i32.add (local.get $anchor) (local.get $at)))
        (local.set $i (i32.add (local.get $i) (local.get $n)))
        (br $next))))

  ;; panel[p, b, 0..7] = x[b, 8p .. 8p + 7], written in order (B·F floats): read in place, the B
  ;; rows of a column block lie 4 KiB apart, all in one set of the 8-way L1 cache, and evicted one
  ;; another (1.6× slower).
  (func $panels (param $x i32) (param $panel i32) (param $B i32) (param $F i32)
    (local $j i32) (local $px i32) (local $end i32)
    (block $pdone
      (loop $pnext
        (br_if $pdone (i32.ge_u (local.get $j) (local.get $F)))
        (local.set $px (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $end (i32.add (local.get $panel) (i32.shl (local.get $B) (i32.const 5))))
        (block $bdone
          (loop $bnext
            (br_if $bdone (i32.ge_u (local.get $panel) (local.get $end)))
            (v128.store (local.get $panel) (v128.load (local.get $px)))
            (v128.store offset=16 (local.get $panel) (v128.load offset=16 (local.get $px)))
            (local.set $px (i32.add (local.get $px) (i32.shl (local.get $F) (i32.const 2))))
            (local.set $panel (i32.add (local.get $panel) (i32.const 32)))
            (br $bnext)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $pnext))))

  ;; Rows i .. i + 3 of g = dzᵀ x, from the panels, into out[r·F + j] (r < 4, j < F).
  (func $gradRows4
    (param $dz i32) (param $panel i32) (param $out i32) (param $B i32) (param $H i32) (param $F i32) (param $i i32)
    (local $j i32) (local $pd i32) (local $px i32) (local $end i32) (local $o i32) (local $rowBytes i32)
    (local $x0 v128) (local $x1 v128) (local $a v128)
    (local $g00 v128) (local $g01 v128) (local $g10 v128) (local $g11 v128)
    (local $g20 v128) (local $g21 v128) (local $g30 v128) (local $g31 v128)
    (local.set $rowBytes (i32.shl (local.get $F) (i32.const 2)))
    (local.set $px (local.get $panel))
    (block $jdone
      (loop $jnext
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $F)))
        (local.set $g00 (v128.const i32x4 0 0 0 0)) (local.set $g01 (v128.const i32x4 0 0 0 0))
        (local.set $g10 (v128.const i32x4 0 0 0 0)) (local.set $g11 (v128.const i32x4 0 0 0 0))
        (local.set $g20 (v128.const i32x4 0 0 0 0)) (local.set $g21 (v128.const i32x4 0 0 0 0))
        (local.set $g30 (v128.const i32x4 0 0 0 0)) (local.set $g31 (v128.const i32x4 0 0 0 0))
        ;; dz[b, i] and panel[j / 8, b], b = 0 (the panels lie one after another)
        (local.set $pd (i32.add (local.get $dz) (i32.shl (local.get $i) (i32.const 2))))
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
        ;; out[r, j .. j + 7] for r < 4
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store (local.get $o) (local.get $g00))
        (v128.store offset=16 (local.get $o) (local.get $g01))
        (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))
        (v128.store (local.get $o) (local.get $g10))
        (v128.store offset=16 (local.get $o) (local.get $g11))
        (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))
        (v128.store (local.get $o) (local.get $g20))
        (v128.store offset=16 (local.get $o) (local.get $g21))
        (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))
        (v128.store (local.get $o) (local.get $g30))
        (v128.store offset=16 (local.get $o) (local.get $g31))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $jnext))))

  ;; Row i of g = dzᵀ x alone, from the panels, into out[j] (j < F).
  (func $gradRow
    (param $dz i32) (param $panel i32) (param $out i32) (param $B i32) (param $H i32) (param $F i32) (param $i i32)
    (local $j i32) (local $pd i32) (local $px i32) (local $end i32) (local $a v128) (local $g0 v128) (local $g1 v128) (local $o i32)
    (local.set $px (local.get $panel))
    (block $jdone
      (loop $jnext
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $F)))
        (local.set $g0 (v128.const i32x4 0 0 0 0))
        (local.set $g1 (v128.const i32x4 0 0 0 0))
        (local.set $pd (i32.add (local.get $dz) (i32.shl (local.get $i) (i32.const 2))))
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
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store (local.get $o) (local.get $g0))
        (v128.store offset=16 (local.get $o) (local.get $g1))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $jnext))))

  ;; One Adam step, PyTorch's formula (reference.ts `adamStep`), over n entries; nb1 = 1 − β₁ and
  ;; nb2 = 1 − β₂ come computed in float64 (1 − 0.999 in float32 is off by 1.3e-5 relative):
  ;;   g ← g + λF·(θ − θ*)           (only when ewc ≠ 0: `lf` holds λF, `anchor` θ*)
  ;;   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²
  ;;   θ ← θ − step·m / (√v · invSqrtBc2 + ε),  step = lr/(1 − β₁ᵗ), invSqrtBc2 = 1/√(1 − β₂ᵗ)
  (func $adam (export "adam")
    (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f32) (param $nb1 f32) (param $b2 f32) (param $nb2 f32)
    (param $step f32) (param $ibc f32) (param $eps f32)
    (param $ewc i32) (param $lf i32) (param $anchor i32)
    (local $end i32) (local $B1 v128) (local $NB1 v128) (local $B2 v128) (local $NB2 v128)
    (local $STEP v128) (local $IBC v128) (local $EPS v128) (local $TINY v128)
    (local $gv v128) (local $wv v128) (local $mv v128) (local $vv v128)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $NB1 (f32x4.splat (local.get $nb1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $NB2 (f32x4.splat (local.get $nb2)))
    (local.set $STEP (f32x4.splat (local.get $step)))
    (local.set $IBC (f32x4.splat (local.get $ibc)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $TINY (v128.const f32x4 1.1754944e-38 1.1754944e-38 1.1754944e-38 1.1754944e-38))
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
        ;; Each lane of the moments below the smallest normal float32 in magnitude is set to +0:
        ;; moments of weights whose gradient has become zero decay geometrically into subnormal
        ;; floats, which x86 computes very slowly, and WebAssembly has no flush-to-zero mode.
        ;; (Written out: as a function, which V8 called twice per vector, Adam took 1.1× as long.)
        (local.set $mv (f32x4.add
          (f32x4.mul (local.get $B1) (v128.load (local.get $m)))
          (f32x4.mul (local.get $NB1) (local.get $gv))))
        (local.set $mv (v128.and (local.get $mv) (f32x4.ge (f32x4.abs (local.get $mv)) (local.get $TINY))))
        (local.set $vv (f32x4.add
          (f32x4.mul (local.get $B2) (v128.load (local.get $v)))
          (f32x4.mul (local.get $NB2) (f32x4.mul (local.get $gv) (local.get $gv)))))
        (local.set $vv (v128.and (local.get $vv) (f32x4.ge (f32x4.abs (local.get $vv)) (local.get $TINY))))
        (v128.store (local.get $m) (local.get $mv))
        (v128.store (local.get $v) (local.get $vv))
        (v128.store (local.get $w) (f32x4.sub (local.get $wv)
          (f32x4.div (f32x4.mul (local.get $STEP) (local.get $mv))
            (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $vv)) (local.get $IBC)) (local.get $EPS)))))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (br $next)))))

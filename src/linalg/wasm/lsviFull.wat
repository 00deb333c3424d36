;; The hot loops of the incremental LSVI-UCB backup from scratch (`fullBackup` of
;; src/learner/incremental/Backup.ts: start-up, resume, refresh), in WebAssembly with 128-bit SIMD:
;; the Gram matrix Λ of the stored φ rows, and the bonus form of every stored next-state row. The
;; conventions (byte offsets into the imported memory, rows of stride dp = d rounded up to even with
;; a zero padding entry, the next-state rows in panels of four) are those of lsvi.wat, whose
;; $panelRow and $gather this module imports. `npm run build:wasm` compiles this file into lsviFullWasm.ts.
;;
;; Same numbers (docs/algorithm.md §2): only the order of floating-point additions differs from the
;; direct formula, which the tests bound at 1e-8 relative.
(module
  (import "env" "memory" (memory 1))
  ;; where row r of the panels at next starts, and the row copied to out (dp entries): lsvi.wat's
  (import "env" "panelRow" (func $panelRow (param $next i32) (param $r i32) (param $dp i32) (result i32)))
  (import "env" "gather" (func $gather (param $next i32) (param $r i32) (param $dp i32) (param $out i32)))

  ;; L += Σ_τ φ_τ φ_τᵀ over n rows φ_τ (stride dp), upper part: rows i, i+1 from column (i rounded
  ;; down to 8) on (some entries left of the diagonal too; the caller mirrors the upper part over
  ;; them). The Gram matrix of Λ_h = λI + Σ φφᵀ, for a backup from scratch. Blocks of two rows by
  ;; eight columns stay in eight SIMD registers over all n rows (fused multiply-adds), so the rows
  ;; are read from the cache once per block and L once per call.
  (func (export "gram") (param $phi i32) (param $n i32) (param $d i32) (param $dp i32) (param $L i32)
    (local $I i32) (local $J i32) (local $t i32) (local $p i32) (local $rowBytes i32) (local $end8 i32)
    (local $L0 i32) (local $L1 i32) (local $two i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $xs v128) (local $ys v128) (local $v v128)
    (local.set $rowBytes (i32.shl (local.get $dp) (i32.const 3)))
    (local.set $end8 (i32.and (local.get $rowBytes) (i32.const -64)))
    (block $doneI
      (loop $nextI
        (br_if $doneI (i32.ge_u (local.get $I) (local.get $d)))
        ;; row I+1 exists unless d is odd and I = d − 1 (then its accumulators hold the zero padding)
        (local.set $two (i32.lt_u (i32.add (local.get $I) (i32.const 1)) (local.get $d)))
        (local.set $L0 (i32.add (local.get $L) (i32.mul (local.get $I) (local.get $rowBytes))))
        (local.set $L1 (select (i32.add (local.get $L0) (local.get $rowBytes)) (local.get $L0) (local.get $two)))
        (local.set $J (i32.shl (i32.and (local.get $I) (i32.const -8)) (i32.const 3)))
        (block $doneJ
          (loop $nextJ
            (br_if $doneJ (i32.ge_u (local.get $J) (local.get $end8)))
            (local.set $a0 (v128.load (i32.add (local.get $L0) (local.get $J))))
            (local.set $a1 (v128.load offset=16 (i32.add (local.get $L0) (local.get $J))))
            (local.set $a2 (v128.load offset=32 (i32.add (local.get $L0) (local.get $J))))
            (local.set $a3 (v128.load offset=48 (i32.add (local.get $L0) (local.get $J))))
            (local.set $b0 (v128.load (i32.add (local.get $L1) (local.get $J))))
            (local.set $b1 (v128.load offset=16 (i32.add (local.get $L1) (local.get $J))))
            (local.set $b2 (v128.load offset=32 (i32.add (local.get $L1) (local.get $J))))
            (local.set $b3 (v128.load offset=48 (i32.add (local.get $L1) (local.get $J))))
            (local.set $p (local.get $phi))
            (local.set $t (local.get $n))
            (block $doneT
              (loop $nextT
                (br_if $doneT (i32.eqz (local.get $t)))
                (local.set $xs (v128.load64_splat (i32.add (local.get $p) (i32.shl (local.get $I) (i32.const 3)))))
                (local.set $ys (v128.load64_splat offset=8 (i32.add (local.get $p) (i32.shl (local.get $I) (i32.const 3)))))
                (local.set $v (v128.load (i32.add (local.get $p) (local.get $J))))
                (local.set $a0 (f64x2.relaxed_madd (local.get $xs) (local.get $v) (local.get $a0)))
                (local.set $b0 (f64x2.relaxed_madd (local.get $ys) (local.get $v) (local.get $b0)))
                (local.set $v (v128.load offset=16 (i32.add (local.get $p) (local.get $J))))
                (local.set $a1 (f64x2.relaxed_madd (local.get $xs) (local.get $v) (local.get $a1)))
                (local.set $b1 (f64x2.relaxed_madd (local.get $ys) (local.get $v) (local.get $b1)))
                (local.set $v (v128.load offset=32 (i32.add (local.get $p) (local.get $J))))
                (local.set $a2 (f64x2.relaxed_madd (local.get $xs) (local.get $v) (local.get $a2)))
                (local.set $b2 (f64x2.relaxed_madd (local.get $ys) (local.get $v) (local.get $b2)))
                (local.set $v (v128.load offset=48 (i32.add (local.get $p) (local.get $J))))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $v) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $v) (local.get $b3)))
                (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $nextT)))
            ;; row I+1 first: when it does not exist, L1 = L0 and row I's store below wins
            (v128.store (i32.add (local.get $L1) (local.get $J)) (local.get $b0))
            (v128.store offset=16 (i32.add (local.get $L1) (local.get $J)) (local.get $b1))
            (v128.store offset=32 (i32.add (local.get $L1) (local.get $J)) (local.get $b2))
            (v128.store offset=48 (i32.add (local.get $L1) (local.get $J)) (local.get $b3))
            (v128.store (i32.add (local.get $L0) (local.get $J)) (local.get $a0))
            (v128.store offset=16 (i32.add (local.get $L0) (local.get $J)) (local.get $a1))
            (v128.store offset=32 (i32.add (local.get $L0) (local.get $J)) (local.get $a2))
            (v128.store offset=48 (i32.add (local.get $L0) (local.get $J)) (local.get $a3))
            (local.set $J (i32.add (local.get $J) (i32.const 64)))
            (br $nextJ)))
        ;; the last columns, two at a time
        (block $doneJ
          (loop $nextJ
            (br_if $doneJ (i32.ge_u (local.get $J) (local.get $rowBytes)))
            (local.set $a0 (v128.load (i32.add (local.get $L0) (local.get $J))))
            (local.set $b0 (v128.load (i32.add (local.get $L1) (local.get $J))))
            (local.set $p (local.get $phi))
            (local.set $t (local.get $n))
            (block $doneT
              (loop $nextT
                (br_if $doneT (i32.eqz (local.get $t)))
                (local.set $v (v128.load (i32.add (local.get $p) (local.get $J))))
                (local.set $a0 (f64x2.relaxed_madd
                  (v128.load64_splat (i32.add (local.get $p) (i32.shl (local.get $I) (i32.const 3)))) (local.get $v) (local.get $a0)))
                (local.set $b0 (f64x2.relaxed_madd
                  (v128.load64_splat offset=8 (i32.add (local.get $p) (i32.shl (local.get $I) (i32.const 3)))) (local.get $v) (local.get $b0)))
                (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $nextT)))
            (v128.store (i32.add (local.get $L1) (local.get $J)) (local.get $b0))
            (v128.store (i32.add (local.get $L0) (local.get $J)) (local.get $a0))
            (local.set $J (i32.add (local.get $J) (i32.const 16)))
            (br $nextJ)))
        (local.set $I (i32.add (local.get $I) (i32.const 2)))
        (br $nextI))))

  ;; q_r = ‖R x_r‖² for the n rows x_r of the panels at x, where R = L⁻¹ for the Cholesky factor
  ;; Λ = L Lᵀ, so that q_r = x_rᵀ Λ⁻¹ x_r (the bonus form of §2) with half the products of xᵀBx. U = Rᵀ
  ;; is upper triangular, d rows of stride d8 = d rounded up to 8, zero-padded. The output is cut in
  ;; blocks of 8 entries, y_J = Σ_{j < min(J+8, d)} x_j U[j, J..J+8), held in four SIMD registers.
  ;; Two rows at a time, read from their panel in place; an odd last row is gathered into tmp (dp entries).
  (func (export "forms") (param $x i32) (param $n i32) (param $d i32) (param $dp i32) (param $U i32) (param $q i32) (param $tmp i32)
    (local $r i32) (local $I i32) (local $j i32) (local $jEnd i32) (local $d8Bytes i32) (local $u i32) (local $xj i32) (local $base i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $xs v128) (local $acc v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $ys v128) (local $uv v128) (local $acc1 v128)
    (local.set $d8Bytes (i32.shl (i32.and (i32.add (local.get $d) (i32.const 7)) (i32.const -8)) (i32.const 3)))
    ;; Two rows at a time: U is loaded once for rows r and r+1 (eight SIMD accumulators).
    (block $donePairs
      (loop $nextPair
        (br_if $donePairs (i32.ge_u (i32.add (local.get $r) (i32.const 1)) (local.get $n)))
        ;; rows r, r+1 (r even) share their panel's pairs: row r at 16·(r mod 4), row r+1 16 bytes on
        (local.set $base (call $panelRow (local.get $x) (local.get $r) (local.get $dp)))
        (local.set $acc (v128.const f64x2 0 0))
        (local.set $acc1 (v128.const f64x2 0 0))
        (local.set $I (i32.const 0))
        (block $doneI
          (loop $nextI
            (br_if $doneI (i32.ge_u (local.get $I) (local.get $d)))
            (local.set $a0 (v128.const f64x2 0 0)) (local.set $a1 (v128.const f64x2 0 0))
            (local.set $a2 (v128.const f64x2 0 0)) (local.set $a3 (v128.const f64x2 0 0))
            (local.set $b0 (v128.const f64x2 0 0)) (local.set $b1 (v128.const f64x2 0 0))
            (local.set $b2 (v128.const f64x2 0 0)) (local.set $b3 (v128.const f64x2 0 0))
            (local.set $jEnd (i32.add (local.get $I) (i32.const 8)))
            (if (i32.gt_u (local.get $jEnd) (local.get $d)) (then (local.set $jEnd (local.get $d))))
            (local.set $u (i32.add (local.get $U) (i32.shl (local.get $I) (i32.const 3))))
            (local.set $xj (local.get $base))
            (local.set $j (i32.const 0))
            ;; entries j, j+1 of both rows are the 32 bytes at xj: two values of U's rows j, j+1 each;
            ;; rows j < I of U are full over the block's columns
            (block $doneJ
              (loop $nextJ
                (br_if $doneJ (i32.ge_u (local.get $j) (local.get $I)))
                (local.set $xs (v128.load64_splat offset=0 (local.get $xj)))
                (local.set $ys (v128.load64_splat offset=16 (local.get $xj)))
                (local.set $uv (v128.load (local.get $u)))
                (local.set $a0 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a0)))
                (local.set $b0 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b0)))
                (local.set $uv (v128.load offset=16 (local.get $u)))
                (local.set $a1 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a1)))
                (local.set $b1 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b1)))
                (local.set $uv (v128.load offset=32 (local.get $u)))
                (local.set $a2 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a2)))
                (local.set $b2 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b2)))
                (local.set $uv (v128.load offset=48 (local.get $u)))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b3)))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
                (local.set $xs (v128.load64_splat offset=8 (local.get $xj)))
                (local.set $ys (v128.load64_splat offset=24 (local.get $xj)))
                (local.set $uv (v128.load (local.get $u)))
                (local.set $a0 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a0)))
                (local.set $b0 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b0)))
                (local.set $uv (v128.load offset=16 (local.get $u)))
                (local.set $a1 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a1)))
                (local.set $b1 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b1)))
                (local.set $uv (v128.load offset=32 (local.get $u)))
                (local.set $a2 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a2)))
                (local.set $b2 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b2)))
                (local.set $uv (v128.load offset=48 (local.get $u)))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b3)))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
                (local.set $xj (i32.add (local.get $xj) (i32.const 64)))
                (local.set $j (i32.add (local.get $j) (i32.const 2)))
                (br $nextJ)))
            ;; rows I … jEnd − 1 of U, the diagonal block: row I + 2m + e is zero left of column I + 2m,
            ;; so its products with the column pairs before pair m are exact zeros and are left out
            (if (i32.lt_u (i32.add (local.get $I) (i32.const 0)) (local.get $jEnd))
              (then
                (local.set $xs (v128.load64_splat offset=0 (local.get $xj)))
                (local.set $ys (v128.load64_splat offset=16 (local.get $xj)))
                (local.set $uv (v128.load (local.get $u)))
                (local.set $a0 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a0)))
                (local.set $b0 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b0)))
                (local.set $uv (v128.load offset=16 (local.get $u)))
                (local.set $a1 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a1)))
                (local.set $b1 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b1)))
                (local.set $uv (v128.load offset=32 (local.get $u)))
                (local.set $a2 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a2)))
                (local.set $b2 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b2)))
                (local.set $uv (v128.load offset=48 (local.get $u)))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b3)))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
              ))
            (if (i32.lt_u (i32.add (local.get $I) (i32.const 1)) (local.get $jEnd))
              (then
                (local.set $xs (v128.load64_splat offset=8 (local.get $xj)))
                (local.set $ys (v128.load64_splat offset=24 (local.get $xj)))
                (local.set $uv (v128.load (local.get $u)))
                (local.set $a0 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a0)))
                (local.set $b0 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b0)))
                (local.set $uv (v128.load offset=16 (local.get $u)))
                (local.set $a1 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a1)))
                (local.set $b1 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b1)))
                (local.set $uv (v128.load offset=32 (local.get $u)))
                (local.set $a2 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a2)))
                (local.set $b2 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b2)))
                (local.set $uv (v128.load offset=48 (local.get $u)))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b3)))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
              ))
            (local.set $xj (i32.add (local.get $xj) (i32.const 64)))
            (if (i32.lt_u (i32.add (local.get $I) (i32.const 2)) (local.get $jEnd))
              (then
                (local.set $xs (v128.load64_splat offset=0 (local.get $xj)))
                (local.set $ys (v128.load64_splat offset=16 (local.get $xj)))
                (local.set $uv (v128.load offset=16 (local.get $u)))
                (local.set $a1 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a1)))
                (local.set $b1 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b1)))
                (local.set $uv (v128.load offset=32 (local.get $u)))
                (local.set $a2 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a2)))
                (local.set $b2 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b2)))
                (local.set $uv (v128.load offset=48 (local.get $u)))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b3)))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
              ))
            (if (i32.lt_u (i32.add (local.get $I) (i32.const 3)) (local.get $jEnd))
              (then
                (local.set $xs (v128.load64_splat offset=8 (local.get $xj)))
                (local.set $ys (v128.load64_splat offset=24 (local.get $xj)))
                (local.set $uv (v128.load offset=16 (local.get $u)))
                (local.set $a1 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a1)))
                (local.set $b1 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b1)))
                (local.set $uv (v128.load offset=32 (local.get $u)))
                (local.set $a2 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a2)))
                (local.set $b2 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b2)))
                (local.set $uv (v128.load offset=48 (local.get $u)))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b3)))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
              ))
            (local.set $xj (i32.add (local.get $xj) (i32.const 64)))
            (if (i32.lt_u (i32.add (local.get $I) (i32.const 4)) (local.get $jEnd))
              (then
                (local.set $xs (v128.load64_splat offset=0 (local.get $xj)))
                (local.set $ys (v128.load64_splat offset=16 (local.get $xj)))
                (local.set $uv (v128.load offset=32 (local.get $u)))
                (local.set $a2 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a2)))
                (local.set $b2 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b2)))
                (local.set $uv (v128.load offset=48 (local.get $u)))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b3)))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
              ))
            (if (i32.lt_u (i32.add (local.get $I) (i32.const 5)) (local.get $jEnd))
              (then
                (local.set $xs (v128.load64_splat offset=8 (local.get $xj)))
                (local.set $ys (v128.load64_splat offset=24 (local.get $xj)))
                (local.set $uv (v128.load offset=32 (local.get $u)))
                (local.set $a2 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a2)))
                (local.set $b2 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b2)))
                (local.set $uv (v128.load offset=48 (local.get $u)))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b3)))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
              ))
            (local.set $xj (i32.add (local.get $xj) (i32.const 64)))
            (if (i32.lt_u (i32.add (local.get $I) (i32.const 6)) (local.get $jEnd))
              (then
                (local.set $xs (v128.load64_splat offset=0 (local.get $xj)))
                (local.set $ys (v128.load64_splat offset=16 (local.get $xj)))
                (local.set $uv (v128.load offset=48 (local.get $u)))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b3)))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
              ))
            (if (i32.lt_u (i32.add (local.get $I) (i32.const 7)) (local.get $jEnd))
              (then
                (local.set $xs (v128.load64_splat offset=8 (local.get $xj)))
                (local.set $ys (v128.load64_splat offset=24 (local.get $xj)))
                (local.set $uv (v128.load offset=48 (local.get $u)))
                (local.set $a3 (f64x2.relaxed_madd (local.get $xs) (local.get $uv) (local.get $a3)))
                (local.set $b3 (f64x2.relaxed_madd (local.get $ys) (local.get $uv) (local.get $b3)))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
              ))
            (local.set $xj (i32.add (local.get $xj) (i32.const 64)))
            (local.set $acc (f64x2.add (local.get $acc)
              (f64x2.add
                (f64x2.add (f64x2.mul (local.get $a0) (local.get $a0)) (f64x2.mul (local.get $a1) (local.get $a1)))
                (f64x2.add (f64x2.mul (local.get $a2) (local.get $a2)) (f64x2.mul (local.get $a3) (local.get $a3))))))
            (local.set $acc1 (f64x2.add (local.get $acc1)
              (f64x2.add
                (f64x2.add (f64x2.mul (local.get $b0) (local.get $b0)) (f64x2.mul (local.get $b1) (local.get $b1)))
                (f64x2.add (f64x2.mul (local.get $b2) (local.get $b2)) (f64x2.mul (local.get $b3) (local.get $b3))))))
            (local.set $I (i32.add (local.get $I) (i32.const 8)))
            (br $nextI)))
        (f64.store (local.get $q) (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (f64.store offset=8 (local.get $q) (f64.add (f64x2.extract_lane 0 (local.get $acc1)) (f64x2.extract_lane 1 (local.get $acc1))))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $nextPair)))
    ;; An odd last row alone.
    (block $doneR
      (loop $nextR
        (br_if $doneR (i32.ge_u (local.get $r) (local.get $n)))
        (call $gather (local.get $x) (local.get $r) (local.get $dp) (local.get $tmp))
        (local.set $acc (v128.const f64x2 0 0))
        (local.set $I (i32.const 0))
        (block $doneI
          (loop $nextI
            (br_if $doneI (i32.ge_u (local.get $I) (local.get $d)))
            (local.set $a0 (v128.const f64x2 0 0)) (local.set $a1 (v128.const f64x2 0 0))
            (local.set $a2 (v128.const f64x2 0 0)) (local.set $a3 (v128.const f64x2 0 0))
            (local.set $jEnd (i32.add (local.get $I) (i32.const 8)))
            (if (i32.gt_u (local.get $jEnd) (local.get $d)) (then (local.set $jEnd (local.get $d))))
            (local.set $u (i32.add (local.get $U) (i32.shl (local.get $I) (i32.const 3))))
            (local.set $xj (local.get $tmp))
            (local.set $j (i32.const 0))
            (block $doneJ
              (loop $nextJ
                (br_if $doneJ (i32.ge_u (local.get $j) (local.get $jEnd)))
                (local.set $xs (v128.load64_splat (local.get $xj)))
                (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $xs) (v128.load (local.get $u)))))
                (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $xs) (v128.load offset=16 (local.get $u)))))
                (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $xs) (v128.load offset=32 (local.get $u)))))
                (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $xs) (v128.load offset=48 (local.get $u)))))
                (local.set $u (i32.add (local.get $u) (local.get $d8Bytes)))
                (local.set $xj (i32.add (local.get $xj) (i32.const 8)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $nextJ)))
            (local.set $acc (f64x2.add (local.get $acc)
              (f64x2.add
                (f64x2.add (f64x2.mul (local.get $a0) (local.get $a0)) (f64x2.mul (local.get $a1) (local.get $a1)))
                (f64x2.add (f64x2.mul (local.get $a2) (local.get $a2)) (f64x2.mul (local.get $a3) (local.get $a3))))))
            (local.set $I (i32.add (local.get $I) (i32.const 8)))
            (br $nextI)))
        (f64.store (local.get $q) (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $nextR))))

  ;; Σ of n float64 values (n even): the time of reading every value once, the floor that one pass
  ;; over the stored next-state features cannot beat (docs/performance.md). Read as two streams side
  ;; by side, 64 bytes of the first half and 64 of the second per iteration, as the step kernel's
  ;; sweep reads its panels: from memory, one stream read 1.2 times slower than two on the Intel
  ;; machine, so a floor read as one stream would flatter the update.
  (func (export "sweep") (param $x i32) (param $n i32) (result f64)
    (local $k i32) (local $y i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $s4 v128) (local $s5 v128) (local $s6 v128) (local $s7 v128)
    ;; k iterations of 8 values from each stream; the second starts where the first's 8k values end
    (local.set $k (i32.shr_u (local.get $n) (i32.const 4)))
    (local.set $y (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 6))))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $s0 (f64x2.add (local.get $s0) (v128.load (local.get $x))))
        (local.set $s1 (f64x2.add (local.get $s1) (v128.load offset=16 (local.get $x))))
        (local.set $s2 (f64x2.add (local.get $s2) (v128.load offset=32 (local.get $x))))
        (local.set $s3 (f64x2.add (local.get $s3) (v128.load offset=48 (local.get $x))))
        (local.set $s4 (f64x2.add (local.get $s4) (v128.load (local.get $y))))
        (local.set $s5 (f64x2.add (local.get $s5) (v128.load offset=16 (local.get $y))))
        (local.set $s6 (f64x2.add (local.get $s6) (v128.load offset=32 (local.get $y))))
        (local.set $s7 (f64x2.add (local.get $s7) (v128.load offset=48 (local.get $y))))
        (local.set $x (i32.add (local.get $x) (i32.const 64)))
        (local.set $y (i32.add (local.get $y) (i32.const 64)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next)))
    ;; the last n mod 16 values, after the second stream's
    (local.set $k (i32.shr_u (i32.and (local.get $n) (i32.const 15)) (i32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $s0 (f64x2.add (local.get $s0) (v128.load (local.get $y))))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next)))
    (local.set $s0 (f64x2.add (f64x2.add (f64x2.add (local.get $s0) (local.get $s1)) (f64x2.add (local.get $s2) (local.get $s3)))
      (f64x2.add (f64x2.add (local.get $s4) (local.get $s5)) (f64x2.add (local.get $s6) (local.get $s7)))))
    (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
)

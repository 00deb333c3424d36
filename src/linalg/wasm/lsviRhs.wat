;; Phase 3's sums of the incremental LSVI-UCB backup (src/learner/LsviIncremental.ts): rhs += Σ_τ V_τ φ_τ
;; over a chunk's φ_h rows, plain or in panels (step h − 1's taken rows); and Σ_τ r_τ φ_τ for a backup
;; from scratch. The step kernel (lsvi.wat) imports them; conventions as there. `npm run build:wasm`
;; compiles it into lsviRhsWasm.ts.
(module
  (import "env" "memory" (memory 1))

  ;; y[0..dp) += a · x[0..dp)
  (func $axpy (param $y i32) (param $a f64) (param $x i32) (param $dp i32)
    (local $k i32) (local $av v128)
    (local.set $av (f64x2.splat (local.get $a)))
    (local.set $k (i32.shr_u (local.get $dp) (i32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (v128.store (local.get $y)
          (f64x2.add (v128.load (local.get $y)) (f64x2.mul (local.get $av) (v128.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next))))

  ;; y[0..dp) += Σ_t v_t x_t over n rows x_t (stride dp): the rhs of a step, Σ_τ V(s'_τ) φ_h^τ, in one
  ;; read of the rows as two streams, rows t and t + n/2 in one sweep of y (y stays in the
  ;; first-level cache); an odd last row after them.
  (func $gemvT (export "gemvT") (param $y i32) (param $v i32) (param $x i32) (param $n i32) (param $dp i32)
    (local $t i32) (local $h i32) (local $k i32) (local $x1 i32) (local $v1 i32) (local $rowBytes i32) (local $s0 v128) (local $s1 v128)
    (local.set $rowBytes (i32.shl (local.get $dp) (i32.const 3)))
    (local.set $h (i32.shr_u (local.get $n) (i32.const 1)))
    (local.set $x1 (i32.add (local.get $x) (i32.mul (local.get $h) (local.get $rowBytes))))
    (local.set $v1 (i32.add (local.get $v) (i32.shl (local.get $h) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $t) (local.get $h)))
        (local.set $s0 (v128.load64_splat (local.get $v)))
        (local.set $s1 (v128.load64_splat (local.get $v1)))
        (local.set $k (i32.const 0))
        (block $doneK
          (loop $nextK
            (br_if $doneK (i32.ge_u (local.get $k) (local.get $rowBytes)))
            (v128.store (i32.add (local.get $y) (local.get $k))
              (f64x2.add
                (f64x2.add (v128.load (i32.add (local.get $y) (local.get $k)))
                  (f64x2.mul (local.get $s0) (v128.load (i32.add (local.get $x) (local.get $k)))))
                (f64x2.mul (local.get $s1) (v128.load (i32.add (local.get $x1) (local.get $k))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $nextK)))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $x1 (i32.add (local.get $x1) (local.get $rowBytes)))
        (local.set $v (i32.add (local.get $v) (i32.const 8)))
        (local.set $v1 (i32.add (local.get $v1) (i32.const 8)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $next)))
    ;; n odd: row n − 1, which x1 now points at
    (if (i32.and (local.get $n) (i32.const 1))
      (then (call $axpy (local.get $y) (f64.load (local.get $v1)) (local.get $x1) (local.get $dp)))))

  ;; y[0..dp) += Σ_t v_t x_t over the n rows of the panels at x (four rows a panel, as the next-state
  ;; rows): Σ_τ V(s'_τ) φ_h^τ when the φ_h rows are step h − 1's taken rows. Two streams, as $gemvT:
  ;; the whole panels as two halves, a panel of each in one sweep of y; the rows of a last, partial
  ;; panel one at a time after them.
  (func $gemvTPanels (export "gemvTPanels") (param $y i32) (param $v i32) (param $x i32) (param $n i32) (param $dp i32)
    (local $j i32) (local $k i32) (local $panels i32) (local $pa i32) (local $pb i32) (local $panelBytes i32)
    (local $xB i32) (local $vB i32) (local $yk i32) (local $r i32) (local $p i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $s v128)
    (local.set $panelBytes (i32.shl (local.get $dp) (i32.const 5)))
    (local.set $panels (i32.shr_u (local.get $n) (i32.const 2)))
    (local.set $pb (i32.shr_u (local.get $panels) (i32.const 1)))
    (local.set $pa (i32.sub (local.get $panels) (local.get $pb)))
    (local.set $xB (i32.add (local.get $x) (i32.mul (local.get $pa) (local.get $panelBytes))))
    (local.set $vB (i32.add (local.get $v) (i32.shl (local.get $pa) (i32.const 5))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $pa)))
        ;; the four values of panel j of each half, each in both lanes (B's are 0 when it has none)
        (local.set $a0 (v128.load64_splat offset=0 (local.get $v)))
        (local.set $a1 (v128.load64_splat offset=8 (local.get $v)))
        (local.set $a2 (v128.load64_splat offset=16 (local.get $v)))
        (local.set $a3 (v128.load64_splat offset=24 (local.get $v)))
        (if (i32.lt_u (local.get $j) (local.get $pb))
          (then
            (local.set $b0 (v128.load64_splat offset=0 (local.get $vB)))
            (local.set $b1 (v128.load64_splat offset=8 (local.get $vB)))
            (local.set $b2 (v128.load64_splat offset=16 (local.get $vB)))
            (local.set $b3 (v128.load64_splat offset=24 (local.get $vB))))
          (else
            ;; A's last panel without a B beside it: read A's panel twice with B's values 0
            (local.set $xB (local.get $x))
            (local.set $b0 (v128.const f64x2 0 0)) (local.set $b1 (v128.const f64x2 0 0))
            (local.set $b2 (v128.const f64x2 0 0)) (local.set $b3 (v128.const f64x2 0 0))))
        (local.set $k (i32.const 0))
        (local.set $yk (local.get $y))
        (block $doneK
          (loop $nextK
            (br_if $doneK (i32.ge_u (local.get $k) (local.get $panelBytes)))
            (local.set $s (f64x2.add
              (f64x2.add (f64x2.mul (local.get $a0) (v128.load offset=0 (i32.add (local.get $x) (local.get $k))))
                (f64x2.mul (local.get $a1) (v128.load offset=16 (i32.add (local.get $x) (local.get $k)))))
              (f64x2.add (f64x2.mul (local.get $a2) (v128.load offset=32 (i32.add (local.get $x) (local.get $k))))
                (f64x2.mul (local.get $a3) (v128.load offset=48 (i32.add (local.get $x) (local.get $k)))))))
            (local.set $s (f64x2.add (local.get $s) (f64x2.add
              (f64x2.add (f64x2.mul (local.get $b0) (v128.load offset=0 (i32.add (local.get $xB) (local.get $k))))
                (f64x2.mul (local.get $b1) (v128.load offset=16 (i32.add (local.get $xB) (local.get $k)))))
              (f64x2.add (f64x2.mul (local.get $b2) (v128.load offset=32 (i32.add (local.get $xB) (local.get $k))))
                (f64x2.mul (local.get $b3) (v128.load offset=48 (i32.add (local.get $xB) (local.get $k))))))))
            (v128.store (local.get $yk) (f64x2.add (v128.load (local.get $yk)) (local.get $s)))
            (local.set $yk (i32.add (local.get $yk) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 64)))
            (br $nextK)))
        (local.set $x (i32.add (local.get $x) (local.get $panelBytes)))
        (local.set $xB (i32.add (local.get $xB) (local.get $panelBytes)))
        (local.set $v (i32.add (local.get $v) (i32.const 32)))
        (local.set $vB (i32.add (local.get $vB) (i32.const 32)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    ;; rows 4·panels … n − 1: x and v now point at B's first panel (or past A's when B has none),
    ;; so go from the start of the partial panel
    (local.set $r (i32.shl (local.get $panels) (i32.const 2)))
    (local.set $x (i32.sub (local.get $x) (i32.mul (local.get $pa) (local.get $panelBytes))))
    (local.set $v (i32.sub (local.get $v) (i32.shl (local.get $pa) (i32.const 5))))
    (block $doneR
      (loop $nextR
        (br_if $doneR (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $a0 (v128.load64_splat (i32.add (local.get $v) (i32.shl (local.get $r) (i32.const 3)))))
        ;; where row r starts: lsvi.wat's $panelRow, which this module cannot import (lsvi.wat imports it)
        (local.set $p (i32.add (local.get $x)
          (i32.add (i32.mul (i32.shr_u (local.get $r) (i32.const 2)) (local.get $panelBytes))
            (i32.shl (i32.and (local.get $r) (i32.const 3)) (i32.const 4)))))
        (local.set $yk (local.get $y))
        (local.set $k (i32.const 0))
        (block $doneK
          (loop $nextK
            (br_if $doneK (i32.ge_u (local.get $k) (local.get $panelBytes)))
            (v128.store (local.get $yk)
              (f64x2.add (v128.load (local.get $yk)) (f64x2.mul (local.get $a0) (v128.load (i32.add (local.get $p) (local.get $k))))))
            (local.set $yk (i32.add (local.get $yk) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 64)))
            (br $nextK)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $nextR)))))

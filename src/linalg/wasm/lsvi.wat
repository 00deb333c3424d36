;; The hot loops of the incremental LSVI-UCB backup (src/learner/LsviIncremental.ts), in WebAssembly
;; with 128-bit SIMD (two float64 lanes): the step kernel of the per-episode backward pass. Those of
;; the backup from scratch (Λ from the stored rows, every form) are in lsviFull.wat, which imports
;; $gather from this module. `npm run build:wasm` compiles both files into lsviWasm.ts and
;; lsviFullWasm.ts; test/fastpath.test.ts checks that the embedded bytes are these sources compiled.
;;
;; Conventions. Every pointer is a byte offset into the imported memory. A feature vector has `d`
;; entries stored with stride `dp` = d rounded up to an even number; the padding entry is 0, so
;; products with it add exact zeros and every result is the same number as without padding.
;; Matrices are d rows of dp entries. Vectors start on 16-byte boundaries.
;;
;; The stored next-state rows of a chunk (the other rows, and apart from them the taken rows) are in
;; panels of four rows (src/learner/incremental/Store.ts): entries i, i+1 (i even) of row 4P + j are
;; the 16 bytes at P·4·dp·8 + 64·(i/2) + 16·j, so that a sweep of four rows at once ($rowsQuad) reads
;; memory in order. $gather copies one row out.
;;
;; Same numbers (docs/algorithm.md §2): the kernels compute exactly the quantities of §2 (dot products,
;; quadratic forms, Sherman–Morrison downdates of them); only the order of floating-point additions
;; differs from the direct formula, which the tests bound at 1e-8 relative.
(module
  (import "env" "memory" (memory 1))

  ;; ⟨x, y⟩ over dp entries (dp even): two SIMD accumulators, 4 entries per iteration.
  (func $dot (param $x i32) (param $y i32) (param $dp i32) (result f64)
    (local $k i32) (local $s0 v128) (local $s1 v128)
    (local.set $k (i32.shr_u (local.get $dp) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $s0 (f64x2.add (local.get $s0)
          (f64x2.mul (v128.load (local.get $x)) (v128.load (local.get $y)))))
        (local.set $s1 (f64x2.add (local.get $s1)
          (f64x2.mul (v128.load offset=16 (local.get $x)) (v128.load offset=16 (local.get $y)))))
        (local.set $x (i32.add (local.get $x) (i32.const 32)))
        (local.set $y (i32.add (local.get $y) (i32.const 32)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next)))
    (if (i32.and (local.get $dp) (i32.const 2))
      (then
        (local.set $s0 (f64x2.add (local.get $s0)
          (f64x2.mul (v128.load (local.get $x)) (v128.load (local.get $y)))))))
    (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
    (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))

  ;; xᵀ B x = Σ_i x_i ⟨B_i, x⟩ for a symmetric d × d matrix B (rows of stride dp).
  (func $quad (param $B i32) (param $x i32) (param $d i32) (param $dp i32) (result f64)
    (local $i i32) (local $q f64) (local $row i32) (local $xi i32)
    (local.set $row (local.get $B))
    (local.set $xi (local.get $x))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $d)))
        (local.set $q (f64.add (local.get $q)
          (f64.mul (f64.load (local.get $xi)) (call $dot (local.get $row) (local.get $x) (local.get $dp)))))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $dp) (i32.const 3))))
        (local.set $xi (i32.add (local.get $xi) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $q))

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

  ;; Where row r of the panels at `next` starts: its panel, r/4 rounded down (4·dp values each), then
  ;; 16·(r mod 4) bytes; its pair k (entries 2k, 2k+1) is 64·k bytes on.
  (func $panelRow (param $next i32) (param $r i32) (param $dp i32) (result i32)
    (i32.add (local.get $next)
      (i32.add (i32.mul (i32.shr_u (local.get $r) (i32.const 2)) (i32.shl (local.get $dp) (i32.const 5)))
        (i32.shl (i32.and (local.get $r) (i32.const 3)) (i32.const 4)))))

  ;; Row r of the panels at `next` (dp entries), copied to out.
  (func $gather (param $next i32) (param $r i32) (param $dp i32) (param $out i32)
    (local $p i32) (local $end i32)
    (local.set $p (call $panelRow (local.get $next) (local.get $r) (local.get $dp)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $dp) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (v128.store (local.get $out) (v128.load (local.get $p)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $next))))

  ;; Phase 1 of a step, general case, for the n rows r0 … r0 + n − 1 of the panels at `next`, each
  ;; gathered into tmp (dp entries) as x_r: q_r ← q_r − Σ_j c_j (x_rᵀu_j)² over the m pending rank-1
  ;; changes of Λ_{h+1} (Sherman–Morrison applied to the form: u_j = Λ⁻¹φ_j before change j,
  ;; c_j = 1/(1 + φ_jᵀu_j)); or, with fresh ≠ 0, q_r = x_rᵀBx_r from scratch. Then
  ;; val_r = Q̄ = min{ w̄ᵀx_r + β√max(q_r, 0), cap }. q and val point at the entries of row r0.
  (func $rows (param $next i32) (param $r0 i32) (param $q i32) (param $n i32) (param $d i32) (param $dp i32)
    (param $fresh i32) (param $B i32) (param $u i32) (param $c i32) (param $m i32)
    (param $w i32) (param $beta f64) (param $cap f64) (param $val i32) (param $tmp i32)
    (local $r i32) (local $j i32) (local $uj i32) (local $cj i32) (local $qv f64) (local $s f64) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $dp) (i32.const 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (call $gather (local.get $next) (i32.add (local.get $r0) (local.get $r)) (local.get $dp) (local.get $tmp))
        (if (local.get $fresh)
          (then (local.set $qv (call $quad (local.get $B) (local.get $tmp) (local.get $d) (local.get $dp))))
          (else
            (local.set $qv (f64.load (local.get $q)))
            (local.set $uj (local.get $u))
            (local.set $cj (local.get $c))
            (local.set $j (i32.const 0))
            (block $doneJ
              (loop $nextJ
                (br_if $doneJ (i32.ge_u (local.get $j) (local.get $m)))
                (local.set $s (call $dot (local.get $tmp) (local.get $uj) (local.get $dp)))
                (local.set $qv (f64.sub (local.get $qv)
                  (f64.mul (f64.load (local.get $cj)) (f64.mul (local.get $s) (local.get $s)))))
                (local.set $uj (i32.add (local.get $uj) (local.get $rowBytes)))
                (local.set $cj (i32.add (local.get $cj) (i32.const 8)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $nextJ)))))
        (f64.store (local.get $q) (local.get $qv))
        (f64.store (local.get $val) (f64.min
          (f64.add (call $dot (local.get $tmp) (local.get $w) (local.get $dp))
            (f64.mul (local.get $beta) (f64.sqrt (f64.max (local.get $qv) (f64.const 0)))))
          (local.get $cap)))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (local.set $val (i32.add (local.get $val) (i32.const 8)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $next))))

  ;; The ring of $rowsQuad holds, per panel of four rows, 64 bytes: the forms q of its rows, then
  ;; their values Q̄. $ringIn reads the forms of n rows (a multiple of 4) from q into it; $ringOut
  ;; writes the updated forms and the values of n rows from it to q and val.
  (func $ringIn (param $ring i32) (param $n i32) (param $q i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $ring) (i32.shl (local.get $n) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ring) (local.get $end)))
        (v128.store (local.get $ring) (v128.load (local.get $q)))
        (v128.store offset=16 (local.get $ring) (v128.load offset=16 (local.get $q)))
        (local.set $ring (i32.add (local.get $ring) (i32.const 64)))
        (local.set $q (i32.add (local.get $q) (i32.const 32)))
        (br $next))))

  (func $ringOut (param $ring i32) (param $n i32) (param $q i32) (param $val i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $ring) (i32.shl (local.get $n) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ring) (local.get $end)))
        (v128.store (local.get $q) (v128.load (local.get $ring)))
        (v128.store offset=16 (local.get $q) (v128.load offset=16 (local.get $ring)))
        (v128.store (local.get $val) (v128.load offset=32 (local.get $ring)))
        (v128.store offset=16 (local.get $val) (v128.load offset=48 (local.get $ring)))
        (local.set $ring (i32.add (local.get $ring) (i32.const 64)))
        (local.set $q (i32.add (local.get $q) (i32.const 32)))
        (local.set $val (i32.add (local.get $val) (i32.const 32)))
        (br $next))))

  ;; Phase 1 of a step, the common case of exactly one pending change (one episode per backup), on
  ;; the n rows of the panels at x, one panel (four rows) at a time: one sweep of the panel, in memory
  ;; order, gives x_rᵀu and w̄ᵀx_r for its four rows (u and w̄ are loaded once for all four, with fused
  ;; multiply-adds); then the form update, √, bonus and cap run on two rows per SIMD register.
  ;;
  ;; Two streams: the whole panels are split into a first half (stream A) and the rest (stream B),
  ;; and the loop takes a panel of each in turn. From memory a single stream kept too few reads in
  ;; flight on the Intel machine: a plain sum of the rows read 1.2 times faster as two streams, and
  ;; this sweep from memory took 1.17 times less time than with one (docs/performance.md, "On the
  ;; Intel machine"); in cache it costs about 9 %.
  ;;
  ;; The forms and values of each stream go through a ring of 16 panels (1 KiB; A's at tmp, B's at
  ;; tmp + 1024) that stays in the first-level cache: the forms of a block of 16 panels a stream are
  ;; read into the rings before their sweeps, and written out with the values after them. Loads and
  ;; stores of q and val inside the sweeps, which miss that cache, kept the loop from running while
  ;; the rows came from memory; four rows of the row-major layout read at once, 256 bytes apart,
  ;; came from memory slower than one stream (docs/performance.md). With the √ of 64 rows run after
  ;; their sweeps rather than beside them, the update took about as long (0.98 to 1.09 times, five
  ;; side-by-side runs). The rows of a last, partial panel go to $rows.
  (func $rowsQuad (param $x i32) (param $q i32) (param $n i32) (param $d i32) (param $dp i32)
    (param $u i32) (param $c i32) (param $w i32) (param $beta f64) (param $cap f64) (param $val i32) (param $tmp i32)
    (local $j i32) (local $s i32) (local $p i32) (local $pu i32) (local $pw i32) (local $pEnd i32)
    (local $panelBytes i32) (local $pairs32 i32) (local $panels i32) (local $pa i32) (local $pb i32) (local $block i32)
    (local $xs i32) (local $sm i32) (local $ringB i32)
    ;; per stream (A, B): its next panel, its next slot in its ring, where its forms and values go
    (local $xA i32) (local $xB i32) (local $smA i32) (local $smB i32)
    (local $qA i32) (local $qB i32) (local $valA i32) (local $valB i32)
    (local $su0 v128) (local $su1 v128) (local $su2 v128) (local $su3 v128)
    (local $sw0 v128) (local $sw1 v128) (local $sw2 v128) (local $sw3 v128)
    (local $xa v128) (local $uv v128) (local $wv v128) (local $S v128) (local $M v128) (local $Q v128)
    ;; c, β and the cap in both lanes, once (not reloaded or splat again for every panel)
    (local $cv v128) (local $bv v128) (local $capv v128)
    (local.set $cv (v128.load64_splat (local.get $c)))
    (local.set $bv (f64x2.splat (local.get $beta)))
    (local.set $capv (f64x2.splat (local.get $cap)))
    (local.set $panelBytes (i32.shl (local.get $dp) (i32.const 5)))
    ;; the panel's bytes that hold pairs of pairs (entries 4k … 4k + 3 of the four rows)
    (local.set $pairs32 (i32.and (local.get $panelBytes) (i32.const -128)))
    ;; the whole panels: the first pa in stream A, the other pb in stream B (pa − pb is 0 or 1)
    (local.set $panels (i32.shr_u (local.get $n) (i32.const 2)))
    (local.set $pb (i32.shr_u (local.get $panels) (i32.const 1)))
    (local.set $pa (i32.sub (local.get $panels) (local.get $pb)))
    (local.set $xA (local.get $x))
    (local.set $xB (i32.add (local.get $x) (i32.mul (local.get $pa) (local.get $panelBytes))))
    ;; a panel's four forms (or values) take 32 bytes
    (local.set $qA (local.get $q))
    (local.set $qB (i32.add (local.get $q) (i32.shl (local.get $pa) (i32.const 5))))
    (local.set $valA (local.get $val))
    (local.set $valB (i32.add (local.get $val) (i32.shl (local.get $pa) (i32.const 5))))
    (local.set $ringB (i32.add (local.get $tmp) (i32.const 1024)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $pa)))
        ;; a block of 16 panels a stream begins: the forms of each stream's (up to) 16 panels into its ring
        (if (i32.eqz (i32.and (local.get $j) (i32.const 15)))
          (then
            (local.set $block (i32.sub (local.get $pa) (local.get $j)))
            (call $ringIn (local.get $tmp)
              (i32.shl (select (i32.const 16) (local.get $block) (i32.gt_u (local.get $block) (i32.const 16))) (i32.const 2))
              (local.get $qA))
            (local.set $block (i32.sub (local.get $pb) (local.get $j)))
            (if (i32.gt_s (local.get $block) (i32.const 0))
              (then
                (call $ringIn (local.get $ringB)
                  (i32.shl (select (i32.const 16) (local.get $block) (i32.gt_u (local.get $block) (i32.const 16))) (i32.const 2))
                  (local.get $qB))))
            (local.set $smA (local.get $tmp))
            (local.set $smB (local.get $ringB))))
        ;; panel j of stream A, then panel j of stream B if it has one
        (local.set $s (i32.const 0))
        (block $doneS
          (loop $nextS
            (br_if $doneS (i32.gt_u (local.get $s) (i32.lt_u (local.get $j) (local.get $pb))))
            (local.set $xs (select (local.get $xB) (local.get $xA) (local.get $s)))
            (local.set $sm (select (local.get $smB) (local.get $smA) (local.get $s)))
            (local.set $su0 (v128.const f64x2 0 0)) (local.set $su1 (v128.const f64x2 0 0))
            (local.set $su2 (v128.const f64x2 0 0)) (local.set $su3 (v128.const f64x2 0 0))
            (local.set $sw0 (v128.const f64x2 0 0)) (local.set $sw1 (v128.const f64x2 0 0))
            (local.set $sw2 (v128.const f64x2 0 0)) (local.set $sw3 (v128.const f64x2 0 0))
            (local.set $p (local.get $xs)) (local.set $pu (local.get $u)) (local.set $pw (local.get $w))
            (local.set $pEnd (i32.add (local.get $xs) (local.get $pairs32)))
            (block $doneK
              (loop $nextK
                (br_if $doneK (i32.ge_u (local.get $p) (local.get $pEnd)))
                (local.set $uv (v128.load (local.get $pu)))
                (local.set $wv (v128.load (local.get $pw)))
                (local.set $xa (v128.load offset=0 (local.get $p)))
                (local.set $su0 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su0)))
                (local.set $sw0 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw0)))
                (local.set $xa (v128.load offset=16 (local.get $p)))
                (local.set $su1 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su1)))
                (local.set $sw1 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw1)))
                (local.set $xa (v128.load offset=32 (local.get $p)))
                (local.set $su2 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su2)))
                (local.set $sw2 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw2)))
                (local.set $xa (v128.load offset=48 (local.get $p)))
                (local.set $su3 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su3)))
                (local.set $sw3 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw3)))
                (local.set $uv (v128.load offset=16 (local.get $pu)))
                (local.set $wv (v128.load offset=16 (local.get $pw)))
                (local.set $xa (v128.load offset=64 (local.get $p)))
                (local.set $su0 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su0)))
                (local.set $sw0 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw0)))
                (local.set $xa (v128.load offset=80 (local.get $p)))
                (local.set $su1 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su1)))
                (local.set $sw1 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw1)))
                (local.set $xa (v128.load offset=96 (local.get $p)))
                (local.set $su2 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su2)))
                (local.set $sw2 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw2)))
                (local.set $xa (v128.load offset=112 (local.get $p)))
                (local.set $su3 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su3)))
                (local.set $sw3 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw3)))
                (local.set $p (i32.add (local.get $p) (i32.const 128)))
                (local.set $pu (i32.add (local.get $pu) (i32.const 32)))
                (local.set $pw (i32.add (local.get $pw) (i32.const 32)))
                (br $nextK)))
            ;; dp/2 odd: one last pair of entries
            (if (i32.lt_u (local.get $pairs32) (local.get $panelBytes))
              (then
                (local.set $uv (v128.load (local.get $pu)))
                (local.set $wv (v128.load (local.get $pw)))
                (local.set $xa (v128.load offset=0 (local.get $p)))
                (local.set $su0 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su0)))
                (local.set $sw0 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw0)))
                (local.set $xa (v128.load offset=16 (local.get $p)))
                (local.set $su1 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su1)))
                (local.set $sw1 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw1)))
                (local.set $xa (v128.load offset=32 (local.get $p)))
                (local.set $su2 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su2)))
                (local.set $sw2 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw2)))
                (local.set $xa (v128.load offset=48 (local.get $p)))
                (local.set $su3 (f64x2.relaxed_madd (local.get $xa) (local.get $uv) (local.get $su3)))
                (local.set $sw3 (f64x2.relaxed_madd (local.get $xa) (local.get $wv) (local.get $sw3)))
              ))
            ;; S = (x_rᵀu, x_{r+1}ᵀu), M = (w̄ᵀx_r, w̄ᵀx_{r+1}), lane sums of the accumulators; then rows r+2, r+3
            (local.set $S (f64x2.add
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $su0) (local.get $su1))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $su0) (local.get $su1))))
            (local.set $M (f64x2.add
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $sw0) (local.get $sw1))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $sw0) (local.get $sw1))))
            (local.set $Q (f64x2.sub (v128.load offset=0 (local.get $sm))
              (f64x2.mul (local.get $cv) (f64x2.mul (local.get $S) (local.get $S)))))
            (v128.store offset=0 (local.get $sm) (local.get $Q))
            (v128.store offset=32 (local.get $sm) (f64x2.pmin
              (f64x2.add (local.get $M)
                (f64x2.mul (local.get $bv) (f64x2.sqrt (f64x2.pmax (local.get $Q) (v128.const f64x2 0 0)))))
              (local.get $capv)))
            (local.set $S (f64x2.add
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $su2) (local.get $su3))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $su2) (local.get $su3))))
            (local.set $M (f64x2.add
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $sw2) (local.get $sw3))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $sw2) (local.get $sw3))))
            (local.set $Q (f64x2.sub (v128.load offset=16 (local.get $sm))
              (f64x2.mul (local.get $cv) (f64x2.mul (local.get $S) (local.get $S)))))
            (v128.store offset=16 (local.get $sm) (local.get $Q))
            (v128.store offset=48 (local.get $sm) (f64x2.pmin
              (f64x2.add (local.get $M)
                (f64x2.mul (local.get $bv) (f64x2.sqrt (f64x2.pmax (local.get $Q) (v128.const f64x2 0 0)))))
              (local.get $capv)))
            (if (local.get $s)
              (then
                (local.set $xB (i32.add (local.get $xB) (local.get $panelBytes)))
                (local.set $smB (i32.add (local.get $smB) (i32.const 64))))
              (else
                (local.set $xA (i32.add (local.get $xA) (local.get $panelBytes)))
                (local.set $smA (i32.add (local.get $smA) (i32.const 64)))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br $nextS)))
        ;; a block's last panel, or the last: each stream's forms and values out of its ring
        (if (i32.or (i32.eq (i32.and (local.get $j) (i32.const 15)) (i32.const 15))
                    (i32.eq (i32.add (local.get $j) (i32.const 1)) (local.get $pa)))
          (then
            (local.set $block (i32.shr_u (i32.sub (local.get $smA) (local.get $tmp)) (i32.const 6)))
            (call $ringOut (local.get $tmp) (i32.shl (local.get $block) (i32.const 2)) (local.get $qA) (local.get $valA))
            (local.set $qA (i32.add (local.get $qA) (i32.shl (local.get $block) (i32.const 5))))
            (local.set $valA (i32.add (local.get $valA) (i32.shl (local.get $block) (i32.const 5))))
            (local.set $block (i32.shr_u (i32.sub (local.get $smB) (local.get $ringB)) (i32.const 6)))
            (call $ringOut (local.get $ringB) (i32.shl (local.get $block) (i32.const 2)) (local.get $qB) (local.get $valB))
            (local.set $qB (i32.add (local.get $qB) (i32.shl (local.get $block) (i32.const 5))))
            (local.set $valB (i32.add (local.get $valB) (i32.shl (local.get $block) (i32.const 5))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    ;; the rows of a last, partial panel: rows 0 … n − 4·panels − 1 of the panels after the whole ones
    (if (i32.lt_u (i32.shl (local.get $panels) (i32.const 2)) (local.get $n))
      (then
        (call $rows (i32.add (local.get $x) (i32.mul (local.get $panels) (local.get $panelBytes))) (i32.const 0)
          (i32.add (local.get $q) (i32.shl (local.get $panels) (i32.const 5)))
          (i32.sub (local.get $n) (i32.shl (local.get $panels) (i32.const 2))) (local.get $d)
          (local.get $dp) (i32.const 0) (i32.const 0) (local.get $u) (local.get $c) (i32.const 1) (local.get $w)
          (local.get $beta) (local.get $cap) (i32.add (local.get $val) (i32.shl (local.get $panels) (i32.const 5)))
          (local.get $tmp)))))

  ;; y[0..dp) += Σ_t v_t x_t over n rows x_t (stride dp): the rhs of a step, Σ_τ V(s'_τ) φ_h^τ, in one
  ;; read of the rows as two streams, rows t and t + n/2 in one sweep of y (y stays in the
  ;; first-level cache); an odd last row after them.
  (func $gemvT (param $y i32) (param $v i32) (param $x i32) (param $n i32) (param $dp i32)
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
  (func $gemvTPanels (param $y i32) (param $v i32) (param $x i32) (param $n i32) (param $dp i32)
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
        (local.set $p (call $panelRow (local.get $x) (local.get $r) (local.get $dp)))
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
        (br $nextR))))

  ;; y += Σ_τ v_τ φ_h^τ over n transitions: from the plain φ_h rows, or from step h − 1's taken rows.
  (func $rhsOf (param $y i32) (param $v i32) (param $phi i32) (param $panels i32) (param $n i32) (param $dp i32)
    (if (local.get $panels)
      (then (call $gemvTPanels (local.get $y) (local.get $v) (local.get $phi) (local.get $n) (local.get $dp)))
      (else (call $gemvT (local.get $y) (local.get $v) (local.get $phi) (local.get $n) (local.get $dp)))))

  ;; Phase 1 over n rows of the panels at x with forms q, values to val: the first `old` bring their
  ;; forms up to date by the m pending changes ($rowsQuad for one, $rows for more), the rest (new
  ;; since the last backup) get them from scratch.
  (func $phase1 (param $x i32) (param $q i32) (param $n i32) (param $old i32) (param $d i32) (param $dp i32)
    (param $B i32) (param $u i32) (param $c i32) (param $m i32) (param $w i32) (param $beta f64) (param $cap f64)
    (param $val i32) (param $tmp i32)
    (if (i32.eq (local.get $m) (i32.const 1))
      (then
        (call $rowsQuad (local.get $x) (local.get $q) (local.get $old) (local.get $d) (local.get $dp)
          (local.get $u) (local.get $c) (local.get $w) (local.get $beta) (local.get $cap) (local.get $val) (local.get $tmp)))
      (else
        (call $rows (local.get $x) (i32.const 0) (local.get $q) (local.get $old) (local.get $d) (local.get $dp)
          (i32.const 0) (local.get $B) (local.get $u) (local.get $c) (local.get $m) (local.get $w) (local.get $beta)
          (local.get $cap) (local.get $val) (local.get $tmp))))
    (call $rows (local.get $x) (local.get $old)
      (i32.add (local.get $q) (i32.shl (local.get $old) (i32.const 3)))
      (i32.sub (local.get $n) (local.get $old)) (local.get $d) (local.get $dp) (i32.const 1)
      (local.get $B) (local.get $u) (local.get $c) (local.get $m) (local.get $w) (local.get $beta) (local.get $cap)
      (i32.add (local.get $val) (i32.shl (local.get $old) (i32.const 3))) (local.get $tmp)))

  ;; Where action a of transition t is (Store.ts, rowOfAction), as 2·row + 1 for taken row t and
  ;; 2·row for other row t·ao + k (ao = A − 1 other rows a transition; tat its taken action): the
  ;; other rows are the actions 0 … A − 2, but for slot tat < A − 1, which holds action A − 1.
  (func $slot (param $a i32) (param $t i32) (param $tat i32) (param $ao i32) (result i32)
    (if (result i32) (i32.eq (local.get $a) (local.get $tat))
      (then (i32.add (i32.shl (local.get $t) (i32.const 1)) (i32.const 1)))
      (else (i32.shl (i32.add (i32.mul (local.get $t) (local.get $ao))
        (select (local.get $tat) (local.get $a) (i32.eq (local.get $a) (local.get $ao)))) (i32.const 1)))))

  ;; One step h of the backward pass (docs/algorithm.md §2) over n stored transitions of one chunk:
  ;;
  ;;   next   n·(A − 1) rows in panels: φ(s'_τ, a) of the other actions (Store.ts)
  ;;   q      n·(A − 1):   φᵀ Λ_{h+1}⁻¹ φ of those rows, kept up to date here
  ;;   taken  n rows in panels: φ(s'_τ, a) of the taken action ta[τ] (uint16)
  ;;   qt     n:           their forms
  ;;   phi    n rows:      φ_h^τ = φ(s_h^τ, a_h^τ), plain rows of dp, or (phiPanels ≠ 0) step h − 1's
  ;;                       taken rows, the same numbers in panels
  ;;   val    n·A + n:     scratch: Q̄ of each other row, then of each taken row; then V̄ and V̲ of
  ;;                       each transition
  ;;   tmp    max(256, 2·dp): scratch: the two rings of $rowsQuad, a row gathered from the panels
  ;;
  ;; Phase 1, over the other rows and then the taken rows: the rows of transitions τ < fresh0 have
  ;; their forms brought up to date by the m pending changes of Λ_{h+1}; the rows of τ ≥ fresh0
  ;; (new since the last backup) get them from scratch; every row gets its Q̄. Phase 2, per
  ;; transition: V̄(s'_τ) = max_a Q̄, written over val[τ]; with twin ≠ 0 also V̲ = max{ w̲ᵀφ_π − β√q_π,
  ;; 0 } at the greedy action π (ties to the lowest a; the pessimistic twin of §2), at val[n·A + τ].
  ;; Phase 3: rhs += Σ_τ V̄_τ φ_h^τ (and rhsLow += Σ_τ V̲_τ φ_h^τ) in one read of the φ_h rows.
  (func (export "step")
    (param $next i32) (param $q i32) (param $taken i32) (param $qt i32) (param $ta i32) (param $phi i32) (param $phiPanels i32)
    (param $n i32) (param $fresh0 i32) (param $A i32) (param $d i32) (param $dp i32)
    (param $w i32) (param $wl i32) (param $B i32) (param $u i32) (param $c i32) (param $m i32)
    (param $beta f64) (param $cap f64) (param $twin i32) (param $rhs i32) (param $rhsl i32) (param $val i32) (param $tmp i32)
    (local $t i32) (local $a i32) (local $k i32) (local $o i32) (local $ao i32) (local $vt i32) (local $low i32)
    (local $s i32) (local $tat i32) (local $best f64) (local $bestS i32) (local $v f64) (local $vm v128)
    (local.set $ao (i32.sub (local.get $A) (i32.const 1)))
    (local.set $vt (i32.add (local.get $val) (i32.shl (i32.mul (local.get $n) (local.get $ao)) (i32.const 3))))
    (local.set $low (i32.add (local.get $val) (i32.shl (i32.mul (local.get $n) (local.get $A)) (i32.const 3))))
    (call $phase1 (local.get $next) (local.get $q) (i32.mul (local.get $n) (local.get $ao))
      (i32.mul (local.get $fresh0) (local.get $ao)) (local.get $d) (local.get $dp) (local.get $B) (local.get $u)
      (local.get $c) (local.get $m) (local.get $w) (local.get $beta) (local.get $cap) (local.get $val) (local.get $tmp))
    (call $phase1 (local.get $taken) (local.get $qt) (local.get $n) (local.get $fresh0) (local.get $d) (local.get $dp)
      (local.get $B) (local.get $u) (local.get $c) (local.get $m) (local.get $w) (local.get $beta) (local.get $cap)
      (local.get $vt) (local.get $tmp))
    (if (i32.eqz (local.get $twin))
      (then
        ;; Without the twin only V̄ = max_a Q̄ is needed, in any order of the actions: two transitions
        ;; at a time, side by side in one register (pmax is a < b ? b : a, the same number as max
        ;; here, where nothing is NaN); one transition at a time took 10 % of an update at A = 4.
        ;; val[t], val[t+1] are written over values of transitions t, t + 1 or before, already read.
        (block $donePairs
          (loop $nextPair
            (br_if $donePairs (i32.ge_u (i32.add (local.get $t) (i32.const 1)) (local.get $n)))
            (local.set $vm (v128.load (i32.add (local.get $vt) (i32.shl (local.get $t) (i32.const 3)))))
            (local.set $o (i32.add (local.get $val) (i32.shl (i32.mul (local.get $t) (local.get $ao)) (i32.const 3))))
            (local.set $k (i32.const 0))
            (block $doneK
              (loop $nextK
                (br_if $doneK (i32.ge_u (local.get $k) (local.get $ao)))
                (local.set $vm (f64x2.pmax (local.get $vm)
                  (v128.load64_lane 1
                    (i32.add (local.get $o) (i32.shl (i32.add (local.get $k) (local.get $ao)) (i32.const 3)))
                    (v128.load64_zero (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $nextK)))
            (v128.store (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 3))) (local.get $vm))
            (local.set $t (i32.add (local.get $t) (i32.const 2)))
            (br $nextPair)))
        (if (i32.lt_u (local.get $t) (local.get $n))
          (then
            (local.set $best (f64.load (i32.add (local.get $vt) (i32.shl (local.get $t) (i32.const 3)))))
            (local.set $o (i32.add (local.get $val) (i32.shl (i32.mul (local.get $t) (local.get $ao)) (i32.const 3))))
            (local.set $k (i32.const 0))
            (block $doneK
              (loop $nextK
                (br_if $doneK (i32.ge_u (local.get $k) (local.get $ao)))
                (local.set $best (f64.max (local.get $best) (f64.load (i32.add (local.get $o) (i32.shl (local.get $k) (i32.const 3))))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $nextK)))
            (f64.store (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 3))) (local.get $best))))
        (call $rhsOf (local.get $rhs) (local.get $val) (local.get $phi) (local.get $phiPanels) (local.get $n) (local.get $dp))
        (return)))
    ;; With the twin: the actions of each transition in their order, for the greedy one (ties to the
    ;; lowest a), then V̲ from its row and form.
    (block $doneT
      (loop $nextT
        (br_if $doneT (i32.ge_u (local.get $t) (local.get $n)))
        (local.set $tat (i32.load16_u (i32.add (local.get $ta) (i32.shl (local.get $t) (i32.const 1)))))
        (local.set $a (i32.const 0))
        (block $doneA
          (loop $nextA
            (br_if $doneA (i32.ge_u (local.get $a) (local.get $A)))
            (local.set $s (call $slot (local.get $a) (local.get $t) (local.get $tat) (local.get $ao)))
            (local.set $v (f64.load (i32.add (select (local.get $vt) (local.get $val) (i32.and (local.get $s) (i32.const 1)))
              (i32.shl (i32.shr_u (local.get $s) (i32.const 1)) (i32.const 3)))))
            (if (i32.or (i32.eqz (local.get $a)) (f64.gt (local.get $v) (local.get $best)))
              (then
                (local.set $best (local.get $v))
                (local.set $bestS (local.get $s))))
            (local.set $a (i32.add (local.get $a) (i32.const 1)))
            (br $nextA)))
        (call $gather (select (local.get $taken) (local.get $next) (i32.and (local.get $bestS) (i32.const 1)))
          (i32.shr_u (local.get $bestS) (i32.const 1)) (local.get $dp) (local.get $tmp))
        (f64.store (i32.add (local.get $low) (i32.shl (local.get $t) (i32.const 3)))
          (f64.max
            (f64.sub (call $dot (local.get $tmp) (local.get $wl) (local.get $dp))
              (f64.mul (local.get $beta)
                (f64.sqrt (f64.max (f64.load (i32.add (select (local.get $qt) (local.get $q) (i32.and (local.get $bestS) (i32.const 1)))
                  (i32.shl (i32.shr_u (local.get $bestS) (i32.const 1)) (i32.const 3)))) (f64.const 0)))))
            (f64.const 0)))
        ;; val[t] holds a value of transition t or before, already read
        (f64.store (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 3))) (local.get $best))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $nextT)))
    (call $rhsOf (local.get $rhs) (local.get $val) (local.get $phi) (local.get $phiPanels) (local.get $n) (local.get $dp))
    (if (local.get $twin)
      (then (call $rhsOf (local.get $rhsl) (local.get $low) (local.get $phi) (local.get $phiPanels) (local.get $n) (local.get $dp)))))

  ;; y[0..dp) += Σ_t v_t x_t (the exported $gemvT): Σ_τ r_τ φ_τ for a backup from scratch.
  (func (export "gemvT") (param $y i32) (param $v i32) (param $x i32) (param $n i32) (param $dp i32)
    (call $gemvT (local.get $y) (local.get $v) (local.get $x) (local.get $n) (local.get $dp)))

  ;; $panelRow and $gather for the forms kernel of lsviFull.wat, which imports them.
  (export "panelRow" (func $panelRow))
  (export "gather" (func $gather))
)

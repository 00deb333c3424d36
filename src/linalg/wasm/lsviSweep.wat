;; Phase 1's sweep of the incremental LSVI-UCB backup (src/learner/LsviIncremental.ts): the forms
;; and values of the stored next-state rows of a chunk, four rows (one panel) at a time, for the
;; common case of one pending change. The step kernel (lsvi.wat) imports it; conventions as there:
;; pointers are byte offsets into the imported memory, rows have dp entries (d rounded up to even,
;; the padding 0), in panels of four rows (src/learner/incremental/Store.ts). `npm run build:wasm`
;; compiles it into lsviSweepWasm.ts.
(module
  (import "env" "memory" (memory 1))

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
  ;; side-by-side runs). Whole panels only: the
  ;; caller takes the rows of a last, partial panel one at a time (lsvi.wat, $phase1).
  (func $rowsQuad (export "rowsQuad") (param $x i32) (param $q i32) (param $n i32) (param $d i32) (param $dp i32)
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
        (br $next)))))

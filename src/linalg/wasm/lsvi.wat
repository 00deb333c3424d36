;; The hot loops of the incremental LSVI-UCB backup (src/learner/LsviIncremental.ts), in WebAssembly
;; with 128-bit SIMD (two float64 lanes): the step kernel of the per-episode backward pass, which
;; imports phase 1's sweep from lsviSweep.wat and phase 3's sums from lsviRhs.wat. Those of the
;; backup from scratch (Λ from the stored rows, every form) are in lsviFull.wat, which imports
;; $gather from this module. `npm run build:wasm` compiles each file into a TypeScript module
;; (lsviWasm.ts, …); test/lsvi-files.test.ts checks that the embedded bytes are these sources compiled.
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
  ;; Phase 1's sweep (lsviSweep.wat) and phase 3's sums (lsviRhs.wat), in modules of their own.
  (import "env" "rowsQuad" (func $rowsQuad (param i32 i32 i32 i32 i32 i32 i32 i32 f64 f64 i32 i32)))
  (import "env" "gemvT" (func $gemvT (param i32 i32 i32 i32 i32)))
  (import "env" "gemvTPanels" (func $gemvTPanels (param i32 i32 i32 i32 i32)))

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

  ;; y += Σ_τ v_τ φ_h^τ over n transitions: from the plain φ_h rows, or from step h − 1's taken rows.
  (func $rhsOf (param $y i32) (param $v i32) (param $phi i32) (param $panels i32) (param $n i32) (param $dp i32)
    (if (local.get $panels)
      (then (call $gemvTPanels (local.get $y) (local.get $v) (local.get $phi) (local.get $n) (local.get $dp)))
      (else (call $gemvT (local.get $y) (local.get $v) (local.get $phi) (local.get $n) (local.get $dp)))))

  ;; Phase 1 over n rows of the panels at x with forms q, values to val: the first `old` bring their
  ;; forms up to date by the m pending changes ($rowsQuad for one, over the whole panels among them;
  ;; $rows for the rest, and for more changes), the others (new since the last backup) get them from
  ;; scratch.
  (func $phase1 (param $x i32) (param $q i32) (param $n i32) (param $old i32) (param $d i32) (param $dp i32)
    (param $B i32) (param $u i32) (param $c i32) (param $m i32) (param $w i32) (param $beta f64) (param $cap f64)
    (param $val i32) (param $tmp i32)
    (local $whole i32)
    (if (i32.eq (local.get $m) (i32.const 1))
      (then
        (local.set $whole (i32.and (local.get $old) (i32.const -4)))
        (call $rowsQuad (local.get $x) (local.get $q) (local.get $whole) (local.get $d) (local.get $dp)
          (local.get $u) (local.get $c) (local.get $w) (local.get $beta) (local.get $cap) (local.get $val) (local.get $tmp))))
    (call $rows (local.get $x) (local.get $whole)
      (i32.add (local.get $q) (i32.shl (local.get $whole) (i32.const 3)))
      (i32.sub (local.get $old) (local.get $whole)) (local.get $d) (local.get $dp) (i32.const 0)
      (local.get $B) (local.get $u) (local.get $c) (local.get $m) (local.get $w) (local.get $beta) (local.get $cap)
      (i32.add (local.get $val) (i32.shl (local.get $whole) (i32.const 3))) (local.get $tmp))
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

  ;; $panelRow and $gather for the forms kernel of lsviFull.wat, which imports them.
  (export "panelRow" (func $panelRow))
  (export "gather" (func $gather))
)

/*
 * What native code would give the whole per-episode update against its floor (docs/performance-floor.md,
 * "What native code would give"): the passes of one incremental backup of src/learner/incremental/
 * (Backup.ts, the step kernel of lsvi.wat) written in C with AVX-512 multiply-adds, on data of the
 * bench's shape, timed as `npm run bench` times the update and the floor (each right after the same
 * pass: warm, from the last-level cache). Not part of distmt (the in-process run builds nothing
 * native): a measure for the choice of how to go further.
 *
 *   gcc -O3 -march=native [-DAHEAD=P] [-DTAKEN_FIRST] [-DNO_PHASE3] -o /tmp/update_native bench/update_native.c -lm
 *   /tmp/update_native [K=2000]
 *
 * Per step h < H − 1, as Store.ts keeps them (one chunk a step here): the other rows, K·(A − 1)
 * next-state rows in panels of four (entries 2k, 2k + 1 of a panel's four rows side by side: 64
 * bytes, one AVX-512 register), their forms, then the K taken rows in panels and their forms. A
 * step's φ_h rows are step h − 1's taken rows (the bench's data comes as episodes in order), plain
 * rows at h = 0. The update, per step from h = H − 1 down: the episode's Sherman–Morrison change
 * (u = Bφ, B −= uuᵀ/(1 + φᵀu), as LsviIncremental.addTransitionFeatures does as each transition
 * arrives); phase 1 on every next-state row (q −= c (xᵀu)², Q̄ = min(w̄ᵀx + β√q, cap)); phase 2,
 * V̄ = max over the A actions; phase 3, rhs = Σφr + Σ_τ V̄_τ φ_h^τ; and w̄_h = B_h rhs. The floor is a
 * plain sum of every stored next-state row, as two streams. With -DAHEAD=P phases 1 and 3 and the
 * floor ask for the lines P panels ahead (`prefetch`, which WebAssembly does not have); with
 * -DTAKEN_FIRST phase 1 reads a step's taken rows before its other rows (phase 3 of the step above
 * has just read them); -DNO_PHASE3 leaves phase 3 out (numbers wrong, time right). Prints milliseconds, medians of 15 rounds of
 * (7 updates, the median of the last 5; 9 floors, the median of the last 7), and checks phase 1
 * against a scalar loop.
 */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "lsvi_native.h"

enum { A = 4, H = 20 };

/*
 * Every array in one region, one after another, as a learner's WebAssembly.Memory holds them
 * (Store.ts's bump allocator): separate allocations read slower here (more pages to walk).
 */
static double *arena, *arenaTop;

static double *values(size_t n) {
  double *p = arenaTop;
  arenaTop += (n + 7) & ~(size_t)7;
  for (size_t i = 0; i < n; i++) p[i] = rand() / (double)RAND_MAX - 0.5;
  return p;
}

/* Phase 3 over the n rows of the panels at x: y += Σ_r v_r x_r (one register a pair of entries of the four rows). */
static void phase3_panels(double *y, const double *v, const double *x, long n) {
  __m512d acc[D / 2];
  for (int k = 0; k < D / 2; k++) acc[k] = _mm512_setzero_pd();
  for (long p = 0; p < n / 4; p++, x += 4 * D) {
#ifdef AHEAD
    for (int l = 0; l < 4 * D; l += 8) _mm_prefetch((const char *)(x + AHEAD * 4 * D + l), _MM_HINT_T0);
#endif
    __m512d vv = _mm512_set_pd(v[4 * p + 3], v[4 * p + 3], v[4 * p + 2], v[4 * p + 2], v[4 * p + 1], v[4 * p + 1], v[4 * p], v[4 * p]);
    for (int k = 0; k < D / 2; k++) acc[k] = _mm512_fmadd_pd(vv, _mm512_load_pd(x + 8 * k), acc[k]);
  }
  for (int k = 0; k < D / 2; k++) {
    double t[8];
    _mm512_storeu_pd(t, acc[k]);
    y[2 * k] += t[0] + t[2] + t[4] + t[6];
    y[2 * k + 1] += t[1] + t[3] + t[5] + t[7];
  }
}

/* y += Σ_r v_r x_r over n plain rows of D. */
static void phase3_rows(double *y, const double *v, const double *x, long n) {
  __m512d acc[D / 8];
  for (int k = 0; k < D / 8; k++) acc[k] = _mm512_loadu_pd(y + 8 * k);
  for (long r = 0; r < n; r++, x += D) {
    __m512d vv = _mm512_set1_pd(v[r]);
    for (int k = 0; k < D / 8; k++) acc[k] = _mm512_fmadd_pd(vv, _mm512_load_pd(x + 8 * k), acc[k]);
  }
  for (int k = 0; k < D / 8; k++) _mm512_storeu_pd(y + 8 * k, acc[k]);
}

/* y = B x for the D × D matrix B. */
static void gemv(double *y, const double *B, const double *x) {
  for (int i = 0; i < D; i++) {
    __m512d s = _mm512_setzero_pd();
    for (int k = 0; k < D; k += 8) s = _mm512_fmadd_pd(_mm512_load_pd(B + i * D + k), _mm512_loadu_pd(x + k), s);
    y[i] = _mm512_reduce_add_pd(s);
  }
}

/*
 * The floor: Σ of n values (n a multiple of 32), read once, as two streams (the two halves side by
 * side), which read faster than one here, as they do in WebAssembly (docs/performance-floor.md, "Two streams").
 */
static double plain_sum(const double *x, long n) {
  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd(), s2 = _mm512_setzero_pd(), s3 = _mm512_setzero_pd();
  const double *y = x + n / 2;
  for (long i = 0; i < n / 2; i += 16) {
#ifdef AHEAD
    _mm_prefetch((const char *)(x + i + AHEAD * 4 * D), _MM_HINT_T0);
    _mm_prefetch((const char *)(x + i + 8 + AHEAD * 4 * D), _MM_HINT_T0);
    _mm_prefetch((const char *)(y + i + AHEAD * 4 * D), _MM_HINT_T0);
    _mm_prefetch((const char *)(y + i + 8 + AHEAD * 4 * D), _MM_HINT_T0);
#endif
    s0 = _mm512_add_pd(s0, _mm512_load_pd(x + i));
    s1 = _mm512_add_pd(s1, _mm512_load_pd(x + i + 8));
    s2 = _mm512_add_pd(s2, _mm512_load_pd(y + i));
    s3 = _mm512_add_pd(s3, _mm512_load_pd(y + i + 8));
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
}

int main(int argc, char **argv) {
  long K = argc > 1 ? atol(argv[1]) : 2000;
  if (K < 4 || K % 4 != 0) {
    fprintf(stderr, "usage: update_native [K, a multiple of 4]\n");
    return 1;
  }
  srand(1);
  const long others = K * (A - 1);
  arena = arenaTop = aligned_alloc(4096, sizeof(double) * ((size_t)(H + 2) * (K * A * (D + 1) + 2 * D * D) + 8 * (size_t)K * D));
#ifdef HUGE
  madvise(arena, sizeof(double) * ((size_t)(H + 2) * (K * A * (D + 1) + 2 * D * D) + 8 * (size_t)K * D), MADV_HUGEPAGE);
#endif
  double *next[H], *q[H], *taken[H], *qt[H], *B[H], *phiReward[H], *w[H + 1];
  for (int h = 0; h < H; h++) {
    next[h] = values(others * D), q[h] = values(others), taken[h] = values(K * D), qt[h] = values(K);
    for (long r = 0; r < others; r++) q[h][r] = 1e6;
    for (long r = 0; r < K; r++) qt[h][r] = 1e6;
    B[h] = values(D * D), phiReward[h] = values(D);
    for (int i = 0; i < D * D; i++) B[h][i] *= 1e-3;
  }
  for (int h = 0; h <= H; h++) w[h] = values(D);
  double *phi0 = values(K * D), *val = values(others + K), *V = values(K), *phiNew = values(D);
  double rhs[D] __attribute__((aligned(64))), u[D] __attribute__((aligned(64)));

  /* the check of phase 1 against one row at a time */
  double *qa = values(others), *qb = values(others), *va = values(others), *vb = values(others);
  for (long r = 0; r < others; r++) qa[r] = qb[r] = 1e6;
  phase1(next[0], qa, va, others, w[1], w[2], 1e-3, 1, 19);
  phase1_scalar(next[0], qb, vb, others, w[1], w[2], 1e-3, 1, 19);
  double diff = 0;
  for (long r = 0; r < others; r++) diff = fmax(diff, fabs(va[r] - vb[r]) / fmax(fabs(vb[r]), 1e-300));

  double sink = 0;
  enum { ROUNDS = 15 };
  double t_update[ROUNDS], t_floor[ROUNDS], ratio[ROUNDS];
  for (int round = 0; round < ROUNDS; round++) {
    double updates[7], floors[9];
    for (int e = 0; e < 7; e++) {
      double t = now_ms();
      for (int h = H - 1; h >= 0; h--) {
        /* the episode's transition at step h: u = Bφ, B −= uuᵀ/(1 + φᵀu) */
        gemv(u, B[h], phiNew);
        double cInv = 1;
        for (int i = 0; i < D; i++) cInv += phiNew[i] * u[i];
        for (int i = 0; i < D; i++)
          for (int k = 0; k < D; k++) B[h][i * D + k] -= u[i] / cInv * u[k];
        memcpy(rhs, phiReward[h], sizeof rhs);
        if (h + 1 < H) {
          double cap = H - h - 1;
#ifdef TAKEN_FIRST
          /* the taken rows first, which phase 3 of step h + 1 has just read */
          phase1(taken[h], qt[h], val + others, K, u, w[h + 1], 1e-9, 1, cap);
          phase1(next[h], q[h], val, others, u, w[h + 1], 1e-9, 1, cap);
#else
          phase1(next[h], q[h], val, others, u, w[h + 1], 1e-9, 1, cap);
          phase1(taken[h], qt[h], val + others, K, u, w[h + 1], 1e-9, 1, cap);
#endif
          for (long t = 0; t < K; t++) {
            double best = val[others + t];
            for (int k = 0; k < A - 1; k++) best = fmax(best, val[t * (A - 1) + k]);
            V[t] = best;
          }
#ifndef NO_PHASE3
          if (h > 0) phase3_panels(rhs, V, taken[h - 1], K);
          else phase3_rows(rhs, V, phi0, K);
#endif
        }
        gemv(w[h], B[h], rhs);
      }
      updates[e] = now_ms() - t;
    }
    for (int e = 0; e < 9; e++) {
      double t = now_ms();
      for (int h = 0; h + 1 < H; h++) sink += plain_sum(next[h], others * D) + plain_sum(taken[h], K * D);
      floors[e] = now_ms() - t;
    }
    t_update[round] = median(updates + 2, 5);
    t_floor[round] = median(floors + 2, 7);
    ratio[round] = t_update[round] / t_floor[round];
  }
  printf("K = %ld, d = %d, A = %d, H = %d (%.1f MB of next-state rows)%s: update %.3f ms, floor %.3f ms, update / floor %.2f; "
         "phase 1 against one row at a time: max rel diff %.1e%s\n",
         K, D, A, H, (H - 1) * (double)(others + K) * D * 8 / 1e6,
#ifdef AHEAD
         ", prefetch"
#endif
#ifdef TAKEN_FIRST
         ", taken rows first"
#endif
#ifdef NO_PHASE3
         ", phase 3 left out"
#endif
         "",
         median(t_update, ROUNDS), median(t_floor, ROUNDS), median(ratio, ROUNDS), diff, sink == 12345.678 ? " " : "");
  return 0;
}

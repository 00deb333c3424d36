/*
 * What wider SIMD would give phase 1's sweep (docs/performance-floor.md, "The update's parts as the bench
 * times it"): the sweep of lsviSweep.wat ($rowsQuad: for four rows at a time, x·u and w̄·x, the form
 * update, √, bonus and cap) in C with AVX-512 or AVX2 multiply-adds, beside a plain sum of the same
 * rows (the floor), from memory, from the last-level cache and in cache, as bench/lsvi_phase1.mjs
 * times the WebAssembly sweep. Not part of distmt (the in-process run builds nothing native): a
 * measure for the choice of how to go further.
 *
 *   gcc -O3 -march=native [-DAHEAD=P] -o /tmp/sweep_native bench/sweep_native.c -lm && /tmp/sweep_native [CHUNKS=240]
 *
 * With -DAHEAD=P the sweep asks for the lines of the panel P panels ahead (`prefetch`, which
 * WebAssembly does not have) before each panel.
 * d = 32, chunks of 1,024 rows in Store.ts's panels (entries 2k, 2k + 1 of the four rows of a panel
 * side by side: 64 bytes, one AVX-512 register), each chunk's forms after its rows. Prints ns per
 * row, medians of 15 rounds, and checks the sweep's forms and values against a scalar loop.
 */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lsvi_native.h"

enum { R = 1024 };
#define CHUNK_VALUES (R * D + R)


/* The floor: Σ of n values (n a multiple of 16), read once. */
static double plain_sum(const double *x, long n) {
#if defined(__AVX512F__)
  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
  for (long i = 0; i < n; i += 16) {
    s0 = _mm512_add_pd(s0, _mm512_loadu_pd(x + i));
    s1 = _mm512_add_pd(s1, _mm512_loadu_pd(x + i + 8));
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
#else
  double s = 0;
  for (long i = 0; i < n; i++) s += x[i];
  return s;
#endif
}

int main(int argc, char **argv) {
  int chunks = argc > 1 ? atoi(argv[1]) : 240;
  if (chunks < 1) {
    fprintf(stderr, "usage: sweep_native [CHUNKS >= 1]\n");
    return 1;
  }
  double *mem = aligned_alloc(64, sizeof(double) * ((size_t)chunks * CHUNK_VALUES));
  double u[D], w[D], val[R], val2[R], q2[R];
  srand(1);
  for (size_t i = 0; i < (size_t)chunks * CHUNK_VALUES; i++) mem[i] = rand() / (double)RAND_MAX - 0.5;
  for (int i = 0; i < D; i++) {
    u[i] = (rand() / (double)RAND_MAX - 0.5) * 1e-3;
    w[i] = rand() / (double)RAND_MAX;
  }
  double c = 1e-3, beta = 1, cap = 19;
  /* the check, on the first chunk */
  for (int r = 0; r < R; r++) mem[R * D + r] = q2[r] = 1e6;
  phase1(mem, mem + R * D, val, R, u, w, c, beta, cap);
  phase1_scalar(mem, q2, val2, R, u, w, c, beta, cap);
  double diff = 0;
  for (int r = 0; r < R; r++) {
    diff = fmax(diff, fabs(val[r] - val2[r]) / fmax(fabs(val2[r]), 1e-300));
    diff = fmax(diff, fabs(mem[R * D + r] - q2[r]) / fmax(fabs(q2[r]), 1e-300));
  }
  enum { ROUNDS = 15 };
  double t_mem[ROUNDS], t_sum[ROUNDS], t_cache[ROUNDS], sink = 0;
  for (int round = 0; round < ROUNDS; round++) {
    for (int k = 0; k < chunks; k++)
      for (int r = 0; r < R; r++) mem[(size_t)k * CHUNK_VALUES + R * D + r] = 1e6;
    double t = now_ms();
    for (int k = 0; k < chunks; k++) {
      double *x = mem + (size_t)k * CHUNK_VALUES;
      phase1(x, x + R * D, val, R, u, w, c, beta, cap);
    }
    t_mem[round] = (now_ms() - t) * 1e6 / ((double)chunks * R);
    t = now_ms();
    for (int k = 0; k < chunks; k++) sink += plain_sum(mem + (size_t)k * CHUNK_VALUES, R * D);
    t_sum[round] = (now_ms() - t) * 1e6 / ((double)chunks * R);
    t = now_ms();
    for (int i = 0; i < 50; i++) phase1(mem, mem + R * D, val, R, u, w, c, beta, cap);
    t_cache[round] = (now_ms() - t) * 1e6 / (50.0 * R);
  }
#if defined(__AVX512F__)
  const char *simd = "AVX-512";
#else
  const char *simd = "scalar (no AVX-512: compile with -march=native on a processor that has it)";
#endif
  printf("%s, %d chunks of %d rows (%.0f MB): in cache %.2f  from memory %.2f  plain sum %.2f ns/row; "
         "max rel diff against the scalar loop %.1e%s\n",
         simd, chunks, R, chunks * (double)CHUNK_VALUES * 8 / 1e6, median(t_cache, ROUNDS), median(t_mem, ROUNDS),
         median(t_sum, ROUNDS), diff, sink == 12345.678 ? " " : "");
  free(mem);
  return 0;
}

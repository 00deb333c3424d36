/*
 * What bench/sweep_native.c and bench/update_native.c share: phase 1's sweep of the incremental
 * backup (lsviSweep.wat's $rowsQuad) in C, AVX-512 where the compiler targets it, its check one row
 * at a time, and the timing helpers. d = D = 32; rows in Store.ts's panels (entries 2k, 2k + 1 of the
 * four rows of a panel side by side: 64 bytes, one AVX-512 register). Not part of distmt.
 */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

enum { D = 32 };

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/*
 * Phase 1 on the n rows (n a multiple of 4) of the panels at x, four rows at a time:
 * q ← q − c (xᵀu)², val = min(w̄ᵀx + β√max(q, 0), cap). With -DAHEAD=P it asks for the lines of the
 * panel P panels ahead (`prefetch`, which WebAssembly does not have) before each panel.
 */
static void phase1(const double *x, double *q, double *val, long n, const double *u, const double *w, double c, double beta,
                   double cap) {
  for (long p = 0; p < n / 4; p++, x += 4 * D) {
#ifdef AHEAD
    for (int l = 0; l < 4 * D; l += 8) _mm_prefetch((const char *)(x + AHEAD * 4 * D + l), _MM_HINT_T0);
#endif
#if defined(__AVX512F__)
    __m512d su0 = _mm512_setzero_pd(), su1 = _mm512_setzero_pd(), sw0 = _mm512_setzero_pd(), sw1 = _mm512_setzero_pd();
    for (int k = 0; k < D / 2; k += 2) {
      /* (u_2k, u_2k+1) four times: the pair of every row of the panel */
      __m512d uk0 = _mm512_broadcast_f64x2(_mm_loadu_pd(u + 2 * k)), wk0 = _mm512_broadcast_f64x2(_mm_loadu_pd(w + 2 * k));
      __m512d uk1 = _mm512_broadcast_f64x2(_mm_loadu_pd(u + 2 * k + 2)), wk1 = _mm512_broadcast_f64x2(_mm_loadu_pd(w + 2 * k + 2));
      __m512d x0 = _mm512_loadu_pd(x + 8 * k), x1 = _mm512_loadu_pd(x + 8 * k + 8);
      su0 = _mm512_fmadd_pd(x0, uk0, su0);
      sw0 = _mm512_fmadd_pd(x0, wk0, sw0);
      su1 = _mm512_fmadd_pd(x1, uk1, su1);
      sw1 = _mm512_fmadd_pd(x1, wk1, sw1);
    }
    double a[8], b[8];
    _mm512_storeu_pd(a, _mm512_add_pd(su0, su1));
    _mm512_storeu_pd(b, _mm512_add_pd(sw0, sw1));
#else
    double a[8] = {0}, b[8] = {0};
    for (int k = 0; k < D / 2; k++)
      for (int j = 0; j < 8; j++) {
        a[j] += x[8 * k + j] * u[2 * k + (j & 1)];
        b[j] += x[8 * k + j] * w[2 * k + (j & 1)];
      }
#endif
    for (int r = 0; r < 4; r++) {
      double s = a[2 * r] + a[2 * r + 1], m = b[2 * r] + b[2 * r + 1];
      double f = q[4 * p + r] - c * s * s;
      q[4 * p + r] = f;
      double v = m + beta * sqrt(f > 0 ? f : 0);
      val[4 * p + r] = v < cap ? v : cap;
    }
  }
}

/* The same, one row at a time: the check. */
static void phase1_scalar(const double *x, double *q, double *val, long n, const double *u, const double *w, double c,
                          double beta, double cap) {
  for (long r = 0; r < n; r++) {
    const double *panel = x + (r / 4) * 4 * D;
    double s = 0, m = 0;
    for (int i = 0; i < D; i++) {
      double xi = panel[(i / 2) * 8 + (r % 4) * 2 + (i & 1)];
      s += xi * u[i];
      m += xi * w[i];
    }
    double f = q[r] - c * s * s;
    q[r] = f;
    double v = m + beta * sqrt(f > 0 ? f : 0);
    val[r] = v < cap ? v : cap;
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, n, sizeof *v, cmp);
  return v[n / 2];
}

#!/usr/bin/env python3
"""The second peer of `npm run bench`: the LSVI-UCB optimistic backup of docs/algorithm.md §2 as
rlberry's LSVI-UCB agent writes it (rlberry/agents/linear/lsvi_ucb.py, `run_lsvi_jit`): scalar loops
over the stored transitions and actions, compiled with numba, each bonus a d × d quadratic form
φᵀΛ⁻¹φ computed from scratch, every episode. Differences from rlberry, to compute the same numbers
as distmt and bench/lsvi_numpy.py: one Λ_h per step (rlberry keeps one Λ for all steps), the cap
H − h − 1 and no second bonus term. Λ_h⁻¹ comes from np.linalg.inv, as in rlberry.

Reads the folder of `distmt bench lsvi --dump DIR` and prints one JSON object like lsvi_numpy.py.
Without numba it prints {"skipped": "..."} and exits 0.

    python3 bench/lsvi_numba.py DIR [--repeats N] [--warmup N]
"""
import argparse
import json
import os
import sys
import time

import numpy as np

try:
    import numba
except ImportError as e:  # the bench says so and goes on without this peer
    print(json.dumps({"skipped": f"numba is not installed for {sys.executable} ({e})"}))
    sys.exit(0)

from blas_info import blas_info


@numba.njit(cache=False)
def gram(X, lam):
    K, d = X.shape
    M = np.zeros((d, d))
    for i in range(d):
        M[i, i] = lam
    for t in range(K):
        for i in range(d):
            for j in range(d):
                M[i, j] += X[t, i] * X[t, j]
    return M


@numba.njit(cache=False)
def targets(reward, P, w_next, lam_inv, beta, cap):
    """reward[t] + max_a min(w·φ + β sqrt(φᵀΛ⁻¹φ), cap) for every stored transition t."""
    K, A, d = P.shape
    out = np.empty(K)
    for t in range(K):
        best = -np.inf
        for a in range(A):
            form = 0.0
            for i in range(d):
                s = 0.0
                for j in range(d):
                    s += lam_inv[i, j] * P[t, a, j]
                form += P[t, a, i] * s
            mean = 0.0
            for i in range(d):
                mean += P[t, a, i] * w_next[i]
            q = min(mean + beta * np.sqrt(max(form, 0.0)), cap)
            if q > best:
                best = q
        out[t] = reward[t] + best
    return out


@numba.njit(cache=False)
def weights(X, target, lam_inv):
    K, d = X.shape
    b = np.zeros(d)
    for t in range(K):
        for i in range(d):
            b[i] += target[t] * X[t, i]
    w = np.zeros(d)
    for i in range(d):
        s = 0.0
        for j in range(d):
            s += lam_inv[i, j] * b[j]
        w[i] = s
    return w


def backup(phi, reward, phi_next, lam, beta):
    H, K, d = phi.shape
    w = np.zeros((H, d))
    lam_inv_next = None
    for h in range(H - 1, -1, -1):
        lam_inv = np.linalg.inv(gram(phi[h], lam))
        if h < H - 1:
            target = targets(reward[h], phi_next[h], w[h + 1], lam_inv_next, beta, float(H - h - 1))
        else:
            target = reward[h].copy()
        w[h] = weights(phi[h], target, lam_inv)
        lam_inv_next = lam_inv
    return w


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--repeats", type=int, default=0, help="timed runs (default: enough for about 3 s, 3 to 11)")
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    load = lambda name: np.ascontiguousarray(np.load(os.path.join(args.dir, name)))
    phi, reward, phi_next, w_distmt = load("phi.npy"), load("reward.npy"), load("phi_next.npy"), load("w.npy")
    with open(os.path.join(args.dir, "meta.json")) as f:
        meta = json.load(f)
    lam, beta = float(meta["lambda"]), float(meta["beta"])

    first = 0.0
    for _ in range(max(args.warmup, 1)):  # the first run also compiles
        t0 = time.perf_counter()
        w = backup(phi, reward, phi_next, lam, beta)
        first = time.perf_counter() - t0
    repeats = args.repeats if args.repeats > 0 else max(3, min(11, int(np.ceil(3.0 / max(first, 1e-6)))))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        w = backup(phi, reward, phi_next, lam, beta)
        times.append(time.perf_counter() - t0)
    scale = float(np.max(np.abs(w)))
    print(json.dumps({
        "fullBackupSeconds": float(np.median(times)),
        "runs": repeats,
        "maxRelDiff": float(np.max(np.abs(w - w_distmt)) / max(scale, 1e-300)),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "blasThreads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        **blas_info(),
    }))


if __name__ == "__main__":
    sys.exit(main())

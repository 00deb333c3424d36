#!/usr/bin/env python3
"""The NumPy reference of `npm run bench`: the LSVI-UCB optimistic backup of docs/algorithm.md §2,
recomputed from scratch as LSVI-UCB implementations do every episode, plainly vectorized.

Reads a folder written by `distmt bench lsvi --dump DIR` (phi.npy (H,K,d), reward.npy (H,K),
phi_next.npy (H,K,A,d), w.npy (H,d), meta.json with lambda and beta), times the backup (median of
repeated runs after warm-up runs), and prints one JSON object: the time, and the largest relative
difference between its w and distmt's w.npy (max |w - w_distmt| / max |w|).

    python3 bench/lsvi_numpy.py DIR [--repeats N] [--warmup N]

Shares no code with distmt. BLAS threads follow the usual variables (OPENBLAS_NUM_THREADS, ...);
`npm run bench` runs it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (the kernel OpenBLAS picks
by itself on this processor, reported as blasCore).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from blas_info import blas_info


def backup(phi, reward, phi_next, lam, beta):
    """w[h] for h = H-1..0 (0-based steps; the cap of Q at step h+1 is H-h-1; V = 0 after the last step)."""
    H, K, d = phi.shape
    A = phi_next.shape[2]
    w = np.zeros((H, d))
    lam_inv_next = None
    for h in range(H - 1, -1, -1):
        X = phi[h]  # (K, d)
        Lam = lam * np.eye(d) + X.T @ X  # Λ_h
        target = reward[h].copy()
        if h < H - 1:
            P = phi_next[h].reshape(K * A, d)  # φ(s_{h+1}, a) for every stored next state and action
            mean = P @ w[h + 1]
            form = np.einsum("nd,nd->n", P @ lam_inv_next, P)  # φᵀ Λ_{h+1}⁻¹ φ
            q = np.minimum(mean + beta * np.sqrt(np.maximum(form, 0.0)), H - h - 1)
            target += q.reshape(K, A).max(axis=1)  # V̄_{h+1}(s')
        w[h] = np.linalg.solve(Lam, X.T @ target)
        lam_inv_next = np.linalg.inv(Lam)
    return w


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--repeats", type=int, default=0, help="timed runs (default: enough for about 3 s, 3 to 11)")
    ap.add_argument("--warmup", type=int, default=2)
    args = ap.parse_args()
    load = lambda name: np.load(os.path.join(args.dir, name))
    phi, reward, phi_next, w_distmt = load("phi.npy"), load("reward.npy"), load("phi_next.npy"), load("w.npy")
    with open(os.path.join(args.dir, "meta.json")) as f:
        meta = json.load(f)
    lam, beta = float(meta["lambda"]), float(meta["beta"])
    H, K, d = phi.shape
    assert reward.shape == (H, K) and phi_next.shape[:2] == (H, K) and phi_next.shape[3] == d, "inconsistent shapes"

    for _ in range(max(args.warmup, 1)):
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
    diff = float(np.max(np.abs(w - w_distmt)) / max(scale, 1e-300))
    print(json.dumps({
        "fullBackupSeconds": float(np.median(times)),
        "runs": repeats,
        "maxRelDiff": diff,
        "numpy": np.__version__,
        "blasThreads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "openblasEnv": {v: os.environ[v] for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ},
        **blas_info(),
    }))


if __name__ == "__main__":
    sys.exit(main())

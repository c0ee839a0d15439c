"""Benchmark: phase diagrams, serially, in two local processes and on a two-worker Dask LocalCluster, side by side.

    python benchmarks/bench_phase_diagram.py [--size 200] [--fp-size 100] [--skip-fp] [--skip-dask]

Prints, in one run, with a warm compile cache (the first call of each model compiles it and is not timed):

* the binary perceptron's (alpha, kappa) diagram, alpha in [0.05, 1.5], kappa in [0, 1.5], SIZE x SIZE points, with
  the capacity, alpha_GD and dAT lines: one process, two processes (the 1 -> 2 worker speed-up), and two Dask
  workers (the overhead of Dask against local processes); target <= 60 s with two workers at 200 x 200;
* the Franz–Parisi local entropy around maximal-margin references in (alpha, d), alpha in [0.4, 0.8], d in
  [0.004, 0.3], FP_SIZE x FP_SIZE points, strips along d, with two workers; target <= 5 min at 100 x 100.

The rows of the runs are compared: the same statuses, and the order parameters within 1e-12.
"""
import argparse
import time

import numpy as np

import replica

BINARY_LINES = ["capacity", "alpha-gd", "dat-line"]


def timed(**kwargs):
    t0 = time.perf_counter()
    d = replica.phase_diagram(progress=False, **kwargs)
    return d, time.perf_counter() - t0


def same_rows(a, b):
    ok = a.grid.status == "converged"
    same = list(a.grid.status) == list(b.grid.status)
    return same and all(np.allclose(a.grid[c][ok], b.grid[c][ok], rtol=0, atol=1e-12) for c in ("q", "qhat"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--fp-size", type=int, default=100)
    parser.add_argument("--skip-fp", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    n = args.size
    binary = dict(model="binary-perceptron", alpha=f"0.05:1.5:{n}", kappa=f"0:1.5:{n}", lines=BINARY_LINES)
    replica.phase_diagram("binary-perceptron", alpha="0.1:0.5:3", kappa="0:1:2", progress=False)  # compile
    rows = []
    serial, t1 = timed(**binary)
    rows.append((f"binary {n}x{n} + lines, 1 process", t1, "", ""))
    pooled, t2 = timed(workers=2, **binary)
    rows.append((f"binary {n}x{n} + lines, 2 processes", t2, "<= 60 s", f"speed-up {t1 / t2:.2f}x, same rows: "
                                                                           f"{same_rows(serial, pooled)}"))
    if not args.skip_dask:
        dask, t3 = timed(workers=2, scheduler="local", **binary)
        rows.append((f"binary {n}x{n} + lines, Dask 2 workers", t3, "",
                     f"overhead vs processes {t3 - t2:+.1f} s, same rows: {same_rows(serial, dask)}"))
    counts = serial.grid.status.value_counts().to_dict()
    if not args.skip_fp:
        m = args.fp_size
        fp = dict(model="binary-perceptron-fp", alpha=f"0.4:0.8:{m}", d=np.geomspace(0.3, 0.004, m), ref_kappa="max",
                  along="d", lines=["zero:entropy"])
        replica.phase_diagram("binary-perceptron-fp", alpha="0.5:0.6:2", d="0.1:0.05:2", ref_kappa="max",
                              along="d", progress=False)  # compile
        diagram, t4 = timed(workers=2, **fp)
        fp_counts = diagram.grid.status.value_counts().to_dict()
        rows.append((f"Franz-Parisi {m}x{m} (alpha, d), 2 processes", t4, "<= 300 s", f"statuses {fp_counts}"))
    print(f"binary statuses: {counts}")
    print(f"{'case':<48} {'seconds':>9}  {'target':<9} notes")
    for name, seconds, target, notes in rows:
        print(f"{name:<48} {seconds:9.1f}  {target:<9} {notes}")


if __name__ == "__main__":
    main()

"""Benchmark: cold starts, each in a fresh process with an empty compile cache, beside the numbers measured before the
cold-start work (the "before" column: measured on the same 2-core machine, on the code of 2026-12-04).

    python benchmarks/bench_cold_start.py [--skip-relu5] [--skip-parallel]

For each model: the wall time of the first ``replica solve`` (import, sympy derivation, code generation, numba
compilation, the solve), and on a fresh installation, where the solvers and special functions (compiled once per
installation) are compiled too; the K = 5 ReLU committee's sympy derivation alone; REPLICA_PARALLEL=1 against the serial
compile of the Franz–Parisi model. Targets: <= 8 s for the perceptron, Franz–Parisi, large-deviation and
Gaussian-mixture models, <= 20 s for the K = 3 committee, <= 60 s for the K = 5 ReLU derivation, parallel <= 1.5x
serial.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

SOLVES = [
    ("binary-perceptron", ["--alpha", "0.6"], 20.0, 8),
    ("spherical-perceptron", ["--alpha", "1.0"], 22.0, 8),
    ("binary-perceptron-fp", ["--alpha", "0.6", "--ref-kappa", "max", "--d", "0.05"], 27.0, 8),
    ("binary-perceptron-ld", ["--alpha", "0.6", "--y", "3", "--d", "0.05"], None, 8),
    ("gm-ridge", ["--alpha", "2", "--delta", "0.5", "--rho", "0.2", "--lam", "0.47"], None, 8),
    ("gm-logistic", ["--alpha", "2", "--delta", "0.5", "--rho", "0.2", "--lam", "0.1"], None, 8),
    ("committee", ["--K", "3", "--alpha", "0.5"], None, 20),
]


def cold(argv, env=None):
    """Wall time of ``replica ARGV`` in a fresh process with an empty model cache (the solvers and special functions,
    compiled once per installation, are warmed first, as after any earlier run of the toolkit)."""
    cache = tempfile.mkdtemp(prefix="replica-cold-")
    env = {**os.environ, "REPLICA_CACHE_DIR": cache, **(env or {})}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "replica", *argv], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise RuntimeError(f"replica {' '.join(argv)}: {done.stderr.strip().splitlines()[-1]}")
    return seconds


def relu5_derivation():
    """Seconds to derive the K = 5 ReLU committee's bundles with sympy (no compilation)."""
    code = ("import time; from replica.models import resolve; "
            "spec = resolve('committee', {'K': 5, 'activation': 'relu'})[0]; t = time.perf_counter(); "
            "spec.free_entropy.bundles(); print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-relu5", action="store_true")
    parser.add_argument("--skip-parallel", action="store_true")
    args = parser.parse_args()
    # a fresh installation: numba's own cache (the solvers, the special functions) empty too
    fresh = cold(["solve", "binary-perceptron", "--alpha", "0.6"], {"NUMBA_CACHE_DIR": tempfile.mkdtemp()})
    cold(["solve", "binary-perceptron", "--alpha", "0.3"])  # the solvers and special functions, once
    rows = [("first solve on a fresh installation: binary-perceptron", None, fresh, "-")]
    for model, argv, before, target in SOLVES:
        rows.append((f"first solve: {model}", before, cold(["solve", model, *argv]), f"<= {target} s"))
    fp = ["solve", "binary-perceptron-fp", "--alpha", "0.6", "--ref-kappa", "max", "--d", "0.05"]
    if not args.skip_parallel:
        serial = cold(fp)
        parallel = cold(fp, {"REPLICA_PARALLEL": "1"})
        rows.append(("Franz-Parisi, REPLICA_PARALLEL=1 / serial", 3.0, parallel / serial, "<= 1.5x"))
    if not args.skip_relu5:
        rows.append(("K = 5 ReLU committee: sympy derivation", 270.0, relu5_derivation(), "<= 60 s"))
    print(f"{'case':<52} {'before':>8} {'now':>8}  target")
    for name, before, now, target in rows:
        b = "-" if before is None else f"{before:.1f}"
        print(f"{name:<52} {b:>8} {now:8.2f}  {target}")


if __name__ == "__main__":
    main()

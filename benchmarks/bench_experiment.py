"""Benchmark: theory against experiment on the binary perceptron — exact enumeration and the learning algorithms.

    python benchmarks/bench_experiment.py [--seeds 5]

Prints, in one run: a 100-instance exact enumeration at N = 21 (alpha = 0.5) and at N = 25, a Replicated-SGD run
over SEEDS instances at N = 1001 (alpha = 0.3), and the success rate of each algorithm against alpha at N = 1001
(default hyperparameters; a failed run costs its full epoch budget). The first call of each numba kernel compiles it
and is not timed.
"""
import argparse
import time

import replica
from replica import algorithms
from replica import enumeration as en


def timed(f, *args, **kwargs):
    t0 = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    en.entropy(9, 0.5, samples=2)  # compile
    print(f"{'case':<56} {'seconds':>8}  result")
    for n in (21, 25):
        r, t = timed(en.entropy, n, 0.5, samples=100)
        rs = replica.solve("binary-perceptron", alpha=r["alpha"]).entropy
        case = f"enumeration, 100 instances, N = {n}, alpha = {r['alpha']:.4f}"
        print(f"{case:<56} {t:8.2f}  "
              f"s = {r['entropy']:.4f} +- {r['entropy_err']:.4f} (RS {rs:.4f}), solvable {r['solvable_fraction']:.2f}")
    df, t = timed(algorithms.simulate, "rsgd", 1001, 0.3, seeds=args.seeds)
    case = f"rsgd, {args.seeds} seeds, N = 1001, alpha = 0.3"
    print(f"{case:<56} {t:8.2f}  success {df.solved.mean():.2f}")
    print(f"\nsuccess rate at N = 1001 ({args.seeds} instances each; seconds in brackets)")
    alphas = (0.3, 0.5, 0.6, 0.7)
    print(f"{'algorithm':<10}" + "".join(f"{f'alpha = {a:g}':>20}" for a in alphas))
    for name in algorithms.ALGORITHMS:
        cells = []
        for a in alphas:
            df, t = timed(algorithms.simulate, name, 1001, a, seeds=args.seeds)
            cells.append(f"{df.solved.mean():.2f} ({t:.0f} s)")
        print(f"{name:<10}" + "".join(f"{c:>20}" for c in cells), flush=True)


if __name__ == "__main__":
    main()

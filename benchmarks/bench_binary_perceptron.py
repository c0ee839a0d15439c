"""Benchmark: binary-perceptron RS solves with replica against a plain scipy implementation, side by side.

    python benchmarks/bench_binary_perceptron.py [--points 200] [--repeat 200]

Prints, in one run: the time of one RS solve (alpha=0.6, kappa=0) and of an alpha sweep, for replica and for a
baseline written here with scipy.integrate.quad and a damped fixed point (damping 0.5, the textbook recipe); each
one's error against a 30-digit mpmath solution of the same equations; the cold start of `replica solve` in a fresh
process with a warm cache. Targets (issue 2): >= 300x faster than the baseline at <= 1e-10 error, one solve <= 0.5 ms
warm, cold start <= 3 s.
"""
import argparse
import math
import statistics
import subprocess
import sys
import time

import mpmath as mp
import numpy as np
import scipy.integrate
import scipy.special

import replica

KAPPA = 0.0


# ----- baseline: scipy.integrate.quad + damped fixed point ---------------------------------------------------------
def _gauss(f):
    return scipy.integrate.quad(lambda z: f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -np.inf, np.inf,
                                epsabs=1e-14, epsrel=1e-13, limit=200)[0]


def _mills(x):
    return math.exp(-x * x / 2 - 0.5 * math.log(2 * math.pi) - scipy.special.log_ndtr(-x))


def _log2cosh(x):
    return abs(x) + math.log1p(math.exp(-2 * abs(x)))


def baseline_solve(alpha, q=0.5, qhat=1.0, damping=0.5, tol=1e-12, max_iter=10_000):
    for it in range(max_iter):
        u = lambda z: (KAPPA - math.sqrt(q) * z) / math.sqrt(1 - q)  # noqa: E731
        new_qhat = alpha / (1 - q) * _gauss(lambda z: _mills(u(z)) ** 2)
        new_q = _gauss(lambda z: math.tanh(math.sqrt(new_qhat) * z) ** 2)
        dq, dqh = new_q - q, new_qhat - qhat
        q, qhat = q + damping * dq, qhat + damping * dqh
        if abs(dq) <= tol and abs(dqh) <= tol * max(1, qhat):
            break
    s = (-qhat * (1 - q) / 2 + _gauss(lambda z: _log2cosh(math.sqrt(qhat) * z))
         + alpha * _gauss(lambda z: scipy.special.log_ndtr(-(KAPPA - math.sqrt(q) * z) / math.sqrt(1 - q))))
    return q, qhat, s


# ----- reference: mpmath at 30 digits ------------------------------------------------------------------------------
def reference(alpha, q0, qhat0):
    mp.mp.dps = 30
    a = mp.mpf(alpha)

    def E(f):
        return mp.quad(lambda z: mp.npdf(z) * f(z), [-mp.inf, -3, 0, 3, mp.inf])

    def H(x):
        return mp.erfc(x / mp.sqrt(2)) / 2

    def eqs(q, qh):
        u = lambda z: (KAPPA - mp.sqrt(q) * z) / mp.sqrt(1 - q)  # noqa: E731
        return [q - E(lambda z: mp.tanh(mp.sqrt(qh) * z) ** 2),
                qh - a / (1 - q) * E(lambda z: (mp.npdf(u(z)) / H(u(z))) ** 2)]

    q, qh = mp.findroot(eqs, (mp.mpf(q0), mp.mpf(qhat0)))
    s = (-qh * (1 - q) / 2 + E(lambda z: mp.log(2 * mp.cosh(mp.sqrt(qh) * z)))
         + a * E(lambda z: mp.log(H((KAPPA - mp.sqrt(q) * z) / mp.sqrt(1 - q)))))
    return float(q), float(qh), float(s)


def timed(f, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--check", type=int, default=5, help="sweep points re-solved with mpmath for the error")
    args = ap.parse_args()

    alpha = 0.6
    replica.solve("binary-perceptron", alpha=alpha)  # compile / load the cache
    t_one, sol = timed(lambda: replica.solve("binary-perceptron", alpha=alpha), args.repeat)
    t_one_base, base = timed(lambda: baseline_solve(alpha), 3)
    ref = reference(alpha, sol.q, sol.qhat)
    err_one = max(abs(sol.q - ref[0]), abs(sol.entropy - ref[2]))
    err_one_base = max(abs(base[0] - ref[0]), abs(base[2] - ref[2]))

    grid = np.linspace(0.01, 0.8, args.points)
    t_sweep, df = timed(lambda: replica.sweep("binary-perceptron", alpha=grid, progress=False), 3)

    def base_sweep():
        out, q, qh = [], 0.5, 1.0
        for a in grid:
            q, qh, s = baseline_solve(a, q, qh)
            out.append((q, qh, s))
        return out

    t_sweep_base, base_rows = timed(base_sweep, 1)
    picks = np.linspace(0, args.points - 1, args.check).astype(int)
    err_sweep = err_sweep_base = 0.0
    for i in picks:
        r = reference(grid[i], df.q[i], df.qhat[i])
        err_sweep = max(err_sweep, abs(df.q[i] - r[0]), abs(df.entropy[i] - r[2]))
        err_sweep_base = max(err_sweep_base, abs(base_rows[i][0] - r[0]), abs(base_rows[i][2] - r[2]))

    cmd = [sys.executable, "-m", "replica", "solve", "binary-perceptron", "--alpha", "0.6", "--json"]
    subprocess.run(cmd, capture_output=True, check=True)  # make sure the cache is warm
    t_cold = min(timed(lambda: subprocess.run(cmd, capture_output=True, check=True), 1)[0] for _ in range(3))

    rows = [
        ("one RS solve (alpha=0.6)", t_one, err_one, t_one_base, err_one_base),
        (f"{args.points}-point alpha sweep", t_sweep, err_sweep, t_sweep_base, err_sweep_base),
    ]
    print("binary perceptron, kappa=0; errors = max |q - q_ref|, |s - s_ref| against mpmath (30 digits)\n")
    print(f"{'task':<26} {'replica':>12} {'error':>9} {'scipy baseline':>15} {'error':>9} {'speed-up':>9}")
    for name, t, e, tb, eb in rows:
        print(f"{name:<26} {_fmt(t):>12} {e:9.1e} {_fmt(tb):>15} {eb:9.1e} {tb / t:8.0f}x")
    print(f"{'cold `replica solve`':<26} {_fmt(t_cold):>12}   (fresh process, warm cache)")
    print()
    checks = [
        ("one solve <= 0.5 ms warm", t_one <= 5e-4),
        (">= 300x faster than the baseline (one solve and sweep)", min(r[3] / r[1] for r in rows) >= 300),
        ("error <= 1e-10", max(err_one, err_sweep) <= 1e-10),
        ("cold start <= 3 s", t_cold <= 3.0),
    ]
    for name, ok in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")
    return 0 if all(ok for _, ok in checks) else 1


def _fmt(t):
    return f"{t * 1e3:.3f} ms" if t < 1 else f"{t:.2f} s"


if __name__ == "__main__":
    sys.exit(main())

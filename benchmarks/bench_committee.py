"""Benchmark: finite-K tree committee machine (sign units, binary weights) RS solves with replica against a scipy
``nquad`` implementation, side by side.

    python benchmarks/bench_committee.py [--alpha 0.5] [--K 3 5]

The baseline is what committee-machine scripts usually do: the K-dimensional Gaussian average of the energetic term
G_E(q) = E_z ln P(majority = +1 | z) by nested adaptive quadrature (``scipy.integrate.nquad``), its q-derivative by
central finite differences (two more nquad calls), and the damped fixed point qhat = -2 alpha dG_E/dq,
q = E tanh^2(sqrt(qhat) z) (damping 0.5). One baseline iteration is timed; the baseline solve time is that times the
number of iterations the same damped map needs (counted on replica's compiled map, which is the same mathematics),
so the baseline is extrapolated, not run to the end (minutes to hours). Both G_E values at the solution are compared.
"""
import argparse
import itertools
import math
import time

import numpy as np
import scipy.integrate
import scipy.special

import replica
from replica.models import resolve


def baseline_energetic(q, K, epsabs=1e-10):
    """G_E(q) by nquad over K Gaussian variables (each on [-10, 10])."""
    a = math.sqrt(q / (1 - q))
    reps = [tau for tau in itertools.product((1, -1), repeat=K) if sum(tau) > 0]

    def f(*z):
        p = sum(math.prod(scipy.special.ndtr(t * a * zl) for t, zl in zip(tau, z)) for tau in reps)
        return math.log(p) * math.prod(math.exp(-zl * zl / 2) / math.sqrt(2 * math.pi) for zl in z)

    return scipy.integrate.nquad(f, [(-10, 10)] * K, opts={"epsabs": epsabs, "epsrel": 1e-10})[0]


def damped_iterations(spec, alpha, damping=0.5, tol=1e-10):
    """Iterations of the damped fixed point q, qhat <- (1-d) x + d F(x) from q = qhat = 0.3 (replica's compiled map)."""
    system = spec.system
    v = system.vector({"q": 0.3, "qhat": 0.3}, {"alpha": alpha})
    quad = spec.quadrature
    for it in range(1, 10_000):
        new = system.call("fp", v, quad)
        step = new - v[: system.n_order]
        v[: system.n_order] += damping * step
        if np.max(np.abs(step)) < tol:
            return it
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--K", type=int, nargs="+", default=[3])
    args = ap.parse_args()
    print(f"tree committee machine, sign units, binary weights, alpha = {args.alpha}")
    print(f"{'K':>3} {'replica solve':>14} {'nquad G_E':>10} {'baseline iter':>14} {'iters':>6} "
          f"{'baseline solve':>15} {'speed-up':>9} {'|dG_E|':>9}")
    for K in args.K:
        spec, _ = resolve("committee", {"K": K})
        replica.solve("committee", K=K, alpha=args.alpha)  # compile / load the cache
        t0 = time.perf_counter()
        sol = replica.solve("committee", K=K, alpha=args.alpha)
        t_replica = time.perf_counter() - t0
        system = spec.system
        quad = spec.quadrature
        ge = (system.call("phi", system.vector(sol.order, {"alpha": 1.0}), quad)[0]
              - system.call("phi", system.vector(sol.order, {"alpha": 0.0}), quad)[0])
        t0 = time.perf_counter()
        ge_base = baseline_energetic(sol.q, K)
        t_eval = time.perf_counter() - t0
        per_iter = 3 * t_eval  # G_E(q +- h) for the derivative, and q's 1-D average (negligible)
        iters = damped_iterations(spec, args.alpha)
        t_base = per_iter * iters
        print(f"{K:>3} {t_replica:>13.2f}s {t_eval:>9.1f}s {per_iter:>13.1f}s {iters:>6} {t_base:>14.0f}s "
              f"{t_base / t_replica:>8.0f}x {abs(ge - ge_base):>9.1e}")


if __name__ == "__main__":
    main()

"""Exact enumeration of the binary perceptron's solutions at small N, to set finite-N counts beside the replica curves.

An instance is P = round(alpha N) patterns xi^mu in {-1, +1}^N (labels absorbed, physics notes perceptron §0.1); a
configuration W in {-1, +1}^N is a solution with margin kappa iff every stability Delta^mu = W.xi^mu / sqrt(N) is
at least kappa. Configurations and patterns are bit strings (bit i set where the entry is -1), so that
W.xi = N - 2 popcount(W xor xi): all 2^N configurations are tested with one xor and one popcount per pattern,
stopping at the first violated one (numba; N = 21 takes milliseconds, N = 25 about a second).

What is measured, per instance, in nats per weight:

* the entropy ln(#solutions) / N; averaged over instances that have a solution (the quenched average of the
  replica computation, conditioned on solvability: the fraction of solvable instances is reported beside it);
* the local entropy around a reference solution, ln(#solutions at Hamming distance k) / N at d = k / N: the
  finite-N Franz–Parisi count (perceptron §C) around the maximal-margin solution, a solution drawn uniformly (a
  typical one), or any solution an algorithm found;
* the distribution of the distance between two solutions drawn uniformly.

The entropy against 1/N is extrapolated to N -> infinity by weighted least squares
(:func:`extrapolate`), to be set beside the RS entropy and alpha_KM.

The tree committee machine (K odd hidden sign units on disjoint blocks of N/K inputs, N/K odd, the output their
majority; ``Instance(..., k=K)``) is enumerated the same way: each hidden unit's vote on each pattern is tabulated
for the 2^(N/K) configurations of its block, and a configuration is a solution where the votes' sum is positive
on every pattern. Its solutions, local entropies and distance distribution come from the same functions.
"""
import math

import numba
import numpy as np
import pandas as pd

from .errors import ParameterError

__all__ = ["Instance", "random_instance", "solutions", "count_solutions", "entropy", "extrapolate", "max_margin",
           "local_entropy", "distance_distribution", "check_committee_shape", "MAX_N"]

#: The largest N enumerated: 2^30 configurations, about a minute per instance.
MAX_N = 30


@numba.njit(cache=True)
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@numba.njit(cache=True)
def _keep(out, count, w):
    """Store solution ``w`` as the count-th while ``out`` has room; the new count."""
    if count < out.shape[0]:
        out[count] = w
    return count + 1


@numba.njit(cache=True)
def _scan(bits, n, most, out):
    """Count the configurations w < 2^n with popcount(w ^ bits[mu]) <= most for every mu; write them into ``out``
    while it has room. Returns the count."""
    count = 0
    for w in range(1 << n):
        w = np.uint64(w)
        for mu in range(bits.shape[0]):
            if _popcount(w ^ bits[mu]) > most:
                break
        else:
            count = _keep(out, count, w)
    return count


@numba.njit(cache=True)
def _committee_scan(votes, n, k, out):
    """As :func:`_scan` for a tree committee: ``votes[mu, l, b]`` is hidden unit l's vote (+-1) on pattern mu when
    its block of m = n / k weights is the bit string b; a configuration solves pattern mu when its K votes sum to
    a positive number."""
    m = n // k
    mask = np.uint64((1 << m) - 1)
    count = 0
    for w in range(1 << n):
        w = np.uint64(w)
        for mu in range(votes.shape[0]):
            total = 0
            for unit in range(k):
                total += votes[mu, unit, (w >> np.uint64(unit * m)) & mask]
            if total < 0:
                break
        else:
            count = _keep(out, count, w)
    return count


@numba.njit(cache=True)
def _distance_counts(refs, sols, n):
    """counts[r, k]: the number of ``sols`` at Hamming distance k from ``refs[r]``."""
    counts = np.zeros((refs.shape[0], n + 1), dtype=np.int64)
    for r in range(refs.shape[0]):
        for s in range(sols.shape[0]):
            counts[r, _popcount(refs[r] ^ sols[s])] += 1
    return counts


@numba.njit(cache=True)
def _min_stabilities(bits, sols, n):
    """min over patterns of W.xi for each solution W (in units of 1, not 1/sqrt(N))."""
    out = np.empty(sols.shape[0], dtype=np.int64)
    for s in range(sols.shape[0]):
        worst = n
        for mu in range(bits.shape[0]):
            worst = min(worst, n - 2 * np.int64(_popcount(sols[s] ^ bits[mu])))
        out[s] = worst
    return out


class Instance:
    """P patterns of N entries +-1 (``patterns``, P x N) and the margin kappa; ``bits`` holds them as bit strings.
    With ``k`` > 1, the instance of a tree committee of k hidden sign units (k odd, N/k odd, kappa 0)."""

    def __init__(self, patterns, kappa=0.0, k=1):
        patterns = np.asarray(patterns)
        if patterns.ndim != 2 or not np.all(np.abs(patterns) == 1):
            raise ParameterError("patterns must be a P x N array of +-1 entries")
        n = patterns.shape[1]
        _check_n(n)
        if k != 1:
            check_committee_shape(n, k)
        if k != 1 and kappa != 0:
            raise ParameterError("the committee is enumerated at kappa = 0 only")
        self.patterns, self.kappa, self.n, self.k = patterns.astype(np.int8), float(kappa), n, int(k)
        weights = np.uint64(1) << np.arange(n, dtype=np.uint64)
        self.bits = ((patterns < 0).astype(np.uint64) * weights).sum(axis=1).astype(np.uint64)

    def votes(self):
        """votes[mu, l, b]: hidden unit l's sign on pattern mu when its block of N/K weights is the bit string b."""
        m = self.n // self.k
        blocks = (self.bits[:, None] >> (np.arange(self.k, dtype=np.uint64) * np.uint64(m))) & np.uint64((1 << m) - 1)
        disagree = _popcounts((blocks[:, :, None] ^ np.arange(1 << m, dtype=np.uint64)).ravel())
        return np.where(m - 2 * disagree > 0, 1, -1).astype(np.int8).reshape(len(self.bits), self.k, 1 << m)

    def _scan(self, out):
        if self.k == 1:
            return _scan(self.bits, self.n, self.most_flips, out)
        return _committee_scan(self.votes(), self.n, self.k, out)

    @property
    def most_flips(self):
        """The largest number of entries where a solution may disagree with a pattern: N - 2k >= kappa sqrt(N)."""
        return int(math.floor((self.n - self.kappa * math.sqrt(self.n)) / 2 + 1e-9))

    def weights(self, w):
        """Bit strings -> +-1 weight vectors (rows)."""
        w = np.atleast_1d(np.asarray(w, dtype=np.uint64))
        return np.where((w[:, None] >> np.arange(self.n, dtype=np.uint64)) & np.uint64(1), -1, 1).astype(np.int8)

    def bits_of(self, weights):
        """+-1 weight vectors (rows) -> bit strings."""
        weights = np.atleast_2d(weights)
        return ((weights < 0).astype(np.uint64) << np.arange(self.n, dtype=np.uint64)).sum(axis=1).astype(np.uint64)


def check_committee_shape(n, k):
    """Refuse a tree committee of ``k`` hidden units on N = ``n`` inputs unless K is odd and each unit's N/K inputs
    are an odd number (then no unit's field and no majority vote is ever tied)."""
    if (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 or k % 2 == 0 or n % k
            or (n // k) % 2 == 0):
        raise ParameterError(f"K={k!r}, N={n}: a tree committee needs an odd number K of hidden units and N/K odd "
                             "(each unit sees N/K inputs)")


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_N:
        raise ParameterError(f"n={n!r}: exact enumeration takes 2^N steps; allowed 1 <= N <= {MAX_N}")


def random_instance(n, alpha, kappa=0.0, rng=None, k=1):
    """P = round(alpha N) random +-1 patterns of N entries (labels absorbed), as an :class:`Instance` (of a tree
    committee of ``k`` hidden units if ``k`` > 1)."""
    _check_n(n)
    if not (isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and alpha >= 0):
        raise ParameterError(f"alpha={alpha!r}: the load must be a number >= 0")
    rng = np.random.default_rng(rng)
    return Instance(rng.choice(np.array([-1, 1], dtype=np.int8), size=(round(alpha * n), n)), kappa, k)


def count_solutions(instance):
    """The number of solutions of ``instance`` (no storage)."""
    return int(instance._scan(np.empty(0, dtype=np.uint64)))


def solutions(instance):
    """Every solution of ``instance``, as bit strings (uint64; :meth:`Instance.weights` turns them into +-1 rows)."""
    out = np.empty(count_solutions(instance), dtype=np.uint64)
    instance._scan(out)
    return out


def entropy(n, alpha, kappa=0.0, samples=100, seed=0):
    """The entropy per weight of ``samples`` random instances at (N, alpha, kappa).

    Returns a dict: ``entropy`` (the mean of ln(#solutions)/N over solvable instances) and ``entropy_err`` (its
    standard error; NaN-free: 0 where fewer than two instances are solvable, ``entropy`` None where none is),
    ``solvable_fraction`` and its standard error, ``n``, ``alpha`` (the load P/N actually used: P is an integer),
    ``kappa``, ``samples``."""
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ParameterError(f"samples={samples!r}: the number of instances must be a positive integer")
    rng = np.random.default_rng(seed)
    counts = np.array([count_solutions(random_instance(n, alpha, kappa, rng)) for _ in range(samples)])
    solvable = counts > 0
    s = np.log(counts[solvable]) / n
    frac = solvable.mean()
    return {"n": n, "alpha": round(alpha * n) / n, "kappa": kappa, "samples": samples,
            "entropy": float(s.mean()) if s.size else None,
            "entropy_err": float(s.std(ddof=1) / math.sqrt(s.size)) if s.size > 1 else 0.0,
            "solvable_fraction": float(frac), "solvable_fraction_err": float(math.sqrt(frac * (1 - frac) / samples))}


def extrapolate(ns, values, errors):
    """Weighted least-squares fit of values = a + b / N; returns (a, its standard error): the N -> infinity limit.
    Errors of zero are replaced by the smallest positive one (a point cannot carry infinite weight)."""
    ns, values, errors = (np.asarray(x, dtype=float) for x in (ns, values, errors))
    if ns.size < 3:
        raise ParameterError("an extrapolation in 1/N needs at least three sizes")
    errors = np.where(errors > 0, errors, errors[errors > 0].min() if np.any(errors > 0) else 1.0)
    a = np.column_stack([np.ones_like(ns), 1 / ns]) / errors[:, None]
    coef, *_ = np.linalg.lstsq(a, values / errors, rcond=None)
    cov = np.linalg.inv(a.T @ a)
    chi2 = float(np.sum((a @ coef - values / errors) ** 2)) / max(ns.size - 2, 1)
    return float(coef[0]), float(math.sqrt(cov[0, 0] * max(chi2, 1.0)))


def max_margin(instance, sols=None):
    """The solution (bit string) with the largest smallest stability, and that stability min_mu Delta^mu (ties: the
    first in enumeration order). Perceptron instances only."""
    if instance.k != 1:
        raise ParameterError("the maximal margin is defined here for the perceptron (k = 1) only")
    sols = solutions(instance) if sols is None else sols
    if sols.size == 0:
        raise ParameterError("the instance has no solution")
    worst = _min_stabilities(instance.bits, sols, instance.n)
    best = int(np.argmax(worst))
    return sols[best], worst[best] / math.sqrt(instance.n)


def local_entropy(instance, references, sols=None):
    """The finite-N local entropy around each reference (bit strings or +-1 rows): a DataFrame with columns
    ``reference`` (its index), ``d`` = k/N, ``count`` (solutions at Hamming distance k, the reference itself at
    k = 0) and ``local_entropy`` = ln(count)/N (None where the count is zero)."""
    sols = solutions(instance) if sols is None else sols
    refs = np.asarray(references)
    refs = instance.bits_of(refs) if refs.dtype != np.uint64 else np.atleast_1d(refs)
    counts = _distance_counts(refs, sols, instance.n)
    n = instance.n
    rows = [{"reference": r, "d": k / n, "count": int(c), "local_entropy": math.log(c) / n if c else None}
            for r in range(counts.shape[0]) for k, c in enumerate(counts[r])]
    return pd.DataFrame(rows)


def distance_distribution(instance, sols=None, pairs=200_000, rng=None):
    """P(d) for two solutions drawn uniformly (with replacement): exact from all pairs where there are at most
    ``pairs`` of them, else estimated from ``pairs`` random pairs. Returns (d values k/N, probabilities)."""
    sols = solutions(instance) if sols is None else sols
    n = instance.n
    if sols.size == 0:
        raise ParameterError("the instance has no solution")
    if sols.size ** 2 <= pairs:
        counts = _distance_counts(sols, sols, n).sum(axis=0)
    else:
        rng = np.random.default_rng(rng)
        a, b = sols[rng.integers(sols.size, size=pairs)], sols[rng.integers(sols.size, size=pairs)]
        x = a ^ b
        counts = np.bincount(_popcounts(x), minlength=n + 1)
    return np.arange(n + 1) / n, counts / counts.sum()


@numba.njit(cache=True)
def _popcounts(x):
    out = np.empty(x.shape[0], dtype=np.int64)
    for i in range(x.shape[0]):
        out[i] = _popcount(x[i])
    return out

"""Finite-N simulations of Gaussian-mixture classification, to overlay theory curves with measured points.

A sample is x^mu = y^mu v/sqrt(N) + sqrt(Delta) z^mu with P(y = +1) = rho (physics notes, gaussian_mixture §A.1).
Given the fitted (w, b), the test field on a fresh point is exactly y m + sqrt(Delta q) zeta with m = w.v/N and
q = |w|^2/N, so the test error eps_g(m, q, b) is computed exactly, without test samples; the spread comes from
the training sets only.
"""
import math

import numba
import numpy as np
import pandas as pd

from .errors import ParameterError
from .gaussian_mixture import generalization_error
from .models import get_model

__all__ = ["sample", "fit_ridge", "fit_fixed_norm", "fit_logistic", "fit_hinge", "fit_bayes", "simulate",
           "ESTIMATORS", "REFERENCES", "local_gibbs", "hinge_gibbs_mean", "hinge_robust_centre"]


def sample(n, alpha, delta, rho, rng):
    """One training set: X (P x N), labels y (P,), cluster mean v (N,), with P = round(alpha N)."""
    p = max(1, round(alpha * n))
    v = rng.standard_normal(n)
    y = np.where(rng.random(p) < rho, 1.0, -1.0)
    x = np.outer(y, v) / math.sqrt(n) + math.sqrt(delta) * rng.standard_normal((p, n))
    return x, y, v


def _centred(x, y):
    """The inputs a = x/sqrt(N) and labels y centred, and the inputs' mean: for a square loss with a trained bias,
    the bias drops out of the centred problem and is mean(y) - mean(a).w at its solution w."""
    a = x / math.sqrt(x.shape[1])
    mean = a.mean(axis=0)
    return a - mean, y - y.mean(), mean


def fit_ridge(x, y, lam, **_):
    """argmin_{w, b} 1/2 sum (y - x.w/sqrt(N) - b)^2 + (lam/2)|w|^2 (lam = 0: the minimum-norm least-squares fit)."""
    ac, yc, mean = _centred(x, y)
    if lam > 0:
        w = np.linalg.solve(ac.T @ ac + lam * np.eye(ac.shape[1]), ac.T @ yc)
    else:
        w = np.linalg.lstsq(ac, yc, rcond=None)[0]
    return w, float(y.mean() - mean @ w)


def fit_fixed_norm(x, y, norm, **_):
    """argmin_{b, |w|^2 = N norm} 1/2 sum (y - x.w/sqrt(N) - b)^2: with the data centred (which takes out b), w(lam)
    = (A^T A + lam)^{-1} A^T y on the eigenbasis of A^T A, and lam > -(smallest eigenvalue) is the root of the
    secular equation |w(lam)|^2 = N norm (negative beyond the norm of the least-squares fit). A norm beyond the
    min-norm interpolator's, with A^T A singular, has no unique minimizer and raises ParameterError."""
    from scipy.optimize import brentq

    ac, yc, mean = _centred(x, y)
    ev, u = np.linalg.eigh(ac.T @ ac)
    g = u.T @ (ac.T @ yc)
    target = ac.shape[1] * norm

    def excess(lam):
        return float(np.sum((g / (ev + lam)) ** 2)) - target

    floor = -ev[0]
    if ev[0] < 1e-10 * ev[-1]:  # a null space: lam -> 0+ is the min-norm interpolator, the largest unique norm
        floor = 0.0
        if excess(1e-12 * ev[-1]) <= 0:
            raise ParameterError(f"norm={norm:g} is not below the min-norm interpolator's of this training set")
    lo = floor + 1e-12 * ev[-1]
    hi = max(1.0, abs(floor))
    while excess(hi) > 0:
        hi *= 2
    for _ in range(60):
        if excess(lo) >= 0:
            break
        lo = floor + (lo - floor) / 1e3
    else:  # the data have no component along the softest direction: the norm is reached only at lam = floor
        raise ParameterError(f"norm={norm:g}: this training set reaches it only on the edge of its spectrum (lam = "
                             f"{floor:g}), where the minimizer is not unique")
    lam = brentq(excess, lo, hi, xtol=1e-14 * max(1.0, abs(floor)), rtol=1e-15)
    w = u @ (g / (ev + lam))
    return w, float(y.mean() - mean @ w)


def fit_bayes(x, y, delta, rho, **_):
    """The Bayes-optimal plug-in: the posterior mean w = h/(alpha + Delta), h = sum_mu y x/sqrt(N), with the bias
    b = (Delta/2) ln(rho/(1-rho))."""
    p, n = x.shape
    h = y @ x / math.sqrt(n)
    return h / (p / n + delta), delta / 2 * math.log(rho / (1 - rho))


def _logistic(t):
    return np.logaddexp(0.0, -t)


def fit_logistic(x, y, lam, **_):
    """argmin_{w, b} sum ln(1 + exp(-y (x.w/sqrt(N) + b))) + (lam/2)|w|^2, by L-BFGS with the exact gradient (the
    problem is strictly convex for lam > 0)."""
    from scipy.optimize import minimize
    from scipy.special import expit

    n = x.shape[1]
    a = x / math.sqrt(n)

    def loss(theta):
        w, b = theta[:-1], theta[-1]
        t = y * (a @ w + b)
        g = -y * expit(-t)  # d loss / d field
        return _logistic(t).sum() + lam / 2 * w @ w, np.append(a.T @ g + lam * w, g.sum())

    res = minimize(loss, np.zeros(n + 1), jac=True, method="L-BFGS-B", options={"maxiter": 10000, "gtol": 1e-10})
    if not res.success:
        raise RuntimeError(f"logistic regression did not converge: {res.message}")
    return res.x[:-1], float(res.x[-1])


def _hinge(t):
    return np.maximum(0.0, 1 - t)


def fit_hinge(x, y, lam, smoothing=1e-4, **_):
    """argmin_{w, b} sum max(0, 1 - y (x.w/sqrt(N) + b)) + (lam/2)|w|^2 (the soft-margin SVM). The hinge is replaced
    by its Moreau envelope of width mu (quadratic within mu below the margin: continuously differentiable), minimized
    by L-BFGS for mu = 1e-1, 1e-2, ... down to ``smoothing``, each from the last. The minimizer moves by O(mu): at
    N = 1000 the overlaps change by 3e-4 (m) and 1.5e-3 (q) from mu = 1e-3 to 1e-4, far below the spread between
    training sets."""
    from scipy.optimize import minimize

    p, n = x.shape
    a = np.hstack([x / math.sqrt(n), np.ones((p, 1))])  # the bias as a last weight, without penalty
    penalty = np.append(np.full(n, lam), 0.0)

    def loss(theta, mu):
        gap = 1 - y * (a @ theta)
        value = np.where(gap < mu, np.maximum(gap, 0.0) ** 2 / (2 * mu), gap - mu / 2)
        return value.sum() + 0.5 * penalty @ theta**2, a.T @ (-y * np.clip(gap / mu, 0.0, 1.0)) + penalty * theta

    theta = np.zeros(n + 1)
    for mu in np.geomspace(0.1, smoothing, round(math.log10(0.1 / smoothing)) + 1):
        res = minimize(loss, theta, args=(mu,), jac=True, method="L-BFGS-B",
                       options={"maxiter": 50000, "gtol": 1e-8, "maxcor": 30})
        if not res.success:
            raise RuntimeError(f"the smoothed hinge fit did not converge at width {mu:g}: {res.message}")
        theta = res.x
    return theta[:-1], float(theta[-1])


def _square(t):
    return 0.5 * (1 - t) ** 2  # (y - field)^2 / 2 with y = +-1


# model -> (fit, the per-sample training loss of the margin t = y * field)
#: Model name -> (the finite-N fit, its training loss) for the Gaussian-mixture estimators.
ESTIMATORS = {"gm-ridge": (fit_ridge, _square), "gm-fixed-norm": (fit_fixed_norm, _square),
              "gm-bayes": (fit_bayes, _square), "gm-logistic": (fit_logistic, _logistic),
              "gm-hinge": (fit_hinge, _hinge)}


def _measure(x, y, v, w, b, delta, rho, loss):
    n = x.shape[1]
    m, q = float(w @ v / n), float(w @ w / n)
    margin = y * (x @ w / math.sqrt(n) + b)
    return {"m": m, "q": q, "b": b, "error": generalization_error(m, q, b, delta, rho),
            "train_loss": float(np.mean(loss(margin))), "train_error": float(np.mean(margin < 0))}


# local-entropy model -> the estimator whose direction it counts around (the Bayes-optimal posterior mean is the
# Hebbian direction)
#: Local-entropy model name -> the fit of its reference.
REFERENCES = {"gm-bo-local-entropy": fit_bayes, "gm-ridge-local-entropy": fit_ridge}


def _mean_overlap(ws):
    """The mean overlap w.w'/N over the pairs of distinct vectors in ``ws`` (independent chains: unbiased by their
    own noise)."""
    return float(np.mean([ws[i] @ ws[j] / len(ws[i]) for i in range(len(ws)) for j in range(i)]))


@numba.njit(cache=True)
def _metropolis(a, y, u, g, field0, s, beta, sweeps, seed):
    """``sweeps`` Metropolis sweeps of the error count at inverse temperature beta over u on the sphere |u|^2 = N in
    the coordinates 1..N-1 (a: inputs/sqrt(N), P x N; g = a u; the fields are field0 + s g). A move rotates a random
    pair of coordinates by a uniform angle, which keeps |u| and u_0 = 0; each field moves by O(1/sqrt N). Returns the
    sums over sweeps of the fraction of misclassified points."""
    np.random.seed(seed)
    n_pat, n = a.shape
    errors = 0
    for mu in range(n_pat):
        errors += y[mu] * (field0[mu] + s * g[mu]) < 0
    total = 0.0
    dg = np.empty(n_pat)
    for _ in range(sweeps):
        for _ in range(n):
            i = 1 + np.random.randint(n - 1)
            j = 1 + np.random.randint(n - 2)
            j += j >= i
            theta = np.pi * (2 * np.random.random() - 1)
            c, t = math.cos(theta), math.sin(theta)
            dui, duj = (c - 1) * u[i] - t * u[j], t * u[i] + (c - 1) * u[j]
            change = 0
            for mu in range(n_pat):
                dg[mu] = dui * a[mu, i] + duj * a[mu, j]
                change += (y[mu] * (field0[mu] + s * (g[mu] + dg[mu])) < 0) - (y[mu] * (field0[mu] + s * g[mu]) < 0)
            if change <= 0 or np.random.random() < math.exp(-beta * change):
                u[i] += dui
                u[j] += duj
                for mu in range(n_pat):
                    g[mu] += dg[mu]
                errors += change
        total += errors / n_pat
    return total


def local_gibbs(model, x, y, v, *, d, beta, b, sweeps=400, chains=2, seed=0, **params):
    """The counted ensemble of a local-entropy model on one training set: configurations w on the sphere |w|^2 = N
    at overlap p = 1 - 2d with the model's normalized reference (``REFERENCES``), weighted by exp(-beta E(w)) with
    E the number of training points misclassified by sign(w.x/sqrt(N) + b). w = p w^ + sqrt(1-p^2) u with u
    orthogonal to w^ (the Householder reflection that sends w^ to a coordinate axis), sampled by ``chains``
    independent Metropolis chains of ``sweeps`` sweeps, the first half discarded. Returns the means over the second
    half and the chains of m = w.v/N, of the training error, and of q = w.w'/N between two chains."""
    n = x.shape[1]
    e = REFERENCES[model](x, y, **params)[0]
    e = e / np.linalg.norm(e)
    h = e.copy()
    h[0] -= 1.0  # the reflection I - 2 h h^T/|h|^2 swaps e and the first axis
    h /= np.linalg.norm(h)
    a = (x - 2 * np.outer(x @ h, h)) / math.sqrt(n)
    v = v - 2 * (v @ h) * h
    p = 1 - 2 * d
    s = math.sqrt(1 - p * p)
    field0 = p * math.sqrt(n) * a[:, 0] + b
    rng = np.random.default_rng(seed)
    chain = []  # (u, g = a u) per chain, from a random u orthogonal to the reference
    for _ in range(chains):
        u = rng.standard_normal(n)
        u[0] = 0.0
        u *= math.sqrt(n) / np.linalg.norm(u)
        chain.append((u, a @ u))
    half = sweeps // 2
    for u, g in chain:
        _metropolis(a, y, u, g, field0, s, beta, half, int(rng.integers(2**31)))
    m = train_error = q = 0.0
    for _ in range(half):
        ws = []
        for u, g in chain:
            train_error += _metropolis(a, y, u, g, field0, s, beta, 1, int(rng.integers(2**31)))
            w = s * u
            w[0] += p * math.sqrt(n)
            m += w @ v / n
            ws.append(w)
        q += _mean_overlap(ws)
    return {"m": m / (half * chains), "q": q / half, "train_error": train_error / (half * chains)}

@numba.njit(cache=True)
def _hinge_gibbs_sweeps(a, y, w, bias, field, beta, lam, centre, gamma, step, sweeps, seed, samples):
    """``sweeps`` Metropolis sweeps of exp(-beta [sum_mu max(0, 1 - y h) + (lam/2)|w|^2] - (gamma/2)|w - centre|^2),
    h = a w + bias, over the coordinates of w and the bias (one proposal each per sweep, Gaussian of width ``step``);
    the fields ``field`` are kept up to date. Adds w to ``samples[0]`` and w.w, bias to ``samples[1, :2]`` after
    each sweep."""
    np.random.seed(seed)
    n_pat, n = a.shape
    for _ in range(sweeps):
        for i in range(n + 1):
            d = step * np.random.standard_normal()
            change = 0.0
            for mu in range(n_pat):
                old = field[mu]
                new = old + (d * a[mu, i] if i < n else d)
                change += max(0.0, 1 - y[mu] * new) - max(0.0, 1 - y[mu] * old)
            change *= beta
            if i < n:
                change += beta * lam * (d * w[i] + d * d / 2) + gamma * (d * (w[i] - centre[i]) + d * d / 2)
            if change <= 0 or np.random.random() < math.exp(-change):
                for mu in range(n_pat):
                    field[mu] += d * a[mu, i] if i < n else d
                if i < n:
                    w[i] += d
                else:
                    bias[0] += d
        samples[0] += w
        samples[1, 0] += w @ w
        samples[1, 1] += bias[0]


def _hinge_chains(a, y, lam, beta, centre, gamma, sweeps, chains, step, rng, states=None):
    """``chains`` Metropolis chains of the hinge Gibbs measure (coupled by gamma to ``centre``), each continued from
    its state in ``states`` (or from w = 0, b = 0) for ``sweeps`` sweeps, the first half discarded. Returns the
    chains' mean w, their mean w.w and bias over the second half, and the states."""
    half = sweeps // 2
    states = states or [(np.zeros(a.shape[1]), np.zeros(1)) for _ in range(chains)]
    means, sums = [], np.zeros(2)
    for w, bias in states:
        field = a @ w + bias[0]
        samples = np.zeros((2, a.shape[1]))
        for count in (sweeps - half, half):
            samples[:] = 0.0
            _hinge_gibbs_sweeps(a, y, w, bias, field, beta, lam, centre, gamma, step, count,
                                int(rng.integers(2**31)), samples)
        means.append(samples[0] / half)
        sums += samples[1, :2] / half
    return means, sums / chains, states


def hinge_gibbs_mean(x, y, v, *, lam, beta, sweeps=2000, chains=2, step=0.5, seed=0):
    """The Gibbs measure of the hinge loss with ridge penalty at inverse temperature beta on one training set, the
    bias sampled with the weights (a flat prior: at large N it concentrates where the free entropy is extremal in b,
    as the replica computation assumes). ``chains`` independent Metropolis chains of ``sweeps`` sweeps, the first
    half discarded. Returns m = <w>.v/N, q0 = <w>.<w>'/N between the chains' means (unbiased by their own thermal
    noise), Q = <w.w>/N, b = <b> and the Gibbs mean's test error eps_g(m, q0, b): the gamma -> 0 limit of
    gm-hinge-flat-inf's centre."""
    n = x.shape[1]
    a = x / math.sqrt(n)
    means, (ww, b), _ = _hinge_chains(a, y, lam, beta, np.zeros(n), 0.0, sweeps, chains, step,
                                      np.random.default_rng(seed))
    return {"m": float(np.mean(means, axis=0) @ v / n), "q0": _mean_overlap(means), "Q": float(ww / n),
            "b": float(b)}


def hinge_robust_centre(x, y, v, *, lam, beta, gamma, iterations=20, sweeps=2000, chains=2, step=0.5, seed=0):
    """The y -> infinity robust ensemble's centre on one training set: the maximum of the local free entropy
    ln int dw exp(-beta L(w) - (gamma/2)|w - c|^2), whose gradient gamma(<w>_c - c) vanishes where c is the Gibbs
    mean of the measure coupled to it. Found by iterating c <- <w>_c (``iterations`` times from c = 0, the chains
    continued), the bias sampled alongside. Returns m = c.v/N, q0 = |c|^2/N (the last two iterations' means
    overlapped, unbiased by their sampling noise) and the bias."""
    n = x.shape[1]
    a = x / math.sqrt(n)
    rng = np.random.default_rng(seed)
    centre, states, history = np.zeros(n), None, []
    for _ in range(iterations):
        means, (_, b), states = _hinge_chains(a, y, lam, beta, centre, gamma, sweeps, chains, step, rng, states)
        centre = np.mean(means, axis=0)
        history.append((centre, b))
    (c1, b1), (c2, b2) = history[-2:]
    return {"m": float((c1 + c2) @ v / (2 * n)), "q0": _mean_overlap([c1, c2]), "b": (b1 + b2) / 2}


def simulate(model, *, n=1000, seeds=10, seed=0, **params):
    """Fit ``model``'s estimator ('gm-ridge', 'gm-fixed-norm', 'gm-logistic', 'gm-hinge', or 'gm-bayes': the
    posterior-mean plug-in) on ``seeds`` independent training sets of dimension ``n``, at the model's parameters
    (``alpha``, ``delta``, ``rho``, and ``lam`` for ridge, logistic and hinge, ``norm`` for the fixed norm; checked as
    in :func:`replica.solve`). Returns a DataFrame with one row per training set (m, q, b, error, train_loss,
    train_error); ``df.mean()`` and ``df.sem()`` give the point and its error bar.

    For the local-entropy models ('gm-bo-local-entropy', 'gm-ridge-local-entropy') each training set's counted
    ensemble at (beta, b, d) is sampled by :func:`~replica.simulate.local_gibbs`: rows of m, q (between two
    chains), the training error and the test error eps_g(m, 1, b) of one configuration, to set beside the saddle
    point's.

    Examples
    --------
    >>> from replica.simulate import simulate
    >>> df = simulate("gm-bayes", n=200, seeds=3, alpha=1.0, delta=1.0)
    >>> len(df), bool((df.error < 0.5).all())
    (3, True)
    """
    if model not in ESTIMATORS and model not in REFERENCES:
        raise ParameterError(f"no simulation for {model!r}; available: {', '.join([*ESTIMATORS, *REFERENCES])}")
    if not (int(n) == n >= 2 and int(seeds) == seeds >= 1):
        raise ParameterError(f"need an integer n >= 2 and seeds >= 1; got n={n}, seeds={seeds}")
    p = get_model(model).check(params)
    rows = []
    for rng in (np.random.default_rng([seed, k]) for k in range(int(seeds))):
        x, y, v = sample(int(n), p["alpha"], p["delta"], p["rho"], rng)
        if model in REFERENCES:
            row = local_gibbs(model, x, y, v, seed=int(rng.integers(2**31)), **p)
            rows.append({**row, "error": generalization_error(row["m"], 1.0, p["b"], p["delta"], p["rho"])})
            continue
        fit, loss = ESTIMATORS[model]
        w, b = fit(x, y, **p)
        rows.append(_measure(x, y, v, w, b, p["delta"], p["rho"], loss))
    return pd.DataFrame(rows)

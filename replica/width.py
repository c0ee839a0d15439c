"""Finite-width checks of abc-parametrizations: a numpy MLP trained by SGD with per-layer (alpha, beta), the "coord
check" turned into fitted width exponents, and the largest stable learning rate against width.

The network is the one of :mod:`replica.parametrization`: input dimension d fixed, L hidden layers of width n, a
scalar output; effective weights W^l with entries n^{-alpha_l} N(0, 1) at initialization, updated by
W^l <- W^l - eta n^{-beta_l} grad_{W^l} L on one example per step (squared loss). The exponents measured here are
finite-width estimates of the classifier's predictions (TP4's theorems are about n -> infinity): at widths of a few
thousand a slope is within about 0.2 of its limit.
"""
import math

import numpy as np
import pandas as pd
from scipy.special import erf

from .errors import ParameterError, ReplicaError

__all__ = ["MLP", "ACTIVATIONS", "coord_check", "max_stable_learning_rate", "fitted_slope"]

#: Activations of the finite-width MLPs, by name: (phi, phi').
ACTIVATIONS = {
    "tanh": (np.tanh, lambda h: 1.0 - np.tanh(h) ** 2),
    "relu": (lambda h: np.maximum(h, 0.0), lambda h: (h > 0).astype(float)),
    "erf": (erf, lambda h: 2.0 / math.sqrt(math.pi) * np.exp(-h * h)),
    "linear": (lambda h: h, lambda h: np.ones_like(h)),
    "quadratic": (lambda h: h * h, lambda h: 2.0 * h),
}


class MLP:
    """An L-hidden-layer MLP of width ``n`` on inputs of dimension ``d`` in the parametrization ``p`` (a
    :class:`~replica.parametrization.Parametrization`), drawn from ``rng``."""

    def __init__(self, p, n, d, activation="tanh", rng=None):
        if activation not in ACTIVATIONS:
            raise ParameterError(f"activation={activation!r}; allowed: {', '.join(ACTIVATIONS)}")
        if not (isinstance(n, int) and n >= 1 and isinstance(d, int) and d >= 1):
            raise ParameterError(f"need integer n >= 1 and d >= 1, got n={n!r}, d={d!r}")
        rng = rng if rng is not None else np.random.default_rng()
        self.p, self.n, self.d = p, n, d
        self.phi, self.dphi = ACTIVATIONS[activation]
        shapes = [(n, d)] + [(n, n)] * (p.L - 1) + [(1, n)]
        self.W = [self._scale(alpha) * rng.standard_normal(shape) for alpha, shape in zip(p.alpha, shapes)]
        self.rates = [self._scale(beta) for beta in p.beta]

    def _scale(self, exponent):
        return 0.0 if exponent == math.inf else float(self.n) ** (-float(exponent))

    def forward(self, xi):
        """(f, hidden pre-activations h^1..h^L, activations x^1..x^L) at the input ``xi`` (shape (d,))."""
        hs, xs, x = [], [], np.asarray(xi, dtype=float)
        for W in self.W[:-1]:
            h = W @ x
            x = self.phi(h)
            hs.append(h)
            xs.append(x)
        return float(self.W[-1][0] @ x), hs, xs

    def gradients(self, xi, dloss):
        """dL/dW^l for every layer, given dL/df = ``dloss`` at ``xi`` (backpropagation)."""
        f, hs, xs = self.forward(xi)
        inputs = [np.asarray(xi, dtype=float)] + xs
        grads = [None] * len(self.W)
        grads[-1] = dloss * xs[-1][None, :]
        g = dloss * self.W[-1][0]  # dL/dx^L
        for l in range(len(self.W) - 2, -1, -1):  # noqa: E741
            g = g * self.dphi(hs[l])  # dL/dh^{l+1}
            grads[l] = np.outer(g, inputs[l])
            g = self.W[l].T @ g
        return grads

    def step(self, xi, y, eta):
        """One SGD step on 1/2 (f - y)^2 at (xi, y); returns the loss before it."""
        f, _, _ = self.forward(xi)
        for W, grad, rate in zip(self.W, self.gradients(xi, f - y), self.rates):
            W -= eta * rate * grad
        return 0.5 * (f - y) ** 2


def fitted_slope(widths, values):
    """The least-squares slope of log(values) against log(widths)."""
    return float(np.polyfit(np.log(widths), np.log(values), 1)[0])


def _data(d, steps, rng):
    xs = rng.standard_normal((steps, d))
    return xs / np.linalg.norm(xs, axis=1, keepdims=True) * math.sqrt(d), rng.standard_normal(steps)


def coord_check(p, widths=(256, 512, 1024, 2048), d=4, steps=5, seeds=4, eta=0.5, activation="tanh", seed=0):
    """Train ``seeds`` networks per width for ``steps`` SGD steps on one fixed random task and measure the rms
    coordinate size of the feature update Delta x^L and |f_T - f_0| on a test input. Returns (table, slopes):
    the table has one row per width (means over seeds), ``slopes`` the fitted log-log slopes of both, to set beside
    the classifier's predictions -r (features) and max over the output's terms (0 when stable and nontrivial)."""
    rng = np.random.default_rng(seed)
    xs, ys = _data(d, steps, rng)
    test = rng.standard_normal(d)
    rows = []
    for n in widths:
        dx, df = [], []
        for s in range(seeds):
            net = MLP(p, int(n), d, activation, np.random.default_rng([seed, int(n), s]))
            f0, _, x0 = net.forward(test)
            with np.errstate(all="ignore"):  # a blow-up is reported below
                for xi, y in zip(xs, ys):
                    net.step(xi, y, eta)
                f1, _, x1 = net.forward(test)
            dx.append(float(np.sqrt(np.mean((x1[-1] - x0[-1]) ** 2))))
            df.append(abs(f1 - f0))
        rows.append({"width": int(n), "delta_x_rms": float(np.mean(dx)), "delta_f": float(np.mean(df))})
    table = pd.DataFrame(rows)
    diverged = table.width[~np.isfinite(table.delta_x_rms) | ~np.isfinite(table.delta_f)].tolist()
    if diverged:
        raise ReplicaError(f"training diverged at widths {diverged} (non-finite updates): this parametrization is "
                           f"unstable at eta={eta}; lower eta or raise c")
    slopes = {"delta_x": fitted_slope(table.width, table.delta_x_rms),
              "delta_f": fitted_slope(table.width, table.delta_f)}
    return table, slopes


def max_stable_learning_rate(p, widths=(128, 256, 512, 1024), d=4, steps=20, activation="relu", seed=0,
                             blowup=1e3, bisections=14):
    """The largest eta (bisection on log2 eta) for which ``steps`` SGD steps keep the training loss below
    ``blowup`` times its start, per width; returns (table, slope of log eta_max against log n)."""
    rng = np.random.default_rng(seed)
    xs, ys = _data(d, steps, rng)

    def stable(n, eta):
        net = MLP(p, n, d, activation, np.random.default_rng([seed, n]))
        first = None
        with np.errstate(all="ignore"):
            for xi, y in zip(xs, ys):
                loss = net.step(xi, y, eta)
                first = loss if first is None else first
                if not math.isfinite(loss) or loss > blowup * max(first, 1e-3):
                    return False
            f, _, _ = net.forward(xs[0])
        return math.isfinite(f)

    rows = []
    for n in widths:
        lo, hi = -30.0, 30.0
        for _ in range(bisections):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if stable(int(n), 2.0 ** mid) else (lo, mid)
        rows.append({"width": int(n), "eta_max": 2.0 ** lo})
    table = pd.DataFrame(rows)
    return table, fitted_slope(table.width, table.eta_max)

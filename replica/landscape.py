r"""Loss landscapes of small networks (the global-landscape overview, Sun, Li, Liang, Ding & Srikant 2020): slices
along random and normalized directions, linear interpolation and the barrier between two minima, Hessians (exact,
products, Lanczos extremes, Hutchinson trace), the local energy, and benchmark landscapes whose answer is known.

Everything acts on a :class:`Loss`: a value and a gradient on a flat parameter vector theta, and the layout of theta
as weight matrices (rows are neurons, the unit of filter normalization). Build one with :func:`mlp`,
:func:`deep_linear`, :func:`quadratic_network`, :func:`teacher_student` or directly from your own functions.

Conventions: squared losses are (1 / 2N) sum_mu (f(x_mu) - y_mu)^2; networks have no biases (so that the ReLU
rescaling (w_j, v_j) -> (a w_j, v_j / a) is an exact symmetry, with its Hessian zero mode at every minimum).
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment, minimize
from scipy.sparse.linalg import LinearOperator, eigsh
from scipy.special import erfc

from .errors import ParameterError, ReplicaError

__all__ = ["Loss", "mlp", "deep_linear", "deep_linear_optimum", "quadratic_network", "quadratic_network_optimum",
           "teacher_student", "minimize_loss", "direction", "slice_1d", "slice_2d", "interpolate", "barrier",
           "align", "hessian", "hvp", "extreme_eigenvalues", "hutchinson_trace", "local_energy",
           "perceptron_local_energy"]


@dataclass(frozen=True)
class Loss:
    """A differentiable loss on a flat parameter vector: ``value(theta)``, ``gradient(theta)``, and ``shapes``, the
    layout of theta as the network's weight matrices in order (each (out, in): rows are neurons)."""

    value: Callable
    gradient: Callable
    shapes: tuple

    @property
    def size(self):
        return sum(int(np.prod(s)) for s in self.shapes)

    def split(self, theta):
        """theta as its weight matrices (views)."""
        out, start = [], 0
        for s in self.shapes:
            n = int(np.prod(s))
            out.append(theta[start:start + n].reshape(s))
            start += n
        return out

    def join(self, blocks):
        return np.concatenate([np.asarray(b, dtype=float).ravel() for b in blocks])

    def random_point(self, rng, scale=None):
        """Gaussian weights, each matrix's entries of variance 1 / fan-in unless ``scale`` is given."""
        return self.join([rng.standard_normal(s) * (scale if scale is not None else 1 / np.sqrt(s[-1]))
                          for s in self.shapes])


# ----- networks --------------------------------------------------------------------------------------------------
def _activation(name):
    from .width import ACTIVATIONS

    if name not in ACTIVATIONS:
        raise ParameterError(f"activation={name!r}; allowed: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def mlp(X, y, hidden, activation="relu"):
    """The squared loss of a bias-free MLP x -> W^{L+1} phi(W^L ... phi(W^1 x)) with hidden widths ``hidden`` (a
    list) and ``y`` of shape (N,) or (N, outputs), on the inputs ``X`` (N, d)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    Y = np.asarray(y, dtype=float).reshape(len(X), -1)
    phi, dphi = _activation(activation)
    widths = [X.shape[1], *hidden, Y.shape[1]]
    shapes = tuple((widths[k + 1], widths[k]) for k in range(len(widths) - 1))
    loss = None

    def forward(theta):
        Ws = loss.split(theta)
        hs, xs = [], [X.T]
        for W in Ws[:-1]:
            hs.append(W @ xs[-1])
            xs.append(phi(hs[-1]))
        return Ws, hs, xs, Ws[-1] @ xs[-1]

    def value(theta):
        return 0.5 * np.mean(np.sum((forward(theta)[3] - Y.T) ** 2, axis=0))

    def gradient(theta):
        Ws, hs, xs, f = forward(theta)
        g = (f - Y.T) / len(X)
        grads = [None] * len(Ws)
        for k in range(len(Ws) - 1, -1, -1):
            grads[k] = g @ xs[k].T
            if k:
                g = (Ws[k].T @ g) * dphi(hs[k - 1])
        return loss.join(grads)

    loss = Loss(value, gradient, shapes)
    return loss


def deep_linear(X, Y, hidden):
    """The squared loss of a deep linear network W^{L+1} ... W^1 (hidden widths ``hidden``): every local minimum is
    global (Baldi & Hornik 1989; Kawaguchi 2016), the value :func:`deep_linear_optimum`."""
    return mlp(X, Y, hidden, activation="linear")


def deep_linear_optimum(X, Y, hidden):
    """The global minimum of :func:`deep_linear`: least squares if no layer is narrower than the data's rank, else
    reduced-rank regression at rank min(hidden) (the fitted values' top singular directions)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    Y = np.asarray(Y, dtype=float).reshape(len(X), -1)
    B, *_ = np.linalg.lstsq(X, Y, rcond=None)
    fitted = X @ B
    s = np.linalg.svd(fitted, compute_uv=False)
    rank = min(hidden) if hidden else min(X.shape[1], Y.shape[1])
    return 0.5 * (np.sum((Y - fitted) ** 2) + np.sum(s[rank:] ** 2)) / len(X)


def quadratic_network(X, y, v):
    """The squared loss of x -> sum_j v_j (w_j . x)^2 over W (rows w_j), the output weights ``v`` fixed. With at
    least d positive and d negative v_j every symmetric M = W^T diag(v) W is reachable and the landscape has no
    spurious local minimum: GD reaches :func:`quadratic_network_optimum`."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    shapes = ((len(v), X.shape[1]),)

    def value(theta):
        H = X @ theta.reshape(shapes[0]).T
        return 0.5 * np.mean((H ** 2 @ v - y) ** 2)

    def gradient(theta):
        W = theta.reshape(shapes[0])
        H = X @ W.T
        r = (H ** 2 @ v - y) / len(X)
        return (2 * v[:, None] * ((H * r[:, None]).T @ X)).ravel()

    return Loss(value, gradient, shapes)


def quadratic_network_optimum(X, y):
    """The convex oracle for :func:`quadratic_network`: min over symmetric M of (1 / 2N) sum (x^T M x - y)^2, by
    least squares on the features x_i x_j (i <= j)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    i, j = np.triu_indices(X.shape[1])
    features = X[:, i] * X[:, j] * np.where(i == j, 1.0, 2.0)
    coef, *_ = np.linalg.lstsq(features, y, rcond=None)
    return 0.5 * np.mean((features @ coef - y) ** 2)


def teacher_student(k, n, teacher=None):
    r"""The population loss F(W) = 1/2 E_x[(sum_i relu(w_i . x) - sum_j relu(v_j . x))^2], x ~ N(0, I_k), of n
    ReLU students W (n x k) against the teacher V (default I_k, Safran & Shamir 2018), in closed form through the
    arc-cosine kernel E[relu(w.x) relu(u.x)] = |w||u| (sin t + (pi - t) cos t) / 2 pi, t the angle between w, u.
    Its global minima (n = k) are the teacher's permutations at F = 0; for k = n >= 6 GD also finds strict spurious
    minima, which a few extra students remove."""
    V = np.eye(k) if teacher is None else np.asarray(teacher, dtype=float)
    shapes = ((n, k),)

    def kernel(A, B):
        na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
        cos = np.minimum(np.maximum(A @ B.T / np.outer(na, nb), -1.0), 1.0)  # |cos| - 1 at rounding level
        t = np.arccos(cos)
        return t, na, nb, np.outer(na, nb) * (np.sin(t) + (np.pi - t) * cos) / (2 * np.pi)

    def value(theta):
        W = theta.reshape(shapes[0])
        return 0.5 * kernel(W, W)[3].sum() - kernel(W, V)[3].sum() + 0.5 * kernel(V, V)[3].sum()

    def grad_g(W, U):
        """sum_j grad_w g(w_i, u_j) = sum_j [(pi - t) u_j + |u_j| sin t w_i / |w_i|] / 2 pi, per row i."""
        t, nw, nu, _ = kernel(W, U)
        return ((np.pi - t) @ U + (np.sin(t) @ nu)[:, None] * W / nw[:, None]) / (2 * np.pi)

    def gradient(theta):
        W = theta.reshape(shapes[0])
        return (grad_g(W, W) - grad_g(W, V)).ravel()

    return Loss(value, gradient, shapes)


def minimize_loss(loss, theta0, gtol=1e-6, max_iter=20000):
    """A local minimum from ``theta0`` by L-BFGS, run until the loss stops decreasing in floating point; raises
    unless the gradient norm is then below ``gtol`` (the loss's rounding limits it to about 1e-8 on these problems;
    a ReLU network's minimum at a kink has no small gradient at all)."""
    res = minimize(loss.value, theta0, jac=loss.gradient, method="L-BFGS-B",
                   options={"gtol": gtol / 100, "ftol": 0.0, "maxiter": max_iter, "maxfun": 2 * max_iter})
    g = np.linalg.norm(loss.gradient(res.x))
    if not g <= gtol:
        raise ReplicaError(f"no minimum reached from this start: |grad| = {g:.1e} > {gtol:.0e} after {res.nit} "
                           f"L-BFGS steps ({res.message}); raise max_iter, or loosen gtol")
    return res.x


# ----- slices and paths ------------------------------------------------------------------------------------------
NORMALIZATIONS = ("filter", "layer", "weight", "none")


def direction(loss, theta, rng, normalization="filter", ignore=()):
    """A random Gaussian direction at ``theta``, normalized per neuron (``filter``, Li et al. 2018: each row to the
    norm of theta's row), per weight matrix (``layer``), entrywise (``weight``: delta * theta) or not (``none``).
    The weight matrices listed (by index) in ``ignore`` get no direction, as the reference implementation does for
    1-D parameters (a scalar readout vector, biases). Filter-normalized slices of a one-hidden-layer ReLU net with
    its readout ignored are invariant under the rescalings (a w_j, v_j / a) that leave its function unchanged."""
    if normalization not in NORMALIZATIONS:
        raise ParameterError(f"normalization={normalization!r}; allowed: {', '.join(NORMALIZATIONS)}")
    ignore = {k % len(loss.shapes) for k in ignore}
    blocks = []
    for k, (d, t) in enumerate(zip(loss.split(rng.standard_normal(loss.size)), loss.split(theta))):
        if k in ignore:
            d = np.zeros_like(d)
        elif normalization == "weight":
            d = d * t
        elif normalization == "filter":
            d = d * (np.linalg.norm(t, axis=1) / np.linalg.norm(d, axis=1))[:, None]
        elif normalization == "layer":
            d = d * np.linalg.norm(t) / np.linalg.norm(d)
        blocks.append(d)
    return loss.join(blocks)


def slice_1d(loss, theta, delta, ts):
    """The loss along theta + t delta at each t of ``ts``."""
    return np.array([loss.value(theta + t * delta) for t in ts])


def slice_2d(loss, theta, delta, eta, ts, ss):
    """The loss on the plane theta + t delta + s eta: an array (len(ts), len(ss))."""
    return np.array([[loss.value(theta + t * delta + s * eta) for s in ss] for t in ts])


def interpolate(loss, a, b, ts):
    """The loss along the straight line (1 - t) a + t b at each t of ``ts`` (t outside [0, 1] extrapolates)."""
    return np.array([loss.value((1 - t) * a + t * b) for t in ts])


def barrier(loss, a, b, points=101):
    """The barrier on the straight path between ``a`` and ``b``: max_{t in [0, 1]} loss - max(loss(a), loss(b)),
    on ``points`` equally spaced t (a lower bound on the true maximum; <= 0 on a convex loss)."""
    values = interpolate(loss, a, b, np.linspace(0.0, 1.0, points))
    return float(values.max() - max(values[0], values[-1]))


def align(loss, a, b):
    """``b`` with its hidden neurons permuted to match ``a`` (layer by layer, the Hungarian assignment of incoming
    weights; the function b computes is unchanged)."""
    A, B = loss.split(a), [w.copy() for w in loss.split(b)]
    for k in range(len(B) - 1):
        cost = -A[k] @ B[k].T
        _, perm = linear_sum_assignment(cost)
        B[k] = B[k][perm]
        B[k + 1] = B[k + 1][:, perm]
    return loss.join(B)


# ----- curvature -------------------------------------------------------------------------------------------------
def hvp(loss, theta, v, eps=1e-5):
    """The Hessian-vector product H v by a central difference of the gradient (exact for a quadratic loss up to
    rounding; O(eps^2) otherwise)."""
    scale = eps / max(np.linalg.norm(v), 1e-300)
    return (loss.gradient(theta + scale * v) - loss.gradient(theta - scale * v)) / (2 * scale)


def hessian(loss, theta, eps=1e-5):
    """The full Hessian (symmetrized), column by column from :func:`hvp`: for models of up to a few thousand
    parameters."""
    H = np.column_stack([hvp(loss, theta, e, eps) for e in np.eye(loss.size)])
    return 0.5 * (H + H.T)


def extreme_eigenvalues(loss, theta, eps=1e-5, tol=1e-8):
    """(lambda_min, lambda_max) of the Hessian by Lanczos (scipy's eigsh) on Hessian-vector products."""
    op = LinearOperator((loss.size, loss.size), matvec=lambda v: hvp(loss, theta, np.ravel(v), eps), dtype=float)
    lo = eigsh(op, k=1, which="SA", tol=tol, return_eigenvectors=False)[0]
    hi = eigsh(op, k=1, which="LA", tol=tol, return_eigenvectors=False)[0]
    return float(lo), float(hi)


def hutchinson_trace(loss, theta, samples, rng, eps=1e-5):
    """tr H estimated by (1/m) sum v^T H v over m Rademacher vectors v: (estimate, standard error)."""
    values = np.array([v @ hvp(loss, theta, v, eps) for v in rng.choice([-1.0, 1.0], size=(samples, loss.size))])
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(samples))


# ----- flatness --------------------------------------------------------------------------------------------------
def local_energy(error, theta, sigma, samples, rng, multiplicative=True):
    """The local energy dE(sigma) = E_z[error(theta + sigma z * theta)] - error(theta) (Pittorino et al. 2021;
    ``multiplicative=False``: theta + sigma z), z ~ N(0, I), by Monte Carlo: (estimate, standard error). The
    multiplicative form is invariant under any rescaling that leaves the function unchanged."""
    if not sigma > 0:
        raise ParameterError(f"sigma={sigma}: the noise size must be positive")
    base = error(theta)
    z = rng.standard_normal((samples, len(theta)))
    values = np.array([error(theta + sigma * (zi * theta if multiplicative else zi)) for zi in z]) - base
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(samples))


def perceptron_local_energy(w, patterns, labels, sigma):
    """The exact local energy of a perceptron with +-1 patterns under multiplicative noise: each stability
    Delta = y w.xi / |w| moves by N(0, sigma^2), so dE(sigma) = mean H(Delta / sigma) - mean Theta(-Delta), with
    H(x) = erfc(x / sqrt 2) / 2."""
    patterns = np.asarray(patterns, dtype=float)
    if not np.all(np.abs(patterns) == 1):
        raise ParameterError("perceptron_local_energy: the formula is exact for +-1 patterns only")
    if not sigma > 0:
        raise ParameterError(f"sigma={sigma}: the noise size must be positive")
    w = np.asarray(w, dtype=float)
    delta = np.asarray(labels) * (patterns @ w) / np.linalg.norm(w)
    return float(np.mean(0.5 * erfc(delta / (sigma * np.sqrt(2)))) - np.mean(delta < 0))

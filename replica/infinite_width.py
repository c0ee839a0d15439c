r"""Infinite-width limits of MLPs (Tensor Programs IV; the NNGP/NTK literature), each to set beside finite widths:

* the NNGP kernel Sigma and the NTK Theta of an L-hidden-layer MLP in closed form for ReLU and erf, with the deep
  recursion Sigma^{l+1} = s_w E[phi(u) phi(v)] + s_b, dSigma^{l+1} = s_w E[phi'(u) phi'(v)],
  Theta^{l+1} = Theta^l dSigma^{l+1} + Sigma^{l+1} ((u, v) ~ N(0, Sigma^l)), and the empirical NTK of a finite net;
* the muP (mean-field) limit of a 1-hidden-layer *linear* net trained by SGD (TP4 Cor. 6.2): each neuron is a particle
  z = (U, nV), z <- (I - eta S_t) z with S_t = [[0, xi chi^T], [chi xi^T, 0]], so the covariance C_t = E[z z^T]
  evolves exactly and f_t(xi) = C_t[V, U] xi;
* the muP limit of a 1-hidden-layer *nonlinear* net (TP4 Thm 6.1, scalar input): Z^{nV} <- Z^{nV} - eta chi phi(xi Z^U),
  Z^U <- Z^U - eta chi xi Z^{nV} phi'(xi Z^U), f_t(xi) = E[Z^{nV} phi(xi Z^U)], with (Z^U, Z^{nV}) ~ N(0, I) at t = 0:
  a two-dimensional Gaussian average at every step, on the toolkit's Gaussian-weighted trapezoid rule (geometric
  convergence for analytic activations, where Gauss–Hermite stalls on tanh's complex poles).

Conventions are those of :class:`replica.width.MLP` (inputs xi of dimension d, first-layer entries N(0, 1), squared
loss, one example per step), so the limits are the finite nets' n -> infinity limits as they are.
"""
import numpy as np

from replica.solvers.quadrature import GaussTrapezoid

from .errors import ParameterError, ReplicaError

__all__ = ["nngp", "ntk", "ntk_terms", "dual", "kernel_gd", "empirical_ntk", "linear_mup_limit", "mup_limit_1d"]


def dual(activation, q1, q2, c):
    """(E[phi(u) phi(v)], E[phi'(u) phi'(v)]) for (u, v) ~ N(0, [[q1, c], [c, q2]]), in closed form."""
    q1, q2, c = (np.asarray(x, dtype=float) for x in (q1, q2, c))
    if activation == "relu":
        rho = c / np.sqrt(q1 * q2)
        if np.any(np.abs(rho) > 1 + 1e-12) or not np.all(np.isfinite(rho)):
            raise ParameterError("dual: (q1, q2, c) is not a covariance (need q1, q2 > 0 and c^2 <= q1 q2)")
        theta = np.arccos(np.minimum(np.maximum(rho, -1.0), 1.0))  # |rho| - 1 at rounding level on the diagonal
        return (np.sqrt(q1 * q2) / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta)),
                (np.pi - theta) / (2 * np.pi))
    if activation == "erf":
        s = np.sqrt((1 + 2 * q1) * (1 + 2 * q2))
        return 2 / np.pi * np.arcsin(2 * c / s), 4 / np.pi / np.sqrt(s * s - 4 * c * c)
    raise ParameterError(f"activation={activation!r}: the closed forms are for relu and erf")


def _recursion(X, layers, activation, sigma_w2, sigma_b2, input_scale):
    """(Sigma^{L+1}, the NTK's per-layer terms Sigma^{(l)} prod_{k > l} dSigma^{(k)}, l = 1..L+1)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    sigma = sigma_w2 * input_scale * X @ X.T + sigma_b2
    terms = [sigma]
    for _ in range(layers):
        diag = np.diag(sigma)
        e, de = dual(activation, diag[:, None], diag[None, :], sigma)
        sigma = sigma_w2 * e + sigma_b2
        terms = [t * sigma_w2 * de for t in terms] + [sigma]
    return sigma, terms


def nngp(X, layers, activation="relu", sigma_w2=1.0, sigma_b2=0.0, input_scale=1.0):
    """The NNGP kernel (the output's covariance at initialization) of an MLP with ``layers`` hidden layers on the
    inputs ``X`` (rows), first layer Sigma^1 = sigma_w2 input_scale X X^T + sigma_b2."""
    return _recursion(X, layers, activation, sigma_w2, sigma_b2, input_scale)[0]


def ntk_terms(X, layers, activation="relu", sigma_w2=1.0, sigma_b2=0.0, input_scale=1.0):
    """The NTK split by layer: term l (l = 1..L+1) is Sigma^{(l)} prod_{k > l} dSigma^{(k)}, the limit of the
    tangent kernel's contribution from the weights W^l in the NTK parametrization. In another kernel-regime
    parametrization the layers it does not train at leading order drop out: SGD in SP with learning rate eta/n
    follows sum(terms[1:]) (the input layer's term vanishes, r_1 > 0)."""
    return _recursion(X, layers, activation, sigma_w2, sigma_b2, input_scale)[1]


def ntk(X, layers, activation="relu", sigma_w2=1.0, sigma_b2=0.0, input_scale=1.0):
    """The neural tangent kernel Theta^{L+1} = Theta^L dSigma^{L+1} + Sigma^{L+1} of the same MLP in the NTK
    parametrization (the limit of :func:`empirical_ntk` of ``preset('ntp', layers)``)."""
    return sum(ntk_terms(X, layers, activation, sigma_w2, sigma_b2, input_scale))


def kernel_gd(K, f0, ys, eta):
    """Kernel gradient descent, the kernel regime's SGD: points 0..T-1 are the training examples in the order they
    are seen (one per step), the rest test points; f_{t+1} = f_t - eta K[:, t] (f_t[t] - ys[t]) from ``f0`` (the
    outputs at initialization). Returns f_t at every point for t = 0..T (an array (T + 1, len(f0)))."""
    f = [np.asarray(f0, dtype=float)]
    for t, y in enumerate(ys):
        f.append(f[-1] - eta * K[:, t] * (f[-1][t] - y))
    return _finite(np.array(f), eta)


def empirical_ntk(net, X):
    """The tangent kernel of a finite :class:`~replica.width.MLP`, K(xi, xi') = sum_l n^{-beta_l} <df/dW^l(xi),
    df/dW^l(xi')> (the kernel its SGD step follows to first order), without forming a gradient: each layer's term is
    the product of the backpropagated vectors' and the layer inputs' inner products."""
    deltas, inputs = [], []
    for xi in np.atleast_2d(np.asarray(X, dtype=float)):
        f, hs, xs = net.forward(xi)
        layer_inputs = [xi] + xs
        d = [None] * len(net.W)
        d[-1] = np.ones(1)
        g = net.W[-1][0]
        for l in range(len(net.W) - 2, -1, -1):  # noqa: E741
            g = g * net.dphi(hs[l])
            d[l] = g
            g = net.W[l].T @ g
        deltas.append(d)
        inputs.append(layer_inputs)
    K = 0.0
    for l, rate in enumerate(net.rates):  # noqa: E741
        D = np.array([d[l] for d in deltas])
        A = np.array([a[l] for a in inputs])
        K = K + rate * (D @ D.T) * (A @ A.T)
    return K


def linear_mup_limit(xs, ys, test, eta=0.5):
    """The muP limit of a 1-hidden-layer linear net (input dimension d, scalar output) trained by SGD on the
    examples (xs[t], ys[t]): f_t at the ``test`` inputs for t = 0..T (an array (T + 1, len(test)))."""
    xs, test = np.atleast_2d(xs), np.atleast_2d(test)
    d = xs.shape[1]
    C = np.eye(d + 1)  # z = (U in R^d, nV): unit normals at initialization
    out = [C[d, :d] @ test.T]
    with np.errstate(all="ignore"):  # a divergence is reported by _finite
        for xi, y in zip(xs, ys):
            chi = C[d, :d] @ xi - y
            S = np.zeros((d + 1, d + 1))
            S[:d, d] = S[d, :d] = xi * chi
            step = np.eye(d + 1) - eta * S
            C = step @ C @ step.T
            out.append(C[d, :d] @ test.T)
    return _finite(np.array(out), eta)


def _finite(f, eta):
    """The trajectory, or an error saying at which step the limit's SGD diverged."""
    bad = np.flatnonzero(~np.all(np.isfinite(f), axis=1))
    if bad.size:
        raise ReplicaError(f"the limit's SGD diverged at step {bad[0]} (eta={eta}): lower eta")
    return f


def mup_limit_1d(xs, ys, test, activation="tanh", eta=0.5, nodes=200):
    """The muP limit of a 1-hidden-layer nonlinear net with scalar input trained by SGD on (xs[t], ys[t]): f_t at
    the ``test`` inputs for t = 0..T, the Gaussian average over the initial (Z^U, Z^{nV}) on a product of
    Gaussian-weighted trapezoid rules with ``nodes`` nodes per axis."""
    from .width import ACTIVATIONS

    if activation not in ACTIVATIONS:
        raise ParameterError(f"activation={activation!r}; allowed: {', '.join(ACTIVATIONS)}")
    phi, dphi = ACTIVATIONS[activation]
    z, w = GaussTrapezoid(nodes).nodes()
    U, V = (a.ravel() for a in np.meshgrid(z, z, indexing="ij"))
    weight = np.outer(w, w).ravel()
    test = np.atleast_1d(np.asarray(test, dtype=float))

    def f(U, V, xi):
        return np.sum(weight * V * phi(xi * U))

    out = [[f(U, V, t) for t in test]]
    with np.errstate(all="ignore"):  # a divergence is reported by _finite
        for xi, y in zip(np.ravel(xs), ys):
            chi = f(U, V, xi) - y
            U, V = U - eta * chi * xi * V * dphi(xi * U), V - eta * chi * phi(xi * U)
            out.append([f(U, V, t) for t in test])
    return _finite(np.array(out), eta)


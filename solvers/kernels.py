"""The numerical kernels the compiled solvers of every model share: a domain test, norms and convergence tests, a
small LU solve. Compiled once and cached by numba (``cache=True``), not again with each model's generated module:
the generated solvers (:mod:`replica.solvers.root`) call them as ``_k.NAME``, and leave every array operation
(allocation, copies, slices) to them: numba compiles the overloads of numpy's array API with each function that uses
it, and those are not cached (seconds per model)."""
import math

import numba
import numpy as np

__all__ = ["in_domain", "all_finite", "error", "newton_error", "norm", "lu_solve", "usable", "scaled", "vector",
           "matrix", "copy", "negated", "difference", "filled", "indices", "largest", "split_jacobian"]

jit = numba.njit(cache=True, error_model="numpy")


@jit
def in_domain(v, idx, lo, hi, lo_open, hi_open):
    for k in range(idx.shape[0]):
        i = idx[k]
        x = v[i]
        if not math.isfinite(x):
            return False
        if (x <= lo[i]) if lo_open[i] else (x < lo[i]):
            return False
        if (x >= hi[i]) if hi_open[i] else (x > hi[i]):
            return False
    return True


@jit
def all_finite(a):
    for k in range(a.shape[0]):
        if not math.isfinite(a[k]):
            return False
    return True


@jit
def error(r, v, n_res, atol, rtol):
    """max_k |r_k| / (atol + rtol |x_k|): converged when <= 1. Residual k < n_res belongs to order parameter k (it
    is normalized in its units), whichever inputs are the unknowns; an added equation phi = target is measured
    against 1."""
    e = 0.0
    for k in range(r.shape[0]):
        scale = abs(v[k]) if k < n_res else 1.0
        e = max(e, abs(r[k]) / (atol + rtol * scale))
    return e


@jit
def newton_error(r, J, v, n_res, atol, rtol):
    """As :func:`error`, with residual k < n_res first divided by max(1, |dr_k/dx_k|): in the units of its order
    parameter even where it is not in fixed-point form (d phi/d x, whose terms grow like 1/(1-q) near q -> 1 and
    cancel to rounding far above the tolerance), i.e. the Newton correction of x_k along its own direction. A
    fixed-point-form residual x - F has dr/dx = 1 - dF/dx, usually 1."""
    e = 0.0
    for k in range(r.shape[0]):
        scale = abs(v[k]) if k < n_res else 1.0
        stiff = max(1.0, abs(J[k, k])) if k < n_res else 1.0
        e = max(e, abs(r[k]) / stiff / (atol + rtol * scale))
    return e


@jit
def norm(r):
    e = 0.0
    for k in range(r.shape[0]):
        e = max(e, abs(r[k]))
    return e


@jit
def lu_solve(A, b):
    """Solve A x = b by Gaussian elimination with partial pivoting; ok=False when A is singular."""
    n = b.shape[0]
    A = A.copy()
    x = b.copy()
    for c in range(n):
        p = c
        for i in range(c + 1, n):
            if abs(A[i, c]) > abs(A[p, c]):
                p = i
        if not (abs(A[p, c]) > 1e-300):
            return x, False
        if p != c:
            for j in range(n):
                A[c, j], A[p, j] = A[p, j], A[c, j]
            x[c], x[p] = x[p], x[c]
        for i in range(c + 1, n):
            f = A[i, c] / A[c, c]
            for j in range(c, n):
                A[i, j] -= f * A[c, j]
            x[i] -= f * x[c]
    for i in range(n - 1, -1, -1):
        s = x[i]
        for j in range(i + 1, n):
            s -= A[i, j] * x[j]
        x[i] = s / A[i, i]
    return x, all_finite(x)


@jit
def usable(r, J):
    """Whether an iterate may be kept: its residual and its Jacobian finite. At the edge of the equations' domain (a
    variance under a square root reaching 0) the residual can be finite and its derivatives not, and a solution there
    could be neither refined nor continued."""
    return all_finite(r) and all_finite(J.ravel())


@jit
def scaled(r, v):
    e = 0.0
    for k in range(r.shape[0]):
        e = max(e, abs(r[k]) / (1.0 + abs(v[k])))
    return e


@jit
def vector(n):
    return np.zeros(n)


@jit
def matrix(n):
    return np.zeros((n, n))


@jit
def copy(a):
    return a.copy()


@jit
def negated(a):
    return -a


@jit
def difference(t, v):
    """t - v[:len(t)]: a fixed-point map's step."""
    out = np.empty(t.shape[0])
    for k in range(t.shape[0]):
        out[k] = t[k] - v[k]
    return out


@jit
def filled(n, value):
    return np.full(n, value)


@jit
def indices(n):
    return np.arange(n)


@jit
def largest(a):
    return a.max()


@jit
def split_jacobian(out, n):
    """(residuals, Jacobian) from res_jac's output: n residuals, then the n x n Jacobian by rows."""
    r = out[:n].copy()
    J = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            J[i, j] = out[n + i * n + j]
    return r, J

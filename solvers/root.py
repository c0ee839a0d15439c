"""Root finding for stationarity equations: damped fixed point with adaptive damping, Newton with a backtracking line
search, and the two combined. Pure numerics.

The algorithms are written once, below, as numba source that code generation appends to every compiled model module:
there they call the model's own ``res``, ``res_jac``, ``res_dpar``, ``obs_grad_<k>`` and ``fp`` directly, so a whole
solve runs in compiled code (and is cached with the module). The Python side
(:class:`~replica.solvers.system.System`) only chooses the unknowns and reads the status.

Convergence is judged on the residual of the stationarity equations, componentwise: ``|r_i| <= atol + rtol |x_i|``,
with Newton's residual i first divided by max(1, |dr_i/dx_i|) so that it is measured in the units of its order
parameter whether or not it is in fixed-point form. Failures are returned, never raised: the status says what
happened.
"""
from dataclasses import dataclass, field

import numpy as np

from .status import Status

__all__ = ["SolverResult", "Tolerance", "STATUS_CODES", "template"]

STATUS_CODES = Status.solver_codes()  # compiled code returns the index


@dataclass(frozen=True)
class Tolerance:
    """Componentwise convergence test ``|r_i| <= atol + rtol |x_i|``."""

    atol: float = 1e-12
    rtol: float = 1e-12


@dataclass
class SolverResult:
    x: np.ndarray
    converged: bool
    status: str
    iterations: int
    residual: float
    method: str
    history: list = field(default_factory=list)

    @property
    def message(self):
        return Status(self.status).meaning


_COMMON = '''

@_jit
def _in_domain(v, idx, lo, hi, lo_open, hi_open):
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


@_jit
def _all_finite(a):
    for k in range(a.shape[0]):
        if not math.isfinite(a[k]):
            return False
    return True


@_jit
def _error(r, v, n_res, atol, rtol):
    """max_k |r_k| / (atol + rtol |x_k|): converged when <= 1. Residual k < n_res belongs to order parameter k (it
    is normalized in its units), whichever inputs are the unknowns; an added equation phi = target is measured
    against 1."""
    e = 0.0
    for k in range(r.shape[0]):
        scale = abs(v[k]) if k < n_res else 1.0
        e = max(e, abs(r[k]) / (atol + rtol * scale))
    return e


@_jit
def _newton_error(r, J, v, n_res, atol, rtol):
    """As :func:`_error`, with residual k < n_res first divided by max(1, |dr_k/dx_k|): in the units of its order
    parameter even where it is not in fixed-point form (d phi/d x, whose terms grow like 1/(1-q) near q -> 1 and
    cancel to rounding far above the tolerance), i.e. the Newton correction of x_k along its own direction. A
    fixed-point-form residual x - F has dr/dx = 1 - dF/dx, usually 1."""
    e = 0.0
    for k in range(r.shape[0]):
        scale = abs(v[k]) if k < n_res else 1.0
        stiff = max(1.0, abs(J[k, k])) if k < n_res else 1.0
        e = max(e, abs(r[k]) / stiff / (atol + rtol * scale))
    return e


@_jit
def _norm(r):
    e = 0.0
    for k in range(r.shape[0]):
        e = max(e, abs(r[k]))
    return e


@_jit
def _lu_solve(A, b):
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
    return x, _all_finite(x)


@_jit
def _usable(r, J):
    """Whether an iterate may be kept: its residual and its Jacobian finite. At the edge of the equations' domain (a
    variance under a square root reaching 0) the residual can be finite and its derivatives not, and a solution there
    could be neither refined nor continued."""
    return _all_finite(r) and _all_finite(J.ravel())


@_jit
def _equations_jac(v, idx, n, target_k, target, lin, lin_b, nodes):
    """The equations on the unknowns v[idx] and their Jacobian: the n stationarity residuals (order-parameter columns
    from res_jac; the parameter columns, res_dpar, only when a parameter is among the unknowns), then
    observable[target_k] - target where target_k >= 0, then the linear equation lin . v[idx] - lin_b where lin is not
    empty (a pseudo-arclength constraint)."""
    out = res_jac(v, nodes)
    m = idx.shape[0]
    npar = v.shape[0] - n
    dp = np.empty(0)
    for k in range(m):
        if idx[k] >= n:
            dp = res_dpar(v, nodes)
            break
    r = np.empty(m)
    J = np.empty((m, m))
    r[:n] = out[:n]
    for i in range(n):
        for k in range(m):
            j = idx[k]
            J[i, k] = out[n + i * n + j] if j < n else dp[i * npar + j - n]
    row = n
    if target_k >= 0:
        g = _target(target_k, v, nodes)
        r[row] = g[0] - target
        for k in range(m):
            J[row, k] = g[1 + idx[k]]
        row += 1
    if lin.shape[0] > 0:
        s = -lin_b
        for k in range(m):
            s += lin[k] * v[idx[k]]
            J[row, k] = lin[k]
        r[row] = s
    return r, J


@_jit
def newton(v0, idx, n, target_k, target, lin, lin_b, lo, hi, lo_open, hi_open, atol, rtol, max_iter, nodes):
    """Newton on the unknowns v[idx] (the first n inputs are the order parameters) with a backtracking (Armijo,
    max-norm) line search that keeps iterates in the domain; with target_k >= 0 the equation observable[target_k] =
    target is added, with a non-empty lin the equation lin . v[idx] = lin_b. Returns (v, status code, iterations,
    max|r|)."""
    v = v0.copy()
    n_res = n
    r, J = _equations_jac(v, idx, n, target_k, target, lin, lin_b, nodes)
    if not _usable(r, J):
        return v, 5, 0, math.inf
    nr = _norm(r)
    for it in range(1, max_iter + 1):
        if _newton_error(r, J, v, n_res, atol, rtol) <= 1.0:
            # polish: one more full step, kept if it does not increase the residual (quadratic convergence makes
            # it nearly free and takes the unknowns, not only the residual, to rounding level)
            dx, ok = _lu_solve(J, -r)
            if ok:
                w = v.copy()
                for k in range(idx.shape[0]):
                    w[idx[k]] += dx[k]
                if _in_domain(w, idx, lo, hi, lo_open, hi_open):
                    rw, Jw = _equations_jac(w, idx, n, target_k, target, lin, lin_b, nodes)
                    if _usable(rw, Jw) and _norm(rw) <= nr:
                        return w, 0, it, _norm(rw)
            return v, 0, it - 1, nr
        dx, ok = _lu_solve(J, -r)
        if not ok:
            return v, 4, it, nr
        t = 1.0
        left = False
        while True:
            w = v.copy()
            for k in range(idx.shape[0]):
                w[idx[k]] += t * dx[k]
            usable = False
            if _in_domain(w, idx, lo, hi, lo_open, hi_open):
                # the Jacobian with the residual: one pass over the nodes costs little more than the residual alone,
                # and the full step is usually taken
                rw, Jw = _equations_jac(w, idx, n, target_k, target, lin, lin_b, nodes)
                usable = _usable(rw, Jw)
                if usable:
                    n_w = _norm(rw)
                    if n_w <= (1.0 - 1e-4 * t) * nr or _newton_error(rw, Jw, w, n_res, atol, rtol) <= 1.0:
                        break
            else:
                left = True
            # a full step that leaves the domain or lands where the equations are not finite first backs off to
            # 0.99 of itself: a root on (or exponentially close to) a boundary, e.g. conjugates that vanish like
            # exp(-1/d) with a square root of them in the equations, is then approached at rate 0.01, not 0.5
            t = 0.99 if t == 1.0 and not usable else 0.5 * t
            if t < 1e-10:
                return v, 2 if left else 3, it, nr
        v, r, J, nr = w, rw, Jw, n_w
    if _newton_error(r, J, v, n_res, atol, rtol) <= 1.0:
        return v, 0, max_iter, nr
    return v, 1, max_iter, nr
'''

_FIXED_POINT = '''

@_jit
def fixed_point(v0, lo, hi, lo_open, hi_open, atol, rtol, damping, max_iter, stop_at, nodes):
    """Damped iteration x <- x + eta (T(x) - x) over the order parameters, with adaptive eta.

    The residual r = T(x) - x is measured as max_i |r_i|/(1 + |x_i|). A step is accepted when it stays in the domain,
    is finite, and its residual is below the largest of the last 8 accepted ones (a non-monotone test: fixed-point
    maps rarely decrease the residual at every step); eta then grows by 1.25 (up to 1), or halves if the residual
    grew. A rejected step halves eta and is retried; below 1e-4 the iteration has stalled. The iteration stops when
    max|r| <= stop_at (a hand-over to Newton) or when the tolerance test passes.
    Returns (v, status code, iterations, max|r|).
    """
    n = fp(v0, nodes).shape[0]
    idx = np.arange(n)
    n_res = n
    v = v0.copy()
    t = fp(v, nodes)
    if not _all_finite(t):
        return v, 5, 0, math.inf
    r = t - v[:n]
    recent = np.full(8, -math.inf)
    recent[0] = _scaled(r, v)
    last = recent[0]
    eta = damping
    for it in range(1, max_iter + 1):
        if _error(r, v, n_res, atol, rtol) <= 1.0:
            return v, 0, it - 1, _norm(r)
        if _norm(r) <= stop_at:
            return v, 1, it - 1, _norm(r)
        while True:
            w = v.copy()
            w[:n] += eta * r
            inside = _in_domain(w, idx, lo, hi, lo_open, hi_open)
            if inside:
                tw_ = fp(w, nodes)
                if _all_finite(tw_):
                    rw = tw_ - w[:n]
                    s = _scaled(rw, w)
                    if s < recent.max():
                        eta = min(1.0, 1.25 * eta) if s < last else 0.5 * eta
                        v, r, last = w, rw, s
                        recent[it % 8] = s
                        break
            eta *= 0.5
            if eta < 1e-4:
                return v, 3 if inside else 2, it, _norm(r)
    return v, 1, max_iter, _norm(r)


@_jit
def _scaled(r, v):
    e = 0.0
    for k in range(r.shape[0]):
        e = max(e, abs(r[k]) / (1.0 + abs(v[k])))
    return e
'''


def template(with_fixed_point, n_observables):
    """The numba source of the solvers, appended to a generated module (which defines res, res_jac, res_dpar,
    obs_grad_<k> for k < n_observables and, when the model has a fixed-point form, fp)."""
    branches = "".join(f"    if k == {k}:\n        return obs_grad_{k}(v, nodes)\n" for k in range(n_observables))
    dispatch = ("\n\n@_jit\ndef _target(k, v, nodes):\n"
                f"    \"\"\"Observable k and its gradient with respect to every input.\"\"\"\n{branches}"
                "    return obs_grad_0(v, nodes)\n")
    return dispatch + _COMMON + (_FIXED_POINT if with_fixed_point else "")

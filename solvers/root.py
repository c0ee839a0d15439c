"""Root finding for stationarity equations: damped fixed point with adaptive damping, and Newton with a backtracking
line search, on any choice of unknowns. Pure numerics.

The algorithms are compiled once per machine (numba, ``cache=True``), not with each model: a model's generated
functions, all of one type (``(v, nodes) -> float64 array``, :data:`MODEL_SIGNATURE`), are passed in by their
addresses (:func:`address`) and called there. A model's first use compiles its own functions only, and only those the
solve calls (a plain solve never compiles a parameter derivative or an observable's gradient). The Python side
(:class:`~replica.solvers.system.System`) chooses the unknowns, passes the functions and reads the status.

Convergence is judged on the residual of the stationarity equations, componentwise: ``|r_i| <= atol + rtol |x_i|``,
with Newton's residual i first divided by max(1, |dr_i/dx_i|) so that it is measured in the units of its order
parameter whether or not it is in fixed-point form. Failures are returned, never raised: the status says what
happened.
"""
import math
from dataclasses import dataclass, field
from functools import cache

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .status import Status

__all__ = ["SolverResult", "Tolerance", "STATUS_CODES", "MODEL_SIGNATURE", "address", "fixed_point", "newton"]

#: Statuses by the integer code compiled solvers return.
STATUS_CODES = Status.solver_codes()

_VECTOR = types.float64[::1]
_FLAGS = types.boolean[::1]
#: The node arrays of a Quadrature (``Quadrature.arrays()``: twelve read-only float64 arrays).
NODES = types.UniTuple(types.Array(types.float64, 1, "C", readonly=True), 12)
#: The signature of every generated function of a model: ``(v, nodes) -> float64 array``.
MODEL_SIGNATURE = _VECTOR(_VECTOR, NODES)
# the domain of the inputs (lo, hi, lo_open, hi_open), the tolerance (atol, rtol), the added equations of a Newton
# solve (k, target, lin, lin_b: observable k = target where k >= 0; lin . v[idx] = lin_b where lin is not empty)
_DOMAIN = types.Tuple((_VECTOR, _VECTOR, _FLAGS, _FLAGS))
_TOL = types.UniTuple(types.float64, 2)
_ADDED = types.Tuple((types.int64, types.float64, _VECTOR, types.float64))


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


_jit = numba.njit(cache=True, error_model="numpy")


def address(function):
    """The address of a model's generated function (a numba dispatcher), compiled for :data:`MODEL_SIGNATURE` on
    first use (or loaded from numba's cache): what the solvers take. It stays valid while the function lives."""
    function.compile(MODEL_SIGNATURE.args)
    compiled = function.overloads[MODEL_SIGNATURE.args]
    return compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)


@intrinsic
def _call(typingctx, at, v, nodes):
    """The model function at address ``at`` called on (v, nodes), in numba's own calling convention (every jitted
    function has it; errors propagate as from a direct call)."""
    if not (isinstance(at, types.Integer) and v == _VECTOR and nodes == NODES):
        return None

    def codegen(context, builder, signature, args):
        pointer = context.call_conv.get_function_type(_VECTOR, MODEL_SIGNATURE.args).as_pointer()
        status, out = context.call_conv.call_function(builder, builder.inttoptr(args[0], pointer), _VECTOR,
                                                      MODEL_SIGNATURE.args, args[1:])
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return out

    return _VECTOR(at, v, nodes), codegen


# ----- kernels -----------------------------------------------------------------------------------------------------
# the kernels are loops rather than numpy array expressions: these compile without numpy's broadcasting machinery
# and its error messages, several seconds of the solvers' one-time compilation
@_jit
def _in_domain(v, idx, domain):
    lo, hi, lo_open, hi_open = domain
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
def _norm(r):
    e = 0.0
    for k in range(r.shape[0]):
        e = max(e, abs(r[k]))
    return e


@_jit
def _error(r, v, n_res, tol):
    """max_k |r_k| / (atol + rtol |x_k|): converged when <= 1. Residual k < n_res belongs to order parameter k (it
    is normalized in its units), whichever inputs are the unknowns; an added equation phi = target is measured
    against 1."""
    atol, rtol = tol
    e = 0.0
    for k in range(r.shape[0]):
        scale = abs(v[k]) if k < n_res else 1.0
        e = max(e, abs(r[k]) / (atol + rtol * scale))
    return e


@_jit
def _newton_error(r, J, v, n_res, tol):
    """As :func:`_error`, with residual k < n_res first divided by max(1, |dr_k/dx_k|): in the units of its order
    parameter even where it is not in fixed-point form (d phi/d x, whose terms grow like 1/(1-q) near q -> 1 and
    cancel to rounding far above the tolerance), i.e. the Newton correction of x_k along its own direction. A
    fixed-point-form residual x - F has dr/dx = 1 - dF/dx, usually 1."""
    atol, rtol = tol
    e = 0.0
    for k in range(r.shape[0]):
        scale = abs(v[k]) if k < n_res else 1.0
        stiff = max(1.0, abs(J[k, k])) if k < n_res else 1.0
        e = max(e, abs(r[k]) / stiff / (atol + rtol * scale))
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
    if not _all_finite(r):
        return False
    for i in range(J.shape[0]):
        if not _all_finite(J[i]):
            return False
    return True


@_jit
def _scaled(r, v):
    e = 0.0
    for k in range(r.shape[0]):
        e = max(e, abs(r[k]) / (1.0 + abs(v[k])))
    return e


@_jit
def _equations(res_jac, res_dpar, obs_grad, v, idx, n, added, nodes):
    """The equations on the unknowns v[idx] and their Jacobian: the n stationarity residuals (order-parameter columns
    from res_jac; the parameter columns, res_dpar, only when a parameter is among the unknowns), then
    observable[k] - target where k >= 0 (its gradient from obs_grad), then lin . v[idx] - lin_b where lin is not
    empty (a pseudo-arclength constraint)."""
    target_k, target, lin, lin_b = added
    out = _call(res_jac, v, nodes)
    m = idx.shape[0]
    npar = v.shape[0] - n
    dp = np.empty(0)
    for k in range(m):
        if idx[k] >= n:
            dp = _call(res_dpar, v, nodes)
            break
    r = np.zeros(m)
    J = np.zeros((m, m))
    for i in range(n):
        r[i] = out[i]
    for i in range(n):
        for k in range(m):
            j = idx[k]
            J[i, k] = out[n + i * n + j] if j < n else dp[i * npar + j - n]
    row = n
    if target_k >= 0:
        g = _call(obs_grad, v, nodes)
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
def _difference(t, v):
    """t - v[:len(t)]: a fixed-point map's step."""
    out = np.empty(t.shape[0])
    for k in range(t.shape[0]):
        out[k] = t[k] - v[k]
    return out


@_jit
def _indices(n):
    out = np.empty(n, dtype=np.int64)
    for k in range(n):
        out[k] = k
    return out


@_jit
def _filled(n, value):
    out = np.empty(n)
    for k in range(n):
        out[k] = value
    return out


@_jit
def _largest(a):
    e = -math.inf
    for k in range(a.shape[0]):
        e = max(e, a[k])
    return e


@_jit
def _negated(a):
    out = np.empty(a.shape[0])
    for k in range(a.shape[0]):
        out[k] = -a[k]
    return out


@_jit
def _step(v, idx, dx, t):
    w = v.copy()
    for k in range(idx.shape[0]):
        w[idx[k]] += t * dx[k]
    return w


# ----- the algorithms ----------------------------------------------------------------------------------------------
def _newton(res_jac, res_dpar, obs_grad, v0, idx, n, added, domain, tol, max_iter, nodes):
    """Newton on the unknowns v[idx] (the first n inputs are the order parameters) with a backtracking (Armijo,
    max-norm) line search that keeps iterates in the domain."""
    v = v0.copy()
    r, J = _equations(res_jac, res_dpar, obs_grad, v, idx, n, added, nodes)
    if not _usable(r, J):
        return v, 5, 0, math.inf
    nr = _norm(r)
    for it in range(1, max_iter + 1):
        if _newton_error(r, J, v, n, tol) <= 1.0:
            # polish: one more full step, kept if it does not increase the residual (quadratic convergence makes
            # it nearly free and takes the unknowns, not only the residual, to rounding level)
            dx, ok = _lu_solve(J, _negated(r))
            if ok:
                w = _step(v, idx, dx, 1.0)
                if _in_domain(w, idx, domain):
                    rw, Jw = _equations(res_jac, res_dpar, obs_grad, w, idx, n, added, nodes)
                    if _usable(rw, Jw) and _norm(rw) <= nr:
                        return w, 0, it, _norm(rw)
            return v, 0, it - 1, nr
        dx, ok = _lu_solve(J, _negated(r))
        if not ok:
            return v, 4, it, nr
        t = 1.0
        left = False
        while True:
            w = _step(v, idx, dx, t)
            usable = False
            if _in_domain(w, idx, domain):
                # the Jacobian with the residual: one pass over the nodes costs little more than the residual alone,
                # and the full step is usually taken
                rw, Jw = _equations(res_jac, res_dpar, obs_grad, w, idx, n, added, nodes)
                usable = _usable(rw, Jw)
                if usable:
                    n_w = _norm(rw)
                    if n_w <= (1.0 - 1e-4 * t) * nr or _newton_error(rw, Jw, w, n, tol) <= 1.0:
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
    if _newton_error(r, J, v, n, tol) <= 1.0:
        return v, 0, max_iter, nr
    return v, 1, max_iter, nr


def _fixed_point(fp, v0, domain, tol, damping, max_iter, stop_at, nodes):
    """Damped iteration x <- x + eta (T(x) - x) over the order parameters, with adaptive eta.

    The residual r = T(x) - x is measured as max_i |r_i|/(1 + |x_i|). A step is accepted when it stays in the domain,
    is finite, and its residual is below the largest of the last 8 accepted ones (a non-monotone test: fixed-point
    maps rarely decrease the residual at every step); eta then grows by 1.25 (up to 1), or halves if the residual
    grew. A rejected step halves eta and is retried; below 1e-4 the iteration has stalled. The iteration stops when
    max|r| <= stop_at (a hand-over to Newton) or when the tolerance test passes.
    Returns (v, status code, iterations, max|r|).
    """
    v = v0.copy()
    t = _call(fp, v, nodes)
    n = t.shape[0]
    idx = _indices(n)
    if not _all_finite(t):
        return v, 5, 0, math.inf
    r = _difference(t, v)
    recent = _filled(8, -math.inf)  # the last 8 accepted residuals
    recent[0] = _scaled(r, v)
    last = recent[0]
    eta = damping
    for it in range(1, max_iter + 1):
        if _error(r, v, n, tol) <= 1.0:
            return v, 0, it - 1, _norm(r)
        if _norm(r) <= stop_at:
            return v, 1, it - 1, _norm(r)
        while True:
            w = _step(v, idx, r, eta)
            inside = _in_domain(w, idx, domain)
            if inside:
                tw = _call(fp, w, nodes)
                if _all_finite(tw):
                    rw = _difference(tw, w)
                    s = _scaled(rw, w)
                    if s < _largest(recent):
                        eta = min(1.0, 1.25 * eta) if s < last else 0.5 * eta
                        v, r, last = w, rw, s
                        recent[it % 8] = s
                        break
            eta *= 0.5
            if eta < 1e-4:
                return v, 3 if inside else 2, it, _norm(r)
    return v, 1, max_iter, _norm(r)


_SIGNATURES = {
    _newton: (types.intp, types.intp, types.intp, _VECTOR, types.int64[::1], types.int64, _ADDED, _DOMAIN, _TOL,
              types.int64, NODES),
    _fixed_point: (types.intp, _VECTOR, _DOMAIN, _TOL, types.float64, types.int64, types.float64, NODES),
}


@cache
def _compiled(algorithm):
    """``algorithm`` compiled for its one signature: on first use, or loaded from numba's cache."""
    return numba.njit(_SIGNATURES[algorithm], cache=True, error_model="numpy")(algorithm)


def newton(res_jac, res_dpar, obs_grad, v0, idx, n, added, domain, tol, max_iter, nodes):
    """Newton on the unknowns ``v0[idx]`` (``_newton``) with a model's res_jac, res_dpar and obs_grad, given by
    their :func:`address` (0 for one the solve does not call: res_dpar is called only where a parameter is an
    unknown, obs_grad where an observable equation is added). ``added`` = (k, target, lin, lin_b): the equation
    observable k = target where k >= 0, and lin . v[idx] = lin_b where lin is not empty; ``domain`` = (lo, hi,
    lo_open, hi_open) of every input; ``tol`` = (atol, rtol). Returns (v, status code, iterations, max|r|)."""
    if not res_jac or (not res_dpar and np.any(idx >= n)) or (not obs_grad and added[0] >= 0):
        raise ValueError("newton: a function the solve calls is missing (res_jac always; res_dpar where a parameter "
                         "is an unknown; obs_grad where an observable equation is added)")
    return _compiled(_newton)(res_jac, res_dpar, obs_grad, v0, idx, n, added, domain, tol, max_iter, nodes)


def fixed_point(fp, v0, domain, tol, damping, max_iter, stop_at, nodes):
    """The damped fixed-point iteration of a model's map ``fp`` (its :func:`address`) from ``v0``, until max|r| <=
    ``stop_at`` or the tolerance test passes (``_fixed_point``). Returns (v, status code, iterations, max|r|)."""
    if not fp:
        raise ValueError("fixed_point: the fixed-point map is missing")
    return _compiled(_fixed_point)(fp, v0, domain, tol, damping, max_iter, stop_at, nodes)

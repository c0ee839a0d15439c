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

#: Statuses by the integer code compiled solvers return.
STATUS_CODES = Status.solver_codes()


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
def _no_gradient(v, nodes):
    """Stands for an observable's gradient where no observable = target equation is added (never called)."""
    return _k.vector(v.shape[0] + 1)

@_jit
def _order_jac(v, idx, n, target_k, target, lin, lin_b, nodes):
    """The stationarity residuals and their Jacobian in the order parameters (the unknowns are the order
    parameters, in order; no added equation): res_jac alone, so that a plain solve compiles nothing else."""
    return _k.split_jacobian(res_jac(v, nodes), n)
'''

# the equations and their Jacobian on any unknowns, written once: instantiated with each observable's gradient for
# an added equation observable = target (``_equations_jac_<k>``), and without one (``_equations_jac``)
_EQUATIONS = '''
@_jit
def {name}(v, idx, n, target_k, target, lin, lin_b, nodes):
    """The equations on the unknowns v[idx] and their Jacobian: the n stationarity residuals (order-parameter columns
    from res_jac; the parameter columns, res_dpar, only when a parameter is among the unknowns), then
    observable[target_k] - target where target_k >= 0, then the linear equation lin . v[idx] - lin_b where lin is not
    empty (a pseudo-arclength constraint)."""
    out = res_jac(v, nodes)
    m = idx.shape[0]
    npar = v.shape[0] - n
    dp = _k.vector(0)
    for k in range(m):
        if idx[k] >= n:
            dp = res_dpar(v, nodes)
            break
    r = _k.vector(m)
    J = _k.matrix(m)
    for i in range(n):
        r[i] = out[i]
    for i in range(n):
        for k in range(m):
            j = idx[k]
            J[i, k] = out[n + i * n + j] if j < n else dp[i * npar + j - n]
    row = n
    if target_k >= 0:
        g = {gradient}(v, nodes)
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


'''

# Newton, written once and instantiated for each kind of system: ``newton`` on the stationarity equations in the order
# parameters (res_jac only), ``newton_free`` with parameters among the unknowns or a linear row (it compiles res_dpar,
# which a plain solve never needs), ``newton_target_<k>`` with the equation observable k = target too (it compiles
# that observable's gradient only): numba compiles what a function refers to, whatever the branches taken, and each
# of these is compiled only when it is first called
_NEWTON = '''
@_jit
def {name}(v0, idx, n, target_k, target, lin, lin_b, lo, hi, lo_open, hi_open, atol, rtol, max_iter, nodes):
    """Newton on the unknowns v[idx] (the first n inputs are the order parameters) with a backtracking (Armijo,
    max-norm) line search that keeps iterates in the domain; with target_k >= 0 the equation observable[target_k] =
    target is added, with a non-empty lin the equation lin . v[idx] = lin_b. Returns (v, status code, iterations,
    max|r|)."""
    v = _k.copy(v0)
    n_res = n
    r, J = {jac}(v, idx, n, target_k, target, lin, lin_b, nodes)
    if not _k.usable(r, J):
        return v, 5, 0, math.inf
    nr = _k.norm(r)
    for it in range(1, max_iter + 1):
        if _k.newton_error(r, J, v, n_res, atol, rtol) <= 1.0:
            # polish: one more full step, kept if it does not increase the residual (quadratic convergence makes
            # it nearly free and takes the unknowns, not only the residual, to rounding level)
            dx, ok = _k.lu_solve(J, _k.negated(r))
            if ok:
                w = _k.copy(v)
                for k in range(idx.shape[0]):
                    w[idx[k]] += dx[k]
                if _k.in_domain(w, idx, lo, hi, lo_open, hi_open):
                    rw, Jw = {jac}(w, idx, n, target_k, target, lin, lin_b, nodes)
                    if _k.usable(rw, Jw) and _k.norm(rw) <= nr:
                        return w, 0, it, _k.norm(rw)
            return v, 0, it - 1, nr
        dx, ok = _k.lu_solve(J, _k.negated(r))
        if not ok:
            return v, 4, it, nr
        t = 1.0
        left = False
        while True:
            w = _k.copy(v)
            for k in range(idx.shape[0]):
                w[idx[k]] += t * dx[k]
            usable = False
            if _k.in_domain(w, idx, lo, hi, lo_open, hi_open):
                # the Jacobian with the residual: one pass over the nodes costs little more than the residual alone,
                # and the full step is usually taken
                rw, Jw = {jac}(w, idx, n, target_k, target, lin, lin_b, nodes)
                usable = _k.usable(rw, Jw)
                if usable:
                    n_w = _k.norm(rw)
                    if n_w <= (1.0 - 1e-4 * t) * nr or _k.newton_error(rw, Jw, w, n_res, atol, rtol) <= 1.0:
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
    if _k.newton_error(r, J, v, n_res, atol, rtol) <= 1.0:
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
    v = _k.copy(v0)
    t = fp(v, nodes)
    n = t.shape[0]
    idx = _k.indices(n)
    n_res = n
    if not _k.all_finite(t):
        return v, 5, 0, math.inf
    r = _k.difference(t, v)
    recent = _k.filled(8, -math.inf)
    recent[0] = _k.scaled(r, v)
    last = recent[0]
    eta = damping
    for it in range(1, max_iter + 1):
        if _k.error(r, v, n_res, atol, rtol) <= 1.0:
            return v, 0, it - 1, _k.norm(r)
        if _k.norm(r) <= stop_at:
            return v, 1, it - 1, _k.norm(r)
        while True:
            w = _k.copy(v)
            for k in range(n):
                w[k] += eta * r[k]
            inside = _k.in_domain(w, idx, lo, hi, lo_open, hi_open)
            if inside:
                tw_ = fp(w, nodes)
                if _k.all_finite(tw_):
                    rw = _k.difference(tw_, w)
                    s = _k.scaled(rw, w)
                    if s < _k.largest(recent):
                        eta = min(1.0, 1.25 * eta) if s < last else 0.5 * eta
                        v, r, last = w, rw, s
                        recent[it % 8] = s
                        break
            eta *= 0.5
            if eta < 1e-4:
                return v, 3 if inside else 2, it, _k.norm(r)
    return v, 1, max_iter, _k.norm(r)


'''


def template(with_fixed_point, n_observables):
    """The numba source of the solvers, appended to a generated module (which defines res_jac, res_dpar,
    obs_grad_<k> for k < n_observables and, when the model has a fixed-point form, fp)."""
    parts = [_COMMON, _EQUATIONS.format(name="_equations_jac", gradient="_no_gradient"),
             _NEWTON.format(name="newton", jac="_order_jac"), _NEWTON.format(name="newton_free", jac="_equations_jac")]
    for k in range(n_observables):
        parts.append(_EQUATIONS.format(name=f"_equations_jac_{k}", gradient=f"obs_grad_{k}"))
        parts.append(_NEWTON.format(name=f"newton_target_{k}", jac=f"_equations_jac_{k}"))
    return "".join(parts) + (_FIXED_POINT if with_fixed_point else "")

"""Perceptron storage models (spherical and binary weights) and their thresholds: capacity, maximal margin, dAT line,
1RSB SAT/UNSAT line. The free entropies live in ``replica.equations.perceptron``; this module registers them and
locates thresholds with the generic solvers (continuation, Newton with an added equation)."""
import math

import numpy as np
import scipy.optimize

from replica.equations import perceptron as eq
from replica.solvers.continuation import continue_to
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import STATUS, SolverResult, Tolerance

from .errors import ParameterError
from .models import QUAD_TOL, ModelSpec, numeric, register
from .results import REMEDIES, Threshold

__all__ = ["alpha_c_spherical", "alpha_gd_binary", "capacity", "max_margin", "dat_line"]

alpha_c_spherical = numeric(eq.alpha_c_spherical(), eq.kappa)
alpha_gd_binary = numeric(eq.alpha_gd_binary(), eq.kappa)
_H = numeric(eq.H(eq.kappa), eq.kappa)


def _finite(name, value):
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ParameterError(f"{name}={value} must be a finite number")
    return x


def _check_spherical(p):
    ac = alpha_c_spherical(p["kappa"])
    if p["alpha"] >= ac:
        raise ParameterError(f"alpha={p['alpha']:g} is at or beyond the RS capacity alpha_c(kappa={p['kappa']:g})="
                             f"{ac:.6g} of spherical-perceptron: no RS saddle point exists there; allowed: "
                             f"0 <= alpha < {ac:.6g}")


def _check_binary(p):
    agd = alpha_gd_binary(p["kappa"])
    if p["alpha"] >= agd:
        raise ParameterError(f"alpha={p['alpha']:g} is at or beyond alpha_GD(kappa={p['kappa']:g})={agd:.6g}, where "
                             f"the RS solution of binary-perceptron reaches q=1 (the capacity alpha_KM is lower: "
                             f"replica capacity binary-perceptron --kappa {p['kappa']:g}); allowed: "
                             f"0 <= alpha < {agd:.6g}")


def _start_spherical(p):
    q = min(0.9, p["alpha"] / alpha_c_spherical(p["kappa"]))
    return {"q": q, "qhat": q / (1 - q) ** 2}


def _start_binary(p):
    q = min(0.9, 0.8 * p["alpha"] / alpha_gd_binary(p["kappa"]))
    return {"q": q, "qhat": q / (1 - q) ** 2}


def _rs_stability_note(obs):
    if obs["lambda_AT"] > 1:
        return [f"lambda_AT = {obs['lambda_AT']:.6g} > 1: replica symmetry is unstable here (beyond the dAT line); "
                "the RS values are not exact"]
    return []


def _notes_spherical(params, order, obs):
    return _rs_stability_note(obs)


def _notes_binary(params, order, obs):
    notes = _rs_stability_note(obs)
    if obs["entropy"] < 0:
        notes.append("entropy < 0: beyond the capacity alpha_KM(kappa) (replica capacity binary-perceptron): no "
                     "solutions exist; this RS saddle point is unphysical")
    return notes


SPHERICAL = register(ModelSpec(
    name="spherical-perceptron",
    summary="spherical weights |W|^2=N, margin kappa (any sign): RS entropy, q, lambda_AT; capacity, dAT, 1RSB line",
    build=eq.spherical_perceptron, defaults={"kappa": 0.0}, start=_start_spherical, check=_check_spherical,
    notes=_notes_spherical,
))
BINARY = register(ModelSpec(
    name="binary-perceptron",
    summary="binary weights W=+-1, margin kappa: RS entropy s, q, qhat; capacity alpha_KM, alpha_GD, kappa_max",
    build=eq.binary_perceptron, defaults={"kappa": 0.0}, start=_start_binary, check=_check_binary,
    notes=_notes_binary,
))
JAMMING_1RSB = register(ModelSpec(
    name="spherical-perceptron-1rsb-jamming",
    summary="1RSB potential Phi(mu, q0) of the spherical perceptron at jamming (kappa < 0), for the SAT/UNSAT line",
    build=eq.spherical_perceptron_1rsb_jamming, start=lambda p: {"mu": 1.0, "q0": 0.5}, path=None, hidden=True,
))


# ----- thresholds --------------------------------------------------------------------------------------------------
def _solved(spec, params, quad, tol):
    sol = spec.solve(spec.validate(params), quadrature=quad, tol=tol)
    if not sol.converged:
        return sol, None
    return sol, spec.system.vector(sol.order, sol.params)


def _threshold_from(spec, name, value, params, sol_v, quad, tol, extra, unknowns=None, phi_target=None):
    """Package a threshold; the saddle point there is re-solved (with ``unknowns``) for its diagnostics."""
    system = spec.system
    result, v = sol_v
    sol = spec.package({k: float(v[system.index(k)]) for k in system.param_names}, result, v, quad, tol,
                       "newton", QUAD_TOL, strict=False)
    if result.converged:  # the threshold's own estimate: its unknowns include the control parameter
        sol.quad_error = system.quadrature_error(v, quad, unknowns=unknowns, phi_target=phi_target)
    status = result.status if not result.converged else ("converged" if sol.quad_error <= QUAD_TOL else "inaccurate")
    message = STATUS.get(status, f"the node-doubling error estimate {sol.quad_error:.1e} exceeds {QUAD_TOL:.0e}")
    return Threshold(name=name, value=float(value) if result.converged else None, model=spec.name,
                     params=params, converged=status == "converged", status=status, message=message,
                     remedy=REMEDIES[status], extra=extra, solution=sol)


def _march(system, v, name, step, stop, quad, tol, max_steps=400):
    """Continue ``name`` by ``step`` from solved ``v`` until ``stop(v)``; returns the last two solved vectors."""
    prev = v
    for _ in range(max_steps):
        result, w = continue_to(system, v, name, v[system.index(name)] + step, quad, tol)
        if not result.converged:
            return prev, v, False
        prev, v = v, w
        if stop(v):
            return prev, v, True
    return prev, v, False


def _secant(system, lo, hi, quad):
    """The point between two solved vectors where phi, interpolated linearly, vanishes (a start for Newton)."""
    s_lo, s_hi = system.call("phi", lo, quad)[0], system.call("phi", hi, quad)[0]
    return lo + s_lo / (s_lo - s_hi) * (hi - lo) if s_lo != s_hi else hi


def _binary_capacity(kappa, quad, tol):
    spec = BINARY
    system = spec.system
    agd = alpha_gd_binary(kappa)
    sol, v = _solved(spec, {"alpha": 0.05 * agd, "kappa": kappa}, quad, tol)
    if v is None:
        raise ParameterError(f"binary-perceptron: no RS solution near alpha=0 at kappa={kappa:g}: {sol.message}")

    def negative(w):
        return system.call("phi", w, quad)[0] < 0

    lo, hi, ok = _march(system, v, "alpha", 0.05 * agd, negative, quad, tol)
    start = _secant(system, lo, hi, quad) if ok else lo
    ia = system.index("alpha")
    unknowns = ["q", "qhat", "alpha"]
    res, w = system.solve(start, quad, method="newton", tol=tol, unknowns=unknowns, phi_target=0.0)
    params = {"kappa": kappa}
    return _threshold_from(spec, "alpha_c", w[ia], params, (res, w), quad, tol,
                           {"alpha_KM": float(w[ia]) if res.converged else None, "alpha_GD": agd,
                            "criterion": "zero RS entropy (Krauth-Mezard)"}, unknowns, 0.0)


def _spherical_capacity(kappa, quad, tol, eps=(4e-4, 2e-4, 1e-4, 5e-5)):
    """Gardner's closed form, checked by the q -> 1 limit of the solver: at fixed q = 1 - eps the solver finds
    (qhat, alpha) (the roles of q and alpha exchanged), and alpha(eps) = alpha_c + a eps + b eps^1.5 + c eps^2 is
    fitted through the points and read at eps = 0. The boundary layer of width sqrt(eps) needs 2^15 nodes."""
    spec = SPHERICAL
    system = spec.system
    ac = alpha_c_spherical(kappa)
    fine = Quadrature(gauss=max(quad.gauss, 2**15), trunc=quad.trunc, rule=quad.rule)
    loose = Tolerance(atol=tol.atol, rtol=max(tol.rtol, 1e-9))  # qhat ~ 1/eps^2: roundoff limits the residual
    sol = spec.solve({"alpha": 0.9 * ac, "kappa": kappa}, quadrature=Quadrature(gauss=4096), tol=tol)
    v = system.vector(sol.order, sol.params)
    iq, ih, ia = system.index("q"), system.index("qhat"), system.index("alpha")
    alphas, status = [], "converged"
    for e in eps:
        v = v.copy()
        v[iq], v[ih] = 1 - e, (1 - e) / e**2
        res, v = system.solve(v, fine, method="newton", tol=loose, unknowns=["qhat", "alpha"])
        if not res.converged:
            status = res.status
        alphas.append(v[ia])
    e = np.array(eps)
    design = np.vstack([np.ones_like(e), e, e**1.5, e**2]).T
    limit = float(np.linalg.solve(design, np.array(alphas))[0]) if status == "converged" else None
    lam = ac * _H(-kappa)
    return Threshold(name="alpha_c", value=ac, model=spec.name, params={"kappa": kappa}, converged=True,
                     status="converged", message="Gardner's closed form",
                     extra={"alpha_c_solver": limit, "solver_status": status,
                            "solver_limit": f"q -> 1 fit through q = 1 - eps, eps in {list(eps)}",
                            "lambda_AT_at_capacity": lam, "rs_stable_at_capacity": bool(lam <= 1 + 1e-12)})



def capacity(model, kappa=0.0, rsb=0, quadrature=None, tol=None):
    """Storage capacity alpha_c(kappa).

    * ``spherical-perceptron``: Gardner's RS capacity (closed form), checked by the q -> 1 limit of the solver
      (``extra['alpha_c_solver']``); with ``rsb=1`` and kappa < 0 the 1RSB SAT/UNSAT point instead.
    * ``binary-perceptron``: alpha_KM(kappa), where the RS entropy vanishes (Krauth–Mézard); the RS q -> 1 point
      alpha_GD(kappa) = (2/pi) alpha_c^sph(kappa) is reported beside it under its own name, never as the capacity.

    Examples
    --------
    >>> import replica
    >>> round(replica.capacity("spherical-perceptron", kappa=0).value, 12)
    2.0
    >>> round(replica.capacity("binary-perceptron", kappa=0).value, 4)
    0.8331
    """
    from .models import get_model

    spec = get_model(model)
    quad, tol = quadrature or Quadrature(), tol or Tolerance()
    if rsb not in (0, 1):
        raise ParameterError(f"rsb must be 0 (replica symmetric) or 1 (one-step RSB), got {rsb}")
    kappa = _finite("kappa", kappa)
    if spec is SPHERICAL:
        if rsb == 1:
            return _rsb1_capacity(kappa, quad, tol)
        return _spherical_capacity(kappa, quad, tol)
    if spec is BINARY:
        if rsb == 1:
            raise ParameterError("binary-perceptron: the RS zero-entropy point alpha_KM already coincides with the "
                                 "frozen 1RSB capacity; use rsb=0")
        return _binary_capacity(kappa, quad, tol)
    raise ParameterError(f"capacity is not defined for {model}; available for spherical-perceptron, binary-perceptron")


def max_margin(model, alpha, quadrature=None, tol=None):
    """kappa_max(alpha) of the binary perceptron: the margin at which the RS entropy vanishes (inverse of alpha_KM).

    Examples
    --------
    >>> import replica
    >>> round(replica.max_margin("binary-perceptron", alpha=0.833078599).value, 6)
    0.0
    """
    from .models import get_model

    spec = get_model(model)
    if spec is not BINARY:
        raise ParameterError(f"max-margin is defined for binary-perceptron, not {model}")
    quad, tol = quadrature or Quadrature(), tol or Tolerance()
    alpha = _finite("alpha", alpha)
    if not alpha > 0:
        raise ParameterError(f"alpha={alpha:g}: kappa_max is defined for 0 < alpha (it diverges as alpha -> 0)")
    system = spec.system
    ik = system.index("kappa")
    k0 = 0.0
    while alpha > 0.75 * alpha_gd_binary(k0):  # start well inside the region the quadrature resolves
        k0 -= 0.5
    sol, v = _solved(spec, {"alpha": alpha, "kappa": k0}, quad, tol)
    if v is None:
        raise ParameterError(f"binary-perceptron: no RS solution at alpha={alpha:g}, kappa={k0:g}: {sol.message}")
    s0 = system.call("phi", v, quad)[0]
    step = 0.1 if s0 > 0 else -0.1
    lo, hi, ok = _march(system, v, "kappa", step, lambda w: (system.call("phi", w, quad)[0] > 0) != (s0 > 0),
                        quad, tol)
    start = _secant(system, lo, hi, quad) if ok else hi
    unknowns = ["q", "qhat", "kappa"]
    res, w = system.solve(start, quad, method="newton", tol=tol, unknowns=unknowns, phi_target=0.0)
    return _threshold_from(spec, "kappa_max", w[ik], {"alpha": alpha}, (res, w), quad, tol,
                           {"criterion": "zero RS entropy"}, unknowns, 0.0)


def dat_line(model, kappa, quadrature=None, tol=None):
    """alpha_dAT(kappa) of the spherical perceptron for kappa < 0: where lambda_AT reaches 1 along the RS solution
    (RS is unstable beyond it, below the RS capacity). Located by continuation in alpha and Brent's method.

    Examples
    --------
    >>> import replica
    >>> round(replica.dat_line("spherical-perceptron", kappa=-1.0).value, 6)
    7.87356
    """
    from .models import get_model

    spec = get_model(model)
    if spec is not SPHERICAL:
        raise ParameterError(f"dat-line is implemented for spherical-perceptron, not {model}")
    kappa = _finite("kappa", kappa)
    if not kappa < 0:
        raise ParameterError(f"kappa={kappa:g}: the dAT line lies below capacity only for kappa < 0 (for kappa >= 0 "
                             "RS is stable up to alpha_c)")
    quad, tol = quadrature or Quadrature(), tol or Tolerance()
    system = spec.system
    ac = alpha_c_spherical(kappa)
    ia = system.index("alpha")
    il = system.observable_names.index("lambda_AT")

    def lam(w):
        return system.call("obs", w, quad)[il]

    sol, v = _solved(spec, {"alpha": 0.02 * ac, "kappa": kappa}, quad, tol)
    lo, hi, ok = _march(system, v, "alpha", 0.02 * ac, lambda w: lam(w) > 1, quad, tol)
    if not ok:
        return Threshold("alpha_dAT", None, spec.name, {"kappa": kappa}, False, "max_iter",
                         "lambda_AT did not reach 1 along the RS solution", REMEDIES["max_iter"])
    cache = {lo[ia]: lo, hi[ia]: hi}

    def f(a):
        near = min(cache, key=lambda x: abs(x - a))
        res, w = continue_to(system, cache[near], "alpha", a, quad, tol)
        if not res.converged:
            raise RuntimeError(res.status)
        cache[a] = w
        return lam(w) - 1

    a_dat = scipy.optimize.brentq(f, lo[ia], hi[ia], xtol=1e-13, rtol=1e-15)
    w = cache[a_dat]
    res, w = system.solve(w, quad, method="newton", tol=tol)
    return _threshold_from(spec, "alpha_dAT", a_dat, {"kappa": kappa}, (res, w), quad, tol,
                           {"alpha_c": ac, "criterion": "lambda_AT = 1"})


def _rsb1_branch(system, kappa, quad, tol, unknowns):
    """Search the non-trivial stationary point (finite mu, q0 < 1) at alpha = 0.99 alpha_RS from a grid of starts,
    then solve Phi = 0 for (mu, q0, alpha) from it."""
    res, w = None, None
    for mu0 in (1.0, 3.0, 10.0, 0.3, 30.0):
        for q00 in (0.5, 0.3, 0.7, 0.1, 0.9):
            v0 = system.vector([mu0, q00], [0.99 * alpha_c_spherical(kappa), kappa])
            r, v = system.solve(v0, quad, method="newton", tol=tol)
            if not (r.converged and v[0] < 1e3 and v[1] < 0.999):
                continue
            res, w = system.solve(v, quad, method="newton", tol=tol, unknowns=unknowns, phi_target=0.0)
            if res.converged and w[0] < 1e3 and w[1] < 0.999:
                return res, w
    if res is None:
        return SolverResult(v0, False, "stalled", 0, math.inf, "search"), v0
    return res, w


def _rsb1_capacity(kappa, quad, tol):
    """The 1RSB SAT/UNSAT point of the spherical perceptron, kappa < 0: dPhi/dmu = dPhi/dq0 = 0 and Phi = 0 on the
    non-trivial branch. A non-trivial stationary point (finite mu, q0 < 1) is searched at alpha just below the RS
    capacity from a small grid of starts, then Newton solves the three equations for (mu, q0, alpha)."""
    if not kappa < 0:
        raise ParameterError(f"kappa={kappa:g}: the 1RSB SAT/UNSAT line is computed for kappa < 0 (for kappa >= 0 "
                             "RS is exact up to capacity: use rsb=0)")
    spec = JAMMING_1RSB
    system = spec.system
    quad = Quadrature(gauss=max(quad.gauss, 512), trunc=quad.trunc, rule=quad.rule)
    a_rs = alpha_c_spherical(kappa)
    unknowns = ["mu", "q0", "alpha"]
    res, w = _rsb1_branch(system, kappa, quad, tol, unknowns)
    if not res.converged and kappa != -1.0:
        # near kappa = 0 the non-trivial branch lives in a thin window below alpha_RS: follow it from kappa = -1
        start, w0 = _rsb1_branch(system, -1.0, quad, tol, unknowns)
        if start.converged:
            res, w = continue_to(system, w0, "kappa", kappa, quad, tol, method="newton", unknowns=unknowns,
                                 phi_target=0.0)
    if not (res.converged and w[0] < 1e3 and w[1] < 0.999):
        return Threshold("alpha_c", None, SPHERICAL.name, {"kappa": kappa}, False, res.status,
                         "no non-trivial 1RSB stationary point was found", REMEDIES["stalled"],
                         extra={"rsb": 1, "alpha_c_rs": a_rs})
    ia = system.index("alpha")
    thr = _threshold_from(spec, "alpha_c", w[ia], {"kappa": kappa}, (res, w), quad, tol,
                          {"rsb": 1, "alpha_c_rs": a_rs, "mu": float(w[0]), "q0": float(w[1]),
                           "criterion": "1RSB: Phi = dPhi/dmu = dPhi/dq0 = 0, non-trivial branch"},
                          unknowns, 0.0)
    thr.model = SPHERICAL.name
    return thr

"""Perceptron storage models (spherical and binary weights) and their thresholds: capacity, maximal margin, dAT line,
1RSB SAT/UNSAT line. The free entropies live in ``replica.equations.perceptron``; this module registers them and
locates thresholds with the generic solvers (continuation, Newton with an added equation)."""
import math

import numpy as np

from replica.equations import perceptron as eq
from replica.solvers.continuation import continue_to
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import Tolerance

from .errors import ParameterError
from .models import MAX_ADAPTIVE_NODES, QUAD_TOL, ModelSpec, numeric, register
from .results import REMEDIES, Threshold

__all__ = ["alpha_c_spherical", "alpha_gd_binary", "capacity", "max_margin", "dat_line", "zero_entropy_capacity"]

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
    notes=_notes_binary, q1_load=alpha_gd_binary,
))
JAMMING_1RSB = register(ModelSpec(
    name="spherical-perceptron-1rsb-jamming",
    summary="1RSB potential Phi(mu, q0) of the spherical perceptron at jamming (kappa < 0), for the SAT/UNSAT line",
    build=eq.spherical_perceptron_1rsb_jamming, start=lambda p: {"mu": 1.0, "q0": 0.5}, path=None, hidden=True,
))


# ----- thresholds --------------------------------------------------------------------------------------------------
def _solved(spec, params, quad, tol):
    """A solved full vector at ``params`` (None if the solve fails) and the quadrature it needed."""
    sol = spec.solve(spec.validate(params), quadrature=quad, tol=tol)
    if not sol.converged:
        return sol, None, quad
    used = Quadrature(**sol.settings["quadrature"])
    return sol, spec.system.vector(sol.order, sol.params), used


def _locate(spec, name, param, params, start, quad, tol, target, adaptive, extra):
    """A threshold: Newton on the stationarity equations plus ``target`` (observable, value) for the order parameters
    and ``param``, from ``start``; then node doubling (when ``adaptive``) until the estimate is below QUAD_TOL."""
    system = spec.system
    unknowns = system.order_names + [param]
    res, w = system.solve(start, quad, method="newton", tol=tol, unknowns=unknowns, target=target)
    res, w, quad, err = system.refine(res, w, quad, tol, QUAD_TOL, spec.max_nodes if adaptive else quad.gauss,
                                      unknowns, target)
    sol = spec.package({k: float(w[system.index(k)]) for k in system.param_names}, res, w, quad, tol, "newton",
                       QUAD_TOL, strict=False, quad_error=err)
    return Threshold(name=name, value=float(w[system.index(param)]) if res.converged else None, model=spec.name,
                     params=params, converged=sol.converged, status=sol.status, message=sol.message,
                     remedy=sol.remedy, extra=extra, solution=sol)


def _march(system, v, name, step, stop, quad, tol, adaptive, max_steps=400, max_nodes=MAX_ADAPTIVE_NODES):
    """Continue ``name`` by ``step`` from solved ``v`` until ``stop(v, quad)``. Where a step fails and the quadrature
    is adaptive, the nodes are doubled (up to ``max_nodes``) and the march goes on. Returns (previous, last, reached,
    quadrature)."""
    prev = v
    for _ in range(max_steps):
        result, w = continue_to(system, v, name, v[system.index(name)] + step, quad, tol, method="newton")
        if not result.converged:
            if adaptive and quad.gauss < max_nodes:
                quad = quad.doubled()
                continue
            return prev, v, False, quad
        prev, v = v, w
        if stop(v, quad):
            return prev, v, True, quad
    return prev, v, False, quad


def _secant(system, lo, hi, quad, observable, value):
    """The point between two solved vectors where ``observable``, interpolated linearly, equals ``value``."""
    k = system.observable_names.index(observable)
    f_lo, f_hi = (system.call("obs", w, quad)[k] - value for w in (lo, hi))
    return lo + f_lo / (f_lo - f_hi) * (hi - lo) if f_lo != f_hi else hi


def zero_entropy_capacity(spec, params, scale, quad, tol, adaptive, extra):
    """The load where the RS entropy of binary-weight model ``spec`` vanishes (at the other ``params``): a march in
    alpha by steps of 0.05 ``scale`` from alpha = 0.05 ``scale``; see :func:`zero_entropy_point`."""
    return zero_entropy_point(spec, params, "alpha", 0.05 * scale, quad, tol, adaptive,
                              {**extra, "criterion": "zero RS entropy (Krauth-Mezard)"}, name="alpha_c")


def zero_entropy_point(spec, params, param, step, quad, tol, adaptive, extra, name):
    """The value of ``param`` where the RS entropy (observable ``entropy``) of binary-weight model ``spec`` vanishes
    at the other ``params``: a march from ``param`` = ``step`` by steps of ``step`` until the entropy is negative, a
    secant, then Newton on the equations plus entropy = 0. Returns a Threshold named ``name``."""
    system = spec.system
    sol, v, quad = _solved(spec, {**params, param: step}, None if adaptive else quad, tol)
    if v is None:
        raise ParameterError(f"{spec.name}: no RS solution at {param}={step:g}, {params}: {sol.message}")
    k = system.observable_names.index("entropy")
    lo, hi, ok, quad = _march(system, v, param, step, lambda w, qd: system.call("obs", w, qd)[k] < 0,
                              quad, tol, adaptive, max_nodes=spec.max_nodes)
    start = _secant(system, lo, hi, quad, "entropy", 0.0) if ok else lo
    while adaptive and quad.gauss < spec.max_nodes and system.phi_change(start, quad) > QUAD_TOL:
        quad = quad.doubled()  # Newton needs discretized equations as smooth as the march's end point is sharp
    return _locate(spec, name, param, params, start, quad, tol, ("entropy", 0.0), adaptive, extra)


def _binary_capacity(kappa, quad, tol, adaptive):
    agd = alpha_gd_binary(kappa)
    thr = zero_entropy_capacity(BINARY, {"kappa": kappa}, agd, quad, tol, adaptive, {"alpha_GD": agd})
    thr.extra = {"alpha_KM": thr.value, **thr.extra}
    return thr


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
    iq, ih, ia = system.index("q"), system.index("qhat"), system.index("alpha")
    alphas, status = [], sol.status
    v = system.vector(sol.order, sol.params) if sol.converged else None
    for e in eps if sol.converged else ():
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


def capacity(model, kappa=0.0, rsb=0, quadrature=None, tol=None, **options):
    """Storage capacity alpha_c(kappa).

    * ``spherical-perceptron``: Gardner's RS capacity (closed form), checked by the q -> 1 limit of the solver
      (``extra['alpha_c_solver']``); with ``rsb=1`` and kappa < 0 the 1RSB SAT/UNSAT point instead.
    * ``binary-perceptron``: alpha_KM(kappa), where the RS entropy vanishes (Krauth–Mézard); the RS q -> 1 point
      alpha_GD(kappa) = (2/pi) alpha_c^sph(kappa) is reported beside it under its own name, never as the capacity.
    * ``committee`` and ``parity`` (with their ``options``: K, activation, weights): zero RS entropy for binary
      weights, the RS q -> 1 limit in closed form for spherical ones (status ``diverges`` for K = inf sign units).

    Examples
    --------
    >>> import replica
    >>> round(replica.capacity("spherical-perceptron", kappa=0).value, 12)
    2.0
    >>> round(replica.capacity("binary-perceptron", kappa=0).value, 4)
    0.8331
    """
    from .models import resolve

    spec, rest = resolve(model, options)
    if rest:
        raise ParameterError(f"capacity takes kappa, rsb and a family's options, not {', '.join(rest)}")
    quad, tol, adaptive = quadrature or Quadrature(), tol or Tolerance(), quadrature is None
    if rsb not in (0, 1):
        raise ParameterError(f"rsb must be 0 (replica symmetric) or 1 (one-step RSB), got {rsb}")
    kappa = _finite("kappa", kappa)
    if spec is SPHERICAL:
        if rsb == 1:
            return _rsb1_capacity(kappa, quad, tol, adaptive)
        return _spherical_capacity(kappa, quad, tol)
    if spec is BINARY:
        if rsb == 1:
            raise ParameterError("binary-perceptron: the RS zero-entropy point alpha_KM already coincides with the "
                                 "frozen 1RSB capacity; use rsb=0")
        return _binary_capacity(kappa, quad, tol, adaptive)
    if spec.capacity is not None and rsb == 0:
        return spec.capacity(kappa, quad, tol, adaptive)
    raise ParameterError(f"capacity is not defined for {model} (rsb={rsb}); available for spherical-perceptron, "
                         "binary-perceptron, committee, parity (rsb=0)")


def max_margin(model, alpha, quadrature=None, tol=None, **options):
    """kappa_max(alpha) of the binary perceptron (or of the K = inf binary committee machine, with its ``options``):
    the margin at which the RS entropy vanishes (inverse of alpha_KM).

    Examples
    --------
    >>> import replica
    >>> round(replica.max_margin("binary-perceptron", alpha=0.833078599).value, 6)
    0.0
    """
    from .models import resolve

    spec, rest = resolve(model, options)
    if spec.q1_load is None or rest:
        raise ParameterError(f"max-margin is defined for binary-perceptron and the K=inf binary committee machine, "
                             f"not {model} {rest or ''}")
    tol = tol or Tolerance()
    alpha = _finite("alpha", alpha)
    if not alpha > 0:
        raise ParameterError(f"alpha={alpha:g}: kappa_max is defined for 0 < alpha (it diverges as alpha -> 0)")
    system = spec.system
    adaptive = quadrature is None
    k0 = 0.0
    while alpha > 0.75 * spec.q1_load(k0):  # start well inside the region where the RS solution is easy
        k0 -= 0.5
    sol, v, quad = _solved(spec, {"alpha": alpha, "kappa": k0}, quadrature, tol)
    if v is None:
        raise ParameterError(f"{spec.name}: no RS solution at alpha={alpha:g}, kappa={k0:g}: {sol.message}")
    s0 = system.call("phi", v, quad)[0]
    lo, hi, ok, quad = _march(system, v, "kappa", 0.1 if s0 > 0 else -0.1,
                              lambda w, qd: (system.call("phi", w, qd)[0] > 0) != (s0 > 0), quad, tol, adaptive)
    start = _secant(system, lo, hi, quad, "entropy", 0.0) if ok else hi
    return _locate(spec, "kappa_max", "kappa", {"alpha": alpha}, start, quad, tol, ("entropy", 0.0), adaptive,
                   {"criterion": "zero RS entropy"})


def dat_line(model, kappa=None, quadrature=None, tol=None, **options):
    """The de Almeida–Thouless load: where the replicon eigenvalue lambda_AT reaches 1 along the RS solution (RS is
    locally unstable beyond it). Located by continuation in alpha and Newton on the equations plus lambda_AT = 1.

    * ``spherical-perceptron``, kappa < 0: alpha_dAT(kappa), below the RS capacity (for kappa >= 0 RS is stable up
      to alpha_c).
    * ``committee`` with K = inf (its ``options``: activation, weights; ``kappa``, default 0, the output margin):
      the chain rule through the kernel Q(q) (docs/committee.md). The result carries the capacity beside it.
    * ``committee`` (odd K, sign units) and ``parity`` at finite K: the Hessian of ln P(output) in the hidden fields
      (docs/committee.md); no margin.

    Examples
    --------
    >>> import replica
    >>> round(replica.dat_line("spherical-perceptron", kappa=-1.0).value, 6)
    7.87356
    """
    from .models import resolve

    spec, rest = resolve(model, options)
    if rest:
        raise ParameterError(f"dat-line takes kappa and a family's options, not {', '.join(rest)}")
    if spec.dat_line is not None:
        return spec.dat_line(_finite("kappa", 0.0 if kappa is None else kappa), quadrature, tol or Tolerance())
    if spec is not SPHERICAL:
        raise ParameterError(f"dat-line is implemented for spherical-perceptron, committee and parity, not {model}")
    if kappa is None:
        raise ParameterError("spherical-perceptron: dat-line needs --kappa (negative)")
    kappa = _finite("kappa", kappa)
    if not kappa < 0:
        raise ParameterError(f"kappa={kappa:g}: the dAT line lies below capacity only for kappa < 0 (for kappa >= 0 "
                             "RS is stable up to alpha_c)")
    ac = alpha_c_spherical(kappa)
    return replicon_threshold(spec, {"kappa": kappa}, 0.02 * ac, quadrature, tol or Tolerance(), {"alpha_c": ac})


def replicon_threshold(spec, params, step, quadrature, tol, extra, limit=math.inf):
    """alpha_dAT of ``spec`` (a model with the observable ``lambda_AT``) at the other ``params``: a march in alpha
    from ``step`` by steps of ``step`` until lambda_AT exceeds 1, a secant, then Newton on the equations plus
    lambda_AT = 1. Where the RS solution ends first (alpha reaching ``limit``, where q -> 1), no threshold: status
    'ended', with the last lambda_AT in the message ('stalled' where the solution could not be followed)."""
    system, adaptive = spec.system, quadrature is None
    il, ia = system.observable_names.index("lambda_AT"), system.index("alpha")
    sol, v, quad = _solved(spec, {**params, "alpha": step}, quadrature, tol)
    if v is None:
        raise ParameterError(f"{spec.name}: no RS solution at alpha={step:g}, {params}: {sol.message}")
    lo, hi, ok, quad = _march(system, v, "alpha", step, lambda w, qd: system.call("obs", w, qd)[il] > 1
                              or w[ia] + step >= limit, quad, tol, adaptive)
    last = system.call("obs", hi, quad)[il]
    if not ok or not last > 1:
        status = "ended" if ok else "stalled"
        reason = (f"lambda_AT = {last:.4g} < 1 at alpha = {hi[ia]:.6g}, next to alpha = {limit:.6g}, where the RS "
                  "solution reaches q = 1 (the end of the march): RS is locally stable up to there, no dAT point "
                  "before it" if ok else "the RS solution could not be followed to lambda_AT = 1")
        return Threshold("alpha_dAT", None, spec.name, params, False, status, reason, REMEDIES[status], extra=extra)
    start = _secant(system, lo, hi, quad, "lambda_AT", 1.0)
    return _locate(spec, "alpha_dAT", "alpha", params, start, quad, tol, ("lambda_AT", 1.0), adaptive,
                   {**extra, "criterion": "lambda_AT = 1"})


def _nontrivial(w):
    """On the non-trivial 1RSB branch: finite mu and q0 < 1 (the trivial branch runs to mu -> inf, q0 -> 1)."""
    return w[0] < 1e3 and w[1] < 0.999


def _rsb1_start(system, kappa, quad, tol):
    """A non-trivial stationary point (mu, q0) at alpha = 0.99 alpha_RS(kappa), from a small grid of starts."""
    for mu0 in (1.0, 3.0, 10.0, 0.3, 30.0):
        for q00 in (0.5, 0.3, 0.7, 0.1, 0.9):
            r, v = system.solve(system.vector([mu0, q00], [0.99 * alpha_c_spherical(kappa), kappa]), quad,
                                method="newton", tol=tol)
            if r.converged and _nontrivial(v):
                w0 = v.copy()
                res, w = system.solve(v, quad, method="newton", tol=tol, unknowns=["mu", "q0", "alpha"],
                                      target=("entropy", 0.0))
                if res.converged and _nontrivial(w):
                    return w0
    return None


def _rsb1_capacity(kappa, quad, tol, adaptive):
    """The 1RSB SAT/UNSAT point of the spherical perceptron, kappa < 0: dPhi/dmu = dPhi/dq0 = 0 and Phi = 0 on the
    non-trivial branch. A non-trivial stationary point is searched at alpha just below the RS capacity from a small
    grid of starts; near kappa = 0, where the branch lives in a thin window below alpha_RS, the point at kappa = -1
    is followed by continuation in kappa. Then Newton solves the three equations for (mu, q0, alpha)."""
    if not kappa < 0:
        raise ParameterError(f"kappa={kappa:g}: the 1RSB SAT/UNSAT line is computed for kappa < 0 (for kappa >= 0 "
                             "RS is exact up to capacity: use rsb=0)")
    spec = JAMMING_1RSB
    system = spec.system
    quad = Quadrature(gauss=max(quad.gauss, 512), trunc=quad.trunc, rule=quad.rule)
    a_rs = alpha_c_spherical(kappa)
    unknowns, target = ["mu", "q0", "alpha"], ("entropy", 0.0)
    start = _rsb1_start(system, kappa, quad, tol)
    if start is None:
        w0 = _rsb1_start(system, -1.0, quad, tol)
        if w0 is not None:
            res, w0 = system.solve(w0, quad, method="newton", tol=tol, unknowns=unknowns, target=target)
            res, w = continue_to(system, w0, "kappa", kappa, quad, tol, method="newton", unknowns=unknowns,
                                 target=target)
            start = w if res.converged and _nontrivial(w) else None
    if start is None:
        return Threshold("alpha_c", None, SPHERICAL.name, {"kappa": kappa}, False, "wrong_branch",
                         "no non-trivial 1RSB stationary point was found (only the trivial mu -> inf, q0 -> 1 "
                         "branch, which is RS)", REMEDIES["wrong_branch"], extra={"rsb": 1, "alpha_c_rs": a_rs})
    thr = _locate(spec, "alpha_c", "alpha", {"kappa": kappa}, start, quad, tol, target, adaptive,
                  {"rsb": 1, "alpha_c_rs": a_rs,
                   "criterion": "1RSB: Phi = dPhi/dmu = dPhi/dq0 = 0, non-trivial branch"})
    w = system.vector(thr.solution.order, thr.solution.params) if thr.converged else None
    if w is not None and not _nontrivial(w):
        thr.value, thr.converged, thr.status = None, False, "wrong_branch"
        thr.message, thr.remedy = "Newton ran to the trivial (RS) branch", REMEDIES["wrong_branch"]
    elif w is not None:
        thr.extra.update(mu=float(w[0]), q0=float(w[1]))
    thr.model = SPHERICAL.name
    return thr

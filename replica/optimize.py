"""Optimal hyperparameters: the value of one parameter that minimizes an observable of the saddle point (the ridge
penalty that minimizes the test error, say), at one point or along a line in another parameter.

Along a line the optimum is traced, not searched afresh: the derivative of the observable along the solutions,
d obs/d x = dobs/dx + grad_u obs . du/dx with du/dx the tangent of the stationarity equations (their sympy Jacobian),
is driven to zero by the secant method in ln x from the optimum predicted by the previous ones, each solve
warm-started from the last.
"""
import math

from replica.solvers.quadrature import Quadrature
from replica.solvers.status import Status

from .errors import ParameterError
from .models import get_model
from .results import REMEDIES, Threshold
from .solving import vector_of
from .thresholds import number

__all__ = ["optimize", "optimum_line"]


def _prepare(model, param, observable, bounds, params):
    spec = get_model(model)
    if param not in spec.declared:
        raise ParameterError(f"{model} has no parameter {param}; its parameters are {', '.join(spec.declared)}")
    if param in params:
        raise ParameterError(f"{param} is optimized: do not fix it")
    lo, hi = (number("bounds", x) for x in bounds)
    if not 0 < lo < hi:
        raise ParameterError(f"bounds=({lo:g}, {hi:g}): need 0 < low < high (the search is on a log scale)")
    for end in (lo, hi):  # both ends must be allowed values (the message names the allowed range)
        spec.validate({**params, param: end})
    names = spec.system.observable_names
    if observable not in names:
        raise ParameterError(f"{model} has no observable {observable!r}; its observables: {', '.join(names)}")
    return spec, lo, hi


def _failed(spec, param, shown, sol):
    return Threshold(f"{param}_opt", None, spec.name, shown, False, Status.NOT_CONVERGED,
                     message=f"the saddle point did not converge at {sol.params_text()}: {sol.status} ({sol.message})",
                     remedy=sol.remedy or REMEDIES[Status.NOT_CONVERGED], solution=sol)


def optimize(model, param, *, observable="error", bounds=(1e-5, 1e3), xtol=1e-6, **params):
    """Minimize ``observable`` of ``model`` over the parameter ``param`` within ``bounds`` (Brent's method on a log
    scale), the other parameters fixed: e.g. the optimal ridge penalty ``optimize("gm-ridge", "lam", alpha=2,
    delta=0.5, rho=0.2)``. Returns a :class:`~replica.results.Threshold` named ``<param>_opt`` with the minimum in
    ``extra`` and the solution there; status ``at_bound`` when the minimum lies at an end of ``bounds``,
    ``not_converged`` when a saddle point on the way did not converge.

    Examples
    --------
    >>> import replica
    >>> from replica.gaussian_mixture import bayes_error
    >>> best = replica.optimize("gm-ridge", "lam", alpha=2, delta=0.5, rho=0.2)
    >>> round(best.value, 2), round(best.extra["error"], 4), round(bayes_error(2, 0.5, 0.2), 4)
    (0.47, 0.1024, 0.0753)
    """
    spec, lo, hi = _prepare(model, param, observable, bounds, params)
    shown = {k: v for k, v in spec.validate({**params, param: lo}).items() if k != param}
    solutions = {}

    class Failed(Exception):
        pass

    def value(t):
        sol = spec.solve(spec.check({**params, param: math.exp(t)}))
        solutions[t] = sol
        if not sol.converged:
            raise Failed(sol)
        return sol.observables[observable]

    from scipy.optimize import minimize_scalar  # imported where used: importing replica does not need it

    try:
        best = minimize_scalar(value, bounds=(math.log(lo), math.log(hi)), method="bounded", options={"xatol": xtol})
    except Failed as e:
        return _failed(spec, param, shown, e.args[0])
    sol = solutions[min(solutions, key=lambda t: abs(t - best.x))]
    x = math.exp(best.x)
    edge = min(abs(best.x - math.log(lo)), abs(best.x - math.log(hi))) < 10 * xtol
    status, message, remedy = Status.CONVERGED, f"minimum of {observable} to +-{xtol:g} in ln {param}", ""
    if edge:
        status, message = Status.AT_BOUND, f"the minimum of {observable} lies at an end of bounds ({lo:g}, {hi:g})"
        remedy = REMEDIES[Status.AT_BOUND]
    return Threshold(f"{param}_opt", x, spec.name, shown, not edge, status, message=message, remedy=remedy,
                     extra={observable: float(best.fun)}, solution=sol)


def _slope(spec, sol, param, observable):
    """d observable / d ln(param) along the solutions through ``sol``: the explicit derivative plus the gradient in
    the order parameters times their tangent (the implicit-function theorem on the sympy Jacobian)."""
    system = spec.system
    rule = Quadrature(**sol.settings["quadrature"])
    v = vector_of(spec, sol)
    k = system.observable_names.index(observable)
    grad = system.call(f"obs_grad_{k}", v, rule)[1:]
    t = system.tangent(v, rule, param)
    if t is None:
        return math.nan
    i = system.index(param)
    return float((grad[i] + grad[: system.n_order] @ t) * v[i])


def optimum_line(model, param, along, values, *, observable="error", bounds=(1e-5, 1e3), xtol=1e-6, **params):
    """The optimum of ``observable`` over ``param`` at each of ``values`` of ``along`` (the other parameters
    ``params``): the first by :func:`replica.optimize`, the next ones traced (module docstring); where tracing does not
    settle, searched afresh. Returns a list of Thresholds."""
    if along in params or along == param:
        raise ParameterError(f"{along} is the line's parameter: give it as the range only")
    spec, lo, hi = _prepare(model, param, observable, bounds, {**params, along: values[0]})
    out, previous = [], []
    for value in values:
        at = {**params, along: number(along, value)}
        thr = _traced(spec, param, observable, along, at, previous, lo, hi, xtol) if previous else None
        if thr is None:
            thr = optimize(model, param, observable=observable, bounds=(lo, hi), xtol=xtol, **at)
        out.append(thr)
        previous = previous + [(at[along], math.log(thr.value), thr.solution)] if thr.converged else []
    return out


def _traced(spec, param, observable, along, at, previous, lo, hi, xtol, max_iter=30):
    """The optimum at ``at`` from the line's previous optima ``previous`` [(along value, ln optimum, solution)]: the
    secant method on the slope in ln(param) from the optimum extrapolated linearly through the last two; None where
    it does not settle inside the bounds (the caller searches afresh)."""
    if len(previous) >= 2 and previous[-1][0] != previous[-2][0]:
        (a0, t0, _), (a1, t1, _) = previous[-2:]
        guess = t1 + (t1 - t0) * (at[along] - a1) / (a1 - a0)
    else:
        guess = previous[-1][1]
    x0 = previous[-1][2].order
    shown = {k: v for k, v in spec.validate({**at, param: lo}).items() if k != param}

    def slope(t):
        nonlocal x0
        sol = spec.solve(spec.check({**at, param: math.exp(t)}), x0=x0)
        if not sol.converged:
            return None, sol
        x0 = sol.order
        return _slope(spec, sol, param, observable), sol

    t_lo, t_hi = math.log(lo), math.log(hi)
    ta, tb = guess, guess + 1e-3
    (ga, _), (gb, sol) = slope(ta), slope(tb)
    for _ in range(max_iter):
        if ga is None or gb is None or not (math.isfinite(ga) and math.isfinite(gb)) or ga == gb:
            return None
        tc = tb - gb * (tb - ta) / (gb - ga)
        if not t_lo <= tc <= t_hi:
            return None
        gc, sol = slope(tc)
        ta, ga, tb, gb = tb, gb, tc, gc
        if abs(tb - ta) <= xtol:
            if gb is None:
                return None
            return Threshold(f"{param}_opt", math.exp(tb), spec.name, shown, True, Status.CONVERGED,
                             message=f"minimum of {observable} to +-{xtol:g} in ln {param} (traced: the secant on "
                                     f"d {observable}/d ln {param} = 0)",
                             extra={observable: float(sol.observables[observable])}, solution=sol)
    return None

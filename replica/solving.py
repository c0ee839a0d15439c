"""One solve of a model at one parameter point: a direct solve from the model's start, continuation along its path
where that fails, node refinement until the quadrature can be vouched for, and the :class:`Solution` with its status.

Every march goes through the one continuation engine (:func:`replica.solvers.continuation.follow`); :func:`march`
gives it what a model knows about its branches (its map of a solution to new parameters, its own start, the
refinement caps of its rule, why its branches end).
"""
import math

import numpy as np

from replica.solvers.continuation import Refinement, follow
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import SolverResult, Tolerance
from replica.solvers.status import Status

from .errors import ConvergenceError, ParameterError
from .results import REMEDIES, Solution

__all__ = ["solve_point", "solve_with_branch", "march", "outcome", "package", "refinement", "refinement_cap",
           "vector_of", "failed", "QUAD_TOL"]

#: Default tolerance on the node-doubling error estimate.
QUAD_TOL = 1e-8

_METHODS = ("auto", "fixed-point", "newton")


def refinement_cap(spec, rule, max_nodes):
    """The largest ``cost`` a refinement of ``spec`` from ``rule`` may reach with ``max_nodes`` outer
    nodes (twice that of refining every level that far); 0, i.e. none, for a model that does not refine."""
    return rule.refinement_cap(max_nodes) if spec.refine else 0


def refinement(spec, quad_tol=QUAD_TOL):
    """The :class:`Refinement` an adaptive march of ``spec`` may use: from the model's rule up to its
    ``max_nodes``."""
    return Refinement(quad_tol=quad_tol, max_nodes=spec.max_nodes,
                      max_cost=refinement_cap(spec, spec.quadrature, spec.max_nodes))


def _mover(spec):
    """The engine's ``guess(w, k, value)``: the full vector ``w`` with input k set to ``value`` and its order
    parameters moved by the model's ``guess`` hook."""
    system = spec.system

    def moved(w, k, value):
        out = np.array(w, dtype=float)
        out[k] = value
        if spec.guess is not None:
            n = system.n_order
            old = dict(zip(system.param_names, w[n:]))
            new = dict(zip(system.param_names, out[n:]))
            order = spec.guess(dict(zip(system.order_names, w[:n])), old, new)
            out[:n] = [order[name] for name in system.order_names]
        return out

    return moved


def _reseed(spec):
    system = spec.system

    def reseed(w):  # the model's own starting point at the inputs of w
        at = dict(zip(system.param_names, w[system.n_order:]))
        return system.vector(spec.start(at), at)

    return reseed


def _branch_end(spec):
    """The engine's ``branch_end(w)``: the model's reason why its branch ends at the full vector ``w``, or None."""
    if spec.branch_end is None:
        return None
    system = spec.system

    def reason(w):
        if not np.all(np.isfinite(w)):
            return None
        return spec.branch_end(dict(zip(system.param_names, map(float, w[system.n_order:]))),
                               dict(zip(system.order_names, map(float, w[: system.n_order]))))

    return reason


def march(spec, v, name, to, rule, tol, adaptive, **options):
    """Follow the solution ``v`` (a full vector) of ``spec`` while input ``name`` moves to ``to``
    (:func:`~replica.solvers.continuation.follow`), with the model's map of a solution to new inputs, its own start
    where every prediction leaves the domain, per-level refinement of the rule where the march stalls for lack of
    nodes (``adaptive``), and its reason why a branch ends. ``options`` go to the engine. Returns the Branch."""
    return follow(spec.system, v, name, to, rule, tol=tol, guess=_mover(spec), reseed=_reseed(spec),
                  refine=refinement(spec) if adaptive else None, branch_end=_branch_end(spec), **options)


def vector_of(spec, sol):
    """The full vector of a converged :class:`Solution` of ``spec``."""
    return spec.system.vector(sol.order, spec.inputs_of(sol.params))


def failed(spec, params, status, message, remedy=None, settings=None):
    """A :class:`Solution` at ``params`` that has no values: ``status`` with ``message`` (and the status's remedy
    unless ``remedy`` is given)."""
    system = spec.system
    order = {n: None for n in system.order_names}
    obs = {n: None for n in [*system.observable_names, *spec.report]}
    status = Status(status)
    return Solution(model=spec.name, params=dict(params), order=order, observables=obs, converged=False,
                    status=status, message=message, remedy=REMEDIES[status] if remedy is None else remedy,
                    iterations=0, residual=math.inf, quad_error=math.inf, method="", settings=settings or {})


def _check_options(method, quadrature, tol, max_iter, quad_tol):
    if method not in _METHODS:
        raise ParameterError(f"method={method!r} is not a method; allowed: {', '.join(map(repr, _METHODS))}")
    if quadrature is not None and not isinstance(quadrature, Quadrature):
        raise ParameterError(f"quadrature must be a replica.Quadrature or None (adaptive), got {quadrature!r}")
    if quadrature is not None:
        try:
            quadrature.check_size()
        except ValueError as e:
            raise ParameterError(str(e)) from None
    if tol is not None and not isinstance(tol, Tolerance):
        raise ParameterError(f"tol must be a replica.Tolerance or None, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ParameterError(f"max_iter must be a positive integer, got {max_iter!r}")
    if isinstance(quad_tol, bool) or not isinstance(quad_tol, (int, float)) or not quad_tol > 0:
        raise ParameterError(f"quad_tol must be a positive number, got {quad_tol!r}")


def solve_point(spec, params, method="auto", quadrature=None, x0=None, tol=None, max_iter=2000, quad_tol=QUAD_TOL,
                strict=False):
    """Solve ``spec`` at validated ``params``; see :func:`replica.solve`. A point outside the model's region is
    refused (ParameterError); a reference or a start that does not converge is the solution's status."""
    return solve_with_branch(spec, params, method, quadrature, x0, tol, max_iter, quad_tol, strict)[0]


def solve_with_branch(spec, params, method="auto", quadrature=None, x0=None, tol=None, max_iter=2000,
                      quad_tol=QUAD_TOL, strict=False):
    """:func:`solve_point`, and the branch of the march along ``spec.path`` that reached the point (None where
    none ran): ``(solution, branch)``."""
    _check_options(method, quadrature, tol, max_iter, quad_tol)
    reason = spec.outside(params)
    if reason:
        raise ParameterError(reason)
    system = spec.system
    adaptive = quadrature is None
    rule = quadrature or spec.quadrature
    tol = tol or Tolerance()
    try:
        inputs = spec.inputs_of(params)
    except ConvergenceError as e:
        return _finish(failed(spec, params, Status.NOT_CONVERGED, f"{e.result.model} at {e.result.params_text()} "
                                                                  f"did not converge: {e.result.status} "
                                                                  f"({e.result.message})", e.result.remedy),
                       strict), None
    if x0 is not None:
        if not isinstance(x0, dict):
            raise ParameterError(f"x0 must be a dict of order parameters, got {type(x0).__name__}")
        unknown = sorted(set(x0) - set(system.order_names))
        if unknown:
            raise ParameterError(f"x0 has unknown order parameters {', '.join(unknown)}; "
                                 f"{spec.name} has {', '.join(system.order_names)}")
    start = {**spec.start(inputs), **(x0 or {})}
    v0 = system.vector(start, inputs)
    fallback = x0 is None and spec.path is not None and method != "fixed-point"
    branch = None
    if fallback and not spec.direct:
        result, v, rule, branch = _by_continuation(spec, inputs, rule, tol, method, adaptive)
    else:
        # with a continuation to fall back on, a direct Newton attempt that is not converging soon is cut short
        result, v = system.solve(v0, rule, method=method, tol=tol, max_iter=max_iter,
                                 newton_iter=15 if fallback else 50)
        if not result.converged and fallback:
            result, v, rule, branch = _by_continuation(spec, inputs, rule, tol, method, adaptive)
    return package(spec, params, result, v, rule, tol, method, quad_tol, strict, adaptive, branch=branch), branch


def _by_continuation(spec, inputs, rule, tol, method, adaptive):
    """Reach ``inputs`` from ``path = path_start``, where the starting point is reliable (and where that start fails,
    from the model's homotopy). Returns ``(result, v, rule, branch)``: the branch of the march, or None where no
    march ran."""
    system = spec.system
    begin = spec.path_start(inputs) if callable(spec.path_start) else min(spec.path_start, inputs[spec.path])
    near = {**inputs, spec.path: begin}
    result, v = system.solve(system.vector(spec.start(near), near), rule, method=method, tol=tol)
    if not result.converged and spec.homotopy is not None:
        h = spec.homotopy
        if h.easy < near[h.name]:
            at = {**near, h.name: h.easy}
            result, v = system.solve(system.vector(h.start(at), at), rule, method=method, tol=tol)
            if result.converged:
                branch = follow(system, v, h.name, near[h.name], rule, tol=tol, guess=_mover(spec))
                result, v = outcome(branch)
    if not result.converged:
        return result, v, rule, None
    branch = march(spec, v, spec.path, inputs[spec.path], rule, tol, adaptive)
    result, v = outcome(branch)
    return result, v, branch.last.rule, branch


def outcome(branch):
    """(SolverResult, v) at the end of a branch: the last point's result where it arrived, otherwise a failed result
    with the branch's status (why it ended) at the last point it reached."""
    last = branch.last
    if branch.arrived:
        return last.result or SolverResult(last.v, True, Status.CONVERGED.value, 0, 0.0, "newton"), last.v
    result = branch.result or SolverResult(last.v, False, Status.STALLED.value, 0, math.inf, "newton")
    return SolverResult(result.x, False, Status(branch.status).value, result.iterations, result.residual,
                        result.method), last.v


def package(spec, params, result, v, rule, tol, method, quad_tol, strict, adaptive=False, quad_error=None,
            branch=None):
    """Turn a solver result at full vector ``v`` into a :class:`Solution`, checking the quadrature by node
    doubling. With ``adaptive``, the levels of the rule that carry the error are refined (up to the cost of
    ``max_nodes`` outer nodes) and the point re-solved by Newton until the error estimate is below ``quad_tol``.
    A caller that already refined the point (a threshold, whose estimate covers its own unknowns) passes its
    ``quad_error``; one whose march did not arrive passes its ``branch``: where it ended for a reason (the model's,
    a fold) the point has that status."""
    system = spec.system
    if quad_error is None:
        # an adaptive refinement is capped from the model's base rule (a sweep may hand over a refined one)
        base, max_nodes = (spec.quadrature, spec.max_nodes) if adaptive else (rule, rule.gauss)
        result, v, rule, quad_error = system.refine(result, v, rule, tol, quad_tol, max_nodes,
                                                    max_cost=refinement_cap(spec, base, max_nodes))
    status = Status(result.status)
    order = {n: None for n in system.order_names}
    obs = {n: None for n in [*system.observable_names, *spec.report]}
    notes = []
    message = status.meaning
    if result.converged:
        order = dict(zip(system.order_names, map(float, v[: system.n_order])))
        obs = {k: float(x) for k, x in system.observables(v, rule).items()}
        obs.update({k: float(v[system.index(k)]) for k in spec.report})
        bad = [k for k, x in obs.items() if not math.isfinite(x)]
        if bad:  # never a NaN as a number: the point has no values
            return _finish(failed(spec, params, Status.NOT_FINITE, f"the equations hold but {', '.join(bad)} is not "
                                  "finite at the solution: it sits on the edge of the equations' domain (a variance "
                                  "under a square root at rounding level)", settings={"quadrature": rule.as_dict()}),
                           strict)
        if not quad_error <= quad_tol:
            status = Status.INACCURATE
            message = f"the node-doubling error estimate {quad_error:.1e} exceeds {quad_tol:.0e}"
        if spec.notes is not None:
            notes = spec.notes(params, order, obs)
        outside = spec.vouch is not None and spec.vouch(params, order, obs)
        if outside:
            status, message = Status.UNVOUCHED, outside
    elif branch is not None and branch.message:
        message = branch.message if status in (Status.ENDED, Status.FOLD) else f"{status.meaning}: {branch.message}"
    sol = Solution(
        model=spec.name, params=dict(params), order=order, observables=obs,
        converged=status == Status.CONVERGED, status=status, message=message, remedy=REMEDIES[status],
        iterations=result.iterations, residual=result.residual, quad_error=quad_error, method=result.method,
        settings={"method": method, "quadrature": rule.as_dict(), "atol": tol.atol, "rtol": tol.rtol,
                  "quad_tol": quad_tol},
        notes=notes,
    )
    return _finish(sol, strict)


def _finish(sol, strict):
    if strict and not sol.converged:
        raise ConvergenceError(sol)
    return sol

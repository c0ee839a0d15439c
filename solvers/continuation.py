"""Continuation: follow a solution while one input moves, with a secant predictor and adaptive steps."""
import numpy as np

from .quadrature import Quadrature
from .root import SolverResult, Tolerance

__all__ = ["continue_to", "predictions"]


def predictions(v, prev, k, value, follow=None):
    """Guesses at the solution with input k = ``value``, best first, from the solution ``v`` and the one before it,
    ``prev`` (or None), which differ in input k only: ``follow(v, k, value)`` (a model's map of a solution to new
    inputs; by default the same unknowns) plus a secant through what the map missed from ``prev`` to ``v``; the map
    alone; ``v`` itself at the new input."""
    def moved(w, to):
        if follow is not None:
            return follow(w, k, to)
        w = np.array(w, dtype=float)
        w[k] = to
        return w

    mapped = moved(v, value)
    out = []
    if prev is not None and prev[k] != v[k]:
        out.append(mapped + (v - moved(prev, v[k])) * (value - v[k]) / (v[k] - prev[k]))
    if follow is not None:
        out.append(mapped)
    same = np.array(v, dtype=float)
    same[k] = value
    return out + [same]


def continue_to(system, v_start, name, to, quad=Quadrature(), tol=Tolerance(), first_step=None, min_step=None,
                max_steps=200, reseed=None, follow=None, newton_iter=15, **solve_options):
    """March input ``name`` of ``system`` from its value in the solved vector ``v_start`` to the value ``to``.

    Each step predicts the unknowns and corrects them with the system's solver. The prediction is ``follow(v, k,
    value)`` (a model's map of a solution to a guess at input k = value; by default: the same unknowns) plus a secant
    through what that map missed at the last two solutions; where that leaves the region where the equations are
    finite, the map alone, then the last solution, else ``reseed(v)`` (a model's own guess at the new inputs);
    a failed step is halved and retried, a success lets the next step grow by 1.5; a corrector that has not converged
    in ``newton_iter`` Newton iterations counts as failed (from a good prediction Newton takes a handful: more means
    the step was too long, and a shorter one is cheaper than a long search); steps below ``min_step`` (by
    default 1e-7 of the span) mean the solution cannot be followed further. Returns ``(SolverResult, v)``:
    converged only when the march arrived at ``to``; otherwise the failure, with the vector where it stopped.
    """
    k = system.index(name)
    v = np.array(v_start, dtype=float)
    prev = None
    span = to - v[k]
    step = first_step if first_step is not None else span / 8
    min_step = min_step if min_step is not None else 1e-7 * max(abs(span), abs(to), 1e-3)
    result = None
    for _ in range(max_steps):
        remaining = to - v[k]
        if remaining == 0:
            break
        h = np.copysign(min(abs(step), abs(remaining)), remaining)
        candidates = predictions(v, prev, k, v[k] + h, follow)
        for guess in candidates:
            if _defined(system, guess, quad):
                break
        else:  # every prediction left the region where the equations are defined
            if reseed is not None:
                guess = reseed(guess)
        result, w = system.solve(guess, quad, tol=tol, newton_iter=newton_iter, **solve_options)
        if result.converged:
            prev, v = v, w
            step = 1.5 * h
        else:
            step = h / 2
            if abs(step) < min_step:
                return result, v
    if result is None:  # nothing to do: already there
        return system.solve(v, quad, tol=tol, **solve_options)
    if v[k] == to:
        return result, v
    # the march ran out of steps on the way: not a solution at ``to``
    return SolverResult(v, False, "max_iter", result.iterations, result.residual, result.method), v


def _defined(system, v, quad):
    return system.in_domain(v) and bool(np.all(np.isfinite(system.call("res", v, quad))))

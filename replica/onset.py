"""The onset of a dip in a local-entropy curve: the load alpha_onset at which the curve of the local entropy against
the distance d first stops increasing at small d (below it the curve grows with d up to its main peak; above it a
dip opens, a local maximum then a local minimum, at d ~ ``d_dip``).

A model declares its curve with an :class:`Onset` hook: how to read the slope of its curve at a solved point, and
the distance below its main peak where the search stops. The search is generic: for each alpha the curve is
followed on a geometric grid of d (a warm-started sweep, through the continuation engine) and the smallest slope
located by Brent's method around the grid minimum; the onset is the sign change of that smallest slope in alpha,
located by Brent's root finder.
"""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from replica.solvers.status import Status

from .errors import ConvergenceError, ParameterError
from .models import resolve
from .results import REMEDIES, Threshold
from .sweep import sweep
from .thresholds import number

__all__ = ["Onset", "CurveFailed", "smallest_slope", "onset"]


class CurveFailed(Exception):
    """A local-entropy curve could not be followed over the distances the search needs."""


def smallest_slope(spec, params, grid, slope):
    """The smallest slope of the curve of ``spec`` at ``params`` over the distances ``grid`` (followed in the order
    given, stopping at the first point that fails: a curve that cannot be followed costs one failure, not one per
    point), then Brent's method between the neighbours of the lowest grid slope, each point warm-started from the
    closest grid point moved there. ``slope(spec, order, params)`` reads the slope at a solved point.
    Returns (slope, d)."""
    df = sweep(spec.name, progress=False, until_failure=True, d=grid, **{k: v for k, v in params.items() if k != "d"})
    if len(df) < len(grid) or not df["status"].isin(["converged", "unvouched"]).all():
        last = df.iloc[-1]
        raise CurveFailed(f"the curve did not converge at alpha={params['alpha']:g}, d={last['d']:g}: "
                          f"{last['status']}")
    names = spec.system.order_names
    rows = df.to_dict("records")
    slopes = [slope(spec, {n: r[n] for n in names}, {**params, "d": r["d"]}) for r in rows]
    k = int(np.argmin(slopes))
    if k in (0, len(grid) - 1):
        return slopes[k], float(grid[k])

    def at(d):
        here = {**params, "d": float(d)}
        near = rows[int(np.argmin(np.abs(np.asarray(grid) - d)))]
        order = {n: near[n] for n in names}
        if spec.guess is not None:
            order = spec.guess(order, spec.inputs_of({**params, "d": near["d"]}), spec.inputs_of(here))
        sol = spec.solve(here, x0=order)
        if sol.status not in ("converged", "unvouched"):
            raise CurveFailed(f"the curve did not converge at alpha={params['alpha']:g}, d={d:g}: {sol.status}")
        return slope(spec, sol.order, here)

    from scipy.optimize import minimize_scalar  # imported where used: importing replica does not need it

    lo, hi = sorted((grid[k - 1], grid[k + 1]))
    best = minimize_scalar(at, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4 * hi})
    if best.fun > slopes[k]:
        return slopes[k], float(grid[k])
    return float(best.fun), float(best.x)


@dataclass(frozen=True)
class Onset:
    """A model's ``onset`` threshold. ``slope(spec, order, params)`` is the slope of its local-entropy curve in d at
    a solved point; ``d_high(spec, params)`` the distance below the curve's main peak where the search stops;
    ``upward``: the curve is followed from ``d_min`` up (where it starts, around references denser than the counted
    solutions), else from ``d_high`` down. ``defaults``: the fixed parameters (names and default values; a value may
    be a named value such as ``'max'``), ``d_min``, and optionally ``alpha_range`` (a pair, or a function of the
    fixed parameters)."""

    slope: Callable
    d_high: Callable
    upward: bool
    defaults: dict = field(default_factory=dict)

    def dip(self, spec, alpha, fixed, d_min, points):
        """(the smallest slope of the curve at load ``alpha`` over [d_min, d_high], where): negative iff the curve
        dips there (:func:`smallest_slope` on a geometric grid of ``points`` distances)."""
        try:
            params = spec.validate({**fixed, "alpha": alpha, "d": 0.25})
            d_hi = self.d_high(spec, params)
        except ConvergenceError as e:
            raise CurveFailed(f"at alpha={alpha:g}: {e}") from None
        if not d_hi > d_min:
            raise CurveFailed(f"at alpha={alpha:g} the search's upper distance {d_hi:.3g} is below d_min={d_min:g}")
        grid = np.geomspace(d_min, d_hi, points)
        return smallest_slope(spec, params, grid if self.upward else grid[::-1], self.slope)

    def __call__(self, spec, quadrature=None, tol=None, alpha_range=None, d_min=None, xtol=1e-3, points=12,
                 **params):
        if quadrature is not None or tol is not None:
            raise ParameterError("onset uses each model's adaptive quadrature and tolerance (no quadrature or tol)")
        fixed_names = [k for k in self.defaults if k not in ("d_min", "alpha_range")]
        unknown = sorted(set(params) - set(fixed_names))
        if unknown:
            raise ParameterError(f"onset of {spec.name} takes {', '.join(fixed_names)}, not {', '.join(unknown)}")
        fixed = {**{k: self.defaults[k] for k in fixed_names}, **{k: v for k, v in params.items() if v is not None}}
        d_min = number("d_min", self.defaults["d_min"] if d_min is None else d_min)
        if not 0 < d_min < 0.5:
            raise ParameterError(f"d_min={d_min:g}: allowed 0 < d_min < 0.5")
        if alpha_range is None:
            alpha_range = self.defaults.get("alpha_range", (0.4, 0.9))
            if callable(alpha_range):
                alpha_range = alpha_range(fixed)
        try:
            lo, hi = (number("alpha_range", a) for a in alpha_range)
        except (TypeError, ValueError):
            raise ParameterError(f"alpha_range must be a pair (low, high), got {alpha_range!r}") from None
        if not 0 < lo < hi:
            raise ParameterError(f"alpha_range=({lo:g}, {hi:g}): need 0 < low < high")
        # the fixed parameters are checked at the bracket's ends before anything is followed
        spec.validate({**fixed, "alpha": lo, "d": 0.25})
        found = {}

        def dip(alpha):
            m, found[alpha] = self.dip(spec, alpha, fixed, d_min, points)
            return m

        record = {**fixed, "alpha_range": f"{lo:g}:{hi:g}", "d_min": d_min}
        top_asked = hi

        def top(hi):
            """The curve at the top of the bracket; where it does not converge (near the capacity the smallest
            distances stall, or no reference exists), the top is lowered by an eighth of the bracket, up to six
            times."""
            for _ in range(6):
                try:
                    return hi, dip(hi)
                except (CurveFailed, ParameterError):
                    hi -= (hi - lo) / 8
            return hi, dip(hi)

        from scipy.optimize import brentq  # imported where used: importing replica does not need it

        try:
            m_lo = dip(lo)
            hi, m_hi = top(hi) if m_lo > 0 else (hi, None)
            if m_lo > 0 > m_hi:
                alpha = brentq(dip, lo, hi, xtol=xtol)
        except CurveFailed as e:
            return Threshold("alpha_onset", None, spec.name, record, False, Status.NOT_CONVERGED, message=str(e),
                             remedy="narrow alpha_range (CLI --alpha-range) or raise d_min (--d-min): the smallest "
                                    "distances need the most nodes")
        if not (m_lo > 0 > m_hi):
            where = "already dips at" if m_lo <= 0 else "does not dip at"
            edge = lo if m_lo <= 0 else hi
            return Threshold("alpha_onset", None, spec.name, record, False, Status.NOT_BRACKETED,
                             message=f"the local-entropy curve {where} alpha={edge:g}",
                             remedy=REMEDIES[Status.NOT_BRACKETED])
        d_dip = found[min(found, key=lambda a: abs(a - alpha))]
        if d_dip <= d_min * (1 + 1e-9):
            return Threshold("alpha_onset", alpha, spec.name, record, False, Status.UNVOUCHED,
                             message=f"the dip opens at the smallest distance searched, d_min={d_min:g}: it may open "
                                     "further down, at a lower load", extra={"d_dip": d_dip},
                             remedy="lower d_min (CLI --d-min) until the dip lies above it")
        lowered = f" (the curve at alpha={top_asked:g} did not converge: bracket top lowered to {hi:g})" \
            if hi < top_asked else ""
        return Threshold("alpha_onset", alpha, spec.name, record, True, Status.CONVERGED,
                         message=f"located to +-{xtol:g} in alpha{lowered}", extra={"d_dip": d_dip})


def onset(model="binary-perceptron-fp", *, alpha_range=None, d_min=None, xtol=1e-3, points=12, **params):
    """The load alpha_onset at which a local-entropy curve first stops increasing in d at small d: below it the curve
    grows with d up to its main peak; above it a dip opens (a local maximum, then a local minimum) at d ~
    ``extra['d_dip']``.

    Models: the Franz–Parisi ones (``ref_kappa``, default ``'max'``: the maximal margin; ``kappa``, default 0) and the
    y -> infinity large deviations (``binary-perceptron-ld`` with ``y='inf'``): the models that declare an ``onset``
    threshold. For each alpha the smallest slope of the curve on [d_min, the search's upper distance] is found (a
    warm-started sweep, then Brent's method); the onset is its sign change in ``alpha_range`` (default: the
    model's), located by Brent's root finder to ``xtol``. A dip below ``d_min`` (default: the model's) is not seen;
    where the dip at the onset lies at ``d_min`` itself, it may open further down, and the result has status
    ``unvouched`` (lower ``d_min``).

    Returns a :class:`~replica.results.Threshold` named ``alpha_onset``; status ``not_bracketed`` when the curve
    already dips at the lower end of ``alpha_range`` or does not dip at the upper end.
    """
    spec, params = resolve(model, params)
    return spec.threshold("onset")(spec, alpha_range=alpha_range, d_min=d_min, xtol=xtol, points=points, **params)


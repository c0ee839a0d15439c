"""Threshold lines: a threshold as a function of a second parameter (the capacity alpha_c(kappa), the maximal margin
kappa_max(alpha), the dAT and 1RSB lines, the optimal ridge penalty against the load, the zero of any observable),
traced along the line by continuation of the augmented system (stationarity plus "observable = value", the
threshold's parameter an unknown), not solved afresh at every point.

``replica.line(model, kind, **grid)``: one parameter of ``grid`` is a range (the line's parameter), the others are
fixed. Kinds: the thresholds a model declares (``capacity``, ``capacity-1rsb``, ``max-margin``, ``dat-line``,
``onset``; a hook without a traced line is evaluated point by point), ``zero`` (the zero of ``observable``, or where
it equals ``value``, solving for ``solve_for`` from its given value) and ``optimum`` (the minimum of ``observable``
over ``solve_for``).
"""
import numpy as np
import pandas as pd

from .errors import ParameterError
from .models import resolve
from .optimize import optimum_line
from .sweep import parse_grid
from .thresholds import Crossing, number

__all__ = ["line", "LINE_KINDS"]

LINE_KINDS = ("capacity", "capacity-1rsb", "max-margin", "dat-line", "onset", "zero", "optimum")


def _axis(grid, spec):
    """(the line's parameter, its values, the fixed parameters) from ``grid``: exactly one range."""
    ranges, fixed = {}, {}
    for k, v in grid.items():
        if isinstance(v, str) and v.strip().lower() in spec.special.get(k, {}):
            fixed[k] = v
            continue
        values = parse_grid(v, k) if isinstance(v, str) else np.atleast_1d(np.asarray(v, dtype=float)) \
            if not isinstance(v, bool) else None
        if values is None or values.ndim != 1 or values.size == 0:
            raise ParameterError(f"{k}: give a number or a 1-D sequence of numbers, got {v!r}")
        if values.size > 1:
            ranges[k] = values
        else:
            fixed[k] = float(values[0])
    if len(ranges) != 1:
        raise ParameterError(f"a line runs along one parameter given as a range (e.g. kappa='-2:1:61'); got "
                             f"{len(ranges)} ranges ({', '.join(ranges) or 'none'})")
    (along, values), = ranges.items()
    steps = np.diff(values)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        raise ParameterError(f"{along}: a line's values must be strictly increasing or decreasing")
    return along, [float(x) for x in values], fixed


def line(model, kind, *, quadrature=None, tol=None, observable=None, solve_for=None, value=0.0, **grid):
    """A threshold line of ``model``: the threshold ``kind`` at every value of the one parameter given as a range.

    Parameters
    ----------
    model : str
        A model name, or a family with its options among ``grid`` (``K='inf', weights='binary'``).
    kind : str
        One of the model's thresholds (``capacity``, ``capacity-1rsb``, ``max-margin``, ``dat-line``, ``onset``),
        ``zero`` or ``optimum`` (module docstring).
    observable, solve_for, value
        For ``zero``: the observable, the parameter solved for (give its starting value among ``grid``) and the
        value sought (default 0). For ``optimum``: the observable minimized (default ``error``) and the parameter
        optimized (not in ``grid``).
    quadrature, tol
        As in :func:`replica.solve` (default: adaptive).
    **grid
        The line's parameter as a range (``'START:STOP:NUM'``, a sequence), the others as numbers.

    Returns
    -------
    pandas.DataFrame
        One row per value of the line's parameter: the parameters, the threshold (a column named after it, e.g.
        ``alpha_c``), its companion values, the order parameters there, ``quad_error``, ``converged``, ``status``,
        ``message``, ``remedy``. ``df.attrs``: ``along`` (the line's parameter), ``threshold`` (the threshold's
        column), ``kind``.

    Examples
    --------
    >>> import replica
    >>> df = replica.line("binary-perceptron", "capacity", kappa=[0.0, 0.5, 1.0])
    >>> [round(a, 4) for a in df.alpha_c]
    [0.8331, 0.4557, 0.2707]
    """
    spec, grid = resolve(model, grid)
    if not isinstance(kind, str) or kind not in LINE_KINDS:
        raise ParameterError(f"unknown line kind {kind!r}; allowed: {', '.join(LINE_KINDS)}")
    if kind == "optimum":
        observable = observable or "error"
        if solve_for is None:
            raise ParameterError("an optimum line needs solve_for: the parameter optimized (e.g. lam)")
        along, values, fixed = _axis(grid, spec)
        rows = optimum_line(spec.name, solve_for, along, values, observable=observable, **fixed)
        name = f"{solve_for}_opt"
    else:
        if kind == "zero":
            hook = _zero(spec, observable, solve_for, value, grid)
            grid = {k: v for k, v in grid.items() if k != solve_for}
        else:
            hook = spec.threshold(kind)
        along, values, fixed = _axis(grid, spec)
        traced = getattr(hook, "line", None)
        if traced is not None:
            rows = traced(spec, along, values, quadrature=quadrature, tol=tol, **fixed)
        else:  # a threshold without a traced line: point by point
            rows = [hook(spec, quadrature=quadrature, tol=tol, **{**fixed, along: x}) for x in values]
        name = next((r.name for r in rows if r.name), kind)
    df = pd.DataFrame([r.as_dict() for r in rows])
    df.attrs.update(along=along, threshold=name, kind=kind)
    return df


def _zero(spec, observable, solve_for, value, grid):
    """A :class:`Crossing` for ``observable = value`` in ``solve_for``, marched from its value in ``grid``."""
    names = spec.system.observable_names
    if observable not in names:
        raise ParameterError(f"a zero line needs observable, one of {', '.join(names)}; got {observable!r}")
    declared = list(spec.declared)
    if solve_for not in spec.system.param_names or solve_for not in declared or solve_for not in grid:
        raise ParameterError(f"a zero line needs solve_for, a parameter of {spec.name}'s free entropy "
                             f"({', '.join(spec.system.param_names)}), given with its starting value among the "
                             "parameters (the march goes up from there)")
    start = number(solve_for, grid[solve_for])
    step = 0.05 * max(abs(start), 1.0)
    fixed = {k: spec.defaults.get(k) for k in declared if k != solve_for}
    return Crossing(f"{solve_for}({observable}={value:g})", solve_for, observable, number("value", value),
                    begin=lambda p: start, step=lambda p: step, fixed=fixed,
                    criterion=f"{observable} = {value:g}")

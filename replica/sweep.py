"""Sweeps: warm-started continuation over grids of control parameters, as tidy tables written while they run.

One row per grid point with every parameter, order parameter, observable and diagnostic; a point that fails is a row
with its status, not an exception. Rows are appended to the output file as they are computed, so an interrupted sweep
loses nothing and the same call resumes where it stopped.
"""
import itertools
import math
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from replica.solvers.continuation import predictions
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import Tolerance

from .errors import ParameterError
from .models import QUAD_TOL, resolve

__all__ = ["sweep", "parse_grid"]


def parse_grid(text, name="value"):
    """'START:STOP:NUM' (NUM >= 2 evenly spaced points, either direction), 'a,b,c', or a single number."""
    text = str(text).strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
            if num < 2 or not (math.isfinite(start) and math.isfinite(stop)):
                raise ValueError
            return np.linspace(start, stop, num)
        values = np.array([float(x) for x in text.split(",")])
    except ValueError:
        raise ParameterError(f"{name}: malformed value or range {text!r}; use a number, a comma list 'a,b,c', or "
                             "START:STOP:NUM with NUM >= 2 points") from None
    if not np.all(np.isfinite(values)):
        raise ParameterError(f"{name}: values must be finite numbers, got {text!r}")
    return values


def _grid(spec, grids):
    """Validate every point before anything runs; returns (swept names, list of parameter dicts)."""
    axes = {}
    for k, v in grids.items():
        if isinstance(v, str) and v in spec.special.get(k, {}):  # a named value such as ref_kappa='max'
            axes[k] = [v]
            continue
        if isinstance(v, str):
            v = parse_grid(v, k)
        try:
            arr = np.atleast_1d(np.asarray(v, dtype=float))
        except (TypeError, ValueError):
            raise ParameterError(f"{k}: give a number or a 1-D sequence of numbers, got {v!r}") from None
        if arr.ndim != 1 or arr.size == 0:
            raise ParameterError(f"{k}: give a number or a 1-D sequence of numbers")
        axes[k] = list(arr)
    swept = [k for k, a in axes.items() if len(a) > 1]
    points = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
    return swept, [spec.validate(p) for p in points]


def _key(params, names):
    return tuple(round(float(params[n]), 12) for n in names)


def _writer(path):
    """Append rows to CSV (Parquet targets collect in a CSV beside them and are written at the end)."""
    path = Path(path)
    if path.suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ParameterError(f"{path}: writing Parquet needs pyarrow (pip install 'replica[parquet]'); "
                                 "or use a .csv file") from None
        return path, path.with_name(path.name + ".partial.csv")
    if path.suffix != ".csv":
        raise ParameterError(f"{path}: output must end in .csv or .parquet")
    return path, path


def _existing(path, partial):
    frames = []
    if path.suffix == ".parquet" and path.exists():
        frames.append(pd.read_parquet(path))
    if partial.exists() and partial.stat().st_size > 0:
        frames.append(pd.read_csv(partial))
    return pd.concat(frames, ignore_index=True) if frames else None


def sweep(model, *, out=None, resume=True, progress=None, method="auto", quadrature=None, tol=None, quad_tol=QUAD_TOL,
          max_iter=2000, until_failure=False, **grids):
    """Solve ``model`` on a grid of control parameters with warm-started continuation.

    Parameters
    ----------
    model : str
    out : path, optional
        '.csv' (rows appended as they are computed) or '.parquet' (needs pyarrow). With ``resume`` (default) points
        already in the file are not recomputed, and the sweep continues from them.
    method, quadrature, tol, quad_tol, max_iter
        As in :func:`replica.solve`.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    until_failure : bool
        Stop at the first point that does not converge; the points after it are not attempted (for a curve followed
        towards where it ends: each failing point costs a full continuation and node refinement).
    **grids
        A model family's options (``K=3, weights="binary"``), then each control parameter as a number or a sequence
        (or 'START:STOP:NUM' text). Several sequences make a product
        grid, the last one varying fastest. Points are visited in the order given: a descending grid continues
        downwards.

    Returns
    -------
    pandas.DataFrame
        One row per point: parameters, order parameters, observables, converged, status, message, remedy,
        iterations, residual, quad_error, method, notes, quadrature (the rule the point was solved on).

    Examples
    --------
    >>> import replica
    >>> df = replica.sweep("binary-perceptron", alpha=[0.2, 0.4, 0.6], kappa=0)
    >>> bool(df.converged.all()), round(float(df.q.iloc[-1]), 6)
    (True, 0.39105)
    """
    spec, grids = resolve(model, grids)
    swept, points = _grid(spec, grids)
    names = list(spec.declared)
    quad, tol = quadrature or spec.quadrature, tol or Tolerance()
    rows, done = [], {}
    path = partial = None
    if out is not None:
        path, partial = _writer(out)
        old = _existing(path, partial) if resume else None
        if old is not None:
            if "model" in old and set(old["model"]) != {spec.name}:
                raise ParameterError(f"{path} holds a sweep of {', '.join(map(str, set(old['model'])))}, not "
                                     f"{spec.name}; choose another --out or delete it")
            for rec in old.to_dict("records"):
                done[_key(rec, names)] = rec
        elif partial.exists():
            partial.unlink()
        partial.parent.mkdir(parents=True, exist_ok=True)
    system = spec.system
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(points), desc=spec.name, unit="pt", file=sys.stderr)
    last = prev = last_rule = None  # the last two converged full vectors, for warm starts, and the last rule
    ended = None  # a point where the model said its branch ends, with the converged vector it was followed from
    adaptive = quadrature is None
    try:
        for p in points:
            k = _key(p, names)
            if k in done:
                rec = done[k]
                rows.append(rec)
                if rec.get("converged") and all(pd.notna(rec.get(n)) for n in system.order_names):
                    last, prev = system.vector({n: rec[n] for n in system.order_names}, spec.inputs_of(p)), last
                    if adaptive and isinstance(rec.get("quadrature"), str):  # the rule the point was solved on
                        last_rule = Quadrature.from_text(rec["quadrature"])
            else:
                if ended is not None and _beyond(system, ended, last, spec.inputs_of(p)):
                    sol = replace(ended[0], params=dict(p), iterations=0)  # past the end of the branch, too
                else:
                    sol = _solve_point(spec, p, last, prev, method, quad, tol, quad_tol, max_iter, adaptive,
                                       last_rule)
                    if sol.status == "ended":
                        ended = (sol, last, spec.inputs_of(p))
                row = sol.as_dict()
                rows.append(row)
                if sol.converged or sol.status == "inaccurate":
                    last, prev = system.vector(sol.order, spec.inputs_of(p)), last
                    last_rule = Quadrature(**sol.settings["quadrature"])
                if partial is not None:
                    _append(partial, row)
                if until_failure and not sol.converged:
                    break
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    df = pd.DataFrame(rows)
    if path is not None and path.suffix == ".parquet":
        df.to_parquet(path, index=False)
        partial.unlink(missing_ok=True)
    df.attrs["swept"] = swept
    return df


def _beyond(system, ended, last, inputs):
    """Whether ``inputs`` lie beyond the point where a branch was found to end (``ended`` = (its solution, the
    converged vector it was followed from, its inputs)), on the same line from the same converged point: then the
    branch ends before them too."""
    _, origin, end = ended
    if last is None or origin is None or not np.array_equal(last, origin):
        return False
    changed = [n for n in system.param_names if inputs[n] != origin[system.index(n)]]
    if len(changed) != 1 or any(end[n] != origin[system.index(n)] for n in system.param_names if n not in changed):
        return False
    k = changed[0]
    return (inputs[k] - end[k]) * (end[k] - origin[system.index(k)]) >= 0


def _append(partial, row):
    header = not partial.exists() or partial.stat().st_size == 0
    with open(partial, "a", newline="") as fh:
        pd.DataFrame([row]).to_csv(fh, header=header, index=False)
        fh.flush()
        os.fsync(fh.fileno())


def _solve_point(spec, params, last, prev, method, quad, tol, quad_tol, max_iter, adaptive, last_rule=None):
    """Warm start from the last converged point (extrapolated through the last two where only the swept input
    changes), on the base rule and then on ``last_rule`` (the one the last point was refined to); if that fails,
    march from it on ``last_rule`` (:meth:`ModelSpec.march`: small steps, the rule refined where the march stalls
    for lack of nodes); then cold, unless the model says its branch ends where the march stopped (status
    ``ended``)."""
    system = spec.system
    inputs = spec.inputs_of(params)
    if last is not None:
        changed = [system.index(name) for name in system.param_names if last[system.index(name)] != inputs[name]]
        if len(changed) == 1:  # along one axis: a secant where the point before differs in that input only and the
            k = changed[0]     # sweep goes on in the same direction by at most twice the last step
            others = [i for i in range(system.n_order, len(last)) if i != k]
            line = (prev is not None and np.array_equal(prev[others], last[others]) and prev[k] != last[k]
                    and 0 < (inputs[system.names[k]] - last[k]) / (last[k] - prev[k]) <= 2)
            guesses = predictions(last, prev if line else None, k, inputs[system.names[k]], spec.moved)
        else:
            v0 = last
            for k in changed:
                v0 = spec.moved(v0, k, inputs[system.names[k]])
            guesses = [v0]
        # on the base rule, then on the rule the last point was refined to (the same one where the rule is fixed):
        # near q -> 1 the base rule's equations can lack a root near the solution. Starting on the last rule instead
        # saves the search for the rule where a sweep goes towards harder points, but a sweep going the other way
        # (onset's, upwards in d) then carries an over-refined rule: measured 3x slower there.
        for rule in dict.fromkeys((quad, last_rule or quad)):
            for v0 in guesses:  # the next guess only where the equations are not finite at this one
                result, v = system.solve(v0, rule, method=method, tol=tol, max_iter=max_iter, newton_iter=15)
                if result.status != "not_finite":
                    break
            if result.converged:
                return spec.package(params, result, v, rule, tol, method, quad_tol, strict=False, adaptive=adaptive)
        if not result.converged and method != "fixed-point":
            rule = last_rule or quad
            for name in system.param_names:
                if last[system.index(name)] != inputs[name]:
                    result, last, rule = spec.march(last, name, inputs[name], rule, tol, adaptive)
                    if not result.converged:
                        break
            v = last
            if result.converged:
                return spec.package(params, result, v, rule, tol, method, quad_tol, strict=False, adaptive=adaptive)
            ended = spec.ended(v)
            if ended:  # where the model says its branch ends, a cold start cannot do better: say so, now
                return spec.package(params, result, v, rule, tol, method, quad_tol, strict=False, adaptive=adaptive,
                                    ended=ended)
    return spec.solve(params, method=method, quadrature=None if adaptive else quad, tol=tol, quad_tol=quad_tol,
                      max_iter=max_iter, strict=False)

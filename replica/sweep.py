"""Sweeps: warm-started continuation over grids of control parameters, as tidy tables written while they run.

One row per grid point with every parameter, order parameter, observable and diagnostic. A point where no saddle
point exists (the model's region: beyond the capacity, say) is a row with status ``no_solution``; a point that fails
is a row with its status and remedy, not an exception. Each point is reached from the last converged one through the
continuation engine (one direct step on the model's rule and on the last point's rule, then a march). Rows are
appended to the output file as they are computed, so an interrupted sweep loses nothing and the same call resumes
where it stopped; a resumed file is checked row by row (``replica.tables``).
"""
import itertools
import math
import sys
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from replica.solvers.continuation import Point, follow
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import Tolerance
from replica.solvers.status import Status

from .errors import ConvergenceError, ParameterError
from .models import QUAD_TOL, resolve
from .solving import _check_options, _mover, failed, march, outcome, package, solve_with_branch
from .tables import RowFile

__all__ = ["sweep", "parse_grid", "grid_points", "MAX_POINTS"]

#: A grid beyond this many points is refused (a large one is announced with its size before it starts).
MAX_POINTS = 10**7
LARGE_GRID = 10**5


def parse_grid(text, name="value"):
    """'START:STOP:NUM' (NUM >= 2 evenly spaced points, either direction; at most MAX_POINTS), 'a,b,c', or a single
    number."""
    text = str(text).strip()
    malformed = ParameterError(f"{name}: malformed value or range {text!r}; use a number, a comma list 'a,b,c', or "
                               "START:STOP:NUM with NUM >= 2 points")
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise malformed
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
            if num < 2 or not (math.isfinite(start) and math.isfinite(stop)):
                raise malformed
            if num > MAX_POINTS:
                raise ParameterError(f"{name}: {text!r} asks for {num} points; at most {MAX_POINTS} per range")
            return np.linspace(start, stop, num)
        values = np.array([float(x) for x in text.split(",")])
    except (ValueError, OverflowError) as e:
        if isinstance(e, ParameterError):
            raise
        raise malformed from None
    if not np.all(np.isfinite(values)):
        raise ParameterError(f"{name}: values must be finite numbers, got {text!r}")
    return values


def grid_points(spec, grids):
    """Validate every point before anything runs (values, ranges; not the model's region). Returns (swept names,
    list of validated parameter dicts, in the order visited: the last axis varies fastest)."""
    axes = {}
    for k, v in grids.items():
        if isinstance(v, str) and v.strip().lower() in spec.special.get(k, {}):  # a named value: ref_kappa='max'
            axes[k] = [v]
            continue
        if isinstance(v, str):
            v = parse_grid(v, k)
        if isinstance(v, bool) or (isinstance(v, (list, tuple, np.ndarray)) and any(isinstance(x, bool) for x in v)):
            raise ParameterError(f"{k}: give a number or a 1-D sequence of numbers, got {v!r}")
        try:
            arr = np.atleast_1d(np.asarray(v, dtype=float))
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(f"{k}: give a number or a 1-D sequence of numbers, got {v!r}") from None
        if arr.ndim != 1 or arr.size == 0:
            raise ParameterError(f"{k}: give a number or a 1-D sequence of numbers")
        axes[k] = list(arr)
    size = math.prod(len(a) for a in axes.values())
    if size > MAX_POINTS:
        raise ParameterError(f"the grid has {size} points; at most {MAX_POINTS}")
    swept = [k for k, a in axes.items() if len(a) > 1]
    points = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
    return swept, [_validate(spec, p) for p in points]


def _validate(spec, params):
    """Validated parameters; a named value whose computation does not converge is kept by name (its row gets the
    failure as status)."""
    try:
        return spec.validate(params)
    except ConvergenceError as e:
        return {"__failed__": e, **params}


def sweep(model, *, out=None, resume=True, progress=None, method="auto", quadrature=None, tol=None, quad_tol=QUAD_TOL,
          max_iter=2000, until_failure=False, **grids):
    """Solve ``model`` on a grid of control parameters with warm-started continuation.

    Parameters
    ----------
    model : str
    out : path, optional
        '.csv' (rows appended as they are computed) or '.parquet' (needs pyarrow). With ``resume`` (default) points
        already in the file are not recomputed, and the sweep continues from them; a file written by another
        command or model is refused before anything is computed, and a torn last row is cut off and recomputed.
    method, quadrature, tol, quad_tol, max_iter
        As in :func:`replica.solve`.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    until_failure : bool
        Stop at the first point where the equations do not hold (status other than converged, unvouched or
        inaccurate); the points after it are not attempted (for a curve followed towards where it ends: each failing
        point costs a full continuation and node refinement).
    **grids
        A model family's options (``K=3, weights="binary"``), then each control parameter as a number or a sequence
        (or 'START:STOP:NUM' text). Several sequences make a product grid, the last one varying fastest. Points are
        visited in the order given: a descending grid continues downwards.

    Returns
    -------
    pandas.DataFrame
        One row per point: parameters, order parameters, observables, converged, status, message, remedy,
        iterations, residual, quad_error, method, notes, quadrature (the rule the point was solved on). Points where
        no saddle point exists have status ``no_solution`` and no values.

    Examples
    --------
    >>> import replica
    >>> df = replica.sweep("binary-perceptron", alpha=[0.2, 0.4, 0.6], kappa=0)
    >>> bool(df.converged.all()), round(float(df.q.iloc[-1]), 6)
    (True, 0.39105)
    """
    spec, grids = resolve(model, grids)
    _check_options(method, quadrature, tol, max_iter, quad_tol)
    swept, points = grid_points(spec, grids)
    large = len(points) > LARGE_GRID
    if large:
        print(f"replica: {len(points)} grid points (more than {LARGE_GRID}); the time it takes follows the first "
              "point (interrupt and rerun to resume)", file=sys.stderr, flush=True)
    names = list(spec.declared)
    tol = tol or Tolerance()
    rows, done = [], {}
    table = None
    if out is not None:
        table = RowFile(out, columns=_columns(spec), key=names, model=spec.name)
        done = table.open(resume)
    walker = _Walker(spec, method, quadrature, tol, quad_tol, max_iter)
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(points), desc=spec.name, unit="pt", file=sys.stderr)
    try:
        for p in points:
            key = RowFile.key_of(p, names)
            if key in done:
                rec = done[key]
                rows.append(rec)
                walker.resumed(p, rec)
            else:
                t0 = time.perf_counter()
                sol = walker.solve(p)
                if large:  # the estimate, once: the first point solved by continuation (the very first is cold)
                    large = len(rows) < 1
                    if not large:
                        each = time.perf_counter() - t0
                        print(f"replica: about {each:.2g} s a point: about {each * len(points) / 60:.0f} minutes "
                              "for the grid", file=sys.stderr, flush=True)
                row = sol.as_dict()
                rows.append(row)
                if table is not None:
                    table.append(row)
                if until_failure and not _holds(sol):
                    break
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if table is not None:
            table.close()
    df = pd.DataFrame(rows, columns=_columns(spec) if not rows else None)
    df.attrs["swept"] = swept
    return df


def _holds(sol):
    """Whether the equations hold at a solved point (converged, or outside the model's derivation, or with a
    quadrature estimate above tolerance): a warm start for the next, and a point on the curve being followed."""
    return sol.status in (Status.CONVERGED, Status.UNVOUCHED, Status.INACCURATE)


def _columns(spec):
    """The columns of a sweep's rows of ``spec``, in order (:meth:`Solution.as_dict`)."""
    system = spec.system
    return ["model", *spec.declared, *system.order_names, *system.observable_names, *spec.report, "converged",
            "status", "message", "remedy", "iterations", "residual", "quad_error", "method", "notes", "quadrature"]


class _Walker:
    """The state a sweep carries from point to point: the last converged point (its full vector and rule), the one
    before it, and where a branch was found to end."""

    def __init__(self, spec, method, quadrature, tol, quad_tol, max_iter):
        self.spec, self.system = spec, spec.system
        self.method, self.tol, self.quad_tol, self.max_iter = method, tol, quad_tol, max_iter
        self.adaptive = quadrature is None
        self.base = quadrature or spec.quadrature
        self.last = self.prev = None  # Points
        self.ended = None  # (the ended solution, the point it was followed from, its inputs)
        self.cold_end = None  # (the failed cold solution, its march along the model's path: first and last vector)

    def resumed(self, params, rec):
        """Carry a row read back from the file: a converged one is the next warm start, with its rule."""
        if rec.get("converged") and all(pd.notna(rec.get(n)) for n in self.system.order_names):
            try:
                inputs = self.spec.inputs_of(params)
            except ConvergenceError:
                return
            v = self.system.vector({n: rec[n] for n in self.system.order_names}, inputs)
            rule = Quadrature.from_text(rec["quadrature"]) if self.adaptive and isinstance(rec.get("quadrature"),
                                                                                            str) else self.base
            self._advance(Point(v, rule))

    def _advance(self, point):
        self.prev, self.last = self.last, point

    def solve(self, params):
        spec = self.spec
        if "__failed__" in params:
            e = params.pop("__failed__")
            return failed(spec, params, Status.NOT_CONVERGED, f"{e.result.model} at {e.result.params_text()} did not "
                          f"converge: {e.result.status} ({e.result.message})", e.result.remedy)
        try:
            reason = spec.outside(params)
            inputs = None if reason else spec.inputs_of(params)
        except ConvergenceError as e:
            return failed(spec, params, Status.NOT_CONVERGED, f"{e.result.model} at {e.result.params_text()} did not "
                          f"converge: {e.result.status} ({e.result.message})", e.result.remedy)
        if reason:
            return failed(spec, params, Status.NO_SOLUTION, reason)
        if self.ended is not None and self._beyond(inputs):
            return replace(self.ended[0], params=dict(params), iterations=0)  # past the end of the branch, too
        sol = self._warm(params, inputs) if self.last is not None else None
        if sol is None and self._past_cold_end(inputs):
            sol, first, last = self.cold_end
            name, k = spec.path, self.system.index(spec.path)
            return replace(sol, params=dict(params), iterations=0, message=(
                f"{sol.message} (not marched again: the march from {name} = {first[k]:.8g} for the same other "
                f"parameters ended at {name} = {last[k]:.8g}, before {name} = {inputs[name]:.8g})"))
        if sol is None:
            sol, branch = solve_with_branch(spec, params, method=self.method, tol=self.tol, max_iter=self.max_iter,
                                            quadrature=None if self.adaptive else self.base, quad_tol=self.quad_tol)
            if branch is not None and not branch.arrived:
                self.cold_end = (sol, branch.points[0].v, branch.last.v)
        if sol.status in (Status.ENDED, Status.FOLD):
            self.ended = (sol, self.last, inputs)
        if _holds(sol):
            self._advance(Point(self.system.vector(sol.order, inputs), Quadrature(**sol.settings["quadrature"])))
        return sol

    def _warm(self, params, inputs):
        """The point reached from the last converged one: one direct step, on the model's rule and then on the rule
        the last point was refined to (near q -> 1 the base rule's equations can lack a root near the solution;
        starting on the last rule instead would carry an over-refined rule into easier points); then a march on the
        last rule, input by input. None where that fails and the branch did not end for a reason: a cold start."""
        system, last = self.system, self.last
        changed = [n for n in system.param_names if last.v[system.index(n)] != inputs[n]]
        mover = _mover(self.spec)
        if len(changed) == 1:
            name = changed[0]
            k = system.index(name)
            prev = self.prev.v if self.prev is not None and self._on_line(k, inputs[name]) else None
            for rule in dict.fromkeys((self.base, last.rule)):
                branch = follow(system, last.v, name, inputs[name], rule, tol=self.tol, method=self.method,
                                guess=mover, previous=prev, first_step=inputs[name] - last.v[k], max_steps=1,
                                arclength=False, newton_iter=15, max_iter=self.max_iter)
                if branch.arrived:
                    return self._package(params, *outcome(branch), rule)
        if self.method == "fixed-point":
            return None
        v, rule, branch = last.v, last.rule, None
        for name in changed:
            branch = march(self.spec, v, name, inputs[name], rule, self.tol, self.adaptive)
            v, rule = branch.last.v, branch.last.rule
            if not branch.arrived:
                break
        if branch is not None and branch.arrived:
            return self._package(params, *outcome(branch), rule)
        if branch is not None and branch.status in (Status.ENDED, Status.FOLD):
            # where the branch ends for a reason, a cold start cannot do better: say so, now
            return package(self.spec, params, *outcome(branch), rule, self.tol, self.method, self.quad_tol,
                           strict=False, adaptive=self.adaptive, branch=branch)
        return None

    def _package(self, params, result, v, rule):
        return package(self.spec, params, result, v, rule, self.tol, self.method, self.quad_tol, strict=False,
                       adaptive=self.adaptive)

    def _on_line(self, k, value):
        """Whether the point before the last lies on the same line (it differs in input k only) and the sweep goes
        on in the same direction by at most twice the last step: then a secant through them predicts."""
        prev, last = self.prev.v, self.last.v
        others = [i for i in range(self.system.n_order, len(last)) if i != k]
        return (np.array_equal(prev[others], last[others]) and prev[k] != last[k]
                and 0 < (value - last[k]) / (last[k] - prev[k]) <= 2)

    def _past_cold_end(self, inputs):
        """Whether a cold march along the model's path, for the same other inputs, ended before reaching
        ``inputs``: a march from the same start towards them would meet the same end first."""
        if self.cold_end is None:
            return False
        _, first, last = self.cold_end
        system, path = self.system, self.spec.path
        k = system.index(path)
        others = [n for n in system.param_names if n != path]
        return (all(inputs[n] == last[system.index(n)] for n in others)
                and (inputs[path] - last[k]) * (last[k] - first[k]) >= 0)

    def _beyond(self, inputs):
        """Whether ``inputs`` lie beyond the point where a branch was found to end, on the same line from the same
        converged point: then the branch ends before them too."""
        _, origin, end = self.ended
        system = self.system
        if self.last is None or origin is None or not np.array_equal(self.last.v, origin.v):
            return False
        at = origin.v
        changed = [n for n in system.param_names if inputs[n] != at[system.index(n)]]
        if len(changed) != 1 or any(end[n] != at[system.index(n)] for n in system.param_names if n not in changed):
            return False
        k = changed[0]
        return (inputs[k] - end[k]) * (end[k] - at[system.index(k)]) >= 0

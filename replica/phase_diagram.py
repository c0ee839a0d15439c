"""Phase diagrams: every point of a rectangle in two control parameters, with the threshold lines on top.

The grid is computed in strips: one strip per value of one axis, followed along the other (by default the first) by
warm-started continuation (:mod:`replica.sweep`, through the continuation engine), each strip starting from the
model's own start at its first point. Strips are independent, so they run serially, in local processes
(``workers``) or on a Dask cluster (``scheduler``) with the same rows and values. Every point is a row, whatever its
status: points where no saddle point exists (beyond the capacity, outside the model's region) have status
``no_solution``.

Lines are the thresholds the model declares, traced by continuation along the axis they run on
(:func:`replica.line`), plus closed forms (``alpha-gd``) and contours of the grid (``zero:OBS``, where an observable
vanishes; the φ = 0 contour of a local-entropy diagram, say).

With ``out``, the grid's rows are appended to the file as strips complete (``.csv``, or ``.parquet`` at the end), the
lines go beside it (``NAME.lines.csv``: columns ``line``, the two axes, ``status``), and the grid and settings are
recorded in ``NAME.meta.json``: the same call resumes where it stopped, and a different grid or model aimed at the
same file is refused before anything is computed.
"""
import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from replica.solvers.root import Tolerance

from .errors import ParameterError
from .lines import line
from .models import resolve
from .solving import _check_options
from .sweep import _columns, _Walker, grid_points, parse_grid
from .tables import RowFile, check_output_path

__all__ = ["phase_diagram", "PhaseDiagram", "LINES"]

# line kinds beyond the declared thresholds: closed forms and contours of the grid
#: Lines a phase diagram can draw beside a model's thresholds, with what each is.
LINES = {"alpha-gd": "binary weights: the load alpha_GD(kappa) where the RS solution reaches q = 1 (closed form)",
         "zero:OBS": "the contour where the grid's observable OBS vanishes (e.g. zero:entropy)"}


@dataclass
class PhaseDiagram:
    """A computed phase diagram: ``grid`` (a tidy DataFrame, one row per point, the first axis varying fastest),
    ``lines`` (name -> DataFrame with columns ``line``, the two axes, ``status``, and the threshold's own columns),
    the axes ``x`` and ``y``, the observable ``color``, the ``model``."""

    model: str
    x: str
    y: str
    color: str
    grid: pd.DataFrame
    lines: dict = field(default_factory=dict)

    def to_xarray(self):
        """The grid as an xarray Dataset on the two axes (needs xarray)."""
        try:
            import xarray  # noqa: F401
        except ImportError:
            raise ParameterError("to_xarray needs xarray (pip install xarray)") from None
        return self.grid.set_index([self.y, self.x]).to_xarray()

    def as_json(self):
        """{"rows": [...], "lines": {name: [...]}}, JSON-ready (None for missing numbers)."""
        def records(df):
            return [{k: _plain(v) for k, v in row.items()} for row in df.to_dict("records")]

        return {"rows": records(self.grid), "lines": {k: records(v) for k, v in self.lines.items()}}

    def plot(self, path=None, **options):
        """Draw the diagram (:func:`replica.plotting.plot_phase_diagram`); saved to ``path`` when given."""
        from .plotting import plot_phase_diagram

        return plot_phase_diagram(self, path, **options)


def _plain(v):
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _axes(spec, grids):
    """(x name, x values, y name, y values, fixed parameters): exactly two ranges, the first the x axis."""
    ranges, fixed = {}, {}
    for k, v in grids.items():
        if isinstance(v, str) and v.strip().lower() in spec.special.get(k, {}):
            fixed[k] = v
            continue
        values = parse_grid(v, k) if isinstance(v, str) else np.atleast_1d(np.asarray(v, dtype=float))
        if values.ndim != 1 or values.size == 0:
            raise ParameterError(f"{k}: give a number or a range START:STOP:NUM")
        if values.size > 1:
            ranges[k] = [float(x) for x in values]
        else:
            fixed[k] = float(values[0])
    if len(ranges) != 2:
        raise ParameterError(f"a phase diagram needs two parameters given as ranges (--X a:b:n --Y c:d:m); got "
                             f"{len(ranges)} ({', '.join(ranges) or 'none'})")
    (x, xs), (y, ys) = ranges.items()
    return x, xs, y, ys, fixed


def _strip_task(model, options, s, ss, t, value, fixed, settings, known):
    """The rows of one strip, ``s`` over ``ss`` at ``t = value``, followed by continuation: [(s value, row, new)],
    the rows of ``known`` (s value -> row read back from the file) carried, not recomputed (a top-level function:
    it runs in worker processes)."""
    spec, rest = resolve(model, {**options, **fixed, s: ss[0], t: value})
    _, points = grid_points(spec, {**rest, s: ss})
    walker = _Walker(spec, settings["method"], settings["quadrature"], settings["tol"], settings["quad_tol"],
                     settings["max_iter"])
    out = []
    for sv, p in zip(ss, points):
        if sv in known:
            walker.resumed(p, known[sv])
            out.append((sv, known[sv], False))
        else:
            out.append((sv, walker.solve(p).as_dict(), True))
    return out


def phase_diagram(model, *, color=None, lines=(), along=None, out=None, resume=True, workers=1, scheduler=None,
                  progress=None, method="auto", quadrature=None, tol=None, quad_tol=1e-8, max_iter=2000,
                  line_points=None, **grids):
    """Every point of a rectangle in two control parameters, and the threshold lines on top.

    Parameters
    ----------
    model : str
        A model name, or a family with its options among ``grids``.
    color : str, optional
        The observable the picture colours by (default: ``entropy`` where the model has one, else its first).
    lines : sequence of str
        Threshold lines: the kinds the model declares (``capacity``, ``max-margin``, ``dat-line``,
        ``capacity-1rsb``, ``onset``), ``alpha-gd`` (binary weights), ``zero:OBS`` (a contour of the grid), or
        ``optimum:PARAM`` (the optimum of ``color`` over the axis PARAM, e.g. ``optimum:lam``).
    along : str, optional
        The axis the strips follow by continuation (default: the first, horizontal one); the strips are the values
        of the other. A Franz–Parisi diagram in (alpha, d) follows d, as its curves do.
    out : path, optional
        ``.csv`` or ``.parquet``: the grid's rows as strips complete, the lines in ``NAME.lines.csv``, the grid and
        settings in ``NAME.meta.json``; resumes (module docstring).
    workers : int
        Local processes for the strips (default 1: serial).
    scheduler : str, optional
        ``'local'`` (a Dask LocalCluster with ``workers`` processes) or the address of a Dask distributed scheduler
        (``tcp://HOST:PORT``); needs ``pip install 'replica[dask]'``.
    progress : bool, optional
        A progress bar over the strips (default: when stderr is a terminal).
    method, quadrature, tol, quad_tol, max_iter
        As in :func:`replica.solve`.
    line_points : int, optional
        Points per traced line (default: the grid's points along the line's axis, at least 41).
    **grids
        The two axes as ranges (``alpha='0.05:1.5:200', kappa='0:1.5:200'``: the first is the x axis, followed by
        continuation; the second the strips), the other parameters as numbers.

    Returns
    -------
    PhaseDiagram
    """
    spec, rest = resolve(model, grids)
    options = {k: v for k, v in grids.items() if k not in rest}
    x, xs, y, ys, fixed = _axes(spec, rest)
    if along not in (None, x, y):
        raise ParameterError(f"along={along!r}: the strips follow one of the axes, {x} or {y}")
    for xv in xs:  # every value of the axes and the fixed parameters, before anything runs
        spec.validate({**fixed, x: xv, y: ys[0]})
    for yv in ys:
        spec.validate({**fixed, x: xs[0], y: yv})
    names = spec.system.observable_names
    color = color or ("entropy" if "entropy" in names else names[0])
    if color not in names:
        raise ParameterError(f"color={color!r}: {spec.name} has the observables {', '.join(names)}")
    lines = _line_kinds(spec, lines, x, y)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a positive integer, got {workers!r}")
    _check_options(method, quadrature, tol, max_iter, quad_tol)
    tol = tol or Tolerance()
    settings = {"method": method, "quadrature": quadrature, "tol": tol, "quad_tol": quad_tol, "max_iter": max_iter}
    table, meta = None, None
    if out is not None:
        table = RowFile(out, columns=_columns(spec), key=list(spec.declared), model=spec.name)
        meta = _Meta(table.path, {"model": spec.name, "options": {k: str(v) for k, v in options.items()},
                                  "x": {"name": x, "values": xs}, "y": {"name": y, "values": ys}, "along": along or x,
                                  "fixed": {k: v for k, v in fixed.items()}, "lines": list(lines),
                                  "quadrature": None if quadrature is None else str(quadrature),
                                  "method": method, "quad_tol": quad_tol})
        meta.check(resume)
        check_output_path(_lines_path(table.path), (".csv",), what="lines file")
    done = table.open(resume) if table is not None else {}
    if meta is not None:
        meta.write()
    names_key = list(spec.declared)
    s, ss, t, ts = (y, ys, x, xs) if along == y else (x, xs, y, ys)  # strips follow s, one per value of t
    known, todo = {}, []
    for value in ts:
        at = spec.validate({**fixed, s: ss[0], t: value})
        strip = {sv: done.get(RowFile.key_of({**at, s: sv}, names_key)) for sv in ss}
        known[value] = {sv: row for sv, row in strip.items() if row is not None}
        if len(known[value]) < len(ss):
            todo.append(value)
    rows = {}
    if todo:
        spec.system  # compile once here, before any worker starts: they load it from the cache
        for value, strip in _run(model, options, s, ss, t, todo, fixed, settings, workers, scheduler, progress,
                                 known):
            for sv, row, new in strip:
                known[value][sv] = row
                if new and table is not None:
                    table.append(row)
    if table is not None:
        table.close()
    for value in ts:
        for sv in ss:
            rows[(sv, value) if s == x else (value, sv)] = known[value][sv]
    grid = pd.DataFrame([rows[(xv, yv)] for yv in ys for xv in xs], columns=_columns(spec))
    diagram = PhaseDiagram(spec.name, x, y, color, grid)
    for kind in lines:
        diagram.lines[kind] = _line(spec, kind, x, xs, y, ys, fixed, grid, color, quadrature, tol, line_points)
    if table is not None:
        frames = [df for df in diagram.lines.values() if len(df)]
        (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["line", x, y, "status"])).to_csv(
            _lines_path(table.path), index=False)
    return diagram


def _run(model, options, s, ss, t, todo, fixed, settings, workers, scheduler, progress, known):
    """Yield (t value, strip) for each strip (:func:`_strip_task`), serially, in local processes or on Dask."""
    show = sys.stderr.isatty() if progress is None else progress
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"{model} strips", unit="strip", file=sys.stderr)
    args = (model, options, s, ss, t)
    try:
        if scheduler is not None:
            yield from _dask(args, todo, fixed, settings, workers, scheduler, bar, known)
        elif workers == 1:
            for value in todo:
                yield value, _strip_task(*args, value, fixed, settings, known[value])
                if bar is not None:
                    bar.update(1)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(_strip_task, *args, value, fixed, settings, known[value]): value
                           for value in todo}
                for future in as_completed(futures):
                    yield futures[future], future.result()
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()


def _dask(args, todo, fixed, settings, workers, scheduler, bar, known):
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ParameterError("--scheduler needs Dask: pip install 'replica[dask]'") from None
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers if workers > 1 else 2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise ParameterError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({e})") from None
    try:
        futures = {client.submit(_strip_task, *args, value, fixed, settings, known[value], pure=False): value
                   for value in todo}
        for future in dask_completed(futures):
            yield futures[future], future.result()
            if bar is not None:
                bar.update(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _line_kinds(spec, lines, x, y):
    if isinstance(lines, str):
        lines = [s for s in lines.split(",") if s.strip()]
    out = []
    for kind in lines:
        kind = kind.strip()
        if kind.startswith("zero:") or kind.startswith("optimum:"):
            name = kind.split(":", 1)[1]
            pool = spec.system.observable_names if kind.startswith("zero:") else (x, y)
            if name not in pool:
                raise ParameterError(f"line {kind!r}: {name!r} is not among {', '.join(pool)}")
        elif kind == "alpha-gd":
            if "capacity" not in spec.thresholds or {x, y} - {"alpha", "kappa"}:
                raise ParameterError("line 'alpha-gd' is drawn for binary perceptrons in the (alpha, kappa) plane")
        elif kind not in spec.thresholds:
            declared = ", ".join(spec.thresholds) or "none"
            raise ParameterError(f"line {kind!r} is not defined for {spec.name}; its thresholds: {declared}; also "
                                 f"{', '.join(LINES)}")
        out.append(kind)
    return out


def _line(spec, kind, x, xs, y, ys, fixed, grid, color, quadrature, tol, line_points):
    """The line ``kind`` as a table with columns ``line``, x, y, ``status`` (and the threshold's own)."""
    if kind.startswith("zero:"):
        return _contour(kind, grid, x, xs, y, ys, kind.split(":", 1)[1])
    if kind == "alpha-gd":
        from .perceptron import alpha_gd_binary

        kappas = np.linspace(min(ys if y == "kappa" else xs), max(ys if y == "kappa" else xs), 201)
        return pd.DataFrame({"line": kind, "kappa": kappas, "alpha": [alpha_gd_binary(k) for k in kappas],
                             "status": "converged"})
    if kind.startswith("optimum:"):
        param = kind.split(":", 1)[1]
        along, values = (y, ys) if param == x else (x, xs)
        values = _fine(values, line_points)
        df = line(spec.name, "optimum", observable=color, solve_for=param, **fixed, **{along: values})
        df = df.rename(columns={f"{param}_opt": param})
        return _tidy(df, kind, x, y)
    hook = spec.thresholds[kind]
    param = getattr(hook, "param", getattr(getattr(hook, "crossing", None), "param", None)) or "alpha"
    if kind == "onset":
        thr = hook(spec, **{k: v for k, v in fixed.items() if k in ("kappa", "ref_kappa")})
        d_dip = thr.extra.get("d_dip") if thr.value is not None else None
        return pd.DataFrame({"line": [kind], x: [thr.value], y: [d_dip if y == "d" else None],
                             "status": [str(thr.status)], "message": [thr.message]})
    along, values = (y, ys) if param == x else (x, xs)
    if param not in (x, y):
        raise ParameterError(f"line {kind!r} solves for {param}, which is not an axis ({x}, {y})")
    df = line(spec.name, kind, quadrature=quadrature, tol=tol, **fixed, **{along: _fine(values, line_points)})
    name = df.attrs.get("threshold")
    if name in df:
        df = df.rename(columns={name: param})
    return _tidy(df, kind, x, y)


def _fine(values, line_points):
    n = line_points or max(41, len(values))
    return np.linspace(values[0], values[-1], n)


def _tidy(df, kind, x, y):
    df = df.copy()
    df.insert(0, "line", kind)
    first = ["line", x, y, "status"]
    return df[[c for c in first if c in df] + [c for c in df.columns if c not in first]]


def _contour(kind, grid, x, xs, y, ys, observable):
    """Where ``observable`` of the grid vanishes: contourpy's lines through the grid (NaN where no solution)."""
    import contourpy

    z = grid[observable].to_numpy(dtype=float).reshape(len(ys), len(xs))
    generator = contourpy.contour_generator(np.asarray(xs), np.asarray(ys), np.ma.masked_invalid(z),
                                            line_type="SeparateCode")
    rows = []
    for k, segment in enumerate(generator.lines(0.0)[0]):
        for px, py in segment:
            rows.append({"line": kind, x: float(px), y: float(py), "status": "converged", "segment": k})
    return pd.DataFrame(rows, columns=["line", x, y, "status", "segment"])


def _lines_path(path):
    return path.with_name(path.stem + ".lines.csv")


class _Meta:
    """The grid and settings recorded beside a diagram's file (``NAME.meta.json``)."""

    def __init__(self, path, record):
        self.path = path.with_name(path.stem + ".meta.json")
        self.record = json.loads(json.dumps(record))

    def check(self, resume):
        if not resume or not self.path.exists():
            return
        try:
            old = json.loads(self.path.read_text())
        except (OSError, ValueError):
            raise ParameterError(f"{self.path} cannot be read (damaged?): delete it with the diagram's files to "
                                 "start afresh") from None
        if old != self.record:
            what = [k for k in self.record if old.get(k) != self.record[k]]
            raise ParameterError(f"{self.path.name} records another diagram (its {', '.join(what)} differ): choose "
                                 "another --out or delete the diagram's files")

    def write(self):
        self.path.write_text(json.dumps(self.record, indent=1))


"""Result objects: a solved saddle point with its diagnostics, and a threshold (capacity, margin, dAT point)."""
import json
import math
from dataclasses import dataclass, field

from replica.solvers.quadrature import Quadrature
from replica.solvers.status import Status

__all__ = ["Solution", "Threshold", "REMEDIES", "Status"]

REMEDIES = {
    Status.CONVERGED: "",
    Status.MAX_ITER: "increase max_iter (CLI --max-iter), start closer (replica.sweep continues from a converged "
                     "neighbour), or use more quadrature nodes (the default quadrature adapts them)",
    Status.LEFT_DOMAIN: "the saddle point may not exist here (beyond the capacity?); otherwise start closer by "
                        "continuation (replica.sweep)",
    Status.STALLED: "start closer by continuation (replica.sweep), or try method='newton' (CLI --method newton)",
    Status.SINGULAR: "a spinodal or bifurcation is near: approach it by continuation with smaller steps "
                     "(replica.sweep with a finer grid)",
    Status.NOT_FINITE: "the start point is outside the region where the equations are finite: give x0 inside it",
    Status.INACCURATE: "increase the quadrature nodes (quadrature=Quadrature(gauss=...), CLI --nodes, --nest, "
                       "--trunc)",
    Status.WRONG_BRANCH: "the solution sought may not exist here (for the 1RSB line: kappa too close to 0, where it "
                         "merges with the RS one); try a parameter further from that limit",
    Status.UNVOUCHED: "the equations hold here but the model's derivation does not (see the message): use the "
                      "parameters it names",
    Status.DIVERGES: "the quantity is infinite in this limit: choose a setting where it is finite (see the message)",
    Status.ENDED: "the solution branch followed here ends before the point sought (the message says where and "
                  "why); within this ansatz there is nothing beyond it: use parameters before its end",
    Status.FOLD: "the branch followed here turns back at a fold (a spinodal): beyond it this solution does not "
                 "exist; another branch may (start from the other side)",
    Status.NO_SOLUTION: "choose parameters inside the region where the saddle point exists (the message says which)",
    Status.NOT_CONVERGED: "the message names the computation that failed; its own remedy applies",
    Status.NOT_BRACKETED: "widen the bracket (CLI --alpha-range), or lower d_min if the dip lies at smaller d",
    Status.AT_BOUND: "widen the bounds (CLI --bounds)",
    Status.NOT_COMPUTED: "see the message for what is implemented instead",
}


def _text(v):
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


def _num(x):
    """A plain float for output (numpy scalars are not JSON serializable); None for a missing or non-finite value."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass
class Solution:
    """A replica-symmetric saddle point and everything needed to trust it.

    Quantities are also reachable as attributes or keys: ``sol.q``, ``sol["entropy"]``.

    Attributes
    ----------
    model : str
        The model's name.
    params : dict
        Control parameters (alpha, kappa, ...).
    order : dict
        Order parameters at the saddle point (None where the solve failed).
    observables : dict
        The free entropy (``entropy``, or the model's name for it) and the model's observables (None where the solve
        failed).
    converged : bool
        The solver converged *and* the quadrature error estimate is below tolerance.
    status : Status
        A :class:`~replica.Status`, a str ('converged', 'inaccurate', 'no_solution', 'ended', ...);
        ``Status.X.meaning`` says what each means.
    message, remedy : str
        What happened, and what to do about it.
    iterations : int
        Solver iterations.
    residual : float
        Largest residual of the stationarity equations at the returned point.
    quad_error : float
        Node-doubling estimate: the largest change of phi or of an order parameter when the rule's nodes double.
    method : str
        The solver path taken.
    settings : dict
        Quadrature, tolerances, method (the rows of a sweep carry the rule as ``quadrature``).
    notes : list of str
        Physics remarks, e.g. a negative entropy beyond the capacity.
    """

    model: str
    params: dict
    order: dict
    observables: dict
    converged: bool
    status: str
    message: str
    remedy: str
    iterations: int
    residual: float
    quad_error: float
    method: str
    settings: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def __getitem__(self, key):
        for d in (self.order, self.observables, self.params):
            if key in d:
                return d[key]
        raise KeyError(key)

    def __getattr__(self, key):
        if key.startswith("_") or key in ("order", "observables", "params"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no quantity {key!r}") from None

    def params_text(self):
        return ", ".join(f"{k}={v:g}" for k, v in self.params.items())

    def as_dict(self):
        """Flat dict: parameters, order parameters, observables, diagnostics (JSON-ready)."""
        row = {"model": self.model}
        row.update({k: _num(v) for k, v in self.params.items()})
        row.update({k: _num(v) for k, v in self.order.items()})
        row.update({k: _num(v) for k, v in self.observables.items()})
        row.update(converged=bool(self.converged), status=str(self.status), message=self.message,
                   remedy=self.remedy, iterations=int(self.iterations), residual=_num(self.residual),
                   quad_error=_num(self.quad_error), method=self.method, notes="; ".join(self.notes))
        rule = self.settings.get("quadrature")
        row["quadrature"] = None if rule is None else str(Quadrature(**rule))
        return row

    def to_json(self):
        return json.dumps(self.as_dict(), allow_nan=False, default=_json_default)

    def __str__(self):
        lines = [f"{self.model}  ({self.params_text()})"]
        width = max(len(k) for k in [*self.order, *self.observables, "quad_error"])
        for k, v in [*self.order.items(), *self.observables.items()]:
            lines.append(f"  {k:<{width}}  {'-' if v is None else format(v, '.12g')}")
        nodes = self.settings.get("quadrature", {}).get("gauss")
        lines.append(f"  status: {self.status} ({self.message}); {self.iterations} iterations, residual "
                     f"{self.residual:.1e}, quad_error {self.quad_error:.1e} ({nodes} nodes), method {self.method}")
        if self.remedy:
            lines.append(f"  remedy: {self.remedy}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class Threshold:
    """A critical value of a control parameter (``name`` = e.g. 'alpha_c', 'kappa_max', 'alpha_dAT') with the saddle
    point there and any companion values (``extra``: e.g. alpha_GD next to alpha_KM)."""

    name: str
    value: float  # None when the threshold could not be located (see status)
    model: str
    params: dict
    converged: bool
    status: str
    message: str = ""
    remedy: str = ""
    extra: dict = field(default_factory=dict)
    solution: Solution = None

    def __float__(self):
        return float(self.value)

    def params_text(self):
        return ", ".join(f"{k}={_text(v)}" for k, v in self.params.items())

    def as_dict(self):
        row = {"model": self.model}
        row.update({k: v if isinstance(v, str) else _num(v) for k, v in self.params.items()})
        row[self.name] = _num(self.value)
        row.update({k: (_num(v) if isinstance(v, float) else v) for k, v in self.extra.items()})
        if self.solution is not None:
            row.update({k: _num(v) for k, v in self.solution.order.items()})
            row["quad_error"] = _num(self.solution.quad_error)
        row.update(converged=bool(self.converged), status=str(self.status), message=self.message, remedy=self.remedy)
        return row

    def to_json(self):
        return json.dumps(self.as_dict(), allow_nan=False, default=_json_default)

    def __str__(self):
        head = f"{self.model}  ({', '.join(f'{k}={_text(v)}' for k, v in self.params.items())})"
        lines = [head, f"  {self.name} = " + ("-" if self.value is None else f"{self.value:.12g}")]
        lines += [f"  {k} = {v:.12g}" if isinstance(v, float) else f"  {k} = {v}" for k, v in self.extra.items()]
        lines.append(f"  status: {self.status}" + (f" ({self.message})" if self.message else ""))
        if self.remedy:
            lines.append(f"  remedy: {self.remedy}")
        return "\n".join(lines)


def _json_default(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return v if math.isfinite(v) else None

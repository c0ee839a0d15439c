"""Thresholds: where a quantity of the replica-symmetric solution reaches a critical value as one parameter moves
(a capacity, a maximal margin, a dAT point), located by the same engine whatever the model.

A model declares the thresholds it has (``ModelSpec.thresholds``, kind -> hook): :class:`Crossing` for "observable =
value along one parameter" (zero entropy: the capacity of binary weights or the maximal margin; lambda_AT = 1: the
dAT point), :class:`Refusal` for a kind that is undefined for a model with a reason, or any callable
``hook(spec, quadrature=None, tol=None, **params) -> Threshold`` (a closed form). The public functions below dispatch
on the kind and never on the model.

A crossing is found by following the solution in its parameter (:func:`replica.solvers.continuation.follow`) until
the observable crosses the value; the crossing is then the solution of the augmented system (stationarity plus
"observable = value", the parameter an unknown), refined in the nodes until the estimate covers every unknown.
"""
import math
from dataclasses import dataclass
from typing import Callable

from replica.solvers.continuation import follow
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import Tolerance
from replica.solvers.status import Status

from .errors import ParameterError
from .models import MAX_MAGNITUDE, QUAD_TOL, resolve
from .results import REMEDIES, Threshold
from .solving import _mover, package, refinement, vector_of

__all__ = ["Crossing", "Refusal", "zero_entropy", "replicon", "locate", "trace", "threshold", "capacity",
           "max_margin", "dat_line", "KINDS"]

# threshold kinds: kind -> what it is (the CLI command of the same name, replica.line)
#: The threshold kinds a model can declare, with what each locates.
KINDS = {
    "capacity": "storage capacity alpha_c (RS)",
    "capacity-1rsb": "1RSB SAT/UNSAT load",
    "max-margin": "maximal margin kappa_max(alpha)",
    "dat-line": "de Almeida-Thouless load alpha_dAT (lambda_AT = 1)",
    "onset": "load at which a local-entropy curve first dips at small d",
}


def number(name, value):
    """``value`` as a finite float; ParameterError naming ``name`` otherwise (bools are not numbers)."""
    if isinstance(value, bool):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ParameterError(f"{name}={value} must be a finite number")
    if abs(x) > MAX_MAGNITUDE:
        raise ParameterError(f"{name}={value}: at most {MAX_MAGNITUDE:g} in magnitude (beyond, the equations overflow "
                             "double precision)")
    return x


def _rule(quadrature, spec):
    if quadrature is not None and not isinstance(quadrature, Quadrature):
        raise ParameterError(f"quadrature must be a replica.Quadrature or None (adaptive), got {quadrature!r}")
    return quadrature or spec.quadrature, quadrature is None


def locate(spec, name, param, params, v, rule, tol, target, adaptive, extra):
    """The threshold ``name``: Newton on the stationarity equations plus ``target`` (observable, value) for the
    order parameters and ``param``, from the full vector ``v``; then node refinement (when ``adaptive``) until the
    estimate, which covers ``param`` too, is below QUAD_TOL. Returns a :class:`~replica.Threshold` with the solution
    there."""
    system = spec.system
    unknowns = system.order_names + [param]
    res, w = system.solve(v, rule, method="newton", tol=tol, unknowns=unknowns, target=target)
    res, w, rule, err = system.refine(res, w, rule, tol, QUAD_TOL, spec.max_nodes if adaptive else rule.gauss,
                                      unknowns, target)
    sol = package(spec, {k: float(w[system.index(k)]) for k in system.param_names}, res, w, rule, tol, "newton",
                  QUAD_TOL, strict=False, quad_error=err)
    return Threshold(name=name, value=float(w[system.index(param)]) if res.converged else None, model=spec.name,
                     params=params, converged=sol.converged, status=sol.status, message=sol.message,
                     remedy=sol.remedy, extra=extra, solution=sol)


@dataclass(frozen=True)
class Crossing:
    """The threshold ``name`` where ``observable`` reaches ``value`` as the free-entropy parameter ``param`` moves
    along the RS solution, the other parameters ``fixed`` (names with defaults: ``{"kappa": 0.0}``).

    ``begin(params)`` is where the march starts (an easy point), ``step(params)`` its first step (with its sign:
    the direction), ``end(params)`` how far it may go (where the RS solution ends, q -> 1, if known; the march
    stops a hundredth of a first step before it), ``extra(params)`` companion values reported beside the
    threshold, ``model`` a zero-argument callable returning the model to compute it on (the same one by default),
    ``criterion`` a line for the result.
    ``direction(spec, v, rule)`` may choose the sign of the step from the solution at ``begin`` (-1 or 1);
    ``not_reached`` says what it means that the observable does not reach the value before the end."""

    name: str
    param: str
    observable: str
    value: float
    begin: Callable
    step: Callable
    fixed: dict
    end: Callable = None
    extra: Callable = None
    model: str = None
    criterion: str = ""
    direction: Callable = None
    not_reached: str = ""

    def spec_for(self, spec):
        return spec if self.model is None else self.model()

    def params(self, params):
        unknown = sorted(set(params) - set(self.fixed))
        if unknown:
            takes = ", ".join(self.fixed) or "no parameters"
            raise ParameterError(f"{self.name} takes {takes}, not {', '.join(unknown)}")
        return {k: number(k, params.get(k, default) if params.get(k) is not None else default)
                for k, default in self.fixed.items()}

    def __call__(self, spec, quadrature=None, tol=None, **params):
        params = self.params(params)
        return self.locate(spec, params, quadrature, tol or Tolerance())

    def locate(self, spec, params, quadrature, tol):
        model = self.spec_for(spec)
        system = model.system
        rule, adaptive = _rule(quadrature, model)
        extra = {**(self.extra(params) if self.extra else {}), "criterion": self.criterion}
        begin, step = self.begin(params), self.step(params)
        start = model.solve(model.check({**params, self.param: begin}), quadrature=quadrature, tol=tol)
        if not start.converged:
            return self._failed(spec, params, Status.NOT_CONVERGED, f"the march's start at {self.param}={begin:g} "
                                f"did not converge: {start.status} ({start.message})", extra)
        v = vector_of(model, start)
        rule = Quadrature(**start.settings["quadrature"]) if adaptive else rule
        if self.direction is not None:
            step = math.copysign(step, self.direction(model, v, rule))
        far = self.end(params) - 0.01 * step if self.end is not None else begin + 400 * step
        branch = follow(system, v, self.param, far, rule, tol=tol, guess=_mover(model), first_step=step,
                        crossings=[(self.observable, self.value)], stop_at_crossing=True,
                        refine=refinement(model) if adaptive else None)
        event = branch.events[0] if branch.events else None
        if event is None or event.point is None:
            return self._not_crossed(spec, model, params, branch, event, extra)
        point = event.point
        thr = locate(model, self.name, self.param, params, point.v, point.rule, tol, (self.observable, self.value),
                     adaptive, extra)
        thr.model = spec.name  # computed on an auxiliary model, reported as one of spec
        return thr

    def _not_crossed(self, spec, model, params, branch, event, extra):
        system = model.system
        last = branch.last.v
        k = system.observable_names.index(self.observable)
        seen = system.call("obs", last, branch.last.rule)[k]
        where = f"{self.param} = {last[system.index(self.param)]:.6g}"
        if event is not None:
            return self._failed(spec, params, event.status, f"{self.observable} crosses {self.value:g} near {where} "
                                f"but Newton on the augmented system did not converge there", extra)
        reached = last[system.index(self.param)]
        if self.end is not None and (branch.arrived or abs(self.end(params) - reached) <= abs(self.step(params))):
            # at (or within a first step of) where the RS solution ends, the march's own failure is the branch's end
            return self._failed(spec, params, Status.ENDED,
                                f"{self.observable} = {seen:.4g} at {where}, next to {self.param} = "
                                f"{self.end(params):.6g}, where the RS solution reaches q = 1 (the end of the march): "
                                f"{self.not_reached or f'it does not reach {self.value:g} before'}", extra)
        return self._failed(spec, params, branch.status if branch.status != Status.CONVERGED else Status.STALLED,
                            f"the RS solution could not be followed to {self.observable} = {self.value:g}: "
                            f"{branch.message or 'the march ended'} ({self.observable} = {seen:.4g} there)", extra)

    def _failed(self, spec, params, status, message, extra):
        return Threshold(self.name, None, spec.name, params, False, Status(status), message, REMEDIES[Status(status)],
                         extra=extra)

    def line(self, spec, along, values, quadrature=None, tol=None, **params):
        """The threshold at each of ``values`` of ``along`` (one of the fixed parameters), traced along the line
        (:func:`trace`). Returns a list of Thresholds."""
        if along not in self.fixed:
            raise ParameterError(f"{self.name} lines run along {', '.join(self.fixed) or 'no parameter'}, not {along}")
        tol = tol or Tolerance()
        params = self.params({**{k: v for k, v in params.items() if k != along}, along: values[0]})
        return trace(spec, self.spec_for(spec), lambda at: self.locate(spec, at, quadrature, tol), self.name,
                     self.param, (self.observable, self.value), along, values, params, quadrature, tol,
                     lambda at: {**(self.extra(at) if self.extra else {}), "criterion": self.criterion})


def trace(spec, model, locate_at, name, param, target, along, values, params, quadrature, tol, extra, accept=None):
    """A threshold line: the threshold ``name`` (``param`` where ``target`` holds, on ``model``'s equations) at each
    of ``values`` of the parameter ``along``, the others ``params``. The first value is located by ``locate_at(at)``
    (a fresh search); from each located point the augmented system (stationarity plus ``target``, ``param`` an
    unknown) is followed in ``along`` to the next value (:func:`~replica.solvers.continuation.follow`, one direct
    step first), and the point there refined in the nodes; ``extra(at)`` gives its companion values. Where the line
    cannot be followed (or ``accept(v)`` says the point is on another branch), that value is located afresh; values
    still missing after the pass are then followed back from the next located one. Returns a list of Thresholds,
    one per value."""
    system = model.system
    unknowns = system.order_names + [param]
    adaptive = quadrature is None
    points = [{**params, along: number(along, value)} for value in values]

    def followed(here, at):
        """The threshold at ``at`` followed from the located Threshold ``here``, or None."""
        v = system.vector(here.solution.order, here.solution.params)
        rule = Quadrature(**here.solution.settings["quadrature"])
        branch = follow(system, v, along, at[along], rule, tol=tol, unknowns=unknowns, target=target,
                        first_step=at[along] - v[system.index(along)], refine=refinement(model) if adaptive else None)
        if not branch.arrived or (accept is not None and not accept(branch.last.v)):
            return None
        thr = locate(model, name, param, at, branch.last.v, branch.last.rule, tol, target, adaptive, extra(at))
        return thr if thr.converged else None

    out = []
    for at in points:
        last = next((t for t in reversed(out) if t.converged), None)
        thr = followed(last, at) if last is not None else None
        out.append(thr or locate_at(at))
    for i in range(len(out) - 2, -1, -1):  # backwards: from a located point to a missing one before it
        if not out[i].converged and out[i + 1].converged:
            out[i] = followed(out[i + 1], points[i]) or out[i]
    for thr in out:
        thr.model = spec.name
    return out


def zero_entropy(name, param, fixed, scale, extra=None, model=None, end=None, criterion="zero RS entropy"):
    """The :class:`Crossing` where the RS entropy vanishes as ``param`` grows from 0.05 ``scale(params)`` in first
    steps of that size (the capacity of binary weights: Krauth–Mézard): beyond it the RS solution counts fewer than
    one configuration."""
    step = lambda p: 0.05 * scale(p)  # noqa: E731
    return Crossing(name, param, "entropy", 0.0, begin=step, step=step, fixed=fixed, end=end, extra=extra,
                    model=model, criterion=criterion)


def replicon(fixed, scale, end=None, extra=None, model=None):
    """The :class:`Crossing` where the replicon eigenvalue lambda_AT reaches 1 as the load grows from 0.02
    ``scale(params)`` (the dAT point: replica symmetry is locally unstable beyond it). Where the RS solution ends
    first (at ``end(params)``, q -> 1), the result has status ``ended`` and says how close lambda_AT came."""
    step = lambda p: 0.02 * scale(p)  # noqa: E731
    return Crossing("alpha_dAT", "alpha", "lambda_AT", 1.0, begin=step, step=step, fixed=fixed, end=end,
                    extra=extra, model=model, criterion="lambda_AT = 1",
                    not_reached="RS is locally stable up to there, no dAT point before it")


@dataclass(frozen=True)
class Refusal:
    """A threshold kind that a model does not have, with the reason (a ParameterError when asked for)."""

    reason: str

    def __call__(self, spec, quadrature=None, tol=None, **params):
        raise ParameterError(f"{spec.name}: {self.reason}")


def threshold(model, kind, quadrature=None, tol=None, **params):
    """The threshold ``kind`` (:data:`KINDS`) of ``model`` at ``params``: the hook the model declares for it."""
    spec, params = resolve(model, params)
    return spec.threshold(kind)(spec, quadrature=quadrature, tol=tol, **params)


def capacity(model, kappa=None, rsb=0, quadrature=None, tol=None, **options):
    """Storage capacity alpha_c(kappa): the model's ``capacity`` threshold (``rsb=1``: ``capacity-1rsb``).

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
    if rsb not in (0, 1) or isinstance(rsb, bool):
        raise ParameterError(f"rsb must be 0 (replica symmetric) or 1 (one-step RSB), got {rsb!r}")
    kind = "capacity" if rsb == 0 else "capacity-1rsb"
    spec, rest = resolve(model, options)
    if kappa is not None:
        rest["kappa"] = kappa
    return spec.threshold(kind)(spec, quadrature=quadrature, tol=tol, **rest)


def max_margin(model, alpha, quadrature=None, tol=None, **options):
    """kappa_max(alpha): the margin at which the RS entropy of binary weights vanishes (the inverse of alpha_KM);
    the model's ``max-margin`` threshold (binary-perceptron, the K = inf binary committee machine).

    Examples
    --------
    >>> import replica
    >>> round(replica.max_margin("binary-perceptron", alpha=0.833078599).value, 6)
    0.0
    """
    spec, rest = resolve(model, options)
    return spec.threshold("max-margin")(spec, quadrature=quadrature, tol=tol, alpha=alpha, **rest)


def dat_line(model, kappa=None, quadrature=None, tol=None, **options):
    """The de Almeida–Thouless load: where the replicon eigenvalue lambda_AT reaches 1 along the RS solution (RS is
    locally unstable beyond it); the model's ``dat-line`` threshold.

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
    spec, rest = resolve(model, options)
    if kappa is not None:
        rest["kappa"] = kappa
    return spec.threshold("dat-line")(spec, quadrature=quadrature, tol=tol, **rest)

"""The model registry: each model is a symbolic free entropy (from ``replica.equations``) plus what a user-facing solve
needs around it: parameter defaults and checks, a starting point, physics notes on a solution."""
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
import sympy as sp

from replica.solvers import special
from replica.solvers.continuation import continue_to
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import STATUS, Tolerance
from replica.solvers.system import System, in_interval, interval_bounds, interval_text

from .errors import ConvergenceError, ParameterError
from .results import REMEDIES, Solution

__all__ = ["ModelSpec", "Family", "register", "register_family", "get_model", "resolve", "models", "numeric"]

_REGISTRY = {}
_FAMILIES = {}
MAX_ADAPTIVE_NODES = 8192  # the default (adaptive) quadrature doubles its Gaussian nodes up to this
QUAD_TOL = 1e-8  # default tolerance on the node-doubling error estimate


def numeric(expr, *symbols):
    """A fast float function of ``symbols`` for a closed-form sympy expression of the vocabulary (H, G, logH, ...)."""
    table = {name: getattr(special, name) for name in ("G", "H", "GH", "logH", "log2cosh", "expit", "logaddexp")}
    table["logsumexp"] = lambda *xs: special.logsumexp(xs)
    return sp.lambdify(symbols, expr, modules=[table, "math"])


@dataclass
class ModelSpec:
    """A registered model.

    ``build`` returns the :class:`~replica.equations.FreeEntropy`; ``defaults`` fills optional parameters; ``start``
    gives a starting point (order-parameter dict) from the free entropy's parameters; ``check`` raises
    :class:`ParameterError` for parameters where the saddle point does not exist (beyond capacity); ``notes`` returns
    physics remarks on a solved point; ``path`` is the free-entropy parameter to continue along (from ``path_start``,
    a number or a function of the parameters, where ``start`` is reliable) when a direct solve fails; ``follow``
    maps a solution (order-parameter dict) at some parameters to a guess at others (warm starts, continuation
    predictors; default: the same order parameters); ``capacity`` computes the model's storage capacity and
    ``dat_line`` its de Almeida–Thouless load;
    ``homotopy = (name, easy, start)``: where ``start`` fails at the path's beginning, the solution there is reached
    from input ``name`` = ``easy`` (at most the target's value), where ``start`` (a function of the inputs) is
    reliable, by continuation in that input.

    A model whose free entropy takes other parameters than the user gives (a reference's overlap, solved from another
    model) declares ``user_params`` (Symbols with ranges) and ``inputs``: validated user parameters -> the free
    entropy's parameters; ``report`` names those of them shown among the observables; ``special`` maps a parameter to
    named values computed from the others (``{"ref_kappa": {"max": ...}}``).
    """

    name: str
    summary: str
    build: Callable
    defaults: dict = field(default_factory=dict)
    start: Callable = None
    check: Callable = None
    notes: Callable = None
    path: str = "alpha"
    path_start: object = 1e-3
    hidden: bool = False
    user_params: list = None
    inputs: Callable = None
    report: tuple = ()
    special: dict = field(default_factory=dict)
    quadrature: Quadrature = field(default_factory=Quadrature)
    max_nodes: int = MAX_ADAPTIVE_NODES  # the adaptive quadrature's cap on Gaussian nodes (nested averages: lower)
    direct: bool = True  # try a direct solve from ``start`` before continuing along ``path``
    follow: Callable = None
    capacity: Callable = None  # (kappa, quadrature, tol, adaptive) -> Threshold, for replica.capacity
    dat_line: Callable = None  # (kappa, quadrature or None for adaptive, tol) -> Threshold, for replica.dat_line
    q1_load: Callable = None  # binary weights with a margin: kappa -> the load where the RS q reaches 1 (max_margin)
    vouch: Callable = None  # (params, order, observables) -> None, or why the solution lies outside the derivation
    branch_end: Callable = None  # (params, order) at the last point a failed march reached -> None, or why the branch
    #                              ends there: the point's status is then ``ended`` (and a sweep tries no cold start)
    limits: dict = field(default_factory=dict)  # {"y": {"inf": model name}}: a parameter value selecting a limit model
    homotopy: tuple = None
    refine: bool = True  # may the adaptive quadrature refine the base rule (False: its doubling is what is affordable)
    estimate_by_level: bool = False  # node-doubling estimate as the sum of the levels' own doublings (see System)

    @cached_property
    def system(self):
        system = System(self.build())
        system.estimate_by_level = self.estimate_by_level
        return system

    def refinement_cap(self, base=None, max_nodes=None):
        """The largest :attr:`~Quadrature.cost` a refinement from ``base`` (default: the model's rule) may reach, with
        ``max_nodes`` outer nodes (default: the model's cap); 0, i.e. none, for a model that does not refine."""
        base, max_nodes = base or self.quadrature, max_nodes or self.max_nodes
        return base.refinement_cap(max_nodes) if self.refine else 0

    @cached_property
    def declared(self):
        """User parameter name -> declared Symbol (domain and description), without compiling."""
        return {s.name: s for s in (self.user_params or self.build().params)}

    def moved(self, v, k, value):
        """The full vector ``v`` (a solution) with input ``k`` set to ``value`` and its order parameters mapped by
        ``follow``: a guess at the solution there."""
        system = self.system
        w = np.array(v, dtype=float)
        w[k] = value
        if self.follow is not None:
            old = dict(zip(system.param_names, v[system.n_order:]))
            new = dict(zip(system.param_names, w[system.n_order:]))
            order = self.follow(dict(zip(system.order_names, v[: system.n_order])), old, new)
            w[: system.n_order] = [order[n] for n in system.order_names]
        return w

    def inputs_of(self, params):
        """The free entropy's parameters at validated user ``params`` (cached: it may solve a reference)."""
        if self.inputs is None:
            return params
        key = tuple(sorted(params.items()))
        cache = self.__dict__.setdefault("_inputs_cache", {})
        if key not in cache:
            if len(cache) > 4096:
                cache.clear()
            cache[key] = self.inputs(params)
        return cache[key]

    @cached_property
    def _ranges(self):
        return {k: interval_bounds(s.domain) for k, s in self.declared.items()}

    def validate(self, params):
        """Fill defaults, reject unknown or missing parameters and values outside their ranges. Returns floats."""
        declared = self.declared
        unknown = sorted(set(params) - set(declared))
        if unknown:
            raise ParameterError(f"{self.name} has no parameter {', '.join(unknown)}; "
                                 f"its parameters are {', '.join(declared)}")
        values = {**self.defaults, **{k: v for k, v in params.items() if v is not None}}
        missing = [k for k in declared if k not in values]
        if missing:
            raise ParameterError(f"{self.name} needs {', '.join(missing)} "
                                 f"({'; '.join(f'{k}: {declared[k].doc}' for k in missing)})")
        out = {}
        for k in declared:
            if isinstance(values[k], str) and values[k] in self.special.get(k, {}):
                values[k] = self.special[k][values[k]](out)
            try:
                x = float(values[k])
            except (TypeError, ValueError):
                named = "".join(f" or '{name}'" for name in self.special.get(k, {}))
                raise ParameterError(f"{k} must be a number{named}, got {values[k]!r}") from None
            s = declared[k]
            if not (math.isfinite(x) and in_interval(x, self._ranges[k])):
                raise ParameterError(f"{k}={values[k]} is outside the allowed range {interval_text(s.domain)} "
                                     f"({s.doc})")
            out[k] = x
        if self.check is not None:
            self.check(out)
        return out

    def solve(self, params, method="auto", quadrature=None, x0=None, tol=None, max_iter=2000, quad_tol=QUAD_TOL,
              strict=False):
        """Solve at validated ``params``; see :func:`replica.solve`."""
        system = self.system
        adaptive = quadrature is None
        quad = quadrature or self.quadrature
        tol = tol or Tolerance()
        inputs = self.inputs_of(params)
        start = x0 if x0 is not None else self.start(inputs)
        if isinstance(start, dict):
            unknown = sorted(set(start) - set(system.order_names))
            if unknown:
                raise ParameterError(f"x0 has unknown order parameters {', '.join(unknown)}; "
                                     f"{self.name} has {', '.join(system.order_names)}")
            start = {**self.start(inputs), **start}
        v0 = system.vector(start, inputs)
        fallback = x0 is None and self.path and method != "fixed-point"
        if fallback and not self.direct:
            result, v, quad, ended = self._by_continuation(params, quad, tol, method, adaptive)
            return self.package(params, result, v, quad, tol, method, quad_tol, strict, adaptive, ended=ended)
        # with a continuation to fall back on, a direct Newton attempt that is not converging soon is cut short
        result, v = system.solve(v0, quad, method=method, tol=tol, max_iter=max_iter,
                                 newton_iter=15 if fallback else 50)
        ended = None
        if not result.converged and fallback:
            result, v, quad, ended = self._by_continuation(params, quad, tol, method, adaptive)
        return self.package(params, result, v, quad, tol, method, quad_tol, strict, adaptive, ended=ended)

    def _by_continuation(self, params, quad, tol, method, adaptive):
        """Reach ``params`` from ``path = path_start``, where the starting point is reliable, by :meth:`march`.
        Returns ``(result, v, rule, ended)``: ``ended`` is the model's reason why its branch ends where a failed march
        stopped (:meth:`ended`), else None."""
        system = self.system
        inputs = self.inputs_of(params)
        begin = self.path_start(inputs) if callable(self.path_start) else min(self.path_start, inputs[self.path])
        near = {**inputs, self.path: begin}
        result, v = system.solve(system.vector(self.start(near), near), quad, method=method, tol=tol)
        if not result.converged and self.homotopy is not None:
            name, easy, start = self.homotopy
            if easy < near[name]:
                at = {**near, name: easy}
                result, v = system.solve(system.vector(start(at), at), quad, method=method, tol=tol)
                if result.converged:
                    result, v = continue_to(system, v, name, near[name], quad, tol, method="newton",
                                            follow=self.moved)
        if not result.converged:
            return result, v, quad, None
        result, v, quad = self.march(v, self.path, inputs[self.path], quad, tol, adaptive)
        return result, v, quad, None if result.converged else self.ended(v)

    def march(self, v, name, to, quad, tol, adaptive):
        """Continue the solution ``v`` (a full vector) in input ``name`` to the value ``to`` (:func:`continue_to`,
        with the model's map of a solution to new inputs and its own start where the predictions fail). Where the
        march stalls, the quadrature is adaptive and phi at the last solution changes beyond the tolerance when the
        nodes double, the levels of the rule that carry the error are refined (:meth:`System.finer`, within the caps
        of an adaptive refinement) and the march goes on from where it stopped (coarse nodes can leave the
        discretized equations without a root near q -> 1); where the estimate is fine the stall is the solution
        branch's own (a turning point, or where the branch ends) and is reported. Returns ``(result, v, rule)``."""
        system = self.system

        def reseed(w):  # the model's own starting point at the inputs of w
            at = dict(zip(system.param_names, w[system.n_order:]))
            return system.vector(self.start(at), at)

        while True:
            result, v = continue_to(system, v, name, to, quad, tol, method="newton", reseed=reseed, follow=self.moved)
            if result.converged or not adaptive:
                return result, v, quad
            # phi is as good on this rule as on the doubled one where the march stopped: more nodes would not help
            # (a turning point of the branch; there the Newton-step part of the estimate is large by itself)
            if system.phi_change(v, quad) <= QUAD_TOL:
                return result, v, quad
            finer = system.finer(v, quad, QUAD_TOL, max_nodes=self.max_nodes,
                                 max_cost=self.refinement_cap())
            if finer is None:
                return result, v, quad
            quad = finer

    def ended(self, v):
        """The model's reason why the branch ends at ``v`` (the full vector where a march stopped), or None."""
        system = self.system
        if self.branch_end is None or not np.all(np.isfinite(v)):
            return None
        return self.branch_end(dict(zip(system.param_names, map(float, v[system.n_order:]))),
                               dict(zip(system.order_names, map(float, v[: system.n_order]))))

    def package(self, params, result, v, quad, tol, method, quad_tol, strict, adaptive=False, quad_error=None,
                ended=None):
        """Turn a solver result at full vector ``v`` into a :class:`Solution`, checking the quadrature by node
        doubling. With ``adaptive``, the levels of the rule that carry the error are refined (up to the cost of
        ``max_nodes`` outer nodes) and the point re-solved by Newton until the error estimate is below ``quad_tol``.
        A caller that already refined the point (a threshold, whose estimate covers its own unknowns) passes its
        ``quad_error``; one whose march stopped where the model says its branch ends passes that reason, ``ended``."""
        system = self.system
        if quad_error is None:
            # an adaptive refinement is capped from the model's base rule (a sweep may hand over a refined one)
            base, max_nodes = (self.quadrature, self.max_nodes) if adaptive else (quad, quad.gauss)
            result, v, quad, quad_error = system.refine(result, v, quad, tol, quad_tol, max_nodes,
                                                        max_cost=self.refinement_cap(base, max_nodes))
        status = result.status
        order = {n: None for n in system.order_names}
        obs = {n: None for n in [*system.observable_names, *self.report]}
        notes = []
        if result.converged:
            order = dict(zip(system.order_names, map(float, v[: system.n_order])))
            obs = {k: float(x) for k, x in system.observables(v, quad).items()}
            obs.update({k: float(v[system.index(k)]) for k in self.report})
            if not quad_error <= quad_tol:
                status = "inaccurate"
            if self.notes is not None:
                notes = self.notes(params, order, obs)
        message = STATUS.get(status, f"the node-doubling error estimate {quad_error:.1e} exceeds {quad_tol:.0e}")
        outside = result.converged and self.vouch is not None and self.vouch(params, order, obs)
        if outside:
            status, message = "unvouched", outside
        if ended and not result.converged:
            status, message = "ended", ended
        sol = Solution(
            model=self.name, params=dict(params), order=order, observables=obs,
            converged=status == "converged", status=status, message=message, remedy=REMEDIES[status],
            iterations=result.iterations, residual=result.residual, quad_error=quad_error, method=result.method,
            settings={"method": method, "quadrature": quad.as_dict(), "atol": tol.atol, "rtol": tol.rtol,
                      "quad_tol": quad_tol},
            notes=notes,
        )
        if strict and not sol.converged:
            raise ConvergenceError(sol)
        return sol


@dataclass
class Family:
    """Models told apart by structural options (a number of hidden units, an activation), not by parameters that are
    solved over: ``options`` maps each option to (parser, default or None if required, description); the parser
    turns the given text or value into the option's value or raises ParameterError saying what is allowed. ``make``
    takes the options and returns the (registered) :class:`ModelSpec` of that member."""

    name: str
    summary: str
    options: dict
    make: Callable

    def member(self, options):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ParameterError(f"{self.name} has no option {', '.join(unknown)}; its options are "
                                 f"{', '.join(self.options)}")
        values = {}
        for k, (parse, default, doc) in self.options.items():
            if options.get(k) is None and default is None:
                raise ParameterError(f"{self.name} needs the option {k} ({doc})")
            values[k] = parse(options[k] if options.get(k) is not None else default)
        return self.make(**values)


def register(spec):
    _REGISTRY[spec.name] = spec
    return spec


def register_family(family):
    _FAMILIES[family.name] = family
    return family


def get_model(name):
    """The registered :class:`ModelSpec` called ``name`` (ParameterError listing the models otherwise)."""
    _load()
    if name in _FAMILIES:
        raise ParameterError(f"{name} needs its options ({', '.join(_FAMILIES[name].options)}), e.g. "
                             f"replica.solve({name!r}, {', '.join(f'{k}=...' for k in _FAMILIES[name].options)}, "
                             "alpha=...)")
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ParameterError(f"unknown model {name!r}; available: {', '.join(models())}") from None


def resolve(name, params):
    """(spec, remaining params): for a family, its options are taken out of ``params`` and select the member; a
    model's limit value (``y='inf'``) selects the model of that limit and is taken out."""
    _load()
    family = _FAMILIES.get(name)
    if family is None:
        spec, rest = get_model(name), dict(params)
        for k, table in spec.limits.items():
            value = str(rest.get(k)).strip().lower()
            if value in table:
                del rest[k]
                return get_model(table[value]), rest
        return spec, rest
    rest = {k: v for k, v in params.items() if k not in family.options}
    return family.member({k: v for k, v in params.items() if k in family.options}), rest


def families():
    """The registered families: name -> :class:`Family`."""
    _load()
    return dict(_FAMILIES)


def models():
    """Names of the registered models and model families (``replica models`` lists them with a summary)."""
    _load()
    return [n for n, s in _REGISTRY.items() if not s.hidden] + list(_FAMILIES)


def _load():
    from . import (  # noqa: F401  (registering)
        committee,
        cross_entropy,
        gaussian_mixture,
        large_deviation,
        local_entropy,
        perceptron,
    )


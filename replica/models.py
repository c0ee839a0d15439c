"""The model contract and the registry.

A model is a :class:`ModelSpec`: a symbolic free entropy (``build``, from :mod:`replica.equations`) plus the few
hooks a user-facing solve needs around it: a starting point, parameter defaults, where no saddle point exists, notes
on a solution, and the thresholds it declares. The contract is checked when a spec is built (a missing or malformed
hook is a :class:`~replica.errors.ModelError` naming it) and a spec cannot be changed afterwards. ``docs/models.md``
("Writing a model") describes every field with a complete example.

Built-in families and third-party packages register the same way: a distribution declares an entry point in the
group ``replica.models`` whose value is a callable returning a :class:`ModelSpec`, a :class:`Family`, or a list of
them. The registry loads every entry point the first time a model is asked for; a name that is already taken is
refused unless ``register(spec, replace=True)`` asks for it.
"""
import math
import re
import warnings
from dataclasses import dataclass, field, fields
from functools import cached_property
from importlib import metadata
from types import MappingProxyType
from typing import Callable, Mapping

import sympy as sp

from replica.solvers import special
from replica.solvers.quadrature import Quadrature
from replica.solvers.system import System, in_interval, interval_bounds, interval_text

from .errors import ModelError, ParameterError
from .solving import QUAD_TOL, solve_point

__all__ = ["ModelSpec", "Family", "Homotopy", "register", "register_family", "get_model", "resolve", "models",
           "families", "numeric", "ENTRY_POINT_GROUP", "MAX_ADAPTIVE_NODES", "QUAD_TOL", "NO_SOLUTIONS"]

#: How a model's note starts where a negative entropy means that no solutions exist (an entropy that counts discrete
#: configurations, not a log-volume): phase diagrams shade the points it marks.
NO_SOLUTIONS = "entropy < 0"

#: The entry-point group through which packages register models.
ENTRY_POINT_GROUP = "replica.models"
#: The default (adaptive) quadrature doubles its Gaussian nodes up to this.
MAX_ADAPTIVE_NODES = 8192
MAX_MAGNITUDE = 1e12  # parameters beyond this overflow float64 in the closed forms (kappa^2 ...), whatever the model
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def numeric(expr, *symbols):
    """A fast float function of ``symbols`` for a closed-form sympy expression of the vocabulary (H, G, logH, ...)."""
    table = {name: getattr(special, name) for name in ("G", "H", "GH", "logH", "log2cosh", "expit", "logaddexp")}
    table["logsumexp"] = lambda *xs: special.logsumexp(xs)
    return sp.lambdify(symbols, expr, modules=[table, "math"])


@dataclass(frozen=True)
class Homotopy:
    """Where a model's ``start`` fails at the beginning of its ``path``: the solution there is reached from input
    ``name`` = ``easy`` (at most the target's value), where ``start(inputs)`` is reliable, by continuation in that
    input."""

    name: str
    easy: float
    start: Callable


def _callable(value):
    return value is None or callable(value)


# field name -> (check, what it must be); the required fields have no default in ModelSpec
_HOOKS = {
    "build": (callable, "a callable returning the model's FreeEntropy"),
    "start": (callable, "a callable (free-entropy parameters) -> dict of order parameters"),
    "inputs": (_callable, "None or a callable (validated user parameters) -> free-entropy parameters"),
    "region": (_callable, "None or a callable (parameters) -> None, or why no saddle point exists there"),
    "notes": (_callable, "None or a callable (parameters, order, observables) -> list of str"),
    "vouch": (_callable, "None or a callable (parameters, order, observables) -> None, or why the solution lies "
                         "outside the derivation"),
    "branch_end": (_callable, "None or a callable (free-entropy parameters, order) -> None, or why the branch ends"),
    "guess": (_callable, "None or a callable (order, old inputs, new inputs) -> order"),
}


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """A model: its free entropy and what a solve needs around it. Frozen; checked when built.

    Every field is a keyword argument. "Writing a model" (``docs/models.md``) is this contract as tables, grouped
    (required; parameters and their checks; solving; after a solve; thresholds), with a complete plugin.

    Parameters
    ----------
    name : str
        One word of letters, digits, '-', '.' or '_' (``binary-perceptron``); unique in the registry.
    summary : str
        One line for ``replica models``.
    build : callable
        ``build() -> FreeEntropy``: the symbolic declaration (called once; deriving and compiling are cached).
    start : callable
        ``start(inputs) -> {order parameter: value}``: a starting point at the free entropy's parameters.

    defaults : mapping
        Values of optional user parameters.
    user_params : tuple of Symbol, optional
        The parameters a user gives, when they are not the free entropy's (a distance d instead of an overlap p, a
        reference solved from another model; then ``inputs`` maps them to the free entropy's), or the free
        entropy's own with other ranges and descriptions (no ``inputs``).
    inputs : callable, optional
        ``inputs(params) -> free-entropy parameters``. It may solve another model (a reference); where that solve
        fails it raises :class:`~replica.errors.ConvergenceError`, which becomes the status of the point.
    special : mapping
        ``{parameter: {name: function of the other validated parameters}}``: named values (``ref_kappa='max'``).
    limits : mapping
        ``{parameter: {value: model name}}``: a value of a parameter that selects another model (``y='inf'``).
    region : callable, optional
        ``region(params) -> None or str``: why no saddle point exists at these (valid) parameters (beyond the
        capacity, say). A single solve refuses such a point; a sweep or a phase diagram records it as a row with
        status ``no_solution``.

    path, path_start : str, float or callable
        Where a direct solve fails, the solution is reached by continuation in the free-entropy parameter ``path``
        from ``path_start`` (a number, or a function of the inputs), where ``start`` is reliable. ``path=None``: no
        continuation.
    direct : bool
        Try a direct solve from ``start`` before continuing along ``path`` (default True).
    homotopy : Homotopy, optional
        How to reach the beginning of the path where ``start`` fails there.
    guess : callable, optional
        ``guess(order, old inputs, new inputs) -> order``: a solution moved to other parameters (a predictor for
        warm starts and continuation; default: the same order parameters).
    quadrature, max_nodes, refine, estimate_by_level
        The base rule; the largest outer rule an adaptive refinement may reach; whether it may refine at all; whether
        the node-doubling estimate is taken level by level (K-dimensional rules).

    notes : callable, optional
        ``notes(params, order, observables) -> list of str``: physics remarks. A remark that starts with
        :data:`~replica.models.NO_SOLUTIONS` says that the negative entropy there means no solutions (a count of
        discrete configurations below one); phase diagrams shade those points.
    vouch : callable, optional
        ``vouch(params, order, observables) -> None or str``: why a converged solution lies outside the model's
        derivation (status ``unvouched``).
    branch_end : callable, optional
        ``branch_end(inputs, order) -> None or str``: why the branch ends where a march stalled (status ``ended``).
    report : tuple of str
        Free-entropy parameters shown among the observables (a reference's overlap).

    thresholds : mapping
        ``{kind: hook}`` for the kinds this model declares (``capacity``, ``max-margin``, ``dat-line``, ``onset``,
        ...): each hook is an object of :mod:`replica.thresholds` (or any callable ``hook(spec, **options) ->
        Threshold``). ``replica.capacity`` and the other threshold commands, and ``replica.line``, dispatch on it.

    hidden : bool
        Left out of ``replica models`` (a member of a family, an auxiliary model).
    """

    name: str
    summary: str
    build: Callable
    start: Callable
    defaults: Mapping = field(default_factory=dict)
    user_params: tuple = None
    inputs: Callable = None
    special: Mapping = field(default_factory=dict)
    limits: Mapping = field(default_factory=dict)
    region: Callable = None
    path: str = "alpha"
    path_start: object = 1e-3
    direct: bool = True
    homotopy: Homotopy = None
    guess: Callable = None
    quadrature: Quadrature = field(default_factory=Quadrature)
    max_nodes: int = MAX_ADAPTIVE_NODES
    refine: bool = True
    estimate_by_level: bool = False
    notes: Callable = None
    vouch: Callable = None
    branch_end: Callable = None
    report: tuple = ()
    thresholds: Mapping = field(default_factory=dict)
    hidden: bool = False

    def __post_init__(self):
        def bad(name, what):
            raise ModelError(f"ModelSpec {self.name!r}: {name} must be {what}, got {getattr(self, name)!r}")

        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ModelError(f"ModelSpec name must be one word of letters, digits, '-', '.' or '_' (e.g. "
                             f"'binary-perceptron'), got {self.name!r}")
        if not isinstance(self.summary, str) or not self.summary.strip():
            bad("summary", "a non-empty str")
        for name, (check, what) in _HOOKS.items():
            if not check(getattr(self, name)):
                bad(name, what)
        if self.inputs is not None and self.user_params is None:
            raise ModelError(f"ModelSpec {self.name!r}: inputs maps user parameters to the free entropy's: declare "
                             "them (user_params)")
        if self.path is not None and not isinstance(self.path, str):
            bad("path", "None or the name of a free-entropy parameter")
        if not (callable(self.path_start) or isinstance(self.path_start, (int, float))):
            bad("path_start", "a number or a callable (inputs) -> number")
        if self.homotopy is not None and not isinstance(self.homotopy, Homotopy):
            bad("homotopy", "None or a Homotopy")
        if not isinstance(self.quadrature, Quadrature):
            bad("quadrature", "a Quadrature")
        for name in ("defaults", "special", "limits", "thresholds"):
            if not isinstance(getattr(self, name), Mapping):
                bad(name, "a mapping")
        for kind, hook in self.thresholds.items():
            if not callable(hook):
                raise ModelError(f"ModelSpec {self.name!r}: threshold {kind!r} must be callable, got {hook!r}")
        # no field changes after construction: read-only views of the mappings, tuples of the sequences
        for name in ("defaults", "special", "limits", "thresholds"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        if self.user_params is not None:
            object.__setattr__(self, "user_params", tuple(self.user_params))
        object.__setattr__(self, "report", tuple(self.report))

    @cached_property
    def free_entropy(self):
        fe = self.build()
        from replica.equations.model import FreeEntropy

        if not isinstance(fe, FreeEntropy):
            raise ModelError(f"ModelSpec {self.name!r}: build() must return a FreeEntropy, got {type(fe).__name__}")
        return fe

    @cached_property
    def system(self):
        """The compiled system (derived and compiled on first use, cached on disk)."""
        system = System(self.free_entropy)
        system.estimate_by_level = self.estimate_by_level
        return system

    @cached_property
    def declared(self):
        """User parameter name -> declared Symbol (domain and description), without compiling. Checks that the
        parameter names the spec uses (defaults, special, limits, path) are declared."""
        declared = {s.name: s for s in (self.user_params or self.free_entropy.params)}
        fe_params = [s.name for s in self.free_entropy.params]
        for what, names in (("defaults", self.defaults), ("special", self.special), ("limits", self.limits)):
            unknown = sorted(set(names) - set(declared))
            if unknown:
                raise ModelError(f"ModelSpec {self.name!r}: {what} names undeclared parameters {', '.join(unknown)}; "
                                 f"declared: {', '.join(declared)}")
        if self.path is not None and self.path not in fe_params:
            raise ModelError(f"ModelSpec {self.name!r}: path {self.path!r} is not a parameter of its free entropy "
                             f"({', '.join(fe_params)})")
        return declared

    def threshold(self, kind):
        """The hook of threshold ``kind`` (ParameterError naming the kinds this model declares otherwise)."""
        if kind not in self.thresholds:
            declared = ", ".join(self.thresholds) or "none"
            raise ParameterError(f"{kind} is not defined for {self.name}; its thresholds: {declared}")
        return self.thresholds[kind]

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
        """Fill defaults, reject unknown or missing parameters, values that are not numbers (bools are not),
        values outside their ranges and beyond ``MAX_MAGNITUDE``. Returns floats. Does not ask ``region``."""
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
            named = self.special.get(k, {})
            if isinstance(values[k], str) and values[k].strip().lower() in named:
                values[k] = named[values[k].strip().lower()](out)
            out[k] = self._number(k, values[k])
        return out

    def _number(self, k, value):
        s = self.declared[k]
        named = "".join(f" or '{name}'" for name in self.special.get(k, {}))
        if isinstance(value, bool):
            raise ParameterError(f"{k} must be a number{named}, got {value!r}")
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(f"{k} must be a number{named}, got {value!r}") from None
        if not (math.isfinite(x) and in_interval(x, self._ranges[k])):
            raise ParameterError(f"{k}={value} is outside the allowed range {interval_text(s.domain)} ({s.doc})")
        if abs(x) > MAX_MAGNITUDE:
            raise ParameterError(f"{k}={value}: at most {MAX_MAGNITUDE:g} in magnitude (beyond, the equations overflow "
                                 "double precision)")
        return x

    def outside(self, params):
        """Why no saddle point exists at validated ``params`` (the model's ``region``), or None."""
        return None if self.region is None else self.region(params)

    def check(self, params):
        """Validated ``params``, refused (ParameterError) where the model says no saddle point exists."""
        params = self.validate(params)
        reason = self.outside(params)
        if reason:
            raise ParameterError(reason)
        return params

    def solve(self, params, **options):
        """Solve at validated ``params`` (``replica.solving.solve_point``)."""
        return solve_point(self, params, **options)


@dataclass(frozen=True)
class Family:
    """Models told apart by structural options (a number of hidden units, an activation), not by parameters that are
    solved over: ``options`` maps each option to (parser, default or None if required, description); the parser
    turns the given text or value into the option's value or raises ParameterError saying what is allowed. ``make``
    takes the options and returns the (registered) :class:`ModelSpec` of that member."""

    name: str
    summary: str
    options: Mapping
    make: Callable

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ModelError(f"Family name must be one word of letters, digits, '-', '.' or '_', got {self.name!r}")
        if not callable(self.make):
            raise ModelError(f"Family {self.name!r}: make must be callable")
        for k, option in self.options.items():
            if not (isinstance(option, tuple) and len(option) == 3 and callable(option[0])):
                raise ModelError(f"Family {self.name!r}: option {k!r} must be (parser, default or None, description)")
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

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


_REGISTRY = {}
_FAMILIES = {}
_LOADED = []


def register(spec, replace=False):
    """Add ``spec`` to the registry; a name already taken (by a model or a family) is refused unless ``replace``.
    Returns the spec."""
    if not isinstance(spec, ModelSpec):
        raise ModelError(f"register takes a ModelSpec, got {type(spec).__name__}")
    if not replace and (spec.name in _REGISTRY or spec.name in _FAMILIES):
        raise ModelError(f"a model named {spec.name!r} is already registered; choose another name or pass "
                         "replace=True")
    _FAMILIES.pop(spec.name, None)
    _REGISTRY[spec.name] = spec
    return spec


def register_family(family, replace=False):
    """Add a :class:`Family`; a name already taken is refused unless ``replace``. Returns the family."""
    if not isinstance(family, Family):
        raise ModelError(f"register_family takes a Family, got {type(family).__name__}")
    if not replace and (family.name in _REGISTRY or family.name in _FAMILIES):
        raise ModelError(f"a model named {family.name!r} is already registered; choose another name or pass "
                         "replace=True")
    _REGISTRY.pop(family.name, None)
    _FAMILIES[family.name] = family
    return family


def _load():
    """Register every entry point of the group ``replica.models`` (once). A plugin that fails to load, or returns
    what is not a model, is skipped with a warning naming it."""
    if _LOADED:
        return
    _LOADED.append(True)
    builtin_first = lambda ep: (not ep.value.startswith("replica."), ep.name)  # noqa: E731
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=builtin_first):
        try:
            found = ep.load()()
            for item in found if isinstance(found, (list, tuple)) else [found]:
                if isinstance(item, Family):
                    register_family(item)
                elif isinstance(item, ModelSpec):
                    register(item)
                else:
                    raise ModelError(f"returned {type(item).__name__}, not a ModelSpec or a Family")
        except Exception as e:  # a broken plugin must not break the toolkit
            warnings.warn(f"replica: the model plugin {ep.name!r} ({ep.value}) was not loaded: {e}", stacklevel=2)


def get_model(name):
    """The registered :class:`ModelSpec` called ``name`` (ParameterError listing the models otherwise)."""
    _load()
    if name in _FAMILIES:
        raise ParameterError(f"{name} needs its options ({', '.join(_FAMILIES[name].options)}), e.g. "
                             f"replica.solve({name!r}, {', '.join(f'{k}=...' for k in _FAMILIES[name].options)}, "
                             "alpha=...)")
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ParameterError(f"unknown model {name!r}; available: {', '.join(models())}") from None


def resolve(name, params):
    """(spec, remaining params): for a family, its options are taken out of ``params`` and select the member; a
    model's limit value (``y='inf'``) selects the model of that limit and is taken out."""
    _load()
    family = _FAMILIES.get(name) if isinstance(name, str) else None
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


def spec_fields():
    """The names of :class:`ModelSpec`'s fields (the contract, for documentation and tests)."""
    return [f.name for f in fields(ModelSpec)]


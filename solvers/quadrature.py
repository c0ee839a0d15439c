"""Quadrature rules for Gaussian averages, cached, with node doubling for error estimates.

A rule class only says how its nodes are computed; caching lives in the base class. Compiled models receive the node
arrays of a :class:`Quadrature` (one rule per kind of average), so changing or doubling nodes never recompiles.
Nested averages use the product of the rules of their levels.
"""
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import scipy.linalg
import scipy.special

from .special import GAUSS_EDGE

__all__ = ["Rule", "GaussHermite", "GaussTrapezoid", "GaussLegendre", "TruncatedGaussLaguerre", "Quadrature",
           "GAUSS_RULES", "MAX_NODES", "MAX_COST"]


class Rule:
    """A quadrature rule with n nodes; subclasses implement ``_compute(n) -> (nodes, weights)``."""

    def __init__(self, n):
        n = int(n)
        if n < 2:
            raise ValueError(f"a quadrature rule needs at least 2 nodes, got {n}")
        self.n = n

    def nodes(self):
        """(nodes, weights) as read-only float64 arrays; weights sum to 1."""
        return _cached(type(self), self.n)

    def doubled(self):
        return type(self)(2 * self.n)

    def __repr__(self):
        return f"{type(self).__name__}({self.n})"

    @staticmethod
    def _compute(n):
        raise NotImplementedError


@lru_cache(maxsize=None)
def _cached(cls, n):
    x, w = cls._compute(n)
    x, w = np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(w, dtype=np.float64)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


class GaussHermite(Rule):
    """Gauss–Hermite rule for int Dz f(z) (probabilists' Hermite polynomials, weights normalized to 1)."""

    @staticmethod
    def _compute(n):
        x, w = scipy.special.roots_hermitenorm(n)
        return x, w / w.sum()


class GaussTrapezoid(Rule):
    """Trapezoidal rule for int Dz f(z) on [-10, 10] with Gaussian weights (normalized to 1).

    For integrands analytic in a strip around the real axis it converges geometrically, exp(-2 pi d/h) for a strip
    of half-width d and spacing h, and it spends no nodes where the Gaussian weight is below 1e-22. It beats
    Gauss–Hermite by orders of magnitude at equal nodes on the sharp integrands of replica equations (tanh of
    sqrt(qhat) z with large qhat, ln H near q = 1): with 128 nodes, int Dz sech^2(2.58 z) is exact to 4e-10 against
    2e-5 for Gauss–Hermite. The truncation error, below 1e-20 for polynomially growing integrands, is part of what
    node doubling cannot see.
    """

    half_width = GAUSS_EDGE

    @classmethod
    def _compute(cls, n):
        x = np.linspace(-cls.half_width, cls.half_width, n)
        w = np.exp(-0.5 * x * x)
        return x, w / w.sum()


class GaussLegendre(Rule):
    """Gauss–Legendre nodes on [-1, 1], weights normalized to 1 (a mean over the interval). Truncated averages with a
    negative truncation point integrate the Gaussian over [max(a, -10), 0] with it (the Gaussian mass below -10 is
    8e-24): the integrand is then only sampled where the measure lives, never across a kink beyond the truncation."""

    @staticmethod
    def _compute(n):
        x, w = np.polynomial.legendre.leggauss(n)
        return x, w / w.sum()


class TruncatedGaussLaguerre(Rule):
    """Gauss–Laguerre nodes y in (0, inf) for the Gaussian conditioned on x > a, through the map
    H(x) = H(a) exp(-y): (1/H(a)) int_a^inf Dx f(x) = int_0^inf dy exp(-y) f(x(y)). The map is smooth at y = 0 and
    grows like sqrt(2 y), so the rule converges fast where Gauss–Legendre in the mass t = 1 - exp(-y) stalls on the
    logarithmic endpoint singularity. The map itself is applied in compiled code, per a. Nodes and weights come from
    the Golub–Welsch eigenproblem, which stays finite for any n (far weights underflow to 0)."""

    @staticmethod
    def _compute(n):
        k = np.arange(n, dtype=float)
        y, vecs = scipy.linalg.eigh_tridiagonal(2 * k + 1, k[1:])
        w = vecs[0] ** 2
        return y, w / w.sum()


MAX_TRUNC = 512
#: Rules for plain Gaussian averages, by name.
GAUSS_RULES = {"trapezoid": GaussTrapezoid, "hermite": GaussHermite}
# the largest rules a caller may ask for: the trapezoid's nodes are a linspace, Gauss–Hermite's and the truncated
# rule's come from an eigenproblem that grows as n^2; a nested average costs the product of its levels
#: The most nodes a rule of each kind may have.
MAX_NODES = {"trapezoid": 2**20, "hermite": 4096, "trunc": 4096}
#: The most integrand evaluations one nested average may cost.
MAX_COST = 2**40


@dataclass(frozen=True)
class Quadrature:
    """The rules a compiled model uses: ``gauss`` nodes of ``rule`` ('trapezoid' or 'hermite') for plain Gaussian
    averages, ``inner`` nodes of ``inner_rule`` for plain averages nested inside another average (default: as many,
    of the same rule), ``trunc`` Gauss–Laguerre nodes for truncated ones (and as many Gauss–Legendre nodes for their
    part between a negative truncation point and 0, for a declared boundary layer, and for uniform averages over
    [0, 1], i.e. Gaussian integrals over finite intervals), ``nest`` nodes of ``rule`` for the outermost average of a
    nest that holds a truncated or a uniform average (default: ``gauss``), and ``trunc_inner``
    nodes of ``trunc_inner_rule`` for plain averages inside a truncated one (default: as ``inner``).

    A nested average costs the product of its levels' nodes, and its inner integrands are often smoother than the
    outer ones (the outer measure carries the quenched disorder, e.g. the reference's tanh weight with its poles near
    the real axis): there a dozen Gauss–Hermite nodes do what 32 trapezoid nodes do. The nests with a truncated level
    are the costly ones (nest x trunc x trunc_inner points), and their outer integrand need not carry the other
    averages' sharp weights: in a Franz–Parisi energetic term it is smooth in the reference's field, which 48 nodes
    integrate to 1e-14 where the entropic term's tanh weight needs 128. Their inner levels are refined on their own:
    near q1 -> 1 the entropic term's inner average (ln 2cosh of a field of variance q1hat) needs 192-384 trapezoid
    nodes where the energetic one under the truncated average needs 24-96 (alpha = 0.6, d = 0.0015-0.0011)."""

    gauss: int = 128
    trunc: int = 64
    rule: str = "trapezoid"
    inner: int = None
    inner_rule: str = None
    nest: int = None
    trunc_inner: int = None
    trunc_inner_rule: str = None

    def __post_init__(self):
        if self.inner is None:
            object.__setattr__(self, "inner", self.gauss)
        if self.inner_rule is None:
            object.__setattr__(self, "inner_rule", self.rule)
        if self.nest is None:
            object.__setattr__(self, "nest", self.gauss)
        if self.trunc_inner is None:
            object.__setattr__(self, "trunc_inner", self.inner)
        if self.trunc_inner_rule is None:
            object.__setattr__(self, "trunc_inner_rule", self.inner_rule)
        for name in ("gauss", "trunc", "inner", "nest", "trunc_inner"):
            n = getattr(self, name)
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
                raise ValueError(f"quadrature {name} must be an integer >= 2 nodes, got {n!r}")
        for rule in (self.rule, self.inner_rule, self.trunc_inner_rule):
            if rule not in GAUSS_RULES:
                raise ValueError(f"unknown quadrature rule {rule!r}; allowed: {', '.join(GAUSS_RULES)}")

    def check_size(self):
        """Raise ValueError (naming the cap) where a level or the product of a nest's levels exceeds what a caller
        may ask for (:data:`~replica.solvers.quadrature.MAX_NODES`, :data:`~replica.solvers.quadrature.MAX_COST`);
        refinements made inside the solvers are not checked."""
        sizes = [(name, getattr(self, name), rule) for name, rule in
                 (("gauss", self.rule), ("inner", self.inner_rule), ("nest", self.rule),
                  ("trunc_inner", self.trunc_inner_rule), ("trunc", "trunc"))]
        for name, n, rule in sizes:
            if n > MAX_NODES[rule]:
                kind = "truncated-rule" if rule == "trunc" else f"{rule}"
                raise ValueError(f"quadrature {name}={n} nodes: at most {MAX_NODES[rule]} for a {kind} level")
        if self.cost > MAX_COST:
            raise ValueError(f"quadrature cost {self.cost} (the nodes of a nest's levels multiplied): at most "
                             f"{MAX_COST}")
        return self

    @lru_cache(maxsize=256)  # noqa: B019 (rules are few, immutable and small; a sweep asks for the same ones)
    def arrays(self):
        """The node arrays in the order compiled functions take them."""
        rule, inner = GAUSS_RULES[self.rule], GAUSS_RULES[self.inner_rule]
        return (*rule(self.gauss).nodes(), *TruncatedGaussLaguerre(self.trunc).nodes(), *inner(self.inner).nodes(),
                *GaussLegendre(self.trunc).nodes(), *rule(self.nest).nodes(),
                *GAUSS_RULES[self.trunc_inner_rule](self.trunc_inner).nodes())

    LEVELS = ("gauss", "trunc", "inner", "nest", "trunc_inner")

    @lru_cache(maxsize=256)  # noqa: B019
    def doubled(self, levels=None):
        """Twice the nodes of ``levels`` (default: every level; the truncated rule at most ``MAX_TRUNC``: it
        converges fast, and its Golub–Welsch eigenproblem grows as n^2)."""
        levels = self.LEVELS if levels is None else levels
        twice = {level: 2 * getattr(self, level) for level in levels}
        if "trunc" in twice:
            twice["trunc"] = min(twice["trunc"], max(self.trunc, MAX_TRUNC))
        return replace(self, **twice)

    @lru_cache(maxsize=256)  # noqa: B019
    def refined(self, levels=None):
        """The rule an adaptive refinement moves to: :meth:`doubled`, except that a Gauss–Hermite inner level becomes
        the trapezoid with four times its nodes. Gauss–Hermite is the economical choice while the inner integrands
        are smooth (at the base rule), but converges slowly once they sharpen (ln H near q -> 1), where the
        trapezoid converges geometrically: at alpha = 0.6, d = 0.002 from a typical reference, 64 trapezoid nodes
        agree with 192 Gauss–Hermite nodes to 7e-11."""
        levels = self.LEVELS if levels is None else levels
        finer = self.doubled(levels)
        for level in ("inner", "trunc_inner"):
            if level in levels and getattr(self, level + "_rule") == "hermite":
                finer = replace(finer, **{level: 4 * getattr(self, level), level + "_rule": "trapezoid"})
        return finer

    @property
    def cost(self):
        """The nodes of the levels of the deepest nest multiplied: how the cost of a nested average grows with the
        rule."""
        return max(self.gauss, self.nest) * self.trunc * max(self.inner, self.trunc_inner)

    @lru_cache(maxsize=256)  # noqa: B019
    def refinement_cap(self, max_nodes):
        """The largest cost a refinement from this rule may reach: twice that of refining every level
        (:meth:`refined`) until the outer one has ``max_nodes`` (refining only the levels that need it buys more
        accuracy per node: near q -> 1 the truncated and inner levels need a doubling more than the outer one); this
        rule's own cost, i.e. no refinement, where ``max_nodes`` is not above its outer nodes."""
        if self.gauss >= max_nodes:
            return self.cost
        rule = self
        while rule.gauss < max_nodes:
            rule = rule.refined()
        return 2 * rule.cost

    def as_dict(self):
        return {"gauss": self.gauss, "trunc": self.trunc, "rule": self.rule, "inner": self.inner,
                "inner_rule": self.inner_rule, "nest": self.nest, "trunc_inner": self.trunc_inner,
                "trunc_inner_rule": self.trunc_inner_rule}

    def __str__(self):
        """The rule as one line of text, e.g. 'gauss=128 trunc=32 rule=trapezoid inner=12 inner_rule=hermite nest=64'
        (a sweep's ``quadrature`` column; :meth:`from_text` reads it back)."""
        return " ".join(f"{k}={v}" for k, v in self.as_dict().items())

    @classmethod
    def from_text(cls, text):
        fields = dict(item.split("=", 1) for item in text.split())
        return cls(**{k: v if k.endswith("rule") else int(v) for k, v in fields.items()})

"""Declaring a replica free entropy once, and deriving everything else from it with sympy.

A :class:`FreeEntropy` holds order parameters (with their domains), control parameters (with their allowed ranges),
the pairing of order parameters with their conjugates, the free entropy phi as a sympy expression (in which Gaussian
averages are :class:`~replica.equations.vocabulary.Average` objects) and named observables. From it, sympy derives:

* the stationarity equations, written as residuals ``r_x`` that vanish at the saddle point. When phi couples x and its
  conjugate x̂ linearly, d phi/d x̂ is linear in x and is normalized to ``r_x = x - F_x(...)``; the fixed-point map is
  then ``x <- F_x``. An order parameter without such a partner has ``r_x = d phi/d x``.
* their Jacobian with respect to every symbol (order parameters *and* control parameters, so a solver can exchange the
  roles of a parameter and an order parameter, or predict along a sweep);
* the observables (phi itself is the first, ``entropy``), each with its gradient with respect to every symbol, so that
  "observable = target" can be added to the equations (thresholds such as phi = 0 or lambda_AT = 1).

Nothing here is written by hand per model: a model is only its declaration.
"""
from dataclasses import dataclass, field

import sympy as sp

from .vocabulary import Average, IidAverage, UnitAverage, derivative

__all__ = ["Symbol", "FreeEntropy"]


@dataclass(frozen=True)
class Symbol:
    """An order parameter or a control parameter with its allowed range (a sympy Interval) and a short description."""

    symbol: sp.Symbol
    domain: sp.Interval = sp.S.Reals
    doc: str = ""

    @property
    def name(self):
        return self.symbol.name


@dataclass
class FreeEntropy:
    """A replica free entropy phi(order parameters; control parameters), declared symbolically.

    Parameters
    ----------
    name : str
        Label used in messages and for the compiled module.
    phi : sympy expression
        The free entropy (its saddle point is what is solved for).
    order : list of Symbol
        Order parameters and conjugates, in solver order, each with its domain.
    params : list of Symbol
        Control parameters, each with its allowed range.
    pairs : dict
        ``{x: xhat}``: order parameters coupled linearly to a conjugate. Gives the fixed-point form.
    observables : dict
        Name -> expression in the order parameters and control parameters (phi itself is added first, named
        ``phi_name``).
    phi_name : str
        What phi is called among the observables: ``entropy`` (default) where phi is the entropy of the counted
        configurations; a large-deviation free entropy is ``free_entropy`` and its ``entropy`` is a derivative.
    """

    name: str
    phi: sp.Expr
    order: list
    params: list
    pairs: dict = field(default_factory=dict)
    observables: dict = field(default_factory=dict)
    phi_name: str = "entropy"

    def __post_init__(self):
        self.observables = {self.phi_name: self.phi, **self.observables}
        known = set(self.symbols)
        for what, expr in [("phi", self.phi), *self.observables.items()]:
            stray = sp.sympify(expr).free_symbols - known
            if stray:
                raise ValueError(f"{self.name}: {what} uses undeclared symbols {sorted(map(str, stray))}")
        order_syms = set(self.order_symbols)
        for x, xh in self.pairs.items():
            if x not in order_syms or xh not in order_syms:
                raise ValueError(f"{self.name}: pair ({x}, {xh}) is not made of declared order parameters")

    # ----- bookkeeping -------------------------------------------------------------------------------------------
    @property
    def order_symbols(self):
        return [s.symbol for s in self.order]

    @property
    def param_symbols(self):
        return [s.symbol for s in self.params]

    @property
    def symbols(self):
        """All inputs of the compiled functions, in order: order parameters, then control parameters."""
        return self.order_symbols + self.param_symbols

    def key(self):
        """A text that identifies the declaration (for the compiled-module cache)."""
        parts = [self.name, sp.srepr(self.phi), repr([(s.name, str(s.domain)) for s in self.order + self.params]),
                 repr(sorted((str(a), str(b)) for a, b in self.pairs.items()))]
        parts += [f"{k}={sp.srepr(v)}" for k, v in self.observables.items()]
        return "\n".join(parts)

    def partner(self, x):
        for a, b in self.pairs.items():
            if x == a:
                return b
            if x == b:
                return a
        return None

    # ----- derivations -------------------------------------------------------------------------------------------
    def stationarity(self):
        """Residuals (one per order parameter) and, per order parameter, whether it has a fixed-point form."""
        residuals, linear = [], []
        for x in self.order_symbols:
            y = self.partner(x)
            if y is not None:
                eq = derivative(self.phi, y)
                c = derivative(eq, x)
                if c != 0 and x not in c.free_symbols and not c.has(sp.Derivative):
                    residuals.append(eq / c)
                    linear.append(True)
                    continue
            # without a fixed-point form, still d phi/d partner: the partner's slot may hold d phi/d x (normalized)
            residuals.append(eq if y is not None else derivative(self.phi, x))
            linear.append(False)
        return residuals, linear

    def bundles(self):
        """Every expression list the solvers need, keyed by compiled-function name."""
        res, linear = self.stationarity()
        out = {
            # phi, the residuals and the other observables in one pass: they share their averages, so together they
            # cost little more than phi and the residuals alone, and one function compiles in much less time than
            # two (System.call reads each part off it)
            "values": [self.phi] + res + list(self.observables.values())[1:],
            # Newton's Jacobian in the order parameters, and apart from it the parameter columns, which only a solve
            # with a parameter among its unknowns (a threshold) needs: a sweep's Newton steps skip them
            "res_jac": res + [derivative(r, s) for r in res for s in self.order_symbols],
            "res_dpar": [derivative(r, s) for r in res for s in self.param_symbols],
        }
        for k, expr in enumerate(self.observables.values()):  # value and gradient: thresholds observable = target
            out[f"obs_grad_{k}"] = [expr] + [derivative(expr, s) for s in self.symbols]
        if all(linear):
            out["fp"] = [x - r for x, r in zip(self.order_symbols, res)]
        return out

    def latex(self):
        """The free entropy and its derived saddle-point equations (simplified for display), as LaTeX lines."""
        res, linear = self.stationarity()
        lines = [r"\phi = " + sp.latex(self.phi)]
        for x, r, lin in zip(self.order_symbols, res, linear):
            if lin:
                lines.append(sp.latex(x) + " = " + sp.latex(_tidy(x - r)))
            else:
                lines.append(r"0 = \partial_{%s}\phi = " % sp.latex(x) + sp.latex(_tidy(r)))
        return lines


def _tidy(expr):
    """Simplify the integrand of every average, and the expression itself where it has no average."""
    expr = expr.replace(lambda e: isinstance(e, Average),
                        lambda a: Average(sp.simplify(a.integrand), a.variable, a.lower, a.layer))
    expr = expr.replace(lambda e: isinstance(e, IidAverage),
                        lambda a: IidAverage(sp.simplify(a.integrand), a.variables))
    return expr if expr.has(Average, IidAverage, UnitAverage) else sp.simplify(expr)

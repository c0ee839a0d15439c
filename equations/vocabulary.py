"""The symbolic vocabulary of replica free entropies.

Special functions with their derivative rules, and Gaussian averages as sympy objects whose derivative is the average of
the derivative. Everything a model needs to write its free entropy like the paper's formula, and everything code
generation needs to turn it into quadrature loops.

Conventions: Dz is the standard Gaussian measure, ``G(x) = exp(-x**2/2)/sqrt(2*pi)``, ``H(x) = erfc(x/sqrt(2))/2``
(the Gaussian tail), ``GH(x) = G(x)/H(x)`` (inverse Mills ratio), ``logH(x) = log H(x)``,
``log2cosh(x) = log(2*cosh(x))``, ``logaddexp(a, b) = log(exp(a) + exp(b))``, ``logsumexp(a, b, ...)`` (any number of
terms), ``expit(x) = 1/(1 + exp(-x))``.
"""
import functools

import sympy as sp
from sympy.core.function import ArgumentIndexError

__all__ = ["G", "H", "logH", "GH", "log2cosh", "logaddexp", "logsumexp", "expit", "Average", "E", "E_trunc",
           "UnitAverage", "gauss_integral", "IidAverage", "E_iid", "AtMax", "Max", "Split", "SPECIAL_FUNCTIONS",
           "derivative"]


def derivative(expr, s):
    """d expr / d s: the rules of sympy's ``diff`` (sum, product, power, the chain rule through each function's
    ``fdiff``, each average's own rule below), applied once per node, with the derivatives and free symbols of
    repeated subexpressions shared. sympy's ``diff`` canonicalizes its whole result again at every level it
    descends, which costs a walk of the result per node: quadratic in the depth of averages nested in averages."""
    return _derivative(sp.sympify(expr), s)


@functools.lru_cache(maxsize=1 << 16)
def _free_symbols(expr):
    return expr.free_symbols


@functools.lru_cache(maxsize=1 << 16)
def _derivative(expr, s):
    if expr == s:
        return sp.S.One
    if s not in _free_symbols(expr):
        return sp.S.Zero
    if expr.is_Add:
        return sp.Add(*[_derivative(a, s) for a in expr.args])
    if expr.is_Mul:
        args = expr.args
        return sp.Add(*[sp.Mul(*args[:i], d, *args[i + 1:])
                        for i, d in enumerate(_derivative(a, s) for a in args) if d != 0])
    if expr.is_Pow:
        base, exponent = expr.args
        d_base, d_exponent = _derivative(base, s), _derivative(exponent, s)
        return exponent * base ** (exponent - 1) * d_base + expr * sp.log(base) * d_exponent
    if isinstance(expr, sp.Function) and type(expr).fdiff is not sp.Function.fdiff:  # its own derivative rule
        terms = []
        for i, a in enumerate(expr.args, 1):
            d = _derivative(a, s)
            if d != 0:
                try:
                    terms.append(expr.fdiff(i) * d)
                except ArgumentIndexError:
                    return expr.diff(s)
        return sp.Add(*terms)
    if isinstance(expr, (_OneVariable, IidAverage, AtMax)):
        return expr._eval_derivative(s)
    return expr.diff(s)


class G(sp.Function):
    """Standard Gaussian density G(x) = exp(-x^2/2)/sqrt(2 pi)."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return -x * G(x)

    def _latex(self, printer, exp=None):
        return _power(r"G\!\left(%s\right)" % printer._print(self.args[0]), exp)


class H(sp.Function):
    """Gaussian tail H(x) = int_x^inf Dz = erfc(x/sqrt 2)/2."""

    nargs = 1

    def fdiff(self, argindex=1):
        return -G(self.args[0])

    def _latex(self, printer, exp=None):
        return _power(r"H\!\left(%s\right)" % printer._print(self.args[0]), exp)


class GH(sp.Function):
    """Inverse Mills ratio GH(x) = G(x)/H(x); d/dx GH = GH (GH - x)."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return GH(x) * (GH(x) - x)

    def _latex(self, printer, exp=None):
        return _power(r"\frac{G}{H}\!\left(%s\right)" % printer._print(self.args[0]), exp)


class logH(sp.Function):
    """log H(x), accurate on the whole real line; d/dx log H = -GH."""

    nargs = 1

    def fdiff(self, argindex=1):
        return -GH(self.args[0])

    def _latex(self, printer, exp=None):
        return _power(r"\ln H\!\left(%s\right)" % printer._print(self.args[0]), exp)


class log2cosh(sp.Function):
    """log(2 cosh x); d/dx = tanh x."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.tanh(self.args[0])

    def _latex(self, printer, exp=None):
        return _power(r"\ln 2\cosh\!\left(%s\right)" % printer._print(self.args[0]), exp)


class expit(sp.Function):
    """Logistic function 1/(1+exp(-x))."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return expit(x) * (1 - expit(x))


class logaddexp(sp.Function):
    """log(exp(a) + exp(b)) without overflow or underflow."""

    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args
        return expit(a - b) if argindex == 1 else expit(b - a)

    def _latex(self, printer, exp=None):
        a, b = (printer._print(x) for x in self.args)
        return _power(r"\ln\left(e^{%s} + e^{%s}\right)" % (a, b), exp)


class logsumexp(sp.Function):
    """log(exp(a_1) + ... + exp(a_n)) without overflow or underflow; d/da_i = exp(a_i - logsumexp) (the softmax)."""

    def fdiff(self, argindex=1):
        return sp.exp(self.args[argindex - 1] - self)

    def _latex(self, printer, exp=None):
        return _power(r"\ln\left(%s\right)" % " + ".join("e^{%s}" % printer._print(a) for a in self.args), exp)


class Split(sp.Function):
    """A split point x of an average, whose derivative is declared 0.

    For an average split at x into pieces whose integrands agree at x in value and in their first derivative with
    respect to every parameter (a constrained maximum meeting the unconstrained one, say), moving x changes the sum
    only at second order in the move: the first and second derivatives of the sum are those taken with x held fixed.
    Wrapping x in ``Split`` says so (it is the declaration's promise, as for :class:`AtMax`); derivatives then skip
    the boundary terms, and code generation reads ``Split(x)`` as x."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.S.Zero


def _power(tex, exp):
    return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


SPECIAL_FUNCTIONS = (G, H, GH, logH, log2cosh, expit, logaddexp, logsumexp)


def _expand_top(expr):
    """Distribute products over sums at the top level only, so that every additive term is a product."""
    return sp.expand(expr, deep=False, power_exp=False, power_base=False, log=False, multinomial=False)


class _OneVariable(sp.Expr):
    """An integral over one bound variable: ``args = (integrand, variable, ...)``."""

    is_commutative = True

    @property
    def integrand(self):
        return self.args[0]

    @property
    def variable(self):
        return self.args[1]

    def _eval_subs(self, old, new):
        if old == self.variable:
            return self
        return None


class Average(_OneVariable):
    """Average of ``expr`` over ``var`` ~ N(0, 1), optionally conditioned on ``var > lower`` (normalized).

    ``Average(f, z)`` is int Dz f(z); ``Average(f, x, a)`` is (1/H(a)) int_a^inf Dx f(x). An average may carry a
    ``layer``: where f varies on a scale w much shorter than the Gaussian's (a boundary layer), a hint to the
    quadrature, not part of the value. For a truncated average it is the width w of the layer just above the
    truncation point (see :func:`E_trunc`); for a plain one the pair ``(c, w)``, the layer's centre and width (see
    :func:`E`). Averages nest, and ``log(Average(...))`` is a large-deviation term. The derivative with respect to
    any other symbol is the average of the derivative (plus the boundary term when ``lower`` depends on it; the
    layer is carried along). For the plain Gaussian measure, terms proportional to ``var`` are integrated by parts
    (E[z f(z)] = E[f'(z)]), which removes the 1/sqrt(qhat) singularities of derivatives of sqrt(qhat)*z at qhat = 0.
    """

    def __new__(cls, expr, var, lower=sp.S.NegativeInfinity, layer=None):
        expr, lower = sp.sympify(expr), sp.sympify(lower)
        if not isinstance(var, sp.Symbol):
            raise TypeError("the averaged variable must be a sympy Symbol")
        if var in lower.free_symbols:
            raise ValueError("the truncation point cannot depend on the averaged variable")
        if var not in expr.free_symbols:
            return expr  # the measure is normalized
        if layer is None:
            return sp.Expr.__new__(cls, expr, var, lower)
        if lower == sp.S.NegativeInfinity:
            if not (isinstance(layer, (tuple, list, sp.Tuple)) and len(layer) == 2):
                raise ValueError("a plain average's boundary layer is a pair (centre, width)")
            layer = sp.Tuple(*map(sp.sympify, layer))
        else:
            layer = sp.sympify(layer)
            if isinstance(layer, sp.Tuple):
                raise ValueError("a truncated average's boundary layer is a width (it sits at the truncation point)")
        if var in layer.free_symbols:
            raise ValueError("the layer cannot depend on the averaged variable")
        return sp.Expr.__new__(cls, expr, var, lower, layer)

    @property
    def lower(self):
        return self.args[2]

    @property
    def layer(self):
        return self.args[3] if len(self.args) > 3 else None

    @property
    def truncated(self):
        return self.lower != sp.S.NegativeInfinity

    @functools.cached_property  # an average is immutable; its integrand may be a large tree
    def free_symbols(self):
        layer = self.layer.free_symbols if self.layer is not None else set()
        return (self.integrand.free_symbols - {self.variable}) | self.lower.free_symbols | layer

    def _eval_derivative(self, s):
        f, z, a = self.integrand, self.variable, self.lower
        df = derivative(f, s)
        if not self.truncated:
            df = sp.Add(*[_stein(t, z) for t in sp.Add.make_args(_expand_top(df))])
        result = Average(df, z, a, self.layer)
        da = derivative(a, s) if self.truncated else 0
        if da != 0:
            result += da * GH(a) * (self - f.subs(z, a))
        return result

    def _latex(self, printer, exp=None):
        z = printer._print(self.variable)
        sub = z if not self.truncated else r"%s > %s" % (z, printer._print(self.lower))
        return _power(r"\mathbb{E}_{%s}\left[%s\right]" % (sub, printer._print(self.integrand)), exp)


def _stein(term, z):
    """Gaussian integration by parts of one additive term: z*f(z) -> f'(z) under the average over z."""
    factors = list(sp.Mul.make_args(term))
    if z not in factors:
        return term
    factors.remove(z)
    return derivative(sp.Mul(*factors), z)


def E(expr, var, layer=None):
    """int Dvar expr: the average over a standard Gaussian variable.

    ``layer=(c, w)``: where ``expr`` turns on a scale w (an expression, free of ``var``) around var = c and is smooth
    on either side (a boundary layer, e.g. ln H((kappa - sqrt(q) z)/sqrt(1-q)) near q -> 1: c = kappa/sqrt(q),
    w = sqrt((1-q)/q)), the quadrature splits the Gaussian at c and spends its own nodes on the layer when it is
    narrow (the code generator, ``replica.solvers.codegen``). The value does not depend on it."""
    return Average(expr, var, sp.S.NegativeInfinity, layer)


def E_trunc(expr, var, lower, layer=None):
    """(1/H(lower)) int_lower^inf Dvar expr: the average over a Gaussian variable conditioned on var > lower.

    ``layer``: where ``expr`` varies on a scale w (an expression, free of ``var``) just above ``lower`` and little
    beyond a few w (a boundary layer, e.g. ln H(u/sqrt(1-q)) near q -> 1), the quadrature spends its own nodes on
    that layer (the code generator, ``replica.solvers.codegen``). The value does not depend on it."""
    return Average(expr, var, lower, layer)


class UnitAverage(_OneVariable):
    """int_0^1 du f(u): the mean over a uniform variable on [0, 1], compiled on the Gauss–Legendre rule (the
    quadrature's ``trunc`` level). Through :func:`gauss_integral` it carries Gaussian integrals over finite intervals
    whose end points depend on other variables (a piecewise definition integrated piece by piece, split at its kinks).
    Derivatives average the derivative: the limits are fixed."""

    def __new__(cls, expr, var):
        expr = sp.sympify(expr)
        if not isinstance(var, sp.Symbol):
            raise TypeError("the averaged variable must be a sympy Symbol")
        if var not in expr.free_symbols:
            return expr
        return sp.Expr.__new__(cls, expr, var)

    @functools.cached_property  # an average is immutable; its integrand may be a large tree
    def free_symbols(self):
        return self.integrand.free_symbols - {self.variable}

    def _eval_derivative(self, s):
        return UnitAverage(derivative(self.integrand, s), self.variable)

    def _latex(self, printer, exp=None):
        return _power(r"\int_0^1 d%s\,%s" % (printer._print(self.variable), printer._print(self.integrand)), exp)


def gauss_integral(expr, var, lower, upper):
    """int_lower^upper Dvar expr (lower <= upper, both free of ``var``): the Gaussian integral over a finite interval,
    written as the mean over u in [0, 1] of (upper - lower) G(var) expr at var = lower + (upper - lower) u (a
    :class:`UnitAverage` over a symbol named after ``var``), so that its derivatives need no boundary terms.
    Gauss–Legendre in var converges geometrically where ``expr`` is smooth on the interval (put the ends at the
    kinks): the Gaussian weight is entire, also in the tails, where a map through the Gaussian's mass would crowd the
    nodes at the heavy end and converge only algebraically on integrands that grow towards the light one."""
    u = sp.Symbol(f"u_{var.name}")
    lower, upper = sp.sympify(lower), sp.sympify(upper)
    at = lower + (upper - lower) * u
    return UnitAverage((upper - lower) * G(at) * sp.sympify(expr).xreplace({var: at}), u)


class IidAverage(sp.Expr):
    """Average of ``expr`` over K independent standard Gaussian variables, for ``expr`` symmetric under every
    permutation of them: int Dz_1 ... Dz_K f(z_1, ..., z_K).

    Compiled as a product rule over the multisets of nodes only (i_1 <= ... <= i_K, each weighted by its number of
    orderings): N^K / K! evaluations instead of N^K. The symmetry is the declaration's promise (it is what tree
    architectures give: K hidden units on disjoint inputs, summed over their internal representations). Derivatives
    average the derivative; a term with exactly one of the variables as a factor is integrated by parts in it
    (E[z f] = E[f']), which keeps the derivative symmetric.
    """

    is_commutative = True

    def __new__(cls, expr, variables):
        expr, variables = sp.sympify(expr), sp.Tuple(*variables)
        if not variables or not all(isinstance(z, sp.Symbol) for z in variables) or len(set(variables)) < len(
                variables):
            raise TypeError("the averaged variables must be distinct sympy Symbols")
        if not set(variables) & expr.free_symbols:
            return expr
        return sp.Expr.__new__(cls, expr, variables)

    @property
    def integrand(self):
        return self.args[0]

    @property
    def variables(self):
        return tuple(self.args[1])

    @functools.cached_property  # an average is immutable; its integrand may be a large tree
    def free_symbols(self):
        return self.integrand.free_symbols - set(self.variables)

    def _eval_subs(self, old, new):
        if old in self.variables:
            return self
        return None

    def _eval_derivative(self, s):
        zs = self.variables
        df = sp.Add.make_args(_expand_top(derivative(self.integrand, s)))
        return IidAverage(sp.Add(*[_stein_one(t, zs) for t in df]), zs)

    def _latex(self, printer, exp=None):
        zs = ",".join(printer._print(z) for z in self.variables)
        return _power(r"\mathbb{E}_{%s}\left[%s\right]" % (zs, printer._print(self.integrand)), exp)


def _stein_one(term, zs):
    """Integration by parts of a term with exactly one variable of ``zs`` among its factors (once)."""
    hits = [z for z in sp.Mul.make_args(term) if z in zs]
    return _stein(term, hits[0]) if len(hits) == 1 else term


def E_iid(expr, variables):
    """int Dz_1 ... Dz_K expr, for ``expr`` symmetric in the K ``variables`` (see :class:`IidAverage`)."""
    return IidAverage(expr, variables)


class AtMax(sp.Expr):
    """``g`` evaluated at the maximizer u* of ``f`` over the auxiliary variable ``u``: g(u*), u* = argmax_u f(u).

    ``Max(f, u, start)`` = max_u f(u) is ``AtMax(f, f, u, start)``. Maxima over an auxiliary variable appear in
    large-deviation limits: ln int Du exp(y f(u)) ~ y max_u [f(u) - u^2/2] as y -> infinity. Derivatives follow the
    implicit-function theorem, d/ds g(u*(s), s) = g_s - g_u f_us / f_uu at u*; for g = f this is the envelope theorem
    (f_u = 0 at u*), so the derivative of a maximum is the maximum's partial derivative.

    u* is found numerically by Newton ascent from ``start``, with steps u <- u + f_u where f is not concave there
    (for f = -u^2/2 + c(u) with c convex this is the ascent step u <- c'(u)). The declaration must make the maximum
    reached from ``start`` the global one: f concave in u, or a start on the side of the global maximum.
    ``g`` splits over sums and pulls out factors free of u, so that Gaussian integration by parts sees them.
    """

    is_commutative = True

    def __new__(cls, g, f, u, start=0):
        g, f, start = sp.sympify(g), sp.sympify(f), sp.sympify(start)
        if not isinstance(u, sp.Symbol):
            raise TypeError("the maximized variable must be a sympy Symbol")
        for e in (g, f, start):
            if e.has(Average, IidAverage, UnitAverage, AtMax):
                raise ValueError("a maximum cannot contain an average or another maximum")
        if u not in g.free_symbols:
            return g
        if g != f:
            if g.is_Add:
                return sp.Add(*[AtMax(t, f, u, start) for t in g.args])
            if g.is_Mul:
                free, dep = g.as_independent(u, as_Add=False)
                if free != 1:
                    return free * AtMax(dep, f, u, start)
        return sp.Expr.__new__(cls, g, f, u, start)

    @functools.cached_property  # an average is immutable; its integrand may be a large tree
    def free_symbols(self):
        g, f, u, start = self.args
        return (g.free_symbols | f.free_symbols | start.free_symbols) - {u}

    def _eval_subs(self, old, new):
        if old == self.args[2]:
            return self
        return None

    def _eval_derivative(self, s):
        g, f, u, start = self.args
        if g == f:
            return AtMax(derivative(f, s), f, u, start)
        f_u = derivative(f, u)
        return AtMax(derivative(g, s) - derivative(g, u) * derivative(f_u, s) / derivative(f_u, u), f, u, start)

    def _latex(self, printer, exp=None):
        g, f, u, _ = self.args
        uu = printer._print(u)
        if g == f:
            return _power(r"\max_{%s}\left[%s\right]" % (uu, printer._print(f)), exp)
        return _power(r"\left.%s\right|_{%s = \arg\max %s}" % (printer._print(g), uu, printer._print(f)), exp)


def Max(f, u, start=0):
    """max over ``u`` of ``f`` (found by Newton ascent from ``start``; see :class:`AtMax`)."""
    return AtMax(f, f, u, start)

"""High-precision re-evaluation of symbolic expressions with mpmath (for verification, not speed).

Averages are integrated with mpmath's tanh-sinh quadrature at the working precision; special functions use mpmath's
erfc. Use it to check any compiled number: ``phi(model, point)`` re-evaluates the free entropy at a solved point.

Nested averages of three levels are beyond tanh-sinh's budget. For them ``quadrature=`` evaluates the averages on the
compiled model's own rule (the same nodes, weights and truncated-average maps, see
``replica.solvers.codegen._Emitter.level``) in mpmath arithmetic: the difference from the compiled number is then
rounding, the float special functions and code generation, while node doubling bounds the rule's own error.
"""
import itertools
import math
from functools import lru_cache

import mpmath as mp
import sympy as sp

from replica.equations import vocabulary as voc
from replica.solvers import special as _sp
from replica.solvers.codegen import LAYER_MAX, LAYER_SPAN, heads_nest

__all__ = ["evaluate", "phi"]


EDGE = 40


def _H(x):
    return mp.erfc(x / mp.sqrt(2)) / 2


def _logH(x):
    return mp.log(_H(x)) if x >= 0 else mp.log1p(-_H(-x))


_FUNCS = {
    voc.G: mp.npdf,
    voc.H: _H,
    voc.GH: lambda x: mp.npdf(x) / _H(x),
    voc.logH: _logH,
    voc.log2cosh: lambda x: abs(x) + mp.log1p(mp.exp(-2 * abs(x))),
    voc.expit: lambda x: 1 / (1 + mp.exp(-x)),
    voc.logaddexp: lambda a, b: max(a, b) + mp.log1p(mp.exp(-abs(a - b))),
    voc.logsumexp: lambda *xs: max(xs) + mp.log(mp.fsum(mp.exp(x - max(xs)) for x in xs)),
    voc.Split: lambda x: x,
    sp.exp: mp.exp, sp.log: mp.log, sp.tanh: mp.tanh, sp.cosh: mp.cosh, sp.sinh: mp.sinh,
    sp.Abs: abs, sp.Min: min, sp.Max: max,
}


def evaluate(expr, env, dps=30, quadrature=None):
    """Value of a sympy expression (with averages) at ``env`` (Symbol -> number), to ``dps`` digits; averages by
    tanh-sinh, or on the rules of a :class:`~replica.solvers.quadrature.Quadrature` (see the module docstring)."""
    with mp.workdps(dps):
        rules = None if quadrature is None else [[mp.mpf(float(x)) for x in a] for a in quadrature.arrays()]
        return _eval(sp.sympify(expr), {k: mp.mpf(v) for k, v in env.items()}, rules)


@lru_cache(maxsize=65536)
def _tail_inverse(a, y, dps):
    """The x >= a with H(x) = H(a) e^{-y} (the compiled upper-tail map), from the compiled value by the secant
    method on ln H at the working precision ``dps`` (part of the cache key: the map at 0 is the same for every outer
    node, and is found once)."""
    target = _logH(a) - y
    return mp.findroot(lambda x: _logH(x) - target, _sp.tail_inverse(float(a), float(y)))


def _gaussian_rule(e, rules, nested):
    """The (nodes, weights) of the compiled Gaussian rule a plain or i.i.d. average ``e`` runs on: the trunc_inner or
    inner rule when nested, the nest rule at the head of a nest, else the outer one."""
    gx, gw, _, _, ix, iw, _, _, nx, nw, jx, jw = rules
    if nested:
        return (jx, jw) if nested == "trunc_inner" else (ix, iw)
    return (nx, nw) if heads_nest(e) else (gx, gw)


def _on_rule(e, a, env, rules, nested):
    """The compiled rule's value of the average ``e``, E_z f (a is None) or E_{z>a} f, in mpmath arithmetic;
    ``nested`` is False for an outermost average, "inner" inside a plain one, "trunc_inner" inside a truncated one."""
    f, z = e.integrand, e.variable
    tx, tw, lx, lw = rules[2], rules[3], rules[6], rules[7]
    within = "trunc_inner" if a is not None or nested == "trunc_inner" else "inner"  # the rule of averages inside

    def total(nodes, weights):
        return mp.fsum(w * _eval(f, {**env, z: x}, rules, within) for x, w in zip(nodes, weights))

    def segment(lo, hi):  # int_lo^hi Dx f on the Gauss-Legendre nodes
        xs = [lo + (hi - lo) * (1 + t) / 2 for t in lx]
        return total(xs, [(hi - lo) * mp.npdf(x) * w for x, w in zip(xs, lw)])

    if a is None and e.layer is not None:  # the compiled composite rule at a narrow layer (codegen's split_at_layer)
        c, w = (_eval(x, env, rules, nested) for x in e.layer)
        span = LAYER_SPAN * w
        t = min(max((span - LAYER_MAX) / LAYER_MAX, 0), 1)
        blend = t * t * (3 - 2 * t)
        value = 0
        if blend < 1:
            edge = mp.mpf(_sp.GAUSS_EDGE)
            points = [-edge] + [min(max(x, -edge), edge) for x in (c - span, c, c + span)] + [edge]
            composite = mp.fsum(segment(a_, b_) for a_, b_ in zip(points[:-1], points[1:]))
            value += (1 - blend) * composite
        if blend > 0:
            value += blend * total(*_gaussian_rule(e, rules, nested))
        return value
    if a is None:
        return total(*_gaussian_rule(e, rules, nested))

    def upper(a):  # E_{x>a} f: the tail rule, below 0 with the segment [max(a, -10), 0]
        if a >= 0:
            return total([_tail_inverse(a, y, mp.mp.dps) for y in tx], tw)
        return (segment(max(a, -_sp.GAUSS_EDGE), 0) + upper(mp.mpf(0)) / 2) / _H(a)

    span = None if e.layer is None else LAYER_SPAN * _eval(e.layer, env, rules, nested)
    if span is None or not span < LAYER_MAX:
        return upper(a)
    return (segment(a, a + span) + _H(a + span) * upper(a + span)) / _H(a)


def _eval(e, env, rules=None, nested=False):
    if isinstance(e, voc.Average):
        f, z, lower = e.integrand, e.variable, e.lower
        a = None if lower == sp.S.NegativeInfinity else _eval(lower, env, rules, nested)
        if rules is not None:
            return _on_rule(e, a, env, rules, nested)

        def integrand(t):
            return mp.npdf(t) * _eval(f, {**env, z: t})

        # the Gaussian mass beyond |t| = 40 is 1e-349: cut there, where integrands lose every digit to cancellation
        # (ln H of arguments ~ 1e6 and its derivatives) and contribute nothing at any working precision up to 300
        if a is None:
            points = {-EDGE, -4, 0, 4, EDGE}
            if e.layer is not None:  # breakpoints in the boundary layer: at its centre and a few widths around it
                c, w = (_eval(x, env) for x in e.layer)
                points |= {x for x in (c - 4 * w, c - w, c, c + w, c + 4 * w) if -EDGE < x < EDGE}
            return mp.quad(integrand, sorted(points))
        top = max(a, 0) + EDGE
        layer = [] if e.layer is None else [a + k * _eval(e.layer, env) for k in (1, 4)]  # breakpoints in it
        return mp.quad(integrand, sorted({a, *(x for x in layer if a < x < top), a + 4, top})) / _H(a)
    if isinstance(e, voc.UnitAverage):  # on the Gauss-Legendre rule, or by tanh-sinh
        f, u = e.integrand, e.variable
        if rules is not None:
            lx, lw = rules[6], rules[7]
            return mp.fsum(w * _eval(f, {**env, u: (1 + t) / 2}, rules, nested) for t, w in zip(lx, lw))
        return mp.quad(lambda t: _eval(f, {**env, u: t}), [0, 1])
    if isinstance(e, voc.IidAverage) and rules is not None:  # the compiled multiset rule, in the same variable order
        f, zs = e.integrand, e.variables
        xs, ws = _gaussian_rule(e, rules, nested)
        within = nested if nested == "trunc_inner" else "inner"
        total = []
        for idx in itertools.combinations_with_replacement(range(len(xs)), len(zs)):
            orderings = math.factorial(len(zs)) // math.prod(math.factorial(idx.count(i)) for i in set(idx))
            weight = orderings * mp.fprod(ws[i] for i in idx)
            total.append(weight * _eval(f, {**env, **{z: xs[i] for z, i in zip(zs, idx)}}, rules, within))
        return mp.fsum(total)
    if isinstance(e, voc.IidAverage):  # nested one-dimensional quadratures: costly beyond two variables
        f, zs = e.integrand, e.variables
        for z in reversed(zs[1:]):
            f = voc.Average(f, z)
        return _eval(voc.Average(f, zs[0]), env, rules, nested)
    if isinstance(e, voc.AtMax):
        g, f, u, start = e.args
        f_u = f.diff(u)
        f_uu = f_u.diff(u)
        t = _eval(start, env, rules, nested)
        fv = _eval(f, {**env, u: t}, rules, nested)
        tiny = mp.mpf(10) ** (-(2 * mp.mp.dps) // 3)  # the value errs by step^2: far below the working precision
        for _ in range(200):  # Newton with the compiled ascent's gradient fallback and step halving
            at = {**env, u: t}
            d1, d2 = _eval(f_u, at, rules, nested), _eval(f_uu, at, rules, nested)
            step = -d1 / d2 if d2 < 0 else d1
            for _ in range(200):
                fn = _eval(f, {**env, u: t + step}, rules, nested)
                if fn >= fv or abs(step) < tiny * (1 + abs(t)):
                    break
                step /= 2
            t, fv = t + step, fn
            if abs(step) < tiny * (1 + abs(t)):
                return _eval(g, {**env, u: t}, rules, nested)
        raise ArithmeticError("high-precision maximization did not converge")
    if e.is_Symbol:
        return env[e]
    if e.is_Number or e.is_NumberSymbol:
        return mp.mpf(sp.N(e, mp.mp.dps + 5)) if not e.is_Rational else mp.mpf(e.p) / e.q
    args = [_eval(a, env, rules, nested) for a in e.args]
    if e.is_Add:
        return mp.fsum(args)
    if e.is_Mul:
        return mp.fprod(args)
    if e.is_Pow:
        return args[0] ** args[1]
    for cls, fn in _FUNCS.items():
        if isinstance(e, cls) or e.func == cls:
            return fn(*args)
    raise TypeError(f"no high-precision rule for {e.func}")


def phi(model, point, dps=30, quadrature=None):
    """The free entropy of registered ``model`` at ``point`` (order parameters and parameters by name; for a model
    whose free entropy takes other parameters than the user gives, a reference's overlap, the user's are mapped)."""
    from .models import get_model

    spec = get_model(model)
    fe = spec.build()
    if spec.inputs is not None and any(s.name not in point for s in fe.symbols):
        user = spec.validate({k: v for k, v in point.items() if k in spec.declared})
        point = {**point, **spec.inputs_of(user)}
    return evaluate(fe.phi, {s: point[s.name] for s in fe.symbols}, dps=dps, quadrature=quadrature)

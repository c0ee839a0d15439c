"""High-precision re-evaluation of symbolic expressions with mpmath (for verification, not speed).

Averages are integrated with mpmath's tanh-sinh quadrature at the working precision; special functions use mpmath's
erfc. Use it to check any compiled number: ``phi(model, point)`` re-evaluates the free entropy at a solved point.
"""
import mpmath as mp
import sympy as sp

from replica.equations import vocabulary as voc

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
    sp.exp: mp.exp, sp.log: mp.log, sp.tanh: mp.tanh, sp.cosh: mp.cosh, sp.sinh: mp.sinh, sp.sqrt: mp.sqrt,
    sp.Abs: abs,
}


def evaluate(expr, env, dps=30):
    """Value of a sympy expression (with averages) at ``env`` (Symbol -> number), to ``dps`` digits."""
    with mp.workdps(dps):
        return _eval(sp.sympify(expr), {k: mp.mpf(v) for k, v in env.items()})


def _eval(e, env):
    if isinstance(e, voc.Average):
        f, z, lower = e.args

        def integrand(t):
            return mp.npdf(t) * _eval(f, {**env, z: t})

        # the Gaussian mass beyond |t| = 40 is 1e-349: cut there, where integrands lose every digit to cancellation
        # (ln H of arguments ~ 1e6 and its derivatives) and contribute nothing at any working precision up to 300
        if lower == sp.S.NegativeInfinity:
            return mp.quad(integrand, [-EDGE, -4, 0, 4, EDGE])
        a = _eval(lower, env)
        return mp.quad(integrand, [a, a + 4, max(a, 0) + EDGE]) / _H(a)
    if isinstance(e, voc.IidAverage):  # nested one-dimensional quadratures: costly beyond two variables
        f, zs = e.integrand, e.variables
        for z in reversed(zs[1:]):
            f = voc.Average(f, z)
        return _eval(voc.Average(f, zs[0]), env)
    if isinstance(e, voc.AtMax):
        g, f, u, start = e.args
        f_u = f.diff(u)
        f_uu = f_u.diff(u)
        t = _eval(start, env)
        fv = _eval(f, {**env, u: t})
        tiny = mp.mpf(10) ** (-(2 * mp.mp.dps) // 3)  # the value errs by step^2: far below the working precision
        for _ in range(200):  # Newton with the compiled ascent's gradient fallback and step halving
            at = {**env, u: t}
            d1, d2 = _eval(f_u, at), _eval(f_uu, at)
            step = -d1 / d2 if d2 < 0 else d1
            for _ in range(200):
                fn = _eval(f, {**env, u: t + step})
                if fn >= fv or abs(step) < tiny * (1 + abs(t)):
                    break
                step /= 2
            t, fv = t + step, fn
            if abs(step) < tiny * (1 + abs(t)):
                return _eval(g, {**env, u: t})
        raise ArithmeticError("high-precision maximization did not converge")
    if e.is_Symbol:
        return env[e]
    if e.is_Number or e.is_NumberSymbol:
        return mp.mpf(sp.N(e, mp.mp.dps + 5)) if not e.is_Rational else mp.mpf(e.p) / e.q
    args = [_eval(a, env) for a in e.args]
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


def phi(model, point, dps=30):
    """The free entropy of registered ``model`` at ``point`` (order parameters and parameters by name; for a model
    whose free entropy takes other parameters than the user gives, a reference's overlap, the user's are mapped)."""
    from .models import get_model

    spec = get_model(model)
    fe = spec.build()
    if spec.inputs is not None and any(s.name not in point for s in fe.symbols):
        user = spec.validate({k: v for k, v in point.items() if k in spec.declared})
        point = {**point, **spec.inputs_of(user)}
    return evaluate(fe.phi, {s: point[s.name] for s in fe.symbols}, dps=dps)

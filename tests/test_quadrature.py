"""Quadrature rules: moments, the truncated-Gaussian rule, averages compiled from a model declared here."""

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from replica.equations import GH, E, E_trunc, FreeEntropy, Symbol, log2cosh, logH
from replica.solvers.codegen import compile_module
from replica.solvers.quadrature import GaussHermite, GaussTrapezoid, Quadrature


@pytest.mark.parametrize("rule", [GaussHermite(40), GaussTrapezoid(200)])
def test_gaussian_moments(rule):
    x, w = rule.nodes()
    for k, m in [(0, 1), (2, 1), (4, 3), (6, 15), (8, 105)]:
        assert abs(np.sum(w * x**k) - m) <= 1e-12 * m
    assert abs(np.sum(w * x**3)) <= 1e-13


def test_rules_are_cached_and_read_only():
    a, b = GaussTrapezoid(64).nodes(), GaussTrapezoid(64).nodes()
    assert a[0] is b[0]
    with pytest.raises(ValueError):
        a[0][0] = 1.0


def test_bad_quadrature_settings():
    with pytest.raises(ValueError, match="integer >= 2"):
        Quadrature(gauss=1)
    with pytest.raises(ValueError, match="unknown quadrature rule"):
        Quadrature(rule="simpson")


def test_large_hermite_rule():
    x, w = GaussHermite(1000).nodes()
    assert np.all(np.isfinite(x)) and abs(w.sum() - 1) < 1e-14 and abs(np.sum(w * x * x) - 1) < 1e-10


a_sym, b_sym, z = sp.symbols("a b z")


def test_truncated_and_nested_averages_compiled():
    """E_{x>a}[x] = G(a)/H(a), E_{x>a}[x^2] = 1 + a G/H, and a nested average, through code generation."""
    exprs = [E_trunc(z, z, a_sym), E_trunc(z**2, z, a_sym), E(E_trunc(z * b_sym, z, b_sym), b_sym)]
    mod = compile_module("test-truncated-v1", [a_sym, b_sym], lambda: {"f": exprs}, "test", verbose=False)
    quad = Quadrature(gauss=400, trunc=96)
    for a in [-30.0, -3.0, -0.1, 0.0, 1.5, 8.0, 60.0]:
        out = mod.f(np.array([a, 0.0]), quad.arrays())
        with mp.workdps(40):
            g = float(mp.npdf(a) / (mp.erfc(a / mp.sqrt(2)) / 2))
        assert abs(out[0] - g) <= 1e-13 * max(g, 1)
        assert abs(out[1] - (1 + a * g)) <= 1e-12 * (1 + a * g)
    # E_b[b * E_{x>b}[x]] = E_b[b GH(b)] = E_b[d/db GH(b)] computed independently by a fine trapezoid
    x, w = GaussTrapezoid(20001).nodes()
    from replica.solvers.special import GH as gh

    ref = float(np.sum(w * x * np.array([gh(t) for t in x])))
    assert abs(out[2] - ref) <= 1e-12


def test_node_doubling_converges():
    x = sp.Symbol("x")
    mod = compile_module("test-doubling-v1", [x], lambda: {"f": [E(log2cosh(x * z), z), E(GH(x * z), z)]}, "t",
                         verbose=False)
    v = np.array([1.5])
    coarse = mod.f(v, Quadrature(gauss=64).arrays())
    fine = mod.f(v, Quadrature(gauss=128).arrays())
    finer = mod.f(v, Quadrature(gauss=256).arrays())
    assert np.max(np.abs(finer - fine)) <= 1e-3 * np.max(np.abs(fine - coarse)) + 1e-15
    assert np.max(np.abs(finer - fine)) <= 1e-12


def test_declared_symbols_are_checked():
    q = sp.Symbol("q")
    with pytest.raises(ValueError, match="undeclared"):
        FreeEntropy(name="bad", phi=q + a_sym, order=[Symbol(q)], params=[])


def test_levels_are_doubled_and_refined_separately():
    """Refinement acts per level: doubled(levels) doubles only those (the truncated rule up to MAX_TRUNC), and
    refined() turns a Gauss–Hermite inner level (and trunc_inner, the inner level under a truncated average, on its
    own) into the trapezoid with four times its nodes."""
    base = Quadrature(gauss=128, trunc=32, inner=12, inner_rule="hermite")
    assert (base.trunc_inner, base.trunc_inner_rule) == (12, "hermite")  # by default as the inner level
    assert base.doubled(("trunc",)) == Quadrature(gauss=128, trunc=64, inner=12, inner_rule="hermite")
    assert base.doubled() == Quadrature(gauss=256, trunc=64, inner=24, inner_rule="hermite")
    assert base.refined(("gauss",)) == base.doubled(("gauss",))
    assert base.refined(("inner", "trunc")) == Quadrature(gauss=128, trunc=64, inner=48, inner_rule="trapezoid",
                                                          trunc_inner=12, trunc_inner_rule="hermite")
    assert base.refined(("trunc_inner",)) == Quadrature(gauss=128, trunc=32, inner=12, inner_rule="hermite",
                                                        trunc_inner=48, trunc_inner_rule="trapezoid")
    assert Quadrature(trunc=512).doubled().trunc == 512
    assert base.refined(("inner",)).cost == 4 * base.cost
    assert Quadrature.from_text(str(base.refined(("inner",)))) == base.refined(("inner",))


def test_refinement_refines_the_largest_level_when_none_alone_exceeds_the_tolerance():
    """The estimate doubles every level at once; when it fails but no level's own doubling moves it beyond the
    tolerance, the level that moves it most is refined (not none, which would stop the refinement)."""
    from replica.solvers.system import System

    class Stub(System):
        def __init__(self):
            pass

        def _doubling(self, v, quad, unknowns=None, target=None, levels=None):
            return {None: 1.02e-8, ("gauss",): 1e-10, ("trunc",): 7e-9, ("inner",): 4e-9, ("nest",): 0.0,
                    ("trunc_inner",): 2e-9}[levels], None

    base = Quadrature(gauss=128, trunc=32, inner=12, inner_rule="hermite")
    assert Stub().finer(None, base, 1e-8) == base.doubled(("trunc",))
    # a rule the user fixed (max_nodes = its outer nodes) is not refined in any level
    converged = type("Result", (), {"converged": True})()
    _, _, rule, err = Stub().refine(converged, None, base, quad_tol=1e-8, max_nodes=base.gauss)
    assert rule == base and err == 1.02e-8


def test_a_nest_with_a_truncated_level_runs_on_its_own_outer_rule():
    """The outermost average of a nest holding a truncated average uses the ``nest`` nodes, every other outer average
    the ``gauss`` nodes; the mpmath evaluation on the rule (highprec) makes the same choice."""
    from replica.highprec import evaluate

    x, y, s = sp.symbols("x y s")
    nest = E(E_trunc(log2cosh(s * x + y), y, s * x), x)  # truncation point moves with the outer node
    plain = E(log2cosh(s * x), x)
    mod = compile_module("test-nest-rule-v1", [s], lambda: {"f": [nest, plain]}, "t", verbose=False)
    v = np.array([0.7])
    base = mod.f(v, Quadrature(gauss=64, nest=64, trunc=32).arrays())
    fewer_gauss = mod.f(v, Quadrature(gauss=16, nest=64, trunc=32).arrays())
    fewer_nest = mod.f(v, Quadrature(gauss=64, nest=16, trunc=32).arrays())
    assert fewer_gauss[0] == base[0] and fewer_gauss[1] != base[1]
    assert fewer_nest[1] == base[1] and fewer_nest[0] != base[0]
    quad = Quadrature(gauss=12, nest=10, trunc=8)
    compiled = mod.f(v, quad.arrays())
    for expr, value in zip((nest, plain), compiled):
        assert abs(float(evaluate(expr, {s: 0.7}, quadrature=quad)) - value) <= 1e-12



def test_averages_under_a_truncated_one_run_on_their_own_inner_rule():
    """A plain average inside a truncated one uses the ``trunc_inner`` nodes, one inside a plain average the
    ``inner`` nodes: a Franz–Parisi energetic term keeps 6 nodes there while the entropic term's inner level grows to
    hundreds near q1 -> 1. The mpmath evaluation on the rule makes the same choice."""
    from replica.highprec import evaluate

    x, y, z, s = sp.symbols("x y z s")
    under_trunc = E(E_trunc(E(log2cosh(s * z + y), z), y, s * x), x)
    under_plain = E(E(log2cosh(s * z + x), z), x)
    mod = compile_module("test-trunc-inner-v1", [s], lambda: {"f": [under_trunc, under_plain]}, "t", verbose=False)
    v = np.array([1.3])
    base = mod.f(v, Quadrature(gauss=32, trunc=16, inner=24).arrays())
    assert Quadrature(gauss=32, trunc=16, inner=24).trunc_inner == 24
    fewer_inner = mod.f(v, Quadrature(gauss=32, trunc=16, inner=8, trunc_inner=24).arrays())
    fewer_trunc_inner = mod.f(v, Quadrature(gauss=32, trunc=16, inner=24, trunc_inner=8).arrays())
    assert fewer_inner[0] == base[0] and fewer_inner[1] != base[1]
    assert fewer_trunc_inner[1] == base[1] and fewer_trunc_inner[0] != base[0]
    quad = Quadrature(gauss=8, trunc=6, inner=5, trunc_inner=7, trunc_inner_rule="hermite")
    compiled = mod.f(v, quad.arrays())
    for expr, value in zip((under_trunc, under_plain), compiled):
        assert abs(float(evaluate(expr, {s: 1.3}, quadrature=quad)) - value) <= 1e-12

def test_a_boundary_layer_gets_its_own_nodes():
    """E_{x>a} ln H((a - x)/sigma) turns from ln 1/2 to 0 within a few sigma of the truncation point: with the layer
    declared, 32 truncated nodes integrate it to 1e-13 at sigma = 1e-3 (without it the upper-tail rule misses most
    of the layer); its derivative in sigma keeps the layer; compiled and mpmath-on-rule agree; a layer wider than the
    rule's span falls back to the tail rule."""
    from replica.solvers.codegen import LAYER_MAX, LAYER_SPAN

    from replica.highprec import evaluate

    x, a, sig = sp.symbols("x a sigma")
    layered = E_trunc(logH((a - x) / sig), x, a, sig)
    plain = E_trunc(logH((a - x) / sig), x, a)
    exprs = [layered, plain, layered.diff(sig)]
    assert exprs[2].has(type(layered)) and all(e.layer == sig for e in exprs[2].atoms(type(layered)))
    mod = compile_module("test-layer-v1", [a, sig], lambda: {"f": exprs}, "t", verbose=False)
    quad = Quadrature(trunc=32)
    for a0 in [-2.0, 0.0, 1.3, 7.0]:
        for s0 in [1e-3, 0.05, 2 * LAYER_MAX / LAYER_SPAN]:
            got = mod.f(np.array([a0, s0]), quad.arrays())
            with mp.workdps(30):
                def mean(g):
                    h = lambda t: mp.npdf(t) * g(t)
                    pts = [a0 + k * s0 for k in (0, 1, 4, 12)] + [max(a0, 0) + 40]
                    return mp.quad(h, sorted(set(pts))) / (mp.erfc(a0 / mp.sqrt(2)) / 2)
                lnh = lambda u: mp.log(mp.erfc(u / mp.sqrt(2)) / 2)
                exact = float(mean(lambda t: lnh((a0 - t) / s0)))
                slope = float(mean(lambda t: mp.diff(lambda s: lnh((a0 - t) / s), s0)))
            if LAYER_SPAN * s0 >= LAYER_MAX:  # the tail rule, as without the layer
                assert got[0] == got[1] and abs(got[0] - exact) <= 1e-8
                continue
            assert abs(got[0] - exact) <= 1e-12 * max(1, abs(exact)), (a0, s0)
            assert abs(got[2] - slope) <= 1e-9 * max(1, abs(slope)), (a0, s0)
            if s0 == 1e-3:
                assert abs(got[1] - exact) > 1e-6  # what the layer is for
            assert abs(float(evaluate(layered, {a: a0, sig: s0}, quadrature=quad)) - got[0]) <= 1e-12
    with pytest.raises(ValueError, match="pair"):  # a plain average's layer has a centre and a width
        E(logH(x), x).func(logH(x), x, sp.S.NegativeInfinity, sig)


def test_gauss_integral_over_moving_limits():
    """int_a^b Dx f over an interval whose ends depend on a parameter (a UnitAverage on the Gauss–Legendre nodes):
    exact to 1e-14 with 16 nodes for a smooth f, and sympy's derivative carries the moving ends (the Leibniz terms
    G(b) f(b) b' - G(a) f(a) a') without boundary terms of its own; an i.i.d. outer average of such integrals runs on
    the nest rule."""
    from replica.equations.vocabulary import E_iid, G, UnitAverage, gauss_integral

    x, s, z1, z2 = sp.symbols("x s z1 z2")
    a, b = -s, 2 * s + 1
    integral = gauss_integral(sp.cos(x) * x**2, x, a, b)
    assert isinstance(integral, UnitAverage)
    leibniz = G(b) * (sp.cos(b) * b**2) * 2 - G(a) * (sp.cos(a) * a**2) * (-1)
    outer = E_iid(gauss_integral(sp.exp(x), x, z1 * s, z1 * s + z2**2 + 1), (z1, z2))
    mod = compile_module("test-gauss-integral-v1", [s], lambda: {"f": [integral, sp.diff(integral, s), leibniz,
                                                                        outer]}, "t", verbose=False)
    value, deriv, expected_deriv, _ = mod.f(np.array([0.6]), Quadrature(trunc=16).arrays())
    with mp.workdps(30):
        exact = mp.quad(lambda t: mp.npdf(t) * mp.cos(t) * t**2, [-0.6, 2.2])
        exact_deriv = mp.diff(lambda u: mp.quad(lambda t: mp.npdf(t) * mp.cos(t) * t**2, [-u, 2 * u + 1]), 0.6)
    assert value == pytest.approx(float(exact), abs=1e-14)
    assert deriv == pytest.approx(float(exact_deriv), abs=1e-13) and deriv == pytest.approx(expected_deriv, abs=1e-13)
    on_nest = mod.f(np.array([0.6]), Quadrature(gauss=64, nest=12, trunc=16, rule="hermite").arrays())[3]
    assert on_nest == mod.f(np.array([0.6]), Quadrature(gauss=8, nest=12, trunc=16, rule="hermite").arrays())[3]

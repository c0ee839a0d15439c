"""The engine on a model declared here, with no derivative written by hand: derivation, compilation, solvers."""
import math

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import sympy as sp
from replica.equations import E, E_trunc, FreeEntropy, Max, Symbol, log2cosh
from replica.solvers.quadrature import Quadrature
from replica.solvers.system import System

m, mhat, beta, sigma, a = sp.symbols("m mhat beta sigma a")
z = sp.Symbol("z")


def random_field_curie_weiss():
    """Curie–Weiss magnet in a random field z > a (a truncated Gaussian):
    phi = extr_{m, mhat} [ -m mhat + beta m^2/2 + E_{z>a} ln 2cosh(mhat + sigma z) ].
    Stationarity: m = E_{z>a} tanh(mhat + sigma z), mhat = beta m."""
    phi = -m * mhat + beta * m**2 / 2 + E_trunc(log2cosh(mhat + sigma * z), z, a)
    return FreeEntropy(
        name="test-random-field-curie-weiss", phi=phi,
        order=[Symbol(m, sp.Interval(-1, 1)), Symbol(mhat, sp.S.Reals)],
        params=[Symbol(beta, sp.Interval(0, sp.oo)), Symbol(sigma, sp.Interval(0, sp.oo)), Symbol(a, sp.S.Reals)],
        pairs={m: mhat},
        observables={"m_squared": m**2},
    )


@pytest.fixture(scope="module")
def system():
    return System(random_field_curie_weiss(), verbose=False)


def reference_m(b, s, a_):
    """Independent solution with scipy: m = E_{z>a} tanh(beta m + sigma z) (quad + brentq), m > 0 branch."""
    tail = 0.5 * math.erfc(a_ / math.sqrt(2))

    def rhs(x):
        f = lambda t: math.tanh(b * x + s * t) * math.exp(-t * t / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        return scipy.integrate.quad(f, a_, np.inf, epsabs=1e-14, epsrel=1e-13)[0] / tail - x

    return scipy.optimize.brentq(rhs, 1e-9, 1.0, xtol=1e-15)


def test_fixed_point_form_is_derived(system):
    assert system.has_fixed_point
    res, linear = system.free_entropy.stationarity()
    assert all(linear)
    assert sp.simplify(res[1] - (mhat - beta * m)) == 0


@pytest.mark.parametrize("params", [(1.5, 0.5, -0.5), (2.0, 1.0, -2.0), (0.8, 0.3, 0.2)])
@pytest.mark.parametrize("method", ["fixed-point", "newton", "auto"])
def test_solution_matches_independent_reference(system, params, method):
    quad = Quadrature(gauss=64, trunc=200)
    v0 = system.vector([0.6, 0.6 * params[0]], params)  # on the m > 0 branch (Newton may find others from afar)
    result, v = system.solve(v0, quad, method=method)
    assert result.converged, result.status
    assert abs(v[0] - reference_m(*params)) <= 2e-7
    assert abs(v[1] - params[0] * v[0]) <= 1e-10


def test_stationarity_is_the_gradient_of_phi(system):
    """The gradient of phi (sympy, bundle obs_grad_0) equals finite differences of the compiled phi, for every
    input symbol."""
    quad = Quadrature(gauss=64, trunc=64)
    rng = np.random.default_rng(1)
    for _ in range(5):
        v = np.array([rng.uniform(-0.9, 0.9), rng.uniform(-1, 1), rng.uniform(0.2, 2), rng.uniform(0.1, 1),
                      rng.uniform(-1, 1)])
        g = system.call("obs_grad_0", v, quad)[1:]
        f = lambda w: system.call("phi", w, quad)[0]  # noqa: E731
        fd = []
        for i in range(len(v)):
            p, q = v.copy(), v.copy()
            p[i] += 1e-6
            q[i] -= 1e-6
            fd.append((f(p) - f(q)) / 2e-6)
        assert np.allclose(g, fd, atol=1e-7, rtol=1e-6)


def test_jacobian_matches_finite_differences(system):
    quad = Quadrature(gauss=64, trunc=64)
    v = np.array([0.3, 0.2, 1.2, 0.6, -0.4])
    J = system.jacobian(v, quad)
    for i in range(len(v)):
        p, q = v.copy(), v.copy()
        p[i] += 1e-6
        q[i] -= 1e-6
        fd = (system.call("res", p, quad) - system.call("res", q, quad)) / 2e-6
        assert np.allclose(J[:, i], fd, atol=1e-7, rtol=1e-6)


def test_exchanging_roles_of_a_parameter_and_an_order_parameter(system):
    """Fix m, solve for (mhat, beta): the inverse of the direct solve."""
    quad = Quadrature(gauss=64, trunc=200)
    direct, v = system.solve(system.vector([0.5, 0.5], [1.5, 0.5, -0.5]), quad)
    w0 = v.copy()
    w0[2] = 1.0  # wrong beta
    inverse, w = system.solve(w0, quad, method="newton", unknowns=["mhat", "beta"])
    assert inverse.converged and abs(w[2] - 1.5) <= 1e-10


def test_failure_is_a_status_not_an_exception(system):
    quad = Quadrature(gauss=32, trunc=32)
    result, _ = system.solve(system.vector([0.5, 0.5], [1.5, 0.5, -0.5]), quad, method="fixed-point", max_iter=2)
    assert not result.converged and result.status == "max_iter"
    result, _ = system.solve(system.vector([5.0, 0.5], [1.5, 0.5, -0.5]), quad, method="newton")
    assert not result.converged and result.status in ("not_finite", "left_domain", "stalled")


def test_warm_cache_does_not_rederive(tmp_path, monkeypatch, capsys):
    """A second process-level compile of the same declaration loads the cached module without deriving."""
    import replica.solvers.codegen as cg

    monkeypatch.setenv("REPLICA_CACHE_DIR", str(tmp_path))
    fe = random_field_curie_weiss()
    calls = []

    def derive():
        calls.append(1)
        return fe.bundles()

    cg.compile_module(fe.key() + "#cache-test", fe.symbols, derive, "cache-test")
    assert calls == [1] and "deriving" in capsys.readouterr().err
    cg._loaded.clear()
    cg.compile_module(fe.key() + "#cache-test", fe.symbols, derive, "cache-test")
    assert calls == [1] and capsys.readouterr().err == ""


def curie_weiss_with_maximum():
    """A free entropy with a maximum over an auxiliary variable (the form of large-deviation y -> infinity limits):
    phi = extr_{m, mhat} [ -m mhat + beta m^2/2 + E_z max_u (-u^2/2 + ln 2cosh(mhat + sigma z + sqrt(c) u)) ].
    For c < 1 the maximized function is strictly concave; stationarity: m = E_z tanh(mhat + sigma z + sqrt(c) u*),
    u* = sqrt(c) tanh(mhat + sigma z + sqrt(c) u*), mhat = beta m."""
    u, c = sp.symbols("u c")
    phi = -m * mhat + beta * m**2 / 2 + E(Max(-u**2 / 2 + log2cosh(mhat + sigma * z + sp.sqrt(c) * u), u), z)
    return FreeEntropy(
        name="test-curie-weiss-max", phi=phi,
        order=[Symbol(m, sp.Interval(-1, 1)), Symbol(mhat, sp.S.Reals)],
        params=[Symbol(beta, sp.Interval(0, sp.oo)), Symbol(sigma, sp.Interval(0, sp.oo)),
                Symbol(c, sp.Interval(0, 1))],
        pairs={m: mhat},
    )


def _u_star(h, c):
    return scipy.optimize.brentq(lambda t: math.sqrt(c) * math.tanh(h + math.sqrt(c) * t) - t, -2, 2, xtol=1e-15)


def test_maximum_over_auxiliary_variable():
    """Max(...) compiles to a Newton ascent per node; the solved m matches scipy (brentq for u* inside quad), the
    derived Jacobian (implicit-function rule) matches finite differences, and mpmath re-evaluates phi."""
    from replica.highprec import evaluate

    fe = curie_weiss_with_maximum()
    system = System(fe, verbose=False)
    b, s, c = 1.5, 0.7, 0.6
    # u*(h) has branch points (f_uu = 0) at Im h = 0.195 here: 128 nodes give 4e-9, 256 nodes 5e-14
    quad = Quadrature(gauss=256)
    result, v = system.solve(system.vector([0.5, 0.75], [b, s, c]), quad, method="newton")
    assert result.converged, result.status

    def rhs(x):
        f = lambda t: (math.tanh(b * x + s * t + math.sqrt(c) * _u_star(b * x + s * t, c))  # noqa: E731
                       * math.exp(-t * t / 2) / math.sqrt(2 * math.pi))
        return scipy.integrate.quad(f, -12, 12, epsabs=1e-14, epsrel=1e-13)[0] - x

    assert v[0] == pytest.approx(scipy.optimize.brentq(rhs, 1e-6, 1.0, xtol=1e-15), abs=1e-10)
    # Jacobian of the residuals, with the u* dependence (d u*/d x = -f_ux/f_uu), against central differences
    n = len(fe.symbols)
    jac = system.jacobian(v, quad)
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1e-6
        fd = (system.call("res", v + e, quad) - system.call("res", v - e, quad)) / 2e-6
        assert np.allclose(jac[:, k], fd, atol=1e-7), k
    env = dict(zip(fe.symbols, v))
    assert float(evaluate(fe.phi, env, dps=20)) == pytest.approx(system.call("phi", v, quad)[0], abs=1e-11)


def test_negative_integer_powers_give_inf_not_an_exception(tmp_path):
    """numba raises ZeroDivisionError for 0.0 ** -2; the generated code writes 1.0/x**2, which is inf (a status)."""
    import replica.solvers.codegen as cg

    x = sp.Symbol("x")
    source = cg.generate_source([x], {"f": [x**-2 + 1 / sp.sqrt(x)]})
    assert "**(-" not in source
    path = tmp_path / "gen_powers.py"
    path.write_text(source)
    namespace = {}
    exec(compile(source, str(path), "exec"), namespace)
    arrays = Quadrature(gauss=2, trunc=2).arrays()
    assert np.isinf(namespace["f"](np.array([0.0]), arrays)[0])


def test_parallel_outer_loops_match_serial(tmp_path, monkeypatch):
    """REPLICA_PARALLEL=1 spreads the outermost loop of nested averages over the cores (numba.prange over the nodes,
    summed in node order afterwards): the same numbers to the last bit, a module of its own in the cache."""
    x = sp.Symbol("x")
    flat = random_field_curie_weiss()
    # the random field gets a second, Gaussian, part: a nest of two averages
    nested = FreeEntropy(name="test-nested-parallel", order=flat.order, params=flat.params, pairs=flat.pairs,
                         phi=-m * mhat + beta * m**2 / 2 + E(E_trunc(log2cosh(mhat + sigma * z + x / 2), z, a), x))
    monkeypatch.setenv("REPLICA_CACHE_DIR", str(tmp_path))
    serial = System(nested, verbose=False)
    monkeypatch.setenv("REPLICA_PARALLEL", "1")
    spread = System(nested, verbose=False)
    assert spread.module is not serial.module and "numba.prange" in open(spread.module.__file__).read()
    quad = Quadrature(gauss=48, trunc=32)
    for v in ([0.3, 0.5, 1.2, 0.6, -0.4], [0.1, -0.2, 0.8, 1.1, 0.7]):  # truncation points of both signs
        v = np.array(v)
        for fname in ("phi", "res", "res_jac"):
            assert np.array_equal(spread.call(fname, v, quad), serial.call(fname, v, quad))
    result, w = spread.solve(spread.vector([0.6, 0.9], [1.5, 0.5, -0.5]), quad, method="newton")
    assert result.converged


def test_split_point_is_its_value_with_zero_derivative():
    """Split(x) evaluates to x (compiled and in mpmath) and differentiates to 0, so a truncated average whose lower
    end is a split point gets no boundary term (its derivative is the average of the derivative)."""
    from replica.equations.vocabulary import Split

    from replica import highprec

    a, z = sp.symbols("a z")
    assert sp.diff(Split(a**2), a) == 0
    avg = E_trunc(a * z, z, Split(a))
    assert sp.diff(avg, a) == E_trunc(z, z, Split(a))
    assert float(highprec.evaluate(Split(a) * 3, {a: 0.25})) == 0.75


def test_pair_linear_one_way_only_keeps_every_stationarity_equation():
    """phi = -x e^w + a w + x^2/2 with the pair (x, w): d phi/dw is linear in x (a fixed-point form for x) but
    d phi/dx is not linear in w. The residuals must still be the two equations d phi/dw = 0 and d phi/dx = 0: at
    x e^w = a with x != e^w (the first only) they do not all vanish; at x = sqrt(a), w = ln sqrt(a) they do."""
    x, w, a = sp.symbols("x w a")
    fe = FreeEntropy(name="toy", phi=-x * sp.exp(w) + a * w + x**2 / 2, order=[Symbol(x), Symbol(w)],
                     params=[Symbol(a)], pairs={x: w})
    res, linear = fe.stationarity()
    assert linear == [True, False]
    def at(xv, wv):
        return max(abs(float(r.subs({x: xv, w: wv, a: 4}))) for r in res)

    assert at(1.0, math.log(4)) > 1
    assert at(2.0, math.log(2)) < 1e-14


def test_the_solvers_take_the_node_arrays_as_quadrature_gives_them():
    """The compiled solvers are typed once for every model: the node tuple they take is Quadrature.arrays()'s."""
    import numba
    from replica.solvers import root

    assert numba.typeof(Quadrature().arrays()) == root.NODES
    assert numba.typeof(Quadrature(gauss=7, trunc=3, inner=5, rule="hermite").arrays()) == root.NODES


def test_the_solvers_refuse_a_missing_function_before_calling_it():
    """A model function is passed to the compiled solvers by address; one the solve would call must be there (a null
    address would crash the process, not raise)."""
    from replica.solvers import root

    nodes = Quadrature().arrays()
    domain = (np.zeros(2), np.ones(2), np.zeros(2, dtype=bool), np.zeros(2, dtype=bool))
    with pytest.raises(ValueError, match="missing"):
        root.newton(0, 0, 0, np.zeros(2), np.arange(2), 2, (-1, 0.0, np.empty(0), 0.0), domain, (1e-12, 1e-12), 5,
                    nodes)
    with pytest.raises(ValueError, match="missing"):
        root.newton(1, 0, 0, np.zeros(2), np.array([0, 1]), 1, (-1, 0.0, np.empty(0), 0.0), domain, (1e-12, 1e-12),
                    5, nodes)
    with pytest.raises(ValueError, match="missing"):
        root.fixed_point(0, np.zeros(2), domain, (1e-12, 1e-12), 1.0, 5, 0.0, nodes)

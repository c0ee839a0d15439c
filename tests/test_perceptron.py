"""Perceptron storage: closed forms, literature values, identities, limits, high-precision re-evaluation."""
import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from conftest import MODELS, fd_gradient, points
from replica.equations import perceptron as eq
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import Tolerance

import replica
from replica import highprec
from replica.models import get_model
from replica.perceptron import alpha_c_spherical, alpha_gd_binary


def gardner_mp(kappa):
    """1/int_{-kappa}^inf Dz (z+kappa)^2 by mpmath quadrature (independent of the closed form)."""
    with mp.workdps(30):
        return 1 / mp.quad(lambda z: mp.npdf(z) * (z + kappa) ** 2, [-kappa, mp.inf])


# ----- capacities --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kappa", [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0])
def test_gardner_closed_form(kappa):
    assert abs(alpha_c_spherical(kappa) - float(gardner_mp(kappa))) <= 1e-13 * alpha_c_spherical(kappa)


def test_cover_capacity_is_two():
    assert replica.capacity("spherical-perceptron", kappa=0).value == pytest.approx(2.0, abs=1e-15)


@pytest.mark.parametrize("kappa", [0.0, 1.0, -1.0])
def test_capacity_is_the_q_to_1_limit_of_the_solver(kappa):
    thr = replica.capacity("spherical-perceptron", kappa=kappa)
    assert thr.extra["solver_status"] == "converged"
    assert abs(thr.extra["alpha_c_solver"] - thr.value) <= 1e-6 * thr.value


def test_binary_capacity_krauth_mezard():
    thr = replica.capacity("binary-perceptron", kappa=0)
    assert thr.converged and abs(thr.value - 0.833) <= 1e-3
    assert thr.extra["alpha_GD"] == pytest.approx(4 / math.pi, abs=1e-14)
    assert abs(thr.value - thr.extra["alpha_GD"]) > 0.4  # 4/pi is never reported as the capacity
    # high-precision re-evaluation: phi and d phi/d alpha by mpmath at the solution; one Newton step in alpha
    sol = thr.solution
    point = {**sol.order, **sol.params}
    fe = get_model("binary-perceptron").build()
    env = {s: point[s.name] for s in fe.symbols}
    s_hp = highprec.evaluate(fe.phi, env)
    ds = highprec.evaluate(sp.diff(fe.phi, eq.alpha), env)
    alpha_hp = thr.value - float(s_hp / ds)
    assert abs(thr.value - alpha_hp) <= 1e-10
    for r in fe.stationarity()[0]:
        assert abs(highprec.evaluate(r, env)) <= 1e-10


def test_alpha_gd_is_the_q_to_1_point_of_the_binary_solver():
    """At q = 1 - eps the binary RS equations give alpha(eps) -> alpha_GD = 4/pi (fit through four eps)."""
    system = get_model("binary-perceptron").system
    quad = Quadrature(gauss=2**14)
    sol = replica.solve("binary-perceptron", alpha=1.0, quadrature=quad)
    v = system.vector(sol.order, sol.params)
    eps = np.array([0.04, 0.02, 0.01, 0.005])
    alphas = []
    for e in eps:
        v = v.copy()
        v[0], v[1] = 1 - e, 2 / (math.pi * e**2)
        res, v = system.solve(v, quad, method="newton", unknowns=["qhat", "alpha"], tol=Tolerance(rtol=1e-9))
        assert res.converged
        alphas.append(v[2])
    limit = np.linalg.solve(np.vstack([np.ones_like(eps), eps, eps**1.5, eps**2]).T, alphas)[0]
    assert abs(limit - 4 / math.pi) <= 1e-4


@pytest.mark.parametrize("kappa", [0.5, -0.5])
def test_lambda_at_at_capacity(kappa):
    """lambda_AT -> alpha_c(kappa) H(-kappa) as q -> 1 (fit in sqrt(eps))."""
    system = get_model("spherical-perceptron").system
    ac = alpha_c_spherical(kappa)
    quad = Quadrature(gauss=2**15)
    sol = replica.solve("spherical-perceptron", alpha=0.9 * ac, kappa=kappa, quadrature=Quadrature(gauss=4096))
    v = system.vector(sol.order, sol.params)
    eps = np.array([4e-4, 2e-4, 1e-4, 5e-5])
    lams = []
    for e in eps:
        v = v.copy()
        v[0], v[1] = 1 - e, (1 - e) / e**2
        res, v = system.solve(v, quad, method="newton", unknowns=["qhat", "alpha"], tol=Tolerance(rtol=1e-9))
        assert res.converged
        lams.append(system.observables(v, quad)["lambda_AT"])
    s = np.sqrt(eps)
    limit = np.linalg.solve(np.vstack([np.ones_like(s), s, s**2, s**3]).T, lams)[0]
    expected = ac * 0.5 * math.erfc(-kappa / math.sqrt(2))
    assert abs(limit - expected) <= 1e-4 * expected
    assert replica.capacity("spherical-perceptron", kappa=kappa).extra["lambda_AT_at_capacity"] == \
        pytest.approx(expected, rel=1e-14)


def test_max_margin_inverts_the_capacity():
    for kappa in [0.3, -0.2]:
        a = replica.capacity("binary-perceptron", kappa=kappa).value
        km = replica.max_margin("binary-perceptron", alpha=a)
        assert km.converged and abs(km.value - kappa) <= 1e-9
    assert replica.max_margin("binary-perceptron", alpha=0.833078599739579).value == pytest.approx(0, abs=1e-9)


def test_dat_line():
    thr = replica.dat_line("spherical-perceptron", kappa=-1.0)
    assert thr.converged and 0 < thr.value < thr.extra["alpha_c"]
    sol = replica.solve("spherical-perceptron", alpha=thr.value, kappa=-1.0)
    assert sol.lambda_AT == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("kappa", [-0.5, -1.0, -2.0])
def test_rsb1_line(kappa):
    thr = replica.capacity("spherical-perceptron", kappa=kappa, rsb=1)
    assert thr.converged
    assert thr.value < alpha_c_spherical(kappa)  # 1RSB lowers the RS SAT/UNSAT point for kappa < 0
    assert thr.extra["q0"] < 0.999 and thr.extra["mu"] < 1e3  # the non-trivial branch
    system = get_model("spherical-perceptron-1rsb-jamming").system
    quad = Quadrature(gauss=1024)
    v = system.vector([thr.extra["mu"], thr.extra["q0"]], [thr.value, kappa])
    assert abs(system.call("phi", v, quad)[0]) <= 1e-10
    assert np.max(np.abs(system.call("res", v, quad))) <= 1e-9


def test_rsb1_approaches_rs_as_kappa_goes_to_zero():
    gaps = [1 - replica.capacity("spherical-perceptron", kappa=k, rsb=1).value / alpha_c_spherical(k)
            for k in (-1.0, -0.5, -0.2)]
    assert gaps[0] > gaps[1] > gaps[2] > 0


# ----- limits and identities ---------------------------------------------------------------------------------------
def test_alpha_zero_limits():
    b = replica.solve("binary-perceptron", alpha=0.0, kappa=0.7)
    assert b.entropy == pytest.approx(math.log(2), abs=1e-15) and b.q == pytest.approx(0, abs=1e-14)
    s = replica.solve("spherical-perceptron", alpha=0.0, kappa=-0.3)
    assert s.entropy == pytest.approx(0, abs=1e-15) and s.q == pytest.approx(0, abs=1e-14)


def test_literature_overlap():
    """q(alpha=0.6, kappa=0) = 0.3910495... (Perceptron.jl's stored data)."""
    assert replica.solve("binary-perceptron", alpha=0.6).q == pytest.approx(0.3910495, abs=1e-7)


def test_spherical_checks_from_the_notes():
    sol = replica.solve("spherical-perceptron", alpha=1.0, kappa=0.0)
    assert sol.q == pytest.approx(0.58531, abs=1e-5)
    assert sol.qhat == pytest.approx(sol.q / (1 - sol.q) ** 2, rel=1e-12)  # conjugate form: qhat = q/(1-q)^2
    # the notes quote "both sides equal 1.41144", i.e. q/(1-q) at q rounded to 0.58531: allow that rounding
    assert abs(sol.qhat * (1 - sol.q) - 1.41144) <= 5e-6 / (1 - sol.q) ** 2


@pytest.mark.parametrize("params", [dict(alpha=0.5, kappa=0.0), dict(alpha=1.5, kappa=-0.4)])
def test_spherical_conjugate_form_equals_gardner(params):
    """phi in conjugate form at the saddle point equals Gardner's 1/2[ln(1-q) + q/(1-q)] + alpha G_E(q) (mpmath)."""
    sol = replica.solve("spherical-perceptron", **params)
    q = sol.q
    z = sp.Symbol("z")
    ge = eq.E(eq.logH((eq.kappa - sp.sqrt(eq.q) * z) / sp.sqrt(1 - eq.q)), z)
    gardner = sp.Rational(1, 2) * (sp.log(1 - eq.q) + eq.q / (1 - eq.q)) + eq.alpha * ge
    val = highprec.evaluate(gardner, {eq.q: q, eq.alpha: params["alpha"], eq.kappa: params["kappa"]})
    assert abs(float(val) - sol.entropy) <= 1e-11


@pytest.mark.parametrize("model", MODELS)
def test_stationarity_equals_gradient_of_phi(model, systems):
    """Every derived equation vanishes where the finite-difference gradient of phi does, and the sympy gradient of
    phi is the finite-difference gradient of phi at arbitrary points."""
    system = systems[model]
    quad = Quadrature()
    f = lambda w: system.call("phi", w, quad)[0]  # noqa: E731
    for p in points(model):
        sol = replica.solve(model, **p)
        v = system.vector(sol.order, sol.params)
        g = fd_gradient(f, v, range(system.n_order))
        assert np.max(np.abs(g)) <= 1e-7
        w = v.copy()
        w[: system.n_order] *= [0.8, 1.3]
        assert np.allclose(system.call("obs_grad_0", w, quad)[1:], fd_gradient(f, w, range(len(w))), atol=1e-7,
                           rtol=1e-6)


@pytest.mark.parametrize("model", MODELS)
def test_newton_and_fixed_point_agree(model):
    for p in points(model):
        a = replica.solve(model, method="fixed-point", **p)
        b = replica.solve(model, method="newton", **p)
        assert a.converged and b.converged
        for k in a.order:
            assert a[k] == pytest.approx(b[k], rel=1e-10, abs=1e-12)
        assert a.entropy == pytest.approx(b.entropy, abs=1e-12)


@pytest.mark.parametrize("model", MODELS)
def test_phi_against_mpmath(model):
    for p in points(model):
        sol = replica.solve(model, **p)
        hp = highprec.phi(model, {**sol.order, **sol.params}, dps=30)
        assert abs(float(hp) - sol.entropy) <= 1e-10


@pytest.mark.parametrize("model", MODELS)
def test_node_doubling(model):
    for p in points(model):
        a = replica.solve(model, quadrature=Quadrature(gauss=128), **p)
        b = replica.solve(model, quadrature=Quadrature(gauss=256), **p)
        assert abs(a.entropy - b.entropy) <= max(1e-11, 10 * a.quad_error)
        assert a.quad_error <= 1e-9


def test_inaccurate_quadrature_is_a_status():
    """A fixed, too coarse rule: the solve converges on the discretized equations but node doubling disagrees."""
    sol = replica.solve("binary-perceptron", alpha=0.9, quadrature=Quadrature(gauss=64), strict=False)
    assert sol.status == "inaccurate" and not sol.converged and "nodes" in sol.remedy and sol.quad_error > 1e-8
    with pytest.raises(replica.ConvergenceError, match="inaccurate"):
        replica.solve("binary-perceptron", alpha=0.9, quadrature=Quadrature(gauss=64))
    # far too coarse: no root of the discretized equations nearby; a status, and no number
    sol = replica.solve("binary-perceptron", alpha=1.1, quadrature=Quadrature(gauss=48), strict=False)
    assert not sol.converged and sol.q is None and sol.entropy is None


def test_the_layers_keep_the_base_rule_exact_near_alpha_gd():
    """Near alpha_GD (q = 0.92 at alpha = 1.2) the integrands turn in layers of width sqrt(1-q) and 1/sqrt(qhat):
    declared, they get their own nodes and the base rule's node-doubling estimate stays below 1e-8 (the plain
    trapezoid rule needed 1024 nodes there); a rule 64 times finer agrees."""
    sol = replica.solve("binary-perceptron", alpha=1.2)
    assert sol.converged and sol.settings["quadrature"]["gauss"] == 128 and sol.quad_error <= 1e-8
    fine = replica.solve("binary-perceptron", alpha=1.2, quadrature=Quadrature(gauss=8192, trunc=512), x0=sol.order)
    assert sol.q == pytest.approx(fine.q, abs=1e-9)


def test_negative_entropy_is_flagged():
    sol = replica.solve("binary-perceptron", alpha=0.9)
    assert sol.entropy < 0 and any("alpha_KM" in n for n in sol.notes)


def test_rs_instability_is_flagged():
    assert any("lambda_AT" in n for n in replica.solve("spherical-perceptron", alpha=10.0, kappa=-1.0).notes)


@pytest.mark.parametrize("bad, match", [
    (dict(alpha=-0.1), "outside the allowed range"),
    (dict(alpha=2.0), "beyond the RS capacity"),
    (dict(alpha=0.5, beta=1.0), "no parameter beta"),
    (dict(kappa=0.0), "needs alpha"),
    (dict(alpha=float("nan")), "outside the allowed range"),
])
def test_bad_parameters(bad, match):
    with pytest.raises(replica.ParameterError, match=match):
        replica.solve("spherical-perceptron", **bad)


def test_beyond_alpha_gd_is_rejected():
    with pytest.raises(replica.ParameterError, match="alpha_GD"):
        replica.solve("binary-perceptron", alpha=1.3)
    assert alpha_gd_binary(0.0) == pytest.approx(4 / math.pi, rel=1e-15)


def test_unknown_model():
    with pytest.raises(replica.ParameterError, match="unknown model"):
        replica.solve("hopfield", alpha=0.1)


# ----- slow physics checks (python -m pytest -m slow) --------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("kappa", [-0.5, 0.5, 1.0])
def test_binary_capacity_high_precision(kappa):
    thr = replica.capacity("binary-perceptron", kappa=kappa)
    fe = get_model("binary-perceptron").build()
    env = {s: {**thr.solution.order, **thr.solution.params}[s.name] for s in fe.symbols}
    correction = highprec.evaluate(fe.phi, env) / highprec.evaluate(sp.diff(fe.phi, eq.alpha), env)
    assert abs(float(correction)) <= 1e-10


@pytest.mark.slow
def test_rsb1_point_high_precision():
    """Phi and its derived stationarity equations re-evaluated by mpmath (30 digits) at the 1RSB point."""
    thr = replica.capacity("spherical-perceptron", kappa=-1.0, rsb=1)
    fe = get_model("spherical-perceptron-1rsb-jamming").build()
    point = {"mu": thr.extra["mu"], "q0": thr.extra["q0"], "alpha": thr.value, "kappa": -1.0}
    env = {s: point[s.name] for s in fe.symbols}
    assert abs(highprec.evaluate(fe.phi, env)) <= 1e-10
    for r in fe.stationarity()[0]:
        assert abs(highprec.evaluate(r, env)) <= 1e-9


@pytest.mark.slow
@pytest.mark.parametrize("kappa", [-2.0, -0.5, 0.5, 2.0])
def test_capacity_solver_limit_more_margins(kappa):
    thr = replica.capacity("spherical-perceptron", kappa=kappa)
    assert abs(thr.extra["alpha_c_solver"] - thr.value) <= 1e-6 * thr.value


def test_thresholds_beyond_float_range_are_infinite():
    """At kappa < -38 the closed forms' denominators underflow: alpha_c and alpha_GD exceed the largest float, and a
    point there is inside the region (found by the fuzz test at alpha = 0, kappa = -39)."""
    from replica.perceptron import alpha_c_spherical, alpha_gd_binary

    assert alpha_c_spherical(-39.0) == alpha_gd_binary(-39.0) == float("inf")
    assert replica.solve("binary-perceptron", alpha=0.0, kappa=-39.0).converged

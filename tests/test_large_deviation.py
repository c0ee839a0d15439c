"""Large-deviation local entropy of the binary perceptron: identities and limits (physics notes §D)."""
import math

import numpy as np
import pytest
from scipy.special import log_ndtr, roots_hermitenorm

import replica
from replica.errors import ParameterError


def h2(d):
    return -d * math.log(d) - (1 - d) * math.log(1 - d)


def ld(**params):
    return replica.solve("binary-perceptron-ld", **params)


def test_small_alpha_gives_ln2_plus_y_times_the_upper_bound():
    """alpha -> 0: F = ln 2 + y H2(d) (every configuration at distance d counts), local entropy H2(d)."""
    for y, d in [(3.0, 0.1), (0.5, 0.02)]:
        sol = ld(alpha=1e-7, y=y, d=d)
        assert sol.converged, sol.message
        assert abs(sol.free_entropy - (math.log(2) + y * h2(d))) <= 1e-6
        assert abs(sol.entropy - h2(d)) <= 1e-6


def test_y_equal_one_counts_pairs_of_solution_and_reference():
    """y = 1: F = s_RS(alpha, kappa) + H2(d) (pairs solution / reference at overlap S). At y = 1 the overlap q1 drops
    out (its equation degenerates), so F(1) is read as the mean of F(1 +- eps), exact up to O(eps^2)."""
    eps = 1e-3
    for alpha, kappa, d in [(0.3, 0.0, 0.1), (0.5, 0.2, 0.05)]:
        up, down = (ld(alpha=alpha, kappa=kappa, y=1 + s * eps, d=d) for s in (1, -1))
        s_rs = replica.solve("binary-perceptron", alpha=alpha, kappa=kappa).entropy
        assert abs((up.free_entropy + down.free_entropy) / 2 - (s_rs + h2(d))) <= 2e-7
        # and the local entropy is dF/dy
        assert abs((up.free_entropy - down.free_entropy) / (2 * eps) - (up.entropy + down.entropy) / 2) <= 1e-6


def test_entropy_is_the_y_derivative_and_complexity_the_legendre_transform():
    y, h = 3.0, 1e-4
    sol, up, down = (ld(alpha=0.5, y=y + s, d=0.05) for s in (0.0, h, -h))
    assert abs((up.free_entropy - down.free_entropy) / (2 * h) - sol.entropy) <= 1e-7
    assert abs(sol.complexity - (sol.free_entropy - y * sol.entropy)) <= 1e-14
    assert sol.entropy < sol.upper_bound


def test_phi_matches_an_independent_numpy_evaluation():
    """The compiled F against the formula of physics notes §D.2 written out in numpy with 200 Gauss-Hermite nodes
    per level (scipy's log_ndtr for ln H): checks derivation and code generation on the nested log-averages."""
    sol = ld(alpha=0.5, y=2.0, d=0.05)
    o, y, s = sol.order, 2.0, 1 - 2 * 0.05
    z, w = roots_hermitenorm(200)
    w = w / w.sum()
    zz, z1 = np.meshgrid(z, z, indexing="ij")

    def inner(sign):
        h = np.sqrt(o["q0hat"]) * zz + np.sqrt(o["q1hat"] - o["q0hat"]) * z1 + sign * o["Shat"]
        return np.log(np.exp(y * np.logaddexp(h, -h)) @ w)

    gs = (-y * o["q1hat"] / 2 * (1 + (y - 1) * o["q1"]) + y**2 * o["q0hat"] * o["q0"] / 2 - y * o["Shat"] * s
          + np.logaddexp(inner(1), inner(-1)) @ w)
    u = (-np.sqrt(o["q0"]) * zz - np.sqrt(o["q1"] - o["q0"]) * z1) / np.sqrt(1 - o["q1"])
    ge = np.log(np.exp(y * log_ndtr(-u)) @ w) @ w
    assert abs(gs + 0.5 * ge - sol.free_entropy) <= 1e-10


def test_larger_y_selects_denser_references():
    """The local entropy of the dominant references grows with y (dS_I/dy = Var >= 0 in the LD measure)."""
    values = [ld(alpha=0.5, y=y, d=0.05).entropy for y in (0.5, 1.5, 3.0, 6.0)]
    assert values == sorted(values)


@pytest.mark.parametrize("params, match", [
    ({"alpha": 0.5, "y": -1, "d": 0.1}, "y=-1"),
    ({"alpha": 0.5, "y": 2, "d": 0.6}, "d=0.6"),
    ({"alpha": 0.0, "y": 2, "d": 0.1}, "alpha=0"),
])
def test_bad_input(params, match):
    with pytest.raises(ParameterError, match=match):
        ld(**params)


# ----- y -> infinity: the densest references (docs/local_entropy.md) --------------------------------------------

def ld_inf(**params):
    return replica.solve("binary-perceptron-ld", y="inf", **params)


def test_y_inf_is_selected_by_the_y_parameter():
    for y in ("inf", "Infinity", math.inf):
        assert replica.solve("binary-perceptron-ld", alpha=0.6, d=0.05, y=y).model == "binary-perceptron-ld-inf"


def test_y_inf_meets_the_storage_solution_at_the_plateau_edge():
    """At d -> d* = (1 - E|tanh(sqrt(qhat) z)|)/2 the densest reference is the clipped centre of mass of the
    solutions, and the y -> infinity saddle point is the storage one: S_I = s_RS, dq = dqhat = Shat -> 0."""
    from replica.large_deviation import plateau

    for alpha, kappa in [(0.6, 0.0), (0.5, 0.3)]:
        edge = plateau(alpha, kappa)
        d = (1 - edge["S_star"]) / 2 - 1e-7
        sol = ld_inf(alpha=alpha, kappa=kappa, d=d)
        assert sol.converged, sol.message
        assert abs(sol.entropy - edge["entropy"]) <= 1e-9
        assert abs(sol["q"] - edge["q"]) <= 1e-5 and abs(sol["qhat"] - edge["qhat"]) <= 1e-5
        assert max(sol["dq"], sol["dqhat"], sol["Shat"]) <= 2e-3


def test_y_inf_slope_is_twice_shat_and_the_curve_lies_below_the_bound():
    """dS_I/dd = 2 Shat (S enters phi only through -Shat S), checked against a centred difference."""
    h = 1e-5
    sol, up, down = (ld_inf(alpha=0.6, d=0.05 + s) for s in (0.0, h, -h))
    assert abs((up.entropy - down.entropy) / (2 * h) - 2 * sol["Shat"]) <= 1e-6
    for d in (0.02, 0.05, 0.15):
        s = ld_inf(alpha=0.6, d=d)
        assert 0 < s.entropy < s.upper_bound


def test_y_inf_phi_against_mpmath():
    """The compiled free entropy (truncated average of a maximum, average of a maximum) re-evaluated with mpmath's
    tanh-sinh quadrature and a high-precision Newton ascent at the solved point."""
    from replica import highprec

    sol = ld_inf(alpha=0.6, d=0.05)
    hp = highprec.phi(sol.model, {**sol.order, **sol.params}, dps=20)
    assert abs(float(hp) - sol.entropy) <= 1e-10


@pytest.mark.slow
def test_finite_y_approaches_the_y_inf_limit():
    """F(y) = y S_I(inf) + Sigma(inf) + O(1/y): polynomial fits in 1/y of F(y) at y = 3 ... 9 (finite-y model,
    512 nodes) extrapolate to the y -> infinity model's S_I and Sigma. The fits' own spread (orders 3 and 4) bounds
    the extrapolation error; the limit model must lie within it (plus the fits' distance to each other)."""
    from replica.solvers.quadrature import Quadrature

    inf = ld_inf(alpha=0.6, d=0.05)
    ys, F, x0 = [], [], None
    for y in range(3, 10):
        sol = ld(alpha=0.6, d=0.05, y=float(y), x0=x0, quadrature=Quadrature(gauss=512), strict=False)
        assert sol.quad_error <= 1e-6, (y, sol.status)
        ys.append(y), F.append(sol.free_entropy)
        x0 = sol.order
    ys, F = np.array(ys, float), np.array(F)
    fits = [np.linalg.lstsq(np.vstack([ys ** (1 - j) for j in range(k)]).T, F, rcond=None)[0][:2] for k in (4, 5)]
    spread = np.abs(fits[0] - fits[1])
    for fit in fits:
        assert abs(fit[0] - inf.entropy) <= 2 * spread[0] + 1e-4
        assert abs(fit[1] - inf.complexity) <= 2 * spread[1] + 1e-2


def test_y_inf_above_the_onset_is_not_vouched_for():
    """At alpha = 0.8 the branch from d* reaches Shat = 0 near d = 0.042: below, the equations' solution has Shat < 0,
    outside the derivation (the dominant reference sign), and says so in its status."""
    sol = replica.solve("binary-perceptron-ld", y="inf", alpha=0.8, d=0.03, strict=False)
    assert not sol.converged and sol.status == "unvouched"
    assert "Shat" in sol.message and sol.order["Shat"] < 0


def test_y_inf_onset():
    """The load where the y -> infinity curve from d* first stops increasing (Shat touches 0 at small d)."""
    thr = replica.onset("binary-perceptron-ld", y="inf", alpha_range=(0.7, 0.8))
    assert thr.converged, thr.message
    assert 0.754 <= thr.value <= 0.757
    assert 0.019 <= thr.extra["d_dip"] <= 0.023


@pytest.mark.parametrize("params, match", [
    ({"alpha": 0.6, "d": 0.3}, r"d\*=0.2233"),
    ({"alpha": 0.6, "d": 0.05, "ref_kappa": 0.1}, "no parameter ref_kappa"),
    ({"alpha": -1, "d": 0.05}, "alpha=-1"),
])
def test_y_inf_bad_input(params, match):
    with pytest.raises(ParameterError, match=match):
        ld_inf(**params)


@pytest.mark.slow
def test_finite_y_phi_against_mpmath():
    """The compiled F (two nested log-averages, shifted) re-evaluated with mpmath's tanh-sinh quadrature at 15 digits:
    2e-15 (about 4 minutes)."""
    from replica import highprec

    sol = ld(alpha=0.5, y=2.0, d=0.05)
    hp = highprec.phi("binary-perceptron-ld", {**sol.order, **sol.params}, dps=15)
    assert abs(float(hp) - sol.free_entropy) <= 1e-11


def ld_solution(**params):
    return replica.solve("binary-perceptron-ld-solution", **params)


@pytest.mark.slow  # 45 s cold: the constrained-reference large-deviation models compile alone here
def test_constrained_reference_small_y_is_storage_plus_franz_parisi():
    """Reference constrained to be a solution (epsilon = 1): as y -> 0, F(y) = s_RS(alpha, ref_kappa) + y phi_FP +
    O(y^2), phi_FP the Franz-Parisi local entropy around typical references. So the complexity F - y dF/dy tends to
    s_RS (an O(y^2) gap) and the local entropy dF/dy to phi_FP (an O(y) gap, removed by extrapolating from two y)."""
    alpha, d = 0.5, 0.1
    s_rs = replica.solve("binary-perceptron", alpha=alpha).entropy
    phi_fp = replica.solve("binary-perceptron-fp", alpha=alpha, ref_kappa=0.0, d=d).entropy
    a, b = (ld_solution(alpha=alpha, y=y, d=d) for y in (0.02, 0.04))
    assert a.converged and b.converged
    assert abs(a.complexity - s_rs) < 1e-5 and abs(b.complexity - s_rs) < 4e-5
    assert abs(2 * a.entropy - b.entropy - phi_fp) < 1e-5
    assert phi_fp < a.entropy < b.entropy < a.upper_bound  # larger y selects denser references


@pytest.mark.slow  # 36 s cold: compiles the constrained-reference models for itself
def test_constrained_reference_phi_matches_an_independent_numpy_evaluation():
    """The compiled F of the constrained-reference model against physics notes §D.2 written out in numpy at the
    solved point: Gauss-Hermite products for the Gaussian levels (100 nodes each in the entropic term, 48 in the
    energetic one) and Gauss-Legendre in x on (x~, max(x~, 0) + 12) for the reference's truncated stability, with
    scipy's log_ndtr for ln H. No shifts: at y = 2 and these overlaps nothing overflows. (In the mass coordinate of
    the truncated Gaussian, Gauss-Legendre converges only algebraically: 4e-6 off at 56 nodes.)"""
    y, d = 2.0, 0.1
    sol = ld_solution(alpha=0.5, y=y, d=d)
    o, S = sol.order, 1 - 2 * d
    Q, R, Qh, Rh = o["Q"], o["R"], o["Qhat"], o["Rhat"]

    z, w = roots_hermitenorm(100)
    w = w / w.sum()
    zz, zp, z1 = np.meshgrid(z, z, z, indexing="ij")
    h0 = Rh / np.sqrt(Qh) * zz + np.sqrt(o["q0hat"] - Rh**2 / Qh) * zp
    terms = []
    for sign in (1, -1):
        h = h0 + sign * (o["Shat"] - Rh) + np.sqrt(o["q1hat"] - o["q0hat"]) * z1
        terms.append(sign * np.sqrt(Qh) * zz[..., 0] + np.log(np.exp(y * np.logaddexp(h, -h)) @ w))
    gs = (-Qh * (1 - Q) / 2 - y * o["q1hat"] / 2 * (1 + (y - 1) * o["q1"]) + y**2 * o["q0hat"] * o["q0"] / 2
          - y * o["Shat"] * S + y * Rh * R + w @ np.logaddexp(*terms) @ w)

    z, w = roots_hermitenorm(48)
    w = w / w.sum()
    v, wv = np.polynomial.legendre.leggauss(120)
    b = (S - R) / np.sqrt(1 - Q)
    B = o["q1"] - o["q0"] - b * b
    ge = 0.0
    for z0, w0 in zip(z, w):
        a = -np.sqrt(Q) * z0 / np.sqrt(1 - Q)  # the reference's threshold, ref_kappa = 0
        hi = max(a, 0.0) + 12
        x = a + (hi - a) * (v + 1) / 2
        wx = (hi - a) / 2 * wv * np.exp(-x * x / 2) / np.sqrt(2 * np.pi)  # int_a Dx, the mass included
        mean = R / np.sqrt(Q) * z0 + np.sqrt(o["q0"] - R**2 / Q) * z[:, None, None]
        u = (0.0 - mean - b * x[None, :, None] - np.sqrt(B) * z[None, None, :]) / np.sqrt(1 - o["q1"])
        ge += w0 * (w @ np.log((np.exp(y * log_ndtr(-u)) @ w) @ wx))
    assert abs(gs + 0.5 * ge - sol.free_entropy) < 1e-8


def test_y_equal_one_is_refused_with_the_way_around():
    for model in ("binary-perceptron-ld", "binary-perceptron-ld-solution"):
        with pytest.raises(ParameterError, match="y = 1 \\+- 1e-6"):
            replica.solve(model, alpha=0.5, y=1, d=0.1)


@pytest.mark.slow  # compiles the constrained-reference models (36 s cold) once the test above is slow
def test_constrained_reference_cli(capsys):
    from replica.cli import main

    assert main(["solve", "binary-perceptron-ld-solution", "--alpha", "0.5", "--y", "0.5", "--d", "0.1", "--json"]) == 0
    out = __import__("json").loads(capsys.readouterr().out)
    assert out["converged"] and 0 < out["entropy"] < out["upper_bound"] and out["complexity"] > 0
    assert main(["solve", "binary-perceptron-ld-solution", "--alpha", "0.5", "--y", "2", "--d", "0.1", "--kappa",
                 "0.5"]) == 2
    err = capsys.readouterr().err
    assert "exceeds ref_kappa" in err and err.count("\n") == 1


@pytest.mark.slow
def test_constrained_reference_curve_at_y_3():
    """A sweep at alpha = 0.6, y = 3 from d = 0.2 down to 0.008 (about 5 minutes): every point converges, the local
    entropy stays below H2(d) and decreases towards small d, the complexity stays positive (the references exist)."""
    d = [0.2, 0.15, 0.1, 0.07, 0.05, 0.035, 0.025, 0.018, 0.012, 0.008]
    df = replica.sweep("binary-perceptron-ld-solution", alpha=0.6, y=3, d=d, progress=False)
    assert df.converged.all() and (df.quad_error <= 1e-8).all()
    assert (df.entropy < df.upper_bound).all() and (df.complexity > 0).all()
    assert np.all(np.diff(df.entropy) < 0)
    assert df.entropy.iloc[2] == pytest.approx(0.154058, abs=1e-5)


def test_constrained_reference_start_without_franz_parisi(monkeypatch):
    """Where the Franz-Parisi solution (the y -> 0 start) does not converge, the start falls back to a rough guess
    inside the domain and the solve reports its own status; it does not raise (a sweep records a failed row)."""
    import replica.api as api
    from replica.models import get_model

    real = api.solve

    def failing(model, **params):
        sol = real(model, **params)
        if model == "binary-perceptron-fp":
            sol.converged = False
        return sol

    monkeypatch.setattr(api, "solve", failing)
    spec = get_model("binary-perceptron-ld-solution")
    start = spec.start(spec.inputs_of(spec.validate({"alpha": 0.5, "y": 2.0, "d": 0.1})))
    assert all(np.isfinite(list(start.values())))
    assert start["q0"] > start["R"] ** 2 / start["Q"] and start["q0hat"] > start["Rhat"] ** 2 / start["Qhat"]


# ----- reference constrained to be a solution, y -> infinity ----------------------------------------------------

def ld_solution_inf(**params):
    return replica.solve("binary-perceptron-ld-solution", y="inf", **params)


@pytest.mark.slow  # 45 s cold: the constrained-reference large-deviation models compile alone here
def test_solution_reference_y_inf_is_stationary():
    """The compiled residuals vanish where the finite-difference gradient of phi does, in every direction (the
    truncated average split at a maximizer-dependent point, the Split declaration, the maxima's implicit
    derivatives)."""
    from replica.models import get_model

    sol = ld_solution_inf(alpha=0.6, d=0.1)
    assert sol.model == "binary-perceptron-ld-solution-inf" and sol.converged, sol.message
    assert sol["W"] > 1e-6  # the reference's constraint is active here
    spec = get_model(sol.model)
    system = spec.system
    v = system.vector(sol.order, spec.inputs_of(sol.params))
    for k in range(system.n_order):
        h = 1e-6 * max(abs(v[k]), 1e-3)
        e = np.zeros_like(v)
        e[k] = h
        grad = (system.call("phi", v + e, spec.quadrature)[0] - system.call("phi", v - e, spec.quadrature)[0]) / (2 * h)
        assert abs(grad) * max(abs(v[k]), 1e-3) <= 1e-9, system.order_names[k]
    # slope = dS_I/dd: the partial derivative in S equals the total one along the curve
    step = 1e-5
    up, down = (ld_solution_inf(alpha=0.6, d=0.1 + s) for s in (step, -step))
    assert abs((up.entropy - down.entropy) / (2 * step) - sol.slope) <= 1e-6


@pytest.mark.slow  # 45 s cold: the constrained-reference large-deviation models compile alone here
def test_solution_reference_y_inf_lies_below_the_unconstrained_one_and_meets_it_at_small_d():
    """Constraining the densest references to be solutions can only lower their local entropy. At d = 0.1 the
    constraint binds (W > 0, S_I lower by 2.7e-4 at alpha = 0.7553); at d = 0.025 it no longer does (W < 1e-7):
    S_I and the slope dS_I/dd equal the unconstrained limit's, which is why both references give the same onset."""
    for d, active in [(0.1, True), (0.025, False)]:
        eps1 = ld_solution_inf(alpha=0.7553, d=d)
        eps0 = replica.solve("binary-perceptron-ld", y="inf", alpha=0.7553, d=d)
        assert eps1.converged and eps0.converged, (eps1.message, eps0.message)
        assert eps1.entropy <= eps0.entropy + 1e-12
        if active:
            assert eps0.entropy - eps1.entropy > 1e-4 and eps1["W"] > 1e-5
        else:
            assert eps1["W"] < 1e-7
            assert abs(eps1.entropy - eps0.entropy) <= 1e-7
            assert abs(eps1.slope - 2 * eps0["Shat"]) <= 1e-5


@pytest.mark.slow  # 44 s cold: compiles the solution-reference y = inf model for itself
def test_solution_reference_y_inf_phi_against_mpmath_on_the_rule():
    """phi re-evaluated in mpmath arithmetic on a small rule of the same kind (nested truncated averages whose split
    point holds a maximizer): differences are code generation and float special functions only."""
    from replica.solvers.quadrature import Quadrature

    from replica import highprec
    from replica.models import get_model

    sol = ld_solution_inf(alpha=0.75, d=0.1)
    spec = get_model(sol.model)
    rule = Quadrature(gauss=12, trunc=8, inner=8)
    v = spec.system.vector(sol.order, spec.inputs_of(sol.params))
    compiled = spec.system.call("phi", v, rule)[0]
    hp = highprec.phi(sol.model, {**sol.order, **sol.params}, dps=20, quadrature=rule)
    assert abs(float(hp) - compiled) <= 1e-11


def test_solution_reference_y_inf_onset_points_to_the_unconstrained_model():
    with pytest.raises(ParameterError, match="use binary-perceptron-ld --y inf"):
        replica.onset("binary-perceptron-ld-solution", y="inf", alpha_range=(0.75, 0.76))

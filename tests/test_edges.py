"""The edges of the phase plane, where q -> 1 and the integrands turn in boundary layers of width ~ sqrt(1-q): each
case converges, and its numbers are checked against mpmath with the breakpoints at the layer written here (not the
toolkit's rule: tanh-sinh on intervals split at the layer's centre and a few widths around it)."""
import math

import mpmath as mp
import pytest

import replica
from replica.perceptron import alpha_c_spherical, alpha_gd_binary

EDGE = 40


def gauss(f, centre=None, width=None):
    """int Dz f(z) by tanh-sinh, split at the layer (centre +- 0, 1, 4, 8 widths) when one is given."""
    points = {-EDGE, -4, 0, 4, EDGE}
    if centre is not None:
        points |= {centre + k * width for k in (-8, -4, -1, 0, 1, 4, 8)}
    return mp.quad(lambda z: mp.npdf(z) * f(z), sorted(p for p in points if -EDGE <= p <= EDGE))


def logH(x):
    h = mp.erfc(x / mp.sqrt(2)) / 2
    return mp.log(h) if x >= 0 else mp.log1p(-mp.erfc(-x / mp.sqrt(2)) / 2)


def energetic(q, kappa):
    """int Dz ln H((kappa - sqrt(q) z)/sqrt(1-q)), split at its layer z = kappa/sqrt(q), width sqrt((1-q)/q)."""
    return gauss(lambda z: logH((kappa - mp.sqrt(q) * z) / mp.sqrt(1 - q)), kappa / mp.sqrt(q), mp.sqrt((1 - q) / q))


def binary_phi(q, qhat, alpha, kappa):
    entropic = gauss(lambda z: abs(mp.sqrt(qhat) * z) + mp.log1p(mp.exp(-2 * abs(mp.sqrt(qhat) * z))), 0,
                     1 / mp.sqrt(qhat))
    return -qhat * (1 - q) / 2 + entropic + alpha * energetic(q, kappa)


def binary_residuals(q, qhat, alpha, kappa):
    """The fixed-point equations of the binary perceptron, q = E tanh^2(sqrt(qhat) z) and qhat = -2 alpha dG_E/dq,
    as relative residuals."""
    t2 = gauss(lambda z: mp.tanh(mp.sqrt(qhat) * z) ** 2, 0, 1 / mp.sqrt(qhat))
    dge = mp.diff(lambda x: energetic(x, kappa), q)
    return (q - t2) / q, (qhat + 2 * alpha * dge) / qhat


def check_binary(q, qhat, alpha, kappa, phi=None, tol=1e-9):
    with mp.workdps(30):
        q, qhat, alpha, kappa = (mp.mpf(x) for x in (q, qhat, alpha, kappa))
        for r in binary_residuals(q, qhat, alpha, kappa):
            assert abs(r) <= tol
        if phi is not None:
            assert abs(binary_phi(q, qhat, alpha, kappa) - phi) <= tol


def test_binary_rs_next_to_alpha_gd():
    """alpha = 1.27, 3e-3 below alpha_GD = 4/pi: q = 0.99721, qhat = 8.2e4 (the layers are 1e-3 wide)."""
    sol = replica.solve("binary-perceptron", alpha=1.27, kappa=0)
    assert sol.converged and sol.q > 0.997 and alpha_gd_binary(0) - 1.27 < 4e-3
    check_binary(sol.q, sol.qhat, 1.27, 0.0, sol.entropy)


def test_max_margin_at_small_load():
    """kappa_max at alpha = 0.05 and 0.02 (q = 0.87 and 0.93 at the margin): the entropy vanishes there."""
    for alpha in (0.05, 0.02):
        thr = replica.max_margin("binary-perceptron", alpha=alpha)
        assert thr.converged, thr.message
        sol = thr.solution
        check_binary(sol.q, sol.qhat, alpha, thr.value, phi=0.0)


def test_krauth_mezard_capacity_at_large_margin():
    """alpha_KM at kappa = 4 and 5, within a few percent of alpha_GD (q = 0.89 and 0.92)."""
    for kappa in (4.0, 5.0):
        thr = replica.capacity("binary-perceptron", kappa=kappa)
        assert thr.converged and 0.95 * alpha_gd_binary(kappa) < thr.value < alpha_gd_binary(kappa)
        check_binary(thr.solution.q, thr.solution.qhat, thr.value, kappa, phi=0.0)


def test_a_binary_capacity_line_reaches_large_margins():
    df = replica.line("binary-perceptron", "capacity", kappa="0:5:11")
    assert df.converged.all() and (df.alpha_c.diff().dropna() < 0).all()


@pytest.mark.parametrize("kappa", [-0.05, -0.02])
def test_dat_line_next_to_zero_margin(kappa):
    """alpha_dAT -> alpha_c as kappa -> 0-: at kappa = -0.02 they are 1.2e-3 apart and q = 0.9997. Checked: the
    spherical fixed point q = qhat (1 - q)^2 and lambda_AT = alpha (1-q)^2 E[(d^2 ln H)^2] = 1."""
    thr = replica.dat_line("spherical-perceptron", kappa=kappa)
    assert thr.converged and thr.value < alpha_c_spherical(kappa)
    q, alpha = thr.solution.q, thr.value
    with mp.workdps(30):
        q, alpha, k = mp.mpf(q), mp.mpf(alpha), mp.mpf(kappa)
        s = mp.sqrt(1 - q)

        def d2(z):  # d^2/domega^2 ln H((kappa - omega)/s) at omega = sqrt(q) z
            x = (k - mp.sqrt(q) * z) / s
            gh = mp.npdf(x) / (mp.erfc(x / mp.sqrt(2)) / 2)
            return -gh * (gh - x) / s**2

        replicon = alpha * (1 - q) ** 2 * gauss(lambda z: d2(z) ** 2, k / mp.sqrt(q), mp.sqrt((1 - q) / q))
        assert abs(replicon - 1) <= 1e-8
        dge = mp.diff(lambda x: energetic(x, k), q)
        assert abs(-2 * alpha * dge - q / (1 - q) ** 2) <= 1e-8 * q / (1 - q) ** 2


@pytest.mark.parametrize("kappa", [-0.02, -0.01])
def test_1rsb_line_next_to_zero_margin(kappa):
    """The non-trivial 1RSB branch as kappa -> 0-: mu ~ 1.45/kappa^2, 1 - q0 ~ 1.43 kappa^2, and the SAT/UNSAT load
    below the RS capacity by ~ kappa^3/2. Checked: Phi = dPhi/dmu = dPhi/dq0 = 0 in mpmath at the solver's point."""
    thr = replica.capacity("spherical-perceptron", kappa=kappa, rsb=1)
    assert thr.converged and 0 < alpha_c_spherical(kappa) - thr.value < abs(kappa) ** 3
    mu, q0, alpha = thr.extra["mu"], thr.extra["q0"], thr.value
    assert 1.3 < mu * kappa**2 < 1.7 and 1.2 < (1 - q0) / kappa**2 < 1.6

    def phi(mu, q0):
        b = mp.sqrt(1 - q0)
        c = 1 + mu * b**2

        def inner(z0):
            a = kappa - mp.sqrt(q0) * z0
            lo, hi = logH(a / b), -mu * a**2 / (2 * c) - mp.log(c) / 2 + logH(-a / (b * mp.sqrt(c)))
            m = max(lo, hi)
            return m + mp.log(mp.exp(lo - m) + mp.exp(hi - m))

        energetic = gauss(inner, kappa / mp.sqrt(q0), mp.sqrt((1 - q0) / q0))
        return (q0 / (1 + mu * (1 - q0)) + mp.log(1 + mu * (1 - q0)) / mu) / 2 + alpha / mu * energetic

    with mp.workdps(30):
        mu, q0, alpha, kappa = (mp.mpf(x) for x in (mu, q0, alpha, kappa))
        assert abs(phi(mu, q0)) <= 1e-10
        assert abs(mp.diff(lambda m: phi(m, q0), mu)) * mu <= 1e-8
        assert abs(mp.diff(lambda x: phi(mu, x), q0)) * (1 - q0) <= 1e-8


def test_1rsb_line_traced_towards_zero_margin():
    df = replica.line("spherical-perceptron", "capacity-1rsb", kappa="-0.5:-0.01:8")
    assert df.converged.all()
    gap = [alpha_c_spherical(k) - a for k, a in zip(df.kappa, df.alpha_c)]
    assert all(g > 0 for g in gap) and gap == sorted(gap, reverse=True)


def test_spherical_capacity_by_the_q_to_1_limit_on_the_base_rule():
    """The solver's q -> 1 fit (q = 1 - eps down to eps = 5e-5, layers 7e-3 wide) on the model's own rule: Gardner's
    closed form to 1e-8 at kappa = 0 and 1."""
    for kappa in (0.0, 1.0):
        thr = replica.capacity("spherical-perceptron", kappa=kappa)
        assert thr.extra["solver_status"] == "converged"
        assert abs(thr.extra["alpha_c_solver"] - thr.value) <= 1e-8 * thr.value


def test_a_user_model_declares_its_layer():
    """The teacher-student plugin's model (tests/plugin), registered here: Gibbs learning at alpha = 200 has
    R = 0.99999 and eps alpha -> 0.625; its stationarity equation dphi/dR = 0 holds in mpmath."""
    import importlib.util
    from pathlib import Path

    from replica.models import register

    path = Path(__file__).resolve().parent / "plugin" / "replica_teacher_student.py"
    spec_ = importlib.util.spec_from_file_location("replica_teacher_student_local", path)
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    register(module.models()[0], replace=True)
    sol = replica.solve("teacher-student-perceptron", alpha=200)
    assert sol.converged and sol.R > 0.99995 and 0.62 < sol.error * 200 < 0.626
    with mp.workdps(30):
        def phi(R):
            w = mp.sqrt((1 - R) / R)

            def f(t):  # H(-x) ln H(-x), x = sqrt(R/(1-R)) t
                x = -t / w
                return mp.erfc(x / mp.sqrt(2)) / 2 * logH(x)

            return mp.log(1 - R) / 2 + R / 2 + 2 * 200 * gauss(f, 0, w)

        R = mp.mpf(sol.R)
        newton = mp.diff(phi, R) / mp.diff(phi, R, 2)  # one Newton step to the high-precision root
        assert abs(newton) <= 1e-12 and abs(phi(R) - sol.entropy) <= 1e-9
    assert math.isclose(sol.error, math.acos(sol.R) / math.pi, rel_tol=1e-12)

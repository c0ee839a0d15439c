"""Finite-width MLPs in abc-parametrizations against the classifier's exponents and the infinite-width limits.

Statistical checks follow the notes (tp4_landscape.md): width limits by the fitted slope of the rms deviation
against width (n^{-1/2}: a slope in [-0.75, -0.25]) over a 16-fold range, never by one absolute error; slopes of the
coord check within 0.2 of the prediction at these widths.
"""
import math

import numpy as np
import pytest

from replica import infinite_width as iw
from replica import width
from replica.errors import ParameterError, ReplicaError
from replica.parametrization import preset

WIDTHS = (256, 1024, 4096)


def _task(d, steps, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((steps, d)), rng.standard_normal(steps), rng.standard_normal((2, d))


def _half_power(deviations):
    """The fitted slope of rms deviation against width, for deviations[k] at WIDTHS[k]."""
    rms = [math.sqrt(np.mean(np.square(d))) for d in deviations]
    return width.fitted_slope(WIDTHS, rms)


# ----- the network -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "relu", "erf"])
def test_backpropagation_matches_finite_differences(activation):
    net = width.MLP(preset("mup", 2), 8, 3, activation, np.random.default_rng(0))
    xi, y = np.array([0.3, -1.1, 0.8]), 0.4
    grads = net.gradients(xi, net.forward(xi)[0] - y)
    eps = 1e-6
    for W, G in zip(net.W, grads):
        for idx in [(0, 0), (W.shape[0] - 1, W.shape[1] - 1), (0, W.shape[1] // 2)]:
            old = W[idx]
            W[idx] = old + eps
            up = 0.5 * (net.forward(xi)[0] - y) ** 2
            W[idx] = old - eps
            down = 0.5 * (net.forward(xi)[0] - y) ** 2
            W[idx] = old
            assert G[idx] == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-9)


def test_bad_network_arguments_are_refused():
    with pytest.raises(ParameterError, match="activation"):
        width.MLP(preset("mup", 1), 8, 2, "sigmoid")
    with pytest.raises(ParameterError, match="n >= 1"):
        width.MLP(preset("mup", 1), 0, 2)


# ----- finite width against the classifier -----------------------------------------------------------------------
@pytest.mark.parametrize("name, layers, c", [("sp", 1, 1), ("sp", 2, 1), ("ntp", 2, None), ("mup", 2, None),
                                             ("mup", 1, None)])
def test_coord_check_slopes_are_the_predicted_exponents(name, layers, c):
    """rms(Delta x^L) ~ n^{-r} and |f_T - f_0| ~ n^0 in every stable nontrivial parametrization (notes' table)."""
    p = preset(name, layers, c=c)
    _, slopes = width.coord_check(p, widths=(256, 512, 1024, 2048))
    assert slopes["delta_x"] == pytest.approx(-float(p.r), abs=0.2)
    assert slopes["delta_f"] == pytest.approx(0.0, abs=0.2)


def test_an_unstable_learning_rate_blows_the_output_up():
    """SP with c = 1/2, below SP's smallest stable c = 1: the output's change grows with width."""
    p = preset("sp", 1, c="1/2")
    assert not p.stable and p.c_min == 0.5
    _, slopes = width.coord_check(p, widths=(256, 512, 1024, 2048))
    assert slopes["delta_f"] > 1.0


@pytest.mark.slow  # 15 s: a bisection on eta per width
def test_max_stable_learning_rate_falls_with_width_in_sp_and_not_in_mup():
    """eta_max ~ n^{-c_min}: SP at c = 0 has c_min = 1 (the asymptote -1 is approached slowly, hence the notes'
    bound -0.5), muP has c_min = 0."""
    assert preset("sp", 2, c=0).c_min == 1 and preset("mup", 2).c_min == 0
    widths = (128, 256, 512, 1024, 2048)
    _, sp_slope = width.max_stable_learning_rate(preset("sp", 2, c=0), widths=widths)
    _, mup_slope = width.max_stable_learning_rate(preset("mup", 2), widths=widths)
    assert sp_slope < -0.5 and abs(mup_slope) < 0.25


def test_a_diverging_run_is_reported_not_fitted():
    with pytest.raises(ReplicaError, match="diverged"):
        width.coord_check(preset("sp", 2, c=0), widths=(256, 512), eta=50.0, steps=20, activation="relu")


# ----- kernels ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_dual_activations_against_monte_carlo_and_price(activation):
    """The closed forms against 10^6 samples (4 standard errors), and Price's theorem d/dc E[phi phi] =
    E[phi' phi'] between the two closed forms."""
    q1, q2, c = 1.3, 0.7, 0.5
    rng = np.random.default_rng(1)
    L = np.linalg.cholesky([[q1, c], [c, q2]])
    u, v = L @ rng.standard_normal((2, 1_000_000))
    phi, dphi = width.ACTIVATIONS[activation]
    e, de = iw.dual(activation, q1, q2, c)
    for exact, samples in ((e, phi(u) * phi(v)), (de, dphi(u) * dphi(v))):
        assert abs(exact - samples.mean()) <= 4 * samples.std() / 1000
    h = 1e-5
    slope = (iw.dual(activation, q1, q2, c + h)[0] - iw.dual(activation, q1, q2, c - h)[0]) / (2 * h)
    assert slope == pytest.approx(de, rel=1e-8)


def test_dual_refuses_a_non_covariance():
    with pytest.raises(ParameterError, match="not a covariance"):
        iw.dual("relu", 1.0, 1.0, 1.5)
    with pytest.raises(ParameterError, match="relu and erf"):
        iw.dual("tanh", 1.0, 1.0, 0.5)


@pytest.mark.parametrize("activation, layers", [("relu", 1), ("relu", 3), ("erf", 2)])
def test_empirical_ntk_tends_to_the_recursion(activation, layers):
    X = np.random.default_rng(2).standard_normal((3, 4))
    K = iw.ntk(X, layers, activation)
    deviations = [[iw.empirical_ntk(width.MLP(preset("ntp", layers), n, 4, activation, np.random.default_rng([s, n])),
                                    X) - K for s in range(4)] for n in WIDTHS]
    assert -0.75 <= _half_power(deviations) <= -0.25


def _sgd_against_kernel_gd(p, kernel, eta=0.5):
    xs, ys, test = _task(4, 20, 3)
    points = np.vstack([xs, test])
    deviations = []
    for n in WIDTHS:
        dev = []
        for s in range(4):
            net = width.MLP(p, n, 4, "relu", np.random.default_rng([s, n]))
            f0 = [net.forward(x)[0] for x in points]
            predicted = iw.kernel_gd(kernel(points), f0, ys, eta)[-1]
            for xi, y in zip(xs, ys):
                net.step(xi, y, eta)
            dev.append([net.forward(x)[0] for x in points] - predicted)
        deviations.append(dev)
    return _half_power(deviations)


def test_sgd_in_ntp_follows_the_ntk():
    assert -0.75 <= _sgd_against_kernel_gd(preset("ntp", 1), lambda X: iw.ntk(X, 1)) <= -0.25


def test_sgd_in_sp_with_eta_over_n_follows_the_kernel_without_the_input_layer():
    """SP at c = 1: the input layer's term of the NTK drops out (r_1 = 3/2); with it the gap does not close."""
    p = preset("sp", 1)
    assert p.r_layers[0] == 1.5
    assert -0.75 <= _sgd_against_kernel_gd(p, lambda X: sum(iw.ntk_terms(X, 1)[1:])) <= -0.25
    assert _sgd_against_kernel_gd(p, lambda X: iw.ntk(X, 1)) > -0.1


# ----- muP limits ------------------------------------------------------------------------------------------------
def test_linear_mup_limit_is_tp4s_scalar_recursion():
    """d = 1: f_t(xi) = (A C + B D) xi with (A, B) -= chi xi (C, D), (C, D) -= chi xi (A, B) (TP4 Cor. 6.2, the
    learning rate eta scaling chi)."""
    xs, ys, test = _task(1, 12, 4)
    eta = 0.3
    A, B, C, D = 1.0, 0.0, 0.0, 1.0
    expected = [(A * C + B * D) * test[:, 0]]
    for xi, y in zip(xs[:, 0], ys):
        chi = eta * ((A * C + B * D) * xi - y)
        A, B, C, D = A - chi * xi * C, B - chi * xi * D, C - chi * xi * A, D - chi * xi * B
        expected.append((A * C + B * D) * test[:, 0])
    assert np.allclose(iw.linear_mup_limit(xs, ys, test, eta), expected, rtol=1e-13, atol=1e-15)


def _deviations(p, activation, xs, ys, test, limit, eta, seeds):
    """Per width and seed, the outputs on ``test`` of a network trained by one SGD pass over (xs, ys), minus
    ``limit``."""
    deviations = []
    for n in WIDTHS:
        dev = []
        for s in range(seeds):
            net = width.MLP(p, n, xs.shape[1], activation, np.random.default_rng([s, n]))
            for xi, y in zip(xs, ys):
                net.step(xi, y, eta)
            dev.append([net.forward(x)[0] for x in test] - limit)
        deviations.append(dev)
    return deviations


def test_finite_linear_mup_nets_tend_to_the_limit():
    xs, ys, test = _task(3, 15, 5)
    limit = iw.linear_mup_limit(xs, ys, test, eta=0.1)[-1]
    deviations = _deviations(preset("mup", 1, linear=True), "linear", xs, ys, test, limit, eta=0.1, seeds=4)
    assert -0.75 <= _half_power(deviations) <= -0.25


def test_nonlinear_mup_limit_converges_in_nodes_and_in_width():
    xs, ys, _ = _task(1, 15, 6)
    test = np.array([0.7, -1.3])
    limit = iw.mup_limit_1d(xs[:, 0], ys, test, "tanh", eta=0.5, nodes=200)[-1]
    assert np.max(np.abs(iw.mup_limit_1d(xs[:, 0], ys, test, "tanh", eta=0.5, nodes=400)[-1] - limit)) < 1e-6
    deviations = _deviations(preset("mup", 1), "tanh", xs, ys, test[:, None], limit, eta=0.5, seeds=6)
    assert -0.75 <= _half_power(deviations) <= -0.25


def test_a_diverging_limit_is_reported():
    xs, ys, test = _task(3, 15, 2)
    with pytest.raises(ReplicaError, match="diverged at step"):
        iw.linear_mup_limit(xs, ys, test, eta=0.5)
